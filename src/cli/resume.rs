//! Resuming an interrupted run. While a from-scratch model trains, the
//! run's whole state (weights, the optimiser's moments, the generators of
//! batches and dropout masks, the history, the best epoch's weights) is
//! written to `<out>.resume` every [`SAVE_EVERY`] and when Ctrl-C stops
//! it; `--resume` goes on from there and, on as many threads, ends where
//! the run would have ended without the interruption, bit for bit (on
//! another number of threads, the minibatches are split differently and
//! the sums agree to rounding). A run that ends removes the file; one that
//! diverges keeps it, so that the epochs before can still be written out
//! with a smaller `--epochs`.

use super::NamedArrays;
use crate::fast::Sequence;
use crate::io::atomic::write_atomic;
use crate::io::checkpoint::{encode, Checkpoint};
use crate::io::console;
use crate::model::{KeepWeights, RnnModel};
use crate::rnn::Tensors;
use crate::train::optim::Moments;
use crate::train::resume::{RngState, SavedProgress};
use crate::train::Progress;
use anyhow::{anyhow, bail, Context, Result};
use ndarray::ArrayViewD;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a run's state is written while it trains (and once more when
/// Ctrl-C stops it).
pub const SAVE_EVERY: Duration = Duration::from_secs(60);

/// What the resume file's `format` says.
const FORMAT: &str = "d2l-resume-1";

/// The settings that may differ between a run and its resumption: how
/// long it runs, and on how many threads (which changes the rounding).
/// `--epochs` may not go below the epochs already done.
const MAY_DIFFER: [&str; 2] = ["epochs", "threads"];

/// The resume file of the run that goes into `out`: `<out>.resume`, beside
/// the folder (the folder itself only ever holds a finished run).
pub fn resume_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".resume");
    out.with_file_name(name)
}

/// A model whose training state can be written down and restored.
pub trait SaveState: KeepWeights {
    /// Its weights under `cell.`/`output.`, and what else training
    /// changes in it (Adam's moments, the dropout masks' generator), as
    /// arrays and metadata; `None` if that cannot be saved.
    fn save_state(&self) -> Option<(NamedArrays, BTreeMap<String, String>)>;

    /// Restores what [`SaveState::save_state`] wrote: the weights from
    /// `prefix` (`""`, or `best.` for the best epoch's), and with
    /// `everything` the rest too.
    fn restore_state(
        &mut self,
        ck: &Checkpoint,
        prefix: &str,
        everything: bool,
    ) -> Result<()>;
}

/// The f32 arrays of `t`, named `{prefix}{name}`.
fn arrays<T: Tensors<f32>>(prefix: &str, t: &T) -> NamedArrays {
    let named = t.named().into_iter();
    named
        .map(|(n, v)| (format!("{prefix}{n}"), v.to_owned()))
        .collect()
}

/// Fills `t` from the arrays `{prefix}{name}` of `ck`.
fn load<T: Tensors<f32>>(
    ck: &Checkpoint,
    prefix: &str,
    t: &mut T,
) -> Result<()> {
    for (name, mut view) in t.named_mut() {
        view.assign(&ck.tensor(&format!("{prefix}{name}"), view.shape())?);
    }
    Ok(())
}

impl<C: Sequence<f32>> SaveState for RnnModel<f32, C> {
    fn save_state(&self) -> Option<(NamedArrays, BTreeMap<String, String>)> {
        let mut out = arrays("cell.", &self.params);
        out.extend(arrays("output.", &self.output));
        let mut meta = BTreeMap::new();
        let rng = json(&RngState::of(&self.dropout_rng));
        meta.insert("dropout_rng".into(), rng);
        if let Some(adam) = &self.adam {
            for (k, m) in [("m", &adam.cell.m), ("v", &adam.cell.v)] {
                out.extend(arrays(&format!("adam.{k}.cell."), m));
            }
            let output = &adam.output;
            for (k, m) in [("m", &output.m), ("v", &output.v)] {
                out.extend(arrays(&format!("adam.{k}.output."), m));
            }
            meta.insert("adam_steps".into(), adam.cell.t.to_string());
        }
        Some((out, meta))
    }

