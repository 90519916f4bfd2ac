//! `train`: the training, and the run's outputs written all at once.

use super::prepare::Prepared;
use super::report::{peak_rss_mb, result_table};
use super::resume;
use super::{scratch_tensors, NamedArrays, SplitKind, TrainArgs};
use crate::cli::plot::perplexity_svg;
use crate::fast::Sequence;
use crate::io::checkpoint::{encode, Checkpoint};
use crate::io::console;
use crate::model::{KeepWeights, LanguageModel, RnnModel, ThreadSplit};
use crate::train::generate::{predict, Decoding};
use crate::train::PREFIX;
use crate::train::{evaluate, train_from, History, Progress, TestScore};
use crate::train::{train_rng, TrainError, NUM_PREDS};
use anyhow::{anyhow, Context, Result};
use ndarray::ArrayViewD;
use rand::rngs::StdRng;
use rand::SeedableRng;
use resume::{resume_path, SaveState, Saver, Snapshot};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every setting of a run, so that it can be repeated from its outputs:
/// the flags, the model's own (`meta`: model, variant, layers, ...), and
/// what they came to (tokens, vocabulary, threads).
fn settings(
    args: &TrainArgs,
    run: &Prepared,
    model: &impl LanguageModel,
    meta: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut s = meta.clone();
    let mut put = |k: &str, v: String| {
        s.insert(k.to_string(), v);
    };
    put("epochs", args.epochs.to_string());
    put("lr", args.lr.to_string());
    put("optimizer", args.optimizer.name().to_string());
    put("dropout", args.dropout.to_string());
    put("weight_drop", args.weight_drop.to_string());
    if let Some(decay) = args.lr_decay {
        put("lr_decay", decay.to_string());
    }
    if let Some(patience) = args.patience {
        put("patience", patience.to_string());
    }
    put("clip", args.clip.to_string());
    put("num_hiddens", args.num_hiddens.to_string());
    put("batch_size", args.batch_size.to_string());
    put("num_steps", args.num_steps.to_string());
    let splits = &run.splits;
    put("split", splits.offsets.name.clone());
    if args.split.kind == SplitKind::D2l {
        put("max_tokens", splits.train.len().to_string());
    }
    put("valid_tokens", splits.valid.len().to_string());
    if !splits.test.is_empty() {
        put("test_tokens", splits.test.len().to_string());
    }
    put("train_tokens", splits.train.len().to_string());
    put("vocab_size", run.splits.vocab.len().to_string());
    put("seed", args.seed.to_string());
    put("iter", format!("{:?}", args.iter).to_lowercase());
    put("device", model.device());
    put("threads", model.threads().to_string());
    if let Some(path) = model.path() {
        put("path", path.name().to_string());
    }
    if args.share_steps {
        put("share_steps", "true".to_string());
    }
    s
}

/// A chapter's `train` for a from-scratch model: the model of `cell` with
/// d2l's initialisation (from `--seed`), trained and saved with `meta`
/// (`impl` = `scratch` is added).
pub fn train_scratch<C: Sequence<f32>>(
    cell: C,
    args: &TrainArgs,
    run: Prepared,
    title: &str,
    mut meta: BTreeMap<String, String>,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let vocab_size = run.splits.vocab.len();
    let mut model = RnnModel::<f32, _>::new(cell, vocab_size, &mut rng);
    model.dropout = args.dropout;
    model.weight_drop = args.weight_drop;
    // Masks from their own stream, so that --dropout 0 draws nothing that
    // the batches would otherwise have drawn.
    model.dropout_rng = train_rng(args.seed.wrapping_add(1));
    meta.insert("impl".to_string(), "scratch".to_string());
    let tensors = |m: &RnnModel<f32, C>| scratch_tensors(&m.params, &m.output);
    train_and_save(&mut model, tensors, args, run, title, meta)?;
    Ok(())
}

