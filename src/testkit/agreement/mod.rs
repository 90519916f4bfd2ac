//! Agreement between two implementations of one model: what each computes
//! on the same batch from the same weights, recorded as named numbers, so a
//! from-scratch model can be compared with libtorch live (the `torch`
//! feature) or with a recorded fixture (always).

use crate::data::Batch;
use crate::fast::Sequence;
use crate::model::LanguageModel;
use crate::model::RnnModel;
use crate::rnn::{Cell, Tensors, TorchLayout};
use crate::train::grad_clipping;
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a model computes on one batch, flattened in row-major order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Logits, time-major: row `t · batch + i`.
    pub logits: Vec<f64>,
    /// Final state, by tensor name.
    pub final_state: BTreeMap<String, Vec<f64>>,
    /// Gradients in our layout: `cell.<name>`, `output.<name>` and
    /// `state0.<name>`.
    pub grads: BTreeMap<String, Vec<f64>>,
    /// Losses of successive SGD steps with clipping on the same batch,
    /// from the same initial state.
    pub sgd_losses: Vec<f64>,
}

/// Clipping threshold and learning rate of the recorded SGD steps: θ is
/// small so that clipping acts at every step.
pub const SGD_THETA: f64 = 0.1;
pub const SGD_LR: f64 = 1.0;
pub const SGD_STEPS: usize = 5;

/// Fills tensor `k`'s entry `j` with 0.5 · cos(0.37 · j + 1.1 · k + phase):
/// weights without randomness, so any language reproduces them.
pub fn deterministic<T: Tensors<f64>>(t: &mut T, phase: f64) {
    for (k, (_, mut v)) in t.named_mut().into_iter().enumerate() {
        for (j, x) in v.iter_mut().enumerate() {
            *x = 0.5 * (0.37 * j as f64 + 1.1 * k as f64 + phase).cos();
        }
    }
}

/// The batch the agreement tests use: `x[i, t] = (i + 2t) mod vocab`,
/// `y[i, t] = (3i + t + 1) mod vocab`.
pub fn fixture_batch(batch: usize, steps: usize, vocab: usize) -> Batch {
    Batch {
        x: Array2::from_shape_fn((batch, steps), |(i, t)| (i + 2 * t) % vocab),
        y: Array2::from_shape_fn((batch, steps), |(i, t)| {
            (3 * i + t + 1) % vocab
        }),
    }
}

/// Every tensor of `t`, flattened, under `prefix` + its name.
pub fn flat_named<T: Tensors<f64>>(
    prefix: &str,
    t: &T,
) -> BTreeMap<String, Vec<f64>> {
    t.named()
        .into_iter()
        .map(|(n, v)| (format!("{prefix}{n}"), v.iter().copied().collect()))
        .collect()
}

/// The record of a from-scratch model.
pub fn record_scratch<C: Sequence<f64> + Clone>(
    model: &RnnModel<f64, C>,
    batch: &Batch,
    state0: &C::State,
) -> Record {
    let mut m = model.clone();
    let mut state = state0.clone();
    let (loss, d_state0) = m.forward_backward_from(batch, &mut state);
    let mut grads = flat_named("cell.", &m.cell_grads);
    grads.extend(flat_named("output.", &m.output_grads));
    grads.extend(flat_named("state0.", &d_state0));
    let logits = {
        let (steps, _) = crate::model::time_major(batch);
        let xs: Vec<_> =
            steps.iter().map(|s| crate::rnn::Input::Tokens(s)).collect();
        let (hs, _) = crate::rnn::forward_seq(
            &m.cell,
            &m.params,
            &xs,
            &mut state0.clone(),
        );
        m.output.forward(&hs).iter().copied().collect()
    };
    Record {
        loss,
        logits,
        final_state: flat_named("", &state),
        grads,
        sgd_losses: sgd_losses(&mut model.clone(), batch, || state0.clone()),
    }
}

/// Losses of [`SGD_STEPS`] steps of clipped SGD on `batch`, each from
/// the state `state0()` makes, for any model.
pub fn sgd_losses<M: LanguageModel>(
    model: &mut M,
    batch: &Batch,
    state0: impl Fn() -> M::State,
) -> Vec<f64> {
    (0..SGD_STEPS)
        .map(|_| {
            let loss = model.forward_backward(batch, &mut state0());
            grad_clipping(model, SGD_THETA);
            model.sgd_step(SGD_LR);
            loss
        })
        .collect()
}

