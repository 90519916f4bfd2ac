//! The command line every chapter shares: `train` (the default) and
//! `generate`, with d2l's hyper-parameters as flags, and what a run writes.

use crate::atomic::write_atomic;
use crate::checkpoint::{save_checkpoint, Checkpoint};
use crate::data::Vocab;
use crate::data::{load_splits_time_machine, Sampling, SeqDataLoader, Splits};
use crate::generate::{predict, Decoding};
use crate::model::LanguageModel;
use crate::plot::plot_perplexity;
use crate::rnn::Tensors;
use crate::rnn::{Cell, CodePath, RnnModel};
use crate::train::{train, History, TrainConfig, NUM_PREDS, PREFIX};
use anyhow::{bail, Context, Result};
use clap::{
    Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};
use ndarray::{ArrayD, ArrayViewD, NdFloat};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A chapter's command line: `train` (the default, so its flags also work
/// without the subcommand) and `generate`. `T` is the chapter's training
/// flags: [`TrainArgs`], flattened into a struct with its own extras.
#[derive(Debug, Parser)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli<T: Args> {
    #[command(subcommand)]
    command: Option<Command<T>>,
    #[command(flatten)]
    train: T,
}

/// What a chapter's binary was asked to do.
#[derive(Debug, Subcommand)]
pub enum Command<T: Args> {
    /// Train a model (the default) and write metrics, a plot and a
    /// checkpoint.
    Train(T),
    /// Continue a prefix with a trained model.
    Generate(GenerateArgs),
}

/// Parses the command line of the chapter binary `name`, described by
/// `about` (one line) and `after_help`.
pub fn parse<T: Args + FromArgMatches>(
    name: &'static str,
    about: &'static str,
    after_help: &'static str,
) -> Command<T> {
    parse_with_defaults(name, about, after_help, &[])
}

/// [`parse`], with some flags' defaults changed: `("lr", "2")`.
pub fn parse_with_defaults<T: Args + FromArgMatches>(
    name: &'static str,
    about: &'static str,
    after_help: &'static str,
    defaults: &[(&'static str, &'static str)],
) -> Command<T> {
    let mut command = Cli::<T>::command()
        .name(name)
        .bin_name(name)
        .about(about)
        .after_help(after_help)
        .version(env!("CARGO_PKG_VERSION"));
    for &(flag, value) in defaults {
        command = command
            .mut_arg(flag, |a| a.default_value(value))
            .mut_subcommand("train", |c| {
                c.mut_arg(flag, |a| a.default_value(value))
            });
    }
    let matches = command.get_matches();
    let cli = Cli::<T>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cli.command.unwrap_or(Command::Train(cli.train))
}

/// Which implementation trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Impl {
    /// From scratch on ndarray, with hand-written backpropagation.
    #[default]
    Scratch,
    /// On libtorch through tch (needs the `torch` feature).
    Concise,
}

/// Where the concise model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Device {
    #[default]
    Cpu,
    Cuda,
}

/// How the training text is cut into minibatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Iter {
    /// Rows continue from batch to batch; the state is carried over.
    #[default]
    Sequential,
    /// Subsequences at random positions; the state restarts every batch.
    Random,
}

impl From<Iter> for Sampling {
    fn from(i: Iter) -> Self {
        match i {
            Iter::Sequential => Sampling::Sequential,
            Iter::Random => Sampling::Random,
        }
    }
}

/// Parses a whole number of at least 1, for flags.
pub fn positive_usize(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("not a whole number: {e}")),
    }
}

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a positive number, got {x}")),
        Err(e) => Err(format!("not a number: {e}")),
    }
}