    fn restore_state(
        &mut self,
        ck: &Checkpoint,
        prefix: &str,
        everything: bool,
    ) -> Result<()> {
        load(ck, &format!("{prefix}cell."), &mut self.params)?;
        load(ck, &format!("{prefix}output."), &mut self.output)?;
        if !everything {
            return Ok(());
        }
        let rng: RngState = serde_json::from_str(ck.meta("dropout_rng")?)?;
        self.dropout_rng = rng
            .restore()
            .ok_or_else(|| anyhow!("its dropout_rng is not a generator's"))?;
        self.adam = match ck.meta("adam_steps") {
            Err(_) => None,
            Ok(t) => {
                let t: u32 = t.parse().context("adam_steps is not a count")?;
                if i32::try_from(t).is_err() {
                    bail!("adam_steps {t} is more steps than Adam counts");
                }
                let mut cell = Moments::new(&self.params);
                let mut output = Moments::new(&self.output);
                cell.t = t;
                output.t = t;
                load(ck, "adam.m.cell.", &mut cell.m)?;
                load(ck, "adam.v.cell.", &mut cell.v)?;
                load(ck, "adam.m.output.", &mut output.m)?;
                load(ck, "adam.v.output.", &mut output.v)?;
                Some(crate::model::rnn_model::AdamMoments { cell, output })
            }
        };
        Ok(())
    }
}

/// The state of a run at the end of an epoch, ready to be written.
pub struct Snapshot {
    arrays: NamedArrays,
    /// The best epoch's weights, shared with the run rather than copied:
    /// they change only when an epoch is the best so far.
    best: Arc<NamedArrays>,
    meta: BTreeMap<String, String>,
    progress: SavedProgress,
}

impl Snapshot {
    /// The model's state and the loop's `progress`, with `best` (the best
    /// epoch's weights, `cell.`/`output.`) and the run's `settings`;
    /// `seconds`: how long the run has trained in all. `None` for a model
    /// that cannot save its state.
    pub fn take<M: SaveState>(
        model: &M,
        progress: &Progress,
        best: &Arc<NamedArrays>,
        settings: &BTreeMap<String, String>,
        seconds: f64,
    ) -> Option<Self> {
        let (arrays, mut meta) = model.save_state()?;
        meta.insert("format".into(), FORMAT.into());
        meta.insert("settings".into(), json(settings));
        let mut progress = SavedProgress::from(progress);
        progress.earlier_seconds = seconds;
        Some(Self {
            arrays,
            best: Arc::clone(best),
            meta,
            progress,
        })
    }

    /// The epoch it was taken after.
    pub fn epoch(&self) -> usize {
        self.progress.history.epochs.len()
    }

    /// Writes it to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let best_names: Vec<String> =
            self.best.iter().map(|(n, _)| format!("best.{n}")).collect();
        let best = best_names.iter().zip(self.best.iter());
        let views: Vec<(&str, ArrayViewD<'_, f32>)> = self
            .arrays
            .iter()
            .map(|(n, a)| (n.as_str(), a.view()))
            .chain(best.map(|(n, (_, a))| (n.as_str(), a.view())))
            .collect();
        let mut meta = self.meta.clone();
        meta.insert("progress".into(), json(&self.progress));
        write_atomic(path, &encode(&views, &meta)).with_context(|| {
            format!("cannot save the run's state to {}", path.display())
        })
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("strings and numbers")
}

/// Writes the snapshots of a run to its resume file: at most every
/// [`SAVE_EVERY`], and the last one when asked ([`Saver::flush`]).
pub struct Saver {
    path: PathBuf,
    last_write: Instant,
    latest: Option<Snapshot>,
    /// The epoch the file holds, if any.
    on_disk: Option<usize>,
    /// Whether the file is this run's to remove when it ends.
    owned: bool,
    warned: bool,
}

impl Saver {
    /// The saver of the resume file `path`, which holds the state after
    /// epoch `resumed_from` if the run was resumed from it.
    pub fn new(path: PathBuf, resumed_from: Option<usize>) -> Self {
        Self {
            path,
            last_write: Instant::now(),
            latest: None,
            on_disk: resumed_from,
            owned: resumed_from.is_some(),
            warned: false,
        }
    }

    /// Drops the snapshot it keeps, before the next is taken, so that two
    /// never take memory at once. Until the next [`Saver::offer`], a flush
    /// writes nothing new.
    pub fn drop_latest(&mut self) {
        self.latest = None;
    }

    /// Keeps `snapshot`, and writes it if [`SAVE_EVERY`] has passed since
    /// the last write. A failed write warns once and training goes on.
    pub fn offer(&mut self, snapshot: Option<Snapshot>) {
        self.latest = snapshot;
        if self.last_write.elapsed() >= SAVE_EVERY {
            if let Err(e) = self.write() {
                if !self.warned {
                    console::warn(&format!("{e:#}; training goes on"));
                    self.warned = true;
                }
            }
        }
    }

