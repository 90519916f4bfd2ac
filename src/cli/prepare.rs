//! `train`, before the first epoch: every check that can fail early
//! rather than after the last epoch, the data and its batches, and the
//! memory a model will need.

use super::{Chapter, Device, Impl, TrainArgs};
use crate::data::{SeqDataLoader, Splits};
use crate::io::outputs::OutDir;
use crate::model::CodePath;
use crate::train::{TrainConfig, PREDICT_EVERY};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// What sets a model's size besides the flags: its layers and how many
/// gates (blocks of the fused weight matrices) each layer has: 3 for a
/// GRU, 4 for an LSTM.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub layers: usize,
    pub gates: usize,
}

impl Shape {
    /// One layer of `gates` gate blocks.
    pub const fn one_layer(gates: usize) -> Self {
        Self { layers: 1, gates }
    }
}

/// A run that passed every check that can be made before training: the
/// data, its batches, and an output folder that will take the results.
#[derive(Debug)]
pub struct Prepared {
    pub splits: Splits,
    pub loader: SeqDataLoader,
    pub out: OutDir,
    /// The threads the model will really use.
    pub threads: usize,
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
            patience: self.patience,
            lr_decay: self.lr_decay,
            optimizer: self.optimizer,
            dropout: self.dropout,
            weight_drop: self.weight_drop,
        }
    }

    /// Checks everything that can fail before the first epoch rather than
    /// after the last: that this build can run `--impl concise` if asked,
    /// the flags that go together, the data against the
    /// batch shape, the memory the model of `shape` needs, and the output
    /// folder. Builds nothing large.
    pub fn prepare(&self, chapter: &Chapter, shape: Shape) -> Result<Prepared> {
        let concise = self.implementation == Impl::Concise;
        if concise && !chapter.concise {
            return Err(super::concise_unavailable(chapter.name));
        }
        if !concise && self.device == Device::Cuda {
            bail!(
                "--device cuda needs --impl concise: the from-scratch model \
                 runs on the CPU only"
            );
        }
        if self.share_steps && (concise || self.path != CodePath::Fast) {
            bail!(
                "--share-steps needs the from-scratch model on the fast path \
                 (--path fast, the default): only the fast path's engine \
                 runs each step on several threads"
            );
        }
        let splits = self.split.load()?;
        if splits.valid.len() <= self.num_steps {
            bail!(
                "the validation text, {} characters, is too short for \
                 --num-steps {}: validation reads subsequences of {} steps \
                 and their labels, so it needs at least {} tokens. Raise \
                 --valid-tokens or lower --num-steps",
                splits.valid.len(),
                self.num_steps,
                self.num_steps,
                self.num_steps.saturating_add(1)
            );
        }
        if concise && self.resume {
            bail!(
                "--resume needs the from-scratch model: libtorch's Adam keeps \
                 its moments where tch cannot save them, so a concise run \
                 cannot be resumed"
            );
        }
        let out = OutDir::check(&self.out_dir(chapter.name))?;
        let resume_file = super::resume::resume_path(out.path());
        if self.resume && !resume_file.exists() {
            bail!(
                "--resume: there is no interrupted run to continue: {} does \
                 not exist. Without --resume the run starts afresh",
                resume_file.display()
            );
        }
        if !self.resume && !concise {
            super::resume::refuse_to_overwrite(&resume_file)?;
        }
        let loader = SeqDataLoader::new(
            splits.train.clone(),
            self.batch_size,
            self.num_steps,
            self.iter.into(),
        )?;
        let asked = self.threads.unwrap_or_else(default_threads);
        // The from-scratch model gives each thread at least one sequence.
        let threads = if concise {
            asked
        } else {
            asked.min(self.batch_size)
        };
        let have = available_memory();
        let history = history_bytes(self.epochs);
        if let Some(have) = have.filter(|&have| history > have / 2.0) {
            bail!(
                "--epochs {} is more than this machine can keep track of: \
                 every epoch's metrics stay in memory for metrics.json and \
                 the plot, about {} in all, against {} free. Use fewer \
                 epochs",
                self.epochs,
                gigabytes(history),
                gigabytes(have)
            );
        }
        let need = memory_estimate_bytes(self, splits.vocab.len(), shape);
        if let (Some(have), Device::Cpu) = (have, self.device) {
            if need > have {
                bail!(
                    "this model needs about {} of memory to train ({} \
                     hidden units × {} layer(s), batches of {} × {}, {} \
                     threads), more than the {} this machine has free. Use \
                     a smaller --num-hiddens, {}--batch-size or --threads",
                    gigabytes(need),
                    self.num_hiddens,
                    shape.layers,
                    self.batch_size,
                    self.num_steps,
                    threads,
                    gigabytes(have),
                    if shape.layers > 1 { "--layers, " } else { "" },
                );
            }
        }
        Ok(Prepared {
            splits,
            loader,
            out,
            threads,
        })
    }
}

fn gigabytes(bytes: f64) -> String {
    match bytes / 1e9 {
        gb if gb < 1e6 => format!("{gb:.1} GB"),
        gb => format!("{gb:.1e} GB"),
    }
}

/// About how many bytes training a model of `shape` with these flags
/// takes, from above: parameters and gradients, each thread's gradients
/// and packed weight copies, the activations one minibatch keeps for
/// backpropagation, and the per-epoch history. Computed in f64, so that
/// absurd sizes give a huge number, not an overflow.
pub fn memory_estimate_bytes(
    args: &TrainArgs,
    vocab_size: usize,
    shape: Shape,
) -> f64 {
    let (v, h) = (vocab_size as f64, args.num_hiddens as f64);
    let (layers, g) = (shape.layers as f64, shape.gates as f64);
    let threads = args.threads.unwrap_or_else(default_threads) as f64;
    let first = g * h * (v + h + 1.0);
    let rest = (layers - 1.0) * g * h * (2.0 * h + 1.0);
    let params = first + rest + h * v + v;
    let weights =
        params * 4.0 * (2.0 + 3.0 * threads.min(args.batch_size as f64));
    let tokens = args.batch_size as f64 * args.num_steps as f64;
    let activations = tokens * 4.0 * 2.0 * (layers * h * (g + 4.0) + v);
    weights + activations + history_bytes(args.epochs)
}

/// About how many bytes the metrics of `epochs` epochs take in memory,
/// with a sample every [`PREDICT_EVERY`] epochs.
fn history_bytes(epochs: usize) -> f64 {
    let epochs = epochs as f64;
    epochs * 64.0 + epochs / PREDICT_EVERY as f64 * 128.0
}

/// The memory this machine has free, from Linux's `MemAvailable`.
pub fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// The threads training uses without `--threads`: one per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