/// `train`: every hyper-parameter of d2l's `train_ch8`, named after it.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Passes over the training text.
    #[arg(long, default_value_t = 500, value_parser = positive_usize,
          allow_negative_numbers = true)]
    pub epochs: usize,
    /// Learning rate of SGD.
    #[arg(long, default_value_t = 1.0, value_parser = positive_f64,
          allow_negative_numbers = true)]
    pub lr: f64,
    /// Hidden units per layer.
    #[arg(long, default_value_t = 256, value_parser = positive_usize)]
    pub num_hiddens: usize,
    /// Subsequences per minibatch.
    #[arg(long, default_value_t = 32, value_parser = positive_usize)]
    pub batch_size: usize,
    /// Time steps per subsequence (how far back BPTT reaches).
    #[arg(long, default_value_t = 35, value_parser = positive_usize)]
    pub num_steps: usize,
    /// Characters of the book to train on, from its start.
    #[arg(long, default_value_t = 10_000, value_parser = positive_usize)]
    pub max_tokens: usize,
    /// Characters after the training text held out for validation.
    #[arg(long, default_value_t = 5_000, value_parser = positive_usize)]
    pub valid_tokens: usize,
    /// Gradient clipping threshold θ on the global gradient norm.
    #[arg(long, default_value_t = 1.0, value_parser = positive_f64,
          allow_negative_numbers = true)]
    pub clip: f64,
    /// Which implementation to train.
    #[arg(long = "impl", value_enum, default_value_t)]
    pub implementation: Impl,
    /// Where the concise model runs.
    #[arg(long, value_enum, default_value_t)]
    pub device: Device,
    /// Seeds the weights and the minibatch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Minibatch sampling.
    #[arg(long, value_enum, default_value_t)]
    pub iter: Iter,
    /// Folder for metrics.json, perplexity.svg and model.safetensors
    /// [default: runs/<chapter>]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print only the final lines: no progress bar, no samples.
    #[arg(long)]
    pub quiet: bool,
    /// CPU threads to train with. The from-scratch model splits each
    /// minibatch between them (1 runs the code as the chapters show it);
    /// the concise model hands them to libtorch. [default: every core]
    #[arg(long, value_parser = positive_usize)]
    pub threads: Option<usize>,
    /// The from-scratch model's computation: `teaching` runs the
    /// step-by-step loops the chapters show; `fast` runs the same numbers
    /// as whole-sequence matrix products (the book's "Making it fast").
    /// The concise model has only its own.
    #[arg(long, value_enum, default_value_t)]
    pub path: CodePath,
}

/// `generate`: continue a prefix with a trained model.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// A checkpoint written by `train` [default:
    /// runs/<chapter>/model.safetensors]
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The text to continue.
    #[arg(long, default_value = PREFIX)]
    pub prefix: String,
    /// How many characters to add.
    #[arg(long, default_value_t = 200)]
    pub len: usize,
    /// Sample from softmax(logits / T) instead of taking the most likely
    /// character. Below 1 is more conservative, above 1 more adventurous.
    #[arg(long, value_parser = positive_f64,
          allow_negative_numbers = true)]
    pub temperature: Option<f64>,
    /// Sample only among the k most likely characters (implies sampling,
    /// at temperature 1 unless given).
    #[arg(long, value_parser = positive_usize)]
    pub top_k: Option<usize>,
    /// Seeds the sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl GenerateArgs {
    pub fn decoding(&self) -> Decoding {
        match (self.temperature, self.top_k) {
            (None, None) => Decoding::Greedy,
            (t, k) => Decoding::Sample {
                temperature: t.unwrap_or(1.0),
                top_k: k,
            },
        }
    }
}

impl TrainArgs {
    /// The output folder: `--out`, or `runs/<chapter>`.
    pub fn out_dir(&self, chapter: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| Path::new("runs").join(chapter))
    }

    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            num_epochs: self.epochs,
            lr: self.lr,
            clip: self.clip,
            seed: self.seed,
            quiet: self.quiet,
        }
    }

    /// The training and validation text, checked against the batch shape.
    pub fn data(&self) -> Result<(Splits, SeqDataLoader)> {
        let splits =
            load_splits_time_machine(Some(self.max_tokens), self.valid_tokens)?;
        let loader = SeqDataLoader::new(
            splits.train.clone(),
            self.batch_size,
            self.num_steps,
            self.iter.into(),
        )?;
        Ok((splits, loader))
    }
}

/// Refuses `--impl concise` in a build without libtorch, saying how to get
/// one.
pub fn concise_unavailable(chapter: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "--impl concise needs libtorch, and this binary was built without \
         it. Install PyTorch 2.11.0 (pip install torch==2.11.0), then run\n  \
         LIBTORCH_USE_PYTORCH=1 cargo run --release -p {chapter} \
         --features torch -- --impl concise"
    )
}

/// Model tensors by name, as f32 arrays, for a checkpoint.
pub type NamedArrays = Vec<(String, ArrayD<f32>)>;

