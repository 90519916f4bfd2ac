//! How the cost grows: each model at hidden sizes 64 … 1024 (batch 32)
//! and at batch sizes 32 … 512 (hidden 256), on the fast path with one
//! thread and with every core, and on libtorch (with the `torch`
//! feature), each as tokens/s and effective GFLOP/s.
//!
//! The corpus is the whole book's training part, cut so that every epoch
//! holds about [`EPOCH_FLOPS`] of work: small models see more minibatches,
//! large ones fewer, and each point takes about the same time.

use crate::measure::{self, flops_per_token, shape, Measured, Setup};
use anyhow::Result;
use d2l::data::{Sampling, SeqDataLoader};
use d2l::model::{CodePath, ThreadSplit};
use serde_json::{json, Value};

/// The steps of every minibatch, d2l's.
const STEPS: usize = 35;
/// About how many FLOPs one epoch holds.
const EPOCH_FLOPS: f64 = 2e10;

/// One point of the sweep: hidden units and batch rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub hiddens: usize,
    pub batch: usize,
}

/// Hidden sizes at batch 32, then batch sizes at hidden 256.
pub fn points() -> Vec<Point> {
    let by_size = [64, 128, 256, 512, 1024].map(|h| Point {
        hiddens: h,
        batch: 32,
    });
    let by_batch = [128, 512].map(|b| Point {
        hiddens: 256,
        batch: b,
    });
    by_size.into_iter().chain(by_batch).collect()
}

/// The first tokens of `train` that give every epoch about
/// [`EPOCH_FLOPS`] of work at `point` (at least two minibatches, at most
/// what `train` holds), whatever the loader's random offset.
fn corpus_for(train: &[usize], point: Point, flops: f64) -> Vec<usize> {
    let per_batch = flops * (point.batch * STEPS) as f64;
    let wanted = (EPOCH_FLOPS / per_batch).ceil().max(2.0) as usize;
    let fits = (train.len() - STEPS - 1) / (point.batch * STEPS);
    let batches = wanted.min(fits);
    assert!(
        batches > 0,
        "the corpus is too short for batch {}",
        point.batch
    );
    train[..point.batch * STEPS * batches + STEPS + 1].to_vec()
}

/// Measures every model in `models` at every point of [`points`], and
/// returns one JSON row per model, point and implementation: the median
/// over `epochs.1` measured epochs after `epochs.0` warm-up ones.
pub fn run(
    models: &[String],
    epochs: (usize, usize),
    train: &[usize],
    vocab: usize,
    (cores, steps_split): (usize, bool),
) -> Result<Vec<Value>> {
    let mut rows = Vec::new();
    let mut thread_counts = vec![1];
    if cores > 1 {
        thread_counts.push(cores);
    }
    for name in models {
        let (gates, layers) = shape(name);
        for point in points() {
            let flops = flops_per_token(gates, layers, point.hiddens, vocab);
            let corpus = corpus_for(train, point, flops);
            let loader = SeqDataLoader::new(
                corpus,
                point.batch,
                STEPS,
                Sampling::Sequential,
            )?;
            let mut runs: Vec<(&str, ThreadSplit, Measured)> = Vec::new();
            for &threads in &thread_counts {
                // More than one thread: the batch split, then the steps
                // shared.
                let splits: &[ThreadSplit] = match threads {
                    t if t > 1 && steps_split => {
                        &[ThreadSplit::Batch, ThreadSplit::Steps]
                    }
                    _ => &[ThreadSplit::Batch],
                };
                for &split in splits {
                    let setup = Setup {
                        threads,
                        path: CodePath::Fast,
                        split,
                    };
                    let sizes = (vocab, point.hiddens);
                    let r =
                        measure::scratch(name, sizes, setup, &loader, epochs)?;
                    runs.push(("scratch", split, r));
                }
            }
            #[cfg(feature = "torch")]
            {
                let h = point.hiddens;
                let r = measure::concise(name, vocab, h, &loader, epochs)?;
                runs.push(("concise", ThreadSplit::Batch, r));
            }
            for (imp, split, r) in runs {
                let gflops = r.median * flops / 1e9;
                eprintln!(
                    "sweep {name:>5} hidden {:>4} batch {:>3} {imp:<8} \
                     {} thread(s) {:<5} {:>8.0} tokens/s, {gflops:.1} GFLOP/s",
                    point.hiddens,
                    point.batch,
                    r.threads,
                    split.name(),
                    r.median
                );
                rows.push(json!({
                    "model": name,
                    "hiddens": point.hiddens,
                    "batch": point.batch,
                    "impl": imp,
                    "threads": r.threads,
                    "split": split.name(),
                    "tokens_per_sec": r.median,
                    "gflops": gflops,
                }));
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every epoch's corpus holds whole minibatches for any offset, at
    /// least two, and no more than the budget asks for.
    #[test]
    fn corpus_holds_the_budget_in_whole_minibatches() {
        let train: Vec<usize> = (0..150_000).map(|i| i % 28).collect();
        for point in points() {
            let flops = flops_per_token(4, 1, point.hiddens, 28);
            let corpus = corpus_for(&train, point, flops);
            let row = (corpus.len() - STEPS - 1) / point.batch;
            let batches = row / STEPS;
            assert!(batches >= 2, "{point:?}: {batches} minibatches");
            let work = batches as f64 * flops * (point.batch * STEPS) as f64;
            let one_less = work - flops * (point.batch * STEPS) as f64;
            assert!(
                one_less < EPOCH_FLOPS || batches == 2,
                "{point:?}: {batches} minibatches, more than the budget"
            );
        }
    }
}
