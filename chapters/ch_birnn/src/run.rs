//! What `ch_birnn lm` and `ch_birnn fill` run, and the files they write:
//! all of a run's files appear together, or none do.

use crate::cli::{CellArg, FillArgs, LmArgs};
use crate::deep::bi_rnn;
use crate::fill::{evaluate_fill, train_fill, FillConfig, FillScore};
use anyhow::{bail, Context, Result};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::cli::result_table;
use d2l::data::{load_book_splits, load_splits_time_machine};
use d2l::data::{Sampling, SeqDataLoader};
use d2l::io::console;
use d2l::io::outputs::{OutDir, FILL_FILES};
use d2l::model::{Encoder, SeqModel, Uni};
use d2l::rnn::Cell;
use d2l::train::generate::{predict, Decoding};
use d2l::train::{train, train_rng, TrainConfig, TrainError, PREFIX};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::time::Instant;

/// d2l's language-model data: the first 10,000 characters for training,
/// the 5,000 after them for validation, batches of 32 × 35.
const MAX_TOKENS: usize = 10_000;
const VALID_TOKENS: usize = 5_000;
const BATCH: usize = 32;
const STEPS: usize = 35;
/// How many characters `lm` generates after the prefix.
const NUM_PREDS: usize = 50;

/// `ch_birnn lm`.
pub fn lm(args: &LmArgs) -> Result<()> {
    match args.cell {
        CellArg::Gru => {
            lm_with(args, |i, h| Gru::new(i, h, Variant::ResetBefore))
        }
        CellArg::Lstm => lm_with(args, Lstm::new),
    }
}