    fn write(&mut self) -> Result<()> {
        self.last_write = Instant::now();
        if let Some(s) = &self.latest {
            self.owned = true;
            s.write(&self.path)?;
            self.on_disk = Some(s.epoch());
        }
        Ok(())
    }

    /// Writes the latest snapshot now: the epoch it holds, if any.
    pub fn flush(&mut self) -> Result<Option<usize>> {
        self.write()?;
        Ok(self.latest.as_ref().map(Snapshot::epoch))
    }

    /// The resume file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The epoch whose state the resume file holds, if it holds one.
    pub fn on_disk(&self) -> Option<usize> {
        self.on_disk
    }

    /// The run has been saved: its resume file, if it wrote or resumed
    /// from one (or tried to write one), is removed. Failing to is only a warning, since the run is
    /// safe.
    pub fn finish(&self) {
        if !self.owned {
            return;
        }
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                console::warn(&format!(
                    "the run is saved, but its resume file {} could not be \
                     removed ({e}): delete it, or the next run will refuse \
                     to start",
                    self.path.display()
                ));
            }
            _ => {}
        }
    }
}

/// Refuses a fresh run where an interrupted one waits to be resumed, so
/// that forgetting `--resume` costs nothing.
pub fn refuse_to_overwrite(path: &Path) -> Result<()> {
    if path.exists() {
        bail!(
            "{} holds the state of an interrupted run. Add --resume to \
             continue it, or delete that file to start afresh",
            path.display()
        );
    }
    Ok(())
}

/// What `--resume` reads: the run's progress, its best epoch's weights
/// loaded into `model` and taken out again, and the model's own state.
/// `settings` must match the saved run's, but for [`MAY_DIFFER`].
pub fn restore<M: SaveState>(
    path: &Path,
    model: &mut M,
    settings: &BTreeMap<String, String>,
) -> Result<(Progress, M::Weights)> {
    let ck = Checkpoint::load(path).map_err(|e| {
        anyhow!(e).context(format!(
            "--resume: cannot read {}; without --resume the run starts \
             afresh",
            path.display()
        ))
    })?;
    let damaged = |what: &str| {
        anyhow!(
            "--resume: {} is damaged ({what}); delete it to start afresh",
            path.display()
        )
    };
    if ck.meta("format").ok() != Some(FORMAT) {
        return Err(damaged("it is not a run's resume file"));
    }
    let meta = |key: &str| {
        ck.meta(key)
            .map_err(|_| damaged(&format!("it has no `{key}` entry")))
    };
    let saved: BTreeMap<String, String> =
        serde_json::from_str(meta("settings")?)
            .map_err(|_| damaged("its settings are not readable"))?;
    let differ: Vec<String> = saved
        .keys()
        .chain(settings.keys())
        .filter(|k| !MAY_DIFFER.contains(&k.as_str()))
        .filter(|k| saved.get(*k) != settings.get(*k))
        .map(|k| {
            let show = |s: Option<&String>| {
                s.map_or("(none)".to_string(), |v| v.clone())
            };
            format!(
                "{k}: {} there, {} here",
                show(saved.get(k)),
                show(settings.get(k))
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !differ.is_empty() {
        bail!(
            "--resume: this command's settings differ from those of the run \
             in {} ({}). Give the flags that run had; only --epochs and \
             --threads may change",
            path.display(),
            differ.join("; ")
        );
    }
    let progress: SavedProgress = serde_json::from_str(meta("progress")?)
        .map_err(|_| damaged("its progress is not readable"))?;
    let progress = progress
        .restore()
        .ok_or_else(|| damaged("its progress does not add up"))?;
    let done = progress.epoch();
    let asked = settings.get("epochs").and_then(|e| e.parse().ok());
    if asked.is_some_and(|e: usize| e < done) {
        bail!(
            "--resume: the run in {} has already trained {done} epochs; give \
             --epochs {done} or more",
            path.display()
        );
    }
    let fail = |e: anyhow::Error| damaged(&format!("{e:#}"));
    model.restore_state(&ck, "best.", false).map_err(fail)?;
    let best = model.weights();
    model.restore_state(&ck, "", true).map_err(fail)?;
    Ok((progress, best))
}

#[cfg(feature = "torch")]
impl<R> SaveState for crate::concise::ConciseRnn<R> {
    /// libtorch's Adam keeps its moments where tch cannot read them.
    fn save_state(&self) -> Option<(NamedArrays, BTreeMap<String, String>)> {
        None
    }

    fn restore_state(
        &mut self,
        _: &Checkpoint,
        _: &str,
        _: bool,
    ) -> Result<()> {
        bail!("the concise model cannot resume")
    }
}