/// Trains `model`, prints d2l's closing lines, and writes the metrics, the
/// plot and the checkpoints of the last and of the best validation epoch
/// (with `meta` and the vocabulary) to the output folder, all at once: if
/// training or writing fails, or Ctrl-C stops it, the folder keeps its
/// previous run. A split with a test part has it scored here, once, with
/// the best epoch's weights.
pub fn train_and_save<M: LanguageModel + KeepWeights + SaveState>(
    model: &mut M,
    tensors: impl Fn(&M) -> NamedArrays,
    args: &TrainArgs,
    run: Prepared,
    title: &str,
    mut meta: BTreeMap<String, String>,
) -> Result<History> {
    let dir = run.out.path().to_path_buf();
    let untouched =
        || format!("nothing was written, and {} is as it was", dir.display());
    crate::model::parallel::keep_freed_memory();
    model.set_threads(run.threads);
    model.set_path(args.path);
    if args.share_steps {
        model.set_thread_split(ThreadSplit::Steps);
    }
    console::catch_interrupts();
    let (splits, loader) = (&run.splits, &run.loader);
    let start = std::time::Instant::now();
    let config = args.config();
    // Everything the run's resume file must agree on with the command.
    let fixed = settings(args, &run, model, &meta);
    let resume_file = resume_path(&dir);
    let (mut progress, mut best) = if args.resume {
        let (progress, best) = resume::restore(&resume_file, model, &fixed)?;
        (progress, Some(best))
    } else {
        (Progress::start(&config, model.device()), None)
    };
    progress.history.config = config.clone();
    let earlier = progress.earlier_seconds;
    // The best epoch's weights are kept once: as the arrays the resume
    // file and best.safetensors take, for a model that can restore them;
    // as a copy of its weights otherwise (the concise model).
    let arrays_only = model.save_state().is_some();
    let mut best_arrays = Arc::new(match &best {
        Some(weights) => with_weights(model, weights, |m| tensors(m)),
        None => Vec::new(),
    });
    if arrays_only {
        best = None;
    }
    let mut has_best = !best_arrays.is_empty();
    let resumed_from = args.resume.then(|| progress.epoch());
    let mut saver = Saver::new(resume_file.clone(), resumed_from);
    let on_epoch = |m: &M, p: &Progress| {
        saver.drop_latest();
        if p.last_is_best() {
            // The old copies go before the new ones are made.
            best_arrays = Arc::new(Vec::new());
            best = None;
            best_arrays = Arc::new(tensors(m));
            if !arrays_only {
                best = Some(m.weights());
            }
            has_best = true;
        }
        let seconds = earlier + start.elapsed().as_secs_f64();
        saver.offer(Snapshot::take(m, p, &best_arrays, &fixed, seconds));
    };
    let (valid, vocab) = (&splits.valid, &splits.vocab);
    let trained =
        train_from(model, loader, valid, vocab, &config, progress, on_epoch);
    let mut history = match trained {
        Ok(history) => history,
        Err(e) => {
            let kept = keep_state(&mut saver, &e);
            let message = format!("{e}; {kept}{}", untouched());
            return Err(anyhow::Error::new(e).context(message));
        }
    };
    // Whatever fails from here on, the training is done: its state is
    // kept, so that --resume only writes.
    let written = (|| -> Result<(History, String)> {
        assert!(has_best, "training ran at least one epoch");
        let mut test = |model: &mut M| -> Result<_> {
            if !splits.test.is_empty() {
                let (batch, steps) = (loader.batch_size(), loader.num_steps());
                let ppl = evaluate(model, &splits.test, batch, steps)?;
                history.test = Some(TestScore {
                    epoch: history.best_valid().epoch,
                    perplexity: ppl,
                    bpc: ppl.log2(),
                });
            }
            Ok(tensors(model))
        };
        let best_arrays = match &best {
            Some(best) => with_weights(model, best, test)?,
            None => {
                let ck = Checkpoint::from_arrays(&best_arrays);
                let own = model.weights();
                model.restore_state(&ck, "", false)?;
                let arrays = test(model);
                model.set_weights(&own);
                arrays?
            }
        };
        history.wall_seconds = Some(earlier + start.elapsed().as_secs_f64());
        history.peak_rss_mb = peak_rss_mb();
        history.threads = Some(model.threads());
        history.path = model.path().map(|p| p.name().to_string());
        history.command = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        history.settings = fixed.clone();
        history.split = Some(splits.offsets.clone());
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
            samples.push(text.text);
        }
        let samples = samples.join("\n") + "\n";
        meta.insert(
            "vocab".to_string(),
            serde_json::to_string(splits.vocab.idx_to_token())?,
        );
        meta.insert("num_hiddens".to_string(), args.num_hiddens.to_string());
        // Which characters trained it, so that `gates` measures on text
        // it never saw.
        meta.insert(
            "split".to_string(),
            serde_json::to_string(&splits.offsets)?,
        );
        let arrays = tensors(model);
        let mut best_meta = meta.clone();
        best_meta.insert(
            "epoch".to_string(),
            history.best_valid().epoch.to_string(),
        );
        let svg = perplexity_svg(&history.epochs, title)
            .map_err(|e| anyhow!("drawing the perplexity plot: {e}"))?;
        // Everything is written before anything is printed, so a closed
        // output pipe cannot cost the run.
        let write = || -> Result<()> {
            let staged = run.out.stage()?;
            let json = serde_json::to_string_pretty(&history)?;
            staged.write("metrics.json", json.as_bytes())?;
            staged.write("result.md", result_table(&history).as_bytes())?;
            staged.write("samples.txt", samples.as_bytes())?;
            staged.write("perplexity.svg", svg.as_bytes())?;
            staged.write("model.safetensors", &checkpoint(&arrays, &meta))?;
            let best = checkpoint(&best_arrays, &best_meta);
            staged.write("best.safetensors", &best)?;
            if console::interrupted() {
                let epoch = history.epochs.len();
                return Err(TrainError::Interrupted { epoch }.into());
            }
            Ok(staged.commit()?)
        };
        write()?;
        Ok((history, samples))
    })();
    let (history, samples) = match written {
        Ok(done) => done,
        Err(e) => {
            let kept = match e.downcast_ref::<TrainError>() {
                Some(interrupted) => keep_state(&mut saver, interrupted),
                None => saved_for_later(&mut saver),
            };
            let message = format!("{e}; {kept}{}", untouched());
            return Err(e.context(message));
        }
    };
    saver.finish();
    let mut closing = format!("{}\n", history.final_line());
    if let Some(test) = &history.test {
        closing += &format!(
            "test perplexity {:.2} ({:.3} bits per character) with the \
             weights of epoch {}, the best on validation\n",
            test.perplexity, test.bpc, test.epoch
        );
    }
    closing += &samples;
    let printed = console::result(&closing).and_then(|()| {
        if args.quiet {
            return Ok(());
        }
        console::result(&format!(
            "wrote metrics.json, result.md, samples.txt, perplexity.svg, \
             model.safetensors (the last epoch) and best.safetensors (the \
             best validation epoch) to {}\n",
            dir.display()
        ))
    });
    printed.with_context(|| {
        format!(
            "the run was saved in {}, but its closing lines could not be \
             printed",
            dir.display()
        )
    })?;
    Ok(history)
}