/// How closely, in f64, our models must agree with libtorch's from the
/// same weights: every logit, state, gradient and SGD loss. The book
/// quotes this number, and a test of the book checks that it does.
pub const AGREEMENT_TOL: f64 = 1e-10;

/// How closely a live libtorch record must match the one stored in the
/// fixtures, which the default lane compares against.
pub const FIXTURE_TOL: f64 = 1e-12;

/// How closely, in f64, the fast path must match the teaching path, and
/// a minibatch split between threads must match one thread.
pub const PATHS_TOL: f64 = 1e-12;

/// How closely, relatively, the two paths' validation perplexities must
/// end after a short run in f32, where they sum in different orders.
pub const F32_PATHS_GAP: f64 = 1e-3;

/// How closely, in f32, one forward/backward on CUDA must match the
/// same on the CPU from the same weights (`bench --gpu-check`).
pub const GPU_TOL: f64 = 1e-4;

/// Notes `worst`, the largest difference measured between our model
/// (`what`) and libtorch's record of `reference`, in the file that
/// `D2L_AGREEMENT_REPORT` names, if any: `scripts/regenerate-results`
/// collects these into the book's table of measured differences.
pub fn report(what: &str, reference: &str, worst: f64) {
    let Some(path) = std::env::var_os("D2L_AGREEMENT_REPORT") else {
        return;
    };
    use std::io::Write;
    let line = format!("| {what} | {reference} | {worst:.1e} |\n");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .unwrap_or_else(|e| panic!("D2L_AGREEMENT_REPORT: {e}"));
}

/// A model of `cell` over `vocab` tokens, and an initial state for
/// `batch` sequences, with every value from [`deterministic`]: the weights
/// (phase 0), the output layer (0.7) and the state (2). What every
/// agreement test copies into libtorch.
pub fn deterministic_model<C: Cell<f64>>(
    cell: C,
    vocab: usize,
    batch: usize,
) -> (RnnModel<f64, C>, C::State) {
    let mut model = RnnModel::new(cell, vocab, &mut StdRng::seed_from_u64(0));
    deterministic(&mut model.params, 0.0);
    deterministic(&mut model.output, 0.7);
    let mut state = model.cell.zero_state(batch);
    deterministic(&mut state, 2.0);
    (model, state)
}

/// Compares `ours` with the record `key` of the fixture of the crate at
/// `crate_dir` (its `CARGO_MANIFEST_DIR`), within [`AGREEMENT_TOL`], and
/// [`report`]s the largest difference as `what` against `reference`.
pub fn check_recorded(
    crate_dir: &str,
    key: &str,
    ours: &Record,
    (what, reference): (&str, &str),
) {
    let fixtures = read_fixture(&fixture_path(crate_dir));
    let Some(theirs) = fixtures.get(key) else {
        panic!(
            "no record {key:?} in the fixture: run the torch lane once \
             with D2L_BLESS=1"
        )
    };
    let worst = compare(ours, theirs, AGREEMENT_TOL)
        .unwrap_or_else(|e| panic!("{key}: {e}"));
    report(what, reference, worst);
}

/// Asserts that `ours` and `theirs` agree within [`AGREEMENT_TOL`], and
/// prints and returns the largest difference; `what` names the pair.
pub fn agree(what: &str, ours: &Record, theirs: &Record) -> f64 {
    let worst = compare(ours, theirs, AGREEMENT_TOL)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    println!("{what}: max abs difference {worst:.1e}");
    worst
}

/// The largest absolute difference between two records, entry by entry,
/// with a line for every named quantity that differs by more than `tol`.
pub fn compare(a: &Record, b: &Record, tol: f64) -> Result<f64, String> {
    let mut worst = 0.0f64;
    let mut bad = Vec::new();
    let mut missing = Vec::new();
    let mut check = |name: &str, x: &[f64], y: &[f64]| {
        if x.len() != y.len() {
            bad.push(format!("{name}: {} values vs {}", x.len(), y.len()));
            return;
        }
        // A NaN anywhere makes the difference NaN, never a pass.
        let d = x.iter().zip(y).map(|(p, q)| (p - q).abs()).fold(
            0.0,
            |m: f64, v| {
                if m.is_nan() || v.is_nan() {
                    f64::NAN
                } else {
                    m.max(v)
                }
            },
        );
        worst = worst.max(d);
        if d.is_nan() || d > tol {
            bad.push(format!("{name}: max abs difference {d:.3e}"));
        }
    };
    check("loss", &[a.loss], &[b.loss]);
    check("logits", &a.logits, &b.logits);
    check("sgd_losses", &a.sgd_losses, &b.sgd_losses);
    for (maps, what) in [
        ((&a.final_state, &b.final_state), "final state"),
        ((&a.grads, &b.grads), "gradient"),
    ] {
        let names: std::collections::BTreeSet<_> =
            maps.0.keys().chain(maps.1.keys()).collect();
        for name in names {
            match (maps.0.get(name), maps.1.get(name)) {
                (Some(x), Some(y)) => check(&format!("{what} {name}"), x, y),
                _ => {
                    missing.push(format!("{what} {name}: missing on one side"))
                }
            }
        }
    }
    bad.extend(missing);
    if bad.is_empty() {
        Ok(worst)
    } else {
        Err(format!(
            "disagreement above {tol:e}:\n  {}",
            bad.join("\n  ")
        ))
    }
}