/// The tensors of a model in our layout, as f32: `cell.<name>` and
/// `output.<name>`.
pub fn scratch_tensors<F, P, O>(cell: &P, output: &O) -> NamedArrays
where
    F: NdFloat,
    P: Tensors<F>,
    O: Tensors<F>,
{
    let prefixed = |prefix: &str, t: Vec<(String, ArrayViewD<'_, F>)>| {
        t.into_iter()
            .map(|(n, v)| {
                let v32 = v.mapv(|x| x.to_f32().unwrap_or(f32::NAN));
                (format!("{prefix}.{n}"), v32)
            })
            .collect::<Vec<_>>()
    };
    let mut out = prefixed("cell", cell.named());
    out.extend(prefixed("output", output.named()));
    out
}

/// Loads `cell.<name>` and `output.<name>` from a checkpoint into a model
/// of the right shape.
pub fn load_scratch_tensors<P: Tensors<f32>, O: Tensors<f32>>(
    ck: &Checkpoint,
    cell: &mut P,
    output: &mut O,
) -> Result<()> {
    for (prefix, named) in
        [("cell", cell.named_mut()), ("output", output.named_mut())]
    {
        for (name, mut view) in named {
            let t = ck.tensor(&format!("{prefix}.{name}"), view.shape())?;
            view.assign(&t);
        }
    }
    Ok(())
}