fn lm_with<C: Cell<f32>>(
    args: &LmArgs,
    cell: impl Fn(usize, usize) -> C,
) -> Result<()> {
    let splits = load_splits_time_machine(Some(MAX_TOKENS), VALID_TOKENS)?;
    let vocab = &splits.vocab;
    let (v, h, layers) = (vocab.len(), args.num_hiddens, args.layers);
    let params = params_at(h, |h| count(bi_rnn(layers, v, h, &cell), v));
    check_memory(params, layers, h, BATCH * STEPS)?;
    let out = OutDir::check(&args.out)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let encoder = bi_rnn(layers, v, h, cell);
    let mut model = SeqModel::<f32, _>::new(encoder, v, &mut rng);
    let train_text = splits.train.clone();
    let loader =
        SeqDataLoader::new(train_text, BATCH, STEPS, Sampling::Sequential)?;
    let mut config = TrainConfig::d2l(args.epochs, args.lr, args.seed);
    config.quiet = args.quiet;
    console::catch_interrupts();
    let start = Instant::now();
    let mut history =
        train(&mut model, &loader, &splits.valid, vocab, &config)?;
    // What every run's metrics.json records, so that the book's tables
    // read this one like the others.
    history.wall_seconds = Some(start.elapsed().as_secs_f64());
    history.peak_rss_mb = d2l::cli::peak_rss_mb();
    history.threads = Some(1);
    history.path = Some("teaching".to_string());
    history.command = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    history.split = Some(splits.offsets.clone());
    history.settings = [
        ("model", "bidirectional".to_string()),
        ("cell", args.cell.name().to_string()),
        ("layers", args.layers.to_string()),
        ("num_hiddens", h.to_string()),
        ("parameters", model.num_params().to_string()),
        ("batch_size", BATCH.to_string()),
        ("num_steps", STEPS.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut sample_rng = train_rng(args.seed);
    let mut samples = Vec::new();
    for prefix in [PREFIX, "traveller"] {
        let g = predict(
            &mut model,
            vocab,
            prefix,
            NUM_PREDS,
            Decoding::Greedy,
            &mut sample_rng,
        )
        .context("generating from the trained model")?;
        samples.push(g.text);
    }
    let title = format!("bidirectional {} language model", args.cell.name());
    let svg = d2l::cli::plot::perplexity_svg(&history.epochs, &title)
        .map_err(|e| anyhow::anyhow!("drawing the perplexity plot: {e}"))?;
    let staged = out.stage()?;
    let json = serde_json::to_string_pretty(&history)?;
    staged.write("metrics.json", json.as_bytes())?;
    staged.write("result.md", result_table(&history).as_bytes())?;
    staged.write("samples.txt", (samples.join("\n") + "\n").as_bytes())?;
    staged.write("perplexity.svg", svg.as_bytes())?;
    staged.commit()?;
    let last = history.last();
    console::result(&format!(
        "training perplexity {:.2}, validation perplexity {:.2}, {:.0} \
         tokens/s\ngenerated: {}\nwrote {}\n",
        last.train_perplexity,
        last.valid_perplexity,
        history.tokens_per_sec(),
        samples[0],
        out.path().display()
    ))?;
    Ok(())
}

/// One model's line of the `fill` table.
#[derive(Debug, Serialize)]
pub struct FillRow {
    pub model: String,
    /// Hidden units of each direction.
    pub num_hiddens: usize,
    /// The width of what the output layer reads.
    pub features: usize,
    pub parameters: usize,
    pub valid: FillScore,
    pub test: FillScore,
    pub train_seconds: f64,
}

/// What `fill` writes to results.json: the settings, and both rows.
#[derive(Serialize)]
struct FillReport<'a> {
    cell: &'a str,
    config: &'a FillConfig,
    seed: u64,
    rows: &'a [FillRow],
}

/// `ch_birnn fill`.
pub fn fill(args: &FillArgs) -> Result<()> {
    match args.cell {
        CellArg::Gru => {
            fill_with(args, |i, h| Gru::new(i, h, Variant::ResetBefore))
        }
        CellArg::Lstm => fill_with(args, Lstm::new),
    }
}

/// The number of parameters of the model that `count` measures at hidden
/// size `h`, without making it. Every model here has h × h recurrent
/// weights, h × inputs input weights and biases of h, so its count is a
/// quadratic in h: three tiny models give it exactly.
pub fn params_at(h: usize, count: impl Fn(usize) -> usize) -> f64 {
    let (p1, p2, p3) = (count(1) as f64, count(2) as f64, count(3) as f64);
    // p(h) = a h² + b h + c
    let a = (p3 - 2.0 * p2 + p1) / 2.0;
    let b = p2 - p1 - 3.0 * a;
    let c = p1 - a - b;
    let h = h as f64;
    a * h * h + b * h + c
}

/// The parameters of a model of `encoder` over `vocab` tokens.
fn count<E: Encoder<f32>>(encoder: E, vocab: usize) -> usize {
    let rng = &mut StdRng::seed_from_u64(0);
    SeqModel::<f32, _>::new(encoder, vocab, rng).num_params()
}

/// The smallest hidden size at which one direction alone has at least as
/// many parameters as `bi`.
pub fn matching_hiddens<C: Cell<f32>>(
    bi: usize,
    vocab: usize,
    cell: &impl Fn(usize, usize) -> C,
) -> usize {
    let uni = |h| count(Uni(cell(vocab, h)), vocab);
    (1..)
        .find(|&h| params_at(h, uni) >= bi as f64)
        .expect("a large enough size")
}

/// Fails, saying what to lower, if training a model of `params`
/// parameters and `layers` bidirectional layers of `h` units on `tokens`
/// tokens a minibatch would take more memory than this machine has free.
/// The estimate is from above: the parameters four times (values,
/// gradients, Adam's two moments) and, per token, direction and layer, a
/// dozen vectors of `h` (the caches, the outputs and their gradients).
fn check_memory(
    params: f64,
    layers: usize,
    h: usize,
    tokens: usize,
) -> Result<()> {
    let per_token = 2.0 * layers as f64 * 12.0 * h as f64;
    let need = 4.0 * (4.0 * params + tokens as f64 * per_token);
    match d2l::cli::available_memory() {
        Some(have) if need > have => bail!(
            "this model needs about {:.1} GB of memory to train, more than \
             the {:.1} GB this machine has free: lower --num-hiddens, \
             --layers, --batch-size or --num-steps",
            need / 1e9,
            have / 1e9
        ),
        _ => Ok(()),
    }
}

fn fill_with<C: Cell<f32>>(
    args: &FillArgs,
    cell: impl Fn(usize, usize) -> C,
) -> Result<()> {
    let splits = load_book_splits()?;
    // The blank is one more token after the vocabulary.
    let blank = splits.vocab.len();
    let v = blank + 1;
    let h = args.num_hiddens;
    let bi_params = params_at(h, |h| count(bi_rnn(1, v, h, &cell), v));
    let tokens = args.batch_size * args.num_steps;
    check_memory(bi_params, 1, h, tokens)?;
    let out = OutDir::check_for(&args.out, FILL_FILES)?;
    let config = FillConfig {
        steps: args.num_steps,
        batch: args.batch_size,
        rate: args.rate,
        updates: args.updates,
        lr: args.lr,
        clip: 1.0,
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut bi = SeqModel::<f32, _>::new(bi_rnn(1, v, h, &cell), v, &mut rng);
    let uni_h = matching_hiddens(bi.num_params(), v, &cell);
    let mut uni = SeqModel::<f32, _>::new(Uni(cell(v, uni_h)), v, &mut rng);
    console::catch_interrupts();
    let rows = vec![
        fill_one(&mut bi, ("bidirectional", h), args, &splits, blank, &config)?,
        fill_one(
            &mut uni,
            ("one-directional", uni_h),
            args,
            &splits,
            blank,
            &config,
        )?,
    ];
    let report = FillReport {
        cell: args.cell.name(),
        config: &config,
        seed: args.seed,
        rows: &rows,
    };
    let table = fill_table(&rows, &config);
    let staged = out.stage()?;
    staged.write(
        "results.json",
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    staged.write("result.md", table.as_bytes())?;
    staged.commit()?;
    console::result(&format!("{table}wrote {}\n", out.path().display()))?;
    Ok(())
}

/// Trains one model of the comparison (`name`, with `num_hiddens` units
/// per direction) and scores it.
fn fill_one<E: Encoder<f32>>(
    model: &mut SeqModel<f32, E>,
    (name, num_hiddens): (&str, usize),
    args: &FillArgs,
    splits: &d2l::data::Splits,
    blank: usize,
    config: &FillConfig,
) -> Result<FillRow> {
    // The same windows and deletions for both models.
    let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(1));
    let start = Instant::now();
    let every = (config.updates / 10).max(1);
    train_fill(model, &splits.train, blank, config, &mut rng, |u, loss| {
        if console::interrupted() {
            let at = format!("update {u} of the {name} model");
            return Err(TrainError::InterruptedAt { at }.into());
        }
        if !args.quiet && (u % every == 0 || u == config.updates) {
            console::progress(&format!(
                "{name}: update {u}/{}, loss {loss:.3}\n",
                config.updates
            ));
        }
        Ok(())
    })?;
    let train_seconds = start.elapsed().as_secs_f64();
    let mut score = |text: &[usize]| {
        let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(2));
        evaluate_fill(model, text, blank, config, &mut rng)
    };
    let (valid, test) = (score(&splits.valid)?, score(&splits.test)?);
    Ok(FillRow {
        model: name.to_string(),
        num_hiddens,
        features: model.encoder.width(),
        parameters: model.num_params(),
        valid,
        test,
        train_seconds,
    })
}

/// The comparison as a Markdown table, and the settings under it.
pub fn fill_table(rows: &[FillRow], config: &FillConfig) -> String {
    let mut t = String::from(
        "| model | units (features) | parameters | validation: accuracy, \
         perplexity | test: accuracy, perplexity | training |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in rows {
        t += &format!(
            "| {} | {} ({}) | {} | {:.1}%, {:.2} | {:.1}%, {:.2} | {:.0} s |\n",
            r.model,
            r.num_hiddens,
            r.features,
            r.parameters,
            100.0 * r.valid.accuracy,
            r.valid.perplexity,
            100.0 * r.test.accuracy,
            r.test.perplexity,
            r.train_seconds
        );
    }
    t += &format!(
        "\nWindows of {} characters, each deleted with probability {}; \
         {} minibatches of {} windows, Adam at lr {}, clipping at {}.\n",
        config.steps,
        config.rate,
        config.updates,
        config.batch,
        config.lr,
        config.clip
    );
    t
}
