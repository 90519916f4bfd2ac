//! `generate`: a checkpoint read back and checked, metadata against
//! tensors, before any model is built from it.

use super::{load_scratch_tensors, GenerateArgs};
use crate::data::Vocab;
use crate::fast::Sequence;
use crate::io::checkpoint::Checkpoint;
use crate::io::console;
use crate::model::LanguageModel;
use crate::model::RnnModel;
use crate::rnn::Cell;
use crate::train::beam::{beam_search, log_prob_of, Beam};
use crate::train::generate::predict;
use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Which binary trains and reads each kind of model.
fn chapter_of(model: &str) -> Option<&'static str> {
    match model {
        "rnn" => Some("ch_rnn"),
        "gru" => Some("ch_gru"),
        "lstm" => Some("ch_lstm"),
        "deep" => Some("ch_deep_rnn"),
        _ => None,
    }
}

/// Loads the checkpoint `generate` asks for and checks that it holds a
/// `model` (`rnn`, `gru`, `lstm` or `deep`), naming the binary that reads it if
/// not.
pub fn open_checkpoint(
    checkpoint: Option<&Path>,
    chapter: &str,
    model: &str,
) -> Result<(PathBuf, Checkpoint)> {
    let path = checkpoint_path(checkpoint, chapter);
    if checkpoint.is_none() && !path.exists() {
        bail!(
            "there is no checkpoint at {} yet: train one first with \
             `cargo run --release -p {chapter}`, or pass --checkpoint",
            path.display()
        );
    }
    let ck = Checkpoint::load(&path)?;
    let found = ck.meta("model")?;
    if found != model {
        let hint = match chapter_of(found) {
            Some(bin) if matches!(found, "gru" | "lstm") => {
                format!("; read it with `{bin} generate` or `{bin} gates`")
            }
            Some(bin) => format!("; read it with `{bin} generate`"),
            None => String::new(),
        };
        bail!(
            "{} holds a {found:?} model, and {chapter} reads {model:?} \
             models{hint}",
            path.display()
        );
    }
    Ok((path, ck))
}

/// Refuses a vocabulary entry that is not one printable ASCII character
/// (or `<unk>`). The corpus is cut into lower-case letters and spaces
/// (`data::normalize_line`), so nothing else is ever trained; a damaged
/// or edited checkpoint cannot print control characters, or invisible
/// ones that reorder the text, to the terminal.
pub fn check_vocab_token(i: usize, token: &str) -> Result<()> {
    let mut chars = token.chars();
    match (chars.next(), chars.next()) {
        _ if i == 0 && token == "<unk>" => Ok(()),
        (Some(c), None) if c.is_ascii_graphic() || c == ' ' => Ok(()),
        _ => bail!(
            "the checkpoint's vocabulary entry {i} is {token:?}, not one \
             printable ASCII character: the file was damaged or edited"
        ),
    }
}

/// The vocabulary stored in a checkpoint: `<unk>` first, then distinct
/// printable characters.
pub fn checkpoint_vocab(ck: &Checkpoint) -> Result<Vocab> {
    let tokens: Vec<String> = serde_json::from_str(ck.meta("vocab")?)
        .context("the checkpoint's vocabulary is not valid JSON")?;
    if tokens.first().map(String::as_str) != Some("<unk>") {
        bail!("the checkpoint's vocabulary does not start with <unk>");
    }
    let mut seen = BTreeSet::new();
    for (i, token) in tokens.iter().enumerate() {
        check_vocab_token(i, token)?;
        if !seen.insert(token.as_str()) {
            bail!(
                "the checkpoint's vocabulary holds {token:?} twice: the file \
                 was damaged or edited"
            );
        }
    }
    Ok(Vocab::from_tokens(tokens))
}

/// A usize entry of a checkpoint's metadata.
pub fn checkpoint_usize(ck: &Checkpoint, key: &str) -> Result<usize> {
    let v = ck.meta(key)?;
    v.parse()
        .with_context(|| format!("checkpoint metadata `{key}` = {v:?}"))
}

/// The checkpoint's `num_hiddens`, checked against the output layer's
/// weight, whose shape is (hidden units, vocabulary size).
fn checked_num_hiddens(ck: &Checkpoint, vocab: &Vocab) -> Result<usize> {
    let name = "output.w_hq";
    let shape = ck.shape(name)?;
    let h = ck.meta("num_hiddens")?;
    if shape != [h.parse().unwrap_or(usize::MAX), vocab.len()] {
        bail!(
            "the checkpoint's metadata says num_hiddens = {h} with a \
             vocabulary of {}, but its tensor `{name}` has shape {shape:?}: \
             the file was edited or damaged. Train again to write a new one",
            vocab.len()
        );
    }
    Ok(shape[0])
}