/// The threads training uses without `--threads`: one per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Trains `model`, prints d2l's closing lines, and writes the metrics, the
/// plot and the checkpoint (with `meta` and the vocabulary) to the output
/// folder. Nothing is written if training fails.
pub fn train_and_save<M: LanguageModel>(
    model: &mut M,
    tensors: impl FnOnce(&M) -> NamedArrays,
    args: &TrainArgs,
    chapter: &str,
    title: &str,
    mut meta: BTreeMap<String, String>,
) -> Result<History> {
    let (splits, loader) = args.data()?;
    crate::fast::keep_freed_memory();
    model.set_threads(args.threads.unwrap_or_else(default_threads));
    model.set_path(args.path);
    let start = std::time::Instant::now();
    let mut history =
        train(model, &loader, &splits.valid, &splits.vocab, &args.config())?;
    history.wall_seconds = Some(start.elapsed().as_secs_f64());
    history.peak_rss_mb = peak_rss_mb();
    history.threads = Some(model.threads());
    history.path = model.path().map(|p| p.name().to_string());
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut samples = Vec::new();
    for prefix in [PREFIX, "traveller"] {
        let text = predict(
            model,
            &splits.vocab,
            prefix,
            NUM_PREDS,
            Decoding::Greedy,
            &mut rng,
        )?;
        samples.push(text);
    }
    // Everything is written before anything is printed, so a closed
    // output pipe cannot cost the run.
    let dir = args.out_dir(chapter);
    let written = |r: std::io::Result<()>| {
        r.with_context(|| format!("writing into {}", dir.display()))
    };
    let json = serde_json::to_string_pretty(&history)?;
    written(write_atomic(&dir.join("metrics.json"), json.as_bytes()))?;
    let summary = result_table(&history);
    written(write_atomic(&dir.join("result.md"), summary.as_bytes()))?;
    let samples = samples.join("\n") + "\n";
    written(write_atomic(&dir.join("samples.txt"), samples.as_bytes()))?;
    written(plot_perplexity(
        &history.epochs,
        title,
        &dir.join("perplexity.svg"),
    ))?;
    let arrays = tensors(model);
    let views: Vec<(&str, ArrayViewD<'_, f32>)> =
        arrays.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
    meta.insert(
        "vocab".to_string(),
        serde_json::to_string(splits.vocab.idx_to_token())?,
    );
    meta.insert("num_hiddens".to_string(), args.num_hiddens.to_string());
    save_checkpoint(&dir.join("model.safetensors"), &views, &meta)?;
    println!("{}", history.final_line());
    print!("{samples}");
    if !args.quiet {
        println!(
            "wrote metrics.json, result.md, samples.txt, perplexity.svg and \
             model.safetensors to {}",
            dir.display()
        );
    }
    Ok(history)
}

/// The peak resident memory of this process so far, in MB (Linux's
/// `VmHWM`), or `None` where it cannot be read.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A Markdown table of a run's results, for the book.
pub fn result_table(h: &History) -> String {
    let c = &h.config;
    let last = h.last();
    let best = h.best_valid();
    let rss = h
        .peak_rss_mb
        .map_or("n/a".to_string(), |m| format!("{m:.0} MB"));
    let wall = h
        .wall_seconds
        .map_or("n/a".to_string(), |s| format!("{s:.0} s"));
    format!(
        "| measure | value |\n|---|---|\n\
         | training perplexity | {:.2} |\n\
         | validation perplexity | {:.2} |\n\
         | best validation perplexity (epoch) | {:.2} ({}) |\n\
         | tokens/s (training, {}{}) | {:.0} |\n\
         | wall time, {} epochs | {} |\n\
         | peak RSS | {} |\n\
         | lr, clip θ, seed | {}, {}, {} |\n",
        last.train_perplexity,
        last.valid_perplexity,
        best.valid_perplexity,
        best.epoch,
        h.device,
        h.threads.map_or(String::new(), |n| {
            format!(", {n} thread{}", if n == 1 { "" } else { "s" })
        }) + &h
            .path
            .as_ref()
            .map_or(String::new(), |p| format!(", {p} path")),
        h.tokens_per_sec(),
        c.num_epochs,
        wall,
        rss,
        c.lr,
        c.clip,
        c.seed,
    )
}

/// The vocabulary stored in a checkpoint.
pub fn checkpoint_vocab(ck: &Checkpoint) -> Result<Vocab> {
    let tokens: Vec<String> = serde_json::from_str(ck.meta("vocab")?)
        .context("the checkpoint's vocabulary is not valid JSON")?;
    if tokens.first().map(String::as_str) != Some("<unk>") {
        bail!("the checkpoint's vocabulary does not start with <unk>");
    }
    Ok(Vocab::from_tokens(tokens))
}

/// A usize entry of a checkpoint's metadata.
pub fn checkpoint_usize(ck: &Checkpoint, key: &str) -> Result<usize> {
    let v = ck.meta(key)?;
    v.parse()
        .with_context(|| format!("checkpoint metadata `{key}` = {v:?}"))
}

/// Runs `generate`: continues the prefix and prints the text.
pub fn generate_and_print<M: LanguageModel>(
    model: &mut M,
    vocab: &Vocab,
    args: &GenerateArgs,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let text = predict(
        model,
        vocab,
        &args.prefix,
        args.len,
        args.decoding(),
        &mut rng,
    )?;
    println!("{text}");
    Ok(())
}

/// `generate` for a from-scratch model: loads the checkpoint, checks that
/// it holds a `model`, builds the cell with `cell(checkpoint, vocab size,
/// hidden units)`, loads the weights and continues the prefix. Checkpoints
/// of the concise models are in the same layout, so they load here too.
pub fn generate_scratch<C: Cell<f32>>(
    args: &GenerateArgs,
    chapter: &str,
    model: &str,
    cell: impl FnOnce(&Checkpoint, usize, usize) -> Result<C>,
) -> Result<()> {
    let path = checkpoint_path(args, chapter);
    let ck = Checkpoint::load(&path)?;
    let found = ck.meta("model")?;
    if found != model {
        bail!("{} holds a {found} model, not a {model}", path.display());
    }
    let vocab = checkpoint_vocab(&ck)?;
    let num_hiddens = checkpoint_usize(&ck, "num_hiddens")?;
    let cell = cell(&ck, vocab.len(), num_hiddens)?;
    let mut rng = StdRng::seed_from_u64(0);
    let mut m = RnnModel::new(cell, vocab.len(), &mut rng);
    load_scratch_tensors(&ck, &mut m.params, &mut m.output)?;
    generate_and_print(&mut m, &vocab, args)
}

/// The checkpoint path: `--checkpoint`, or `runs/<chapter>/model.safetensors`.
pub fn checkpoint_path(args: &GenerateArgs, chapter: &str) -> PathBuf {
    args.checkpoint.clone().unwrap_or_else(|| {
        Path::new("runs").join(chapter).join("model.safetensors")
    })
}

/// Lets the process end quietly when its output pipe closes (as in
/// `ch_gru | head -1`), like other command-line tools, instead of panicking
/// on the next `println!`.
pub fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE, before any
    // thread is started, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs a command's body and turns an error into a message on stderr and
/// exit status 1, without a backtrace: errors here are for users.
pub fn exit_on_error(result: Result<()>) {
    if let Err(e) = result {
        // The chain of causes, skipping those a message already quotes.
        let mut message = String::new();
        for cause in e.chain() {
            let text = cause.to_string();
            if !message.contains(&text) {
                if !message.is_empty() {
                    message.push_str(": ");
                }
                message.push_str(&text);
            }
        }
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