/// After training stopped with `e`: an interrupted run writes its state
/// to its resume file and says so. A run that diverged writes nothing
/// more (its last epochs led there), but keeps what the file holds, which
/// `--resume` with an `--epochs` below the divergence can still write
/// out. Returns what to tell the user, ending in "; " or empty.
fn keep_state(saver: &mut Saver, e: &TrainError) -> String {
    if matches!(e, TrainError::Interrupted { .. }) {
        return saved_for_later(saver);
    }
    match saver.on_disk() {
        Some(epoch) => format!(
            "{} keeps the state after epoch {epoch}: run the same command \
             with --resume --epochs {epoch} to write out the epochs before \
             the divergence, or delete it to start afresh; ",
            saver.path().display()
        ),
        None => String::new(),
    }
}

/// Writes the run's latest state to its resume file, and says how to go
/// on from it (or nothing, if there is no state to keep).
fn saved_for_later(saver: &mut Saver) -> String {
    match saver.flush() {
        Ok(Some(epoch)) => format!(
            "its state after epoch {epoch} is saved in {}: run the same \
             command with --resume to continue; ",
            saver.path().display()
        ),
        Ok(None) => match saver.on_disk() {
            Some(epoch) => format!(
                "{} still holds the state after epoch {epoch}: run the same \
                 command with --resume to continue; ",
                saver.path().display()
            ),
            None => String::new(),
        },
        Err(e) => format!("{e:#}; "),
    }
}

/// The bytes of a checkpoint of `arrays` with `meta`.
fn checkpoint(
    arrays: &NamedArrays,
    meta: &BTreeMap<String, String>,
) -> Vec<u8> {
    let views: Vec<(&str, ArrayViewD<'_, f32>)> =
        arrays.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
    encode(&views, meta)
}

/// Runs `f` on `model` with `weights` in place of its own, and puts its
/// own back afterwards, whatever `f` returns.
fn with_weights<M: KeepWeights, T>(
    model: &mut M,
    weights: &M::Weights,
    f: impl FnOnce(&mut M) -> T,
) -> T {
    let own = model.weights();
    model.set_weights(weights);
    let out = f(model);
    model.set_weights(&own);
    out
}