/// The checkpoint's `layers`, checked against the layers its tensors hold
/// (`cell.l0.…` to `cell.l{layers − 1}.…`).
pub fn checkpoint_layers(ck: &Checkpoint) -> Result<usize> {
    let meta = ck.meta("layers")?;
    let stored: BTreeSet<usize> = ck
        .names()
        .filter_map(|n| n.strip_prefix("cell.l")?.split('.').next())
        .filter_map(|l| l.parse().ok())
        .collect();
    let consistent = stored.iter().copied().eq(0..stored.len());
    match meta.parse::<usize>() {
        Ok(n) if n >= 1 && consistent && n == stored.len() => Ok(n),
        _ => bail!(
            "the checkpoint's metadata says layers = {meta:?}, but it holds \
             tensors for {} layer(s): the file was edited or damaged. Train \
             again to write a new one",
            stored.len()
        ),
    }
}

/// The most model steps `generate --beam` runs (`--beam` × `--len`): a
/// few seconds for d2l's models.
pub const MAX_BEAM_STEPS: usize = 1_000_000;

/// Runs `generate`: continues the prefix (by greedy decoding, sampling or
/// beam search) and prints the text, and with `--show-log-prob` its
/// log-probability.
pub fn generate_and_print<M: LanguageModel>(
    model: &mut M,
    vocab: &Vocab,
    args: &GenerateArgs,
) -> Result<()>
where
    M::State: Clone,
{
    let (text, tokens) = match args.beam {
        Some(width) => {
            if width.saturating_mul(args.len) > MAX_BEAM_STEPS {
                bail!(
                    "--beam {width} with --len {} would run {width} model \
                     steps per character, {} in all; keep --beam × --len at \
                     most {MAX_BEAM_STEPS}",
                    args.len,
                    width.saturating_mul(args.len)
                );
            }
            let beam = Beam {
                width,
                alpha: args.alpha,
            };
            let b = beam_search(model, vocab, &args.prefix, args.len, beam)?;
            (b.text, b.tokens)
        }
        None => {
            let mut rng = StdRng::seed_from_u64(args.seed);
            let (prefix, decoding) = (&args.prefix, args.decoding());
            let g =
                predict(model, vocab, prefix, args.len, decoding, &mut rng)?;
            (g.text, g.tokens)
        }
    };
    let mut out = format!("{text}\n");
    if args.show_log_prob {
        let lp = log_prob_of(model, vocab, &args.prefix, &tokens)?;
        let bits = -lp / std::f64::consts::LN_2 / tokens.len().max(1) as f64;
        out.push_str(&format!(
            "log-probability of the {} added characters: {lp:.4} \
             ({bits:.3} bits per character)\n",
            tokens.len()
        ));
    }
    console::result(&out)
        .context("cannot print the generated text to standard output")
}

/// `generate` for a from-scratch model: loads it with
/// [`load_scratch_model`] and continues the prefix. Checkpoints of the
/// concise models are in the same layout, so they load here too.
pub fn generate_scratch<C: Sequence<f32>>(
    args: &GenerateArgs,
    chapter: &str,
    model: &str,
    cell: impl FnOnce(&Checkpoint, usize, usize) -> Result<C>,
) -> Result<()> {
    let checkpoint = args.checkpoint.as_deref();
    let loaded = load_scratch_model(checkpoint, chapter, model, cell)?;
    let (mut m, vocab) = (loaded.model, loaded.vocab);
    generate_and_print(&mut m, &vocab, args)
}

/// A one-layer model read back from a checkpoint, with its vocabulary.
pub struct Loaded<C: Cell<f32>> {
    pub model: RnnModel<f32, C>,
    pub vocab: Vocab,
    pub path: PathBuf,
    /// The whole file, for its metadata.
    pub checkpoint: Checkpoint,
}

/// Loads the checkpoint, checks that it holds a `model` and that its
/// metadata matches its tensors, builds the cell with `cell(checkpoint,
/// vocab size, hidden units)` and loads the weights.
pub fn load_scratch_model<C: Cell<f32>>(
    checkpoint: Option<&Path>,
    chapter: &str,
    model: &str,
    cell: impl FnOnce(&Checkpoint, usize, usize) -> Result<C>,
) -> Result<Loaded<C>> {
    let (path, ck) = open_checkpoint(checkpoint, chapter, model)?;
    let vocab = checkpoint_vocab(&ck)?;
    let num_hiddens = checked_num_hiddens(&ck, &vocab)?;
    let cell = cell(&ck, vocab.len(), num_hiddens)?;
    let mut rng = StdRng::seed_from_u64(0);
    let mut m = RnnModel::new(cell, vocab.len(), &mut rng);
    load_scratch_tensors(&ck, &mut m.params, &mut m.output)?;
    Ok(Loaded {
        model: m,
        vocab,
        path,
        checkpoint: ck,
    })
}

/// The checkpoint path: `--checkpoint`, or `runs/<chapter>/model.safetensors`.
pub fn checkpoint_path(checkpoint: Option<&Path>, chapter: &str) -> PathBuf {
    checkpoint.map(Path::to_path_buf).unwrap_or_else(|| {
        Path::new("runs").join(chapter).join("model.safetensors")
    })
}