/// Asserts that `p` in PyTorch's layout has PyTorch's shapes, holds our
/// weights `ih` (on X) and `hh` (on H) as its blocks in that order, row
/// `j` of a block being column `j` of ours, and converts back to `p`.
pub fn assert_torch_layout<P>(p: &P, ih: &[&Array2<f64>], hh: &[&Array2<f64>])
where
    P: TorchLayout<f64> + PartialEq + std::fmt::Debug,
{
    let t = p.to_torch();
    let (inputs, hiddens) = ih[0].dim();
    let rows = ih.len() * hiddens;
    assert_eq!(t.weight_ih.dim(), (rows, inputs), "weight_ih");
    assert_eq!(t.weight_hh.dim(), (rows, hiddens), "weight_hh");
    assert_eq!((t.bias_ih.len(), t.bias_hh.len()), (rows, rows), "biases");
    for (fused, ours) in [(&t.weight_ih, ih), (&t.weight_hh, hh)] {
        for (k, w) in ours.iter().enumerate() {
            for j in 0..hiddens {
                assert_eq!(fused.row(k * hiddens + j), w.column(j), "{k}, {j}");
            }
        }
    }
    assert_eq!(&P::from_torch(&t), p);
}

/// A chapter's agreement fixture: `tests/fixtures/agreement.json` in the
/// crate folder `crate_dir` (its `env!("CARGO_MANIFEST_DIR")`).
pub fn fixture_path(crate_dir: &str) -> PathBuf {
    Path::new(crate_dir).join("tests/fixtures/agreement.json")
}

/// Reads a fixture file of named records.
pub fn read_fixture(path: &Path) -> BTreeMap<String, Record> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read fixture {}: {e}. Regenerate it with the torch \
             lane: D2L_BLESS=1 cargo test --features torch",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("fixture {} is invalid: {e}", path.display())
    })
}

/// Whether this run rewrites stale files it checks (`D2L_BLESS=1`).
pub fn blessing() -> bool {
    std::env::var_os("D2L_BLESS").is_some()
}

/// Checks that the committed fixture at `path` holds every record of
/// `live` (recorded from libtorch now) within [`FIXTURE_TOL`]. A stale or
/// missing record fails the test, also when blessing: then the fixture is
/// rewritten first, and the message asks for a run without `D2L_BLESS`,
/// which checks the new file. A fixture that is fresh is never rewritten.
pub fn check_fixture(path: &Path, live: &BTreeMap<String, Record>) {
    let committed: BTreeMap<String, Record> = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let stale: Vec<String> = live
        .iter()
        .filter_map(|(name, record)| match committed.get(name) {
            None => Some(format!("`{name}` is missing")),
            Some(stored) => compare(record, stored, FIXTURE_TOL)
                .err()
                .map(|e| format!("`{name}` is stale: {e}")),
        })
        .collect();
    if stale.is_empty() {
        return;
    }
    let what = format!("{}: {}", path.display(), stale.join("; "));
    if blessing() {
        write_fixture(path, live);
        panic!("rewrote {what}. Run the tests again without D2L_BLESS");
    }
    panic!("{what}. D2L_BLESS=1 rewrites it from libtorch");
}

/// Writes a fixture file of named records, atomically.
pub fn write_fixture(path: &Path, records: &BTreeMap<String, Record>) {
    let json = serde_json::to_string_pretty(records).expect("records to JSON");
    crate::io::atomic::write_atomic(path, json.as_bytes())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Recording a concise model (the `torch` feature).
#[cfg(feature = "torch")]
pub mod torch;
