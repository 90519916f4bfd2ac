//! The fast path against the teaching path, on one cell and one sequence.

use super::agreement::PATHS_TOL;
use super::gradcheck::randomize;
use crate::fast::Sequence;
use crate::rnn::{backward_seq, forward_seq, normal, Input, Seq, Tensors};
use ndarray::{Array2, ArrayView2, ArrayViewD, Axis, NdFloat};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// How far the fast path's value of one quantity is from the teaching
/// path's: the largest absolute difference over its entries, and the
/// largest absolute entry of the teaching path's value, to judge it by.
#[derive(Debug, Clone)]
pub struct Gap {
    pub what: String,
    pub diff: f64,
    pub scale: f64,
}

// ANCHOR: fast_vs_teaching
/// Runs a cell's fast path ([`Sequence::seq_forward_backward`] and
/// [`Sequence::seq_forward`]) and the teaching loops ([`forward_seq`],
/// [`backward_seq`]) on the same sequence, from the same state, with the
/// same gradient `dhs` from above, and returns the [`Gap`] of every
/// result: the hidden states, the final state, every parameter gradient,
/// the initial state's gradient and the input's.
pub fn fast_vs_teaching<F: NdFloat, C: Sequence<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    state0: &C::State,
    dhs: &Array2<F>,
) -> Vec<Gap> {
    let steps = xs.steps();
    let mut state_t = state0.clone();
    let (hs_t, caches) = forward_seq(cell, p, &steps, &mut state_t);
    let mut grads_t = p.zeros_like();
    let (d0_t, dxs_t) =
        backward_seq(cell, p, &steps, &caches, dhs.view(), &mut grads_t);

    let mut state_f = state0.clone();
    let mut grads_f = p.zeros_like();
    let mut hs_f = None;
    let mut head = |hs: ArrayView2<'_, F>| {
        hs_f = Some(hs.to_owned());
        dhs.clone()
    };
    let (d0_f, dx_f) =
        cell.seq_forward_backward(p, xs, &mut state_f, &mut head, &mut grads_f);
    let hs_f = hs_f.expect("the fast path calls its head once");
    let mut state_fwd = state0.clone();
    let hs_fwd = cell.seq_forward(p, xs, &mut state_fwd);

    let gap = |what: String, a: ArrayViewD<'_, F>, b: ArrayViewD<'_, F>| {
        assert_eq!(a.shape(), b.shape(), "the two paths' shapes differ");
        let f64_of = |v: F| v.to_f64().unwrap_or(f64::NAN);
        let diff = a
            .iter()
            .zip(b.iter())
            .map(|(&x, &y)| f64_of(x - y).abs())
            .fold(0.0, f64::max);
        let scale = a.iter().map(|&x| f64_of(x).abs()).fold(0.0, f64::max);
        Gap { what, diff, scale }
    };
    let mut out = vec![
        gap("hs".into(), hs_t.view().into_dyn(), hs_f.view().into_dyn()),
        gap(
            "hs (seq_forward)".into(),
            hs_t.view().into_dyn(),
            hs_fwd.view().into_dyn(),
        ),
    ];
    let pairs = [
        ("final state", &state_t, &state_f),
        ("final state (seq_forward)", &state_t, &state_fwd),
        ("d_state0", &d0_t, &d0_f),
    ];
    for (what, a, b) in pairs {
        for ((name, x), (_, y)) in a.named().into_iter().zip(b.named()) {
            out.push(gap(format!("{what} {name}"), x, y));
        }
    }
    for ((name, x), (_, y)) in grads_t.named().into_iter().zip(grads_f.named())
    {
        out.push(gap(format!("grad {name}"), x, y));
    }
    let dxs_t: Option<Vec<Array2<F>>> = dxs_t.into_iter().collect();
    match (dxs_t, dx_f) {
        (Some(d), Some(dx_f)) if !d.is_empty() => {
            let views: Vec<_> = d.iter().map(Array2::view).collect();
            let dx_t = ndarray::concatenate(Axis(0), &views)
                .expect("one shape per step");
            let (t, f) = (dx_t.view().into_dyn(), dx_f.view().into_dyn());
            out.push(gap("dx".into(), t, f));
        }
        (None, None) => {}
        (t, f) => panic!(
            "one path returned an input gradient and the other did not \
             (teaching: {}, fast: {})",
            t.is_some(),
            f.is_some()
        ),
    }
    out
}
// ANCHOR_END: fast_vs_teaching

/// The shape of the random sequence [`check_paths`] draws.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub inputs: usize,
    pub hiddens: usize,
    pub batch: usize,
    pub steps: usize,
}

/// Small sizes for the f64 checks.
pub const SMALL: Sizes = Sizes {
    inputs: 6,
    hiddens: 5,
    batch: 3,
    steps: 7,
};

/// Sizes for the f32 checks, where the kernel runs: 40 hidden units are
/// two of its panels of 16 and 8 columns more.
pub const F32_SIZES: Sizes = Sizes {
    inputs: 12,
    hiddens: 40,
    batch: 8,
    steps: 6,
};

// ANCHOR: paths_tolerance
/// How far the fast path may be from the teaching path.
#[derive(Debug, Clone, Copy)]
pub enum Tolerance {
    /// In f64 both paths call the same functions and differ only in the
    /// order of sums: [`PATHS_TOL`], absolute.
    F64,
    /// In f32 the fast path also has its own matrix kernel and
    /// `exp_f32`. With ε = f32::EPSILON: an entry of a product over k
    /// terms may round differently by k·ε of the terms' size (another
    /// order of the sum, fused multiply-adds); σ and tanh differ by less
    /// than 10ε (10⁻⁶, a test of `fast::activations` checks); and an error
    /// made at one step is carried through at most `steps` more. So a
    /// quantity of size s may differ by `steps · (k + 10) · ε · max(1, s)`,
    /// k the largest inner size of a product: the inputs, the gates' 4 ·
    /// hiddens (backward), or the `steps · batch` rows a weight gradient
    /// sums.
    F32,
}

impl Tolerance {
    /// The largest gap allowed for a quantity of size `scale`.
    pub fn bound(self, sizes: Sizes, scale: f64) -> f64 {
        match self {
            Tolerance::F64 => PATHS_TOL,
            Tolerance::F32 => {
                let s = sizes;
                let k = s.inputs.max(4 * s.hiddens).max(s.steps * s.batch);
                let eps = f64::from(f32::EPSILON);
                (s.steps * (k + 10)) as f64 * eps * scale.max(1.0)
            }
        }
    }
}
// ANCHOR_END: paths_tolerance

/// Draws parameters and an initial state from N(0, 0.5²), a gradient
/// from above from N(0, 1), and `sizes.steps · sizes.batch` inputs
/// (tokens, or dense rows from N(0, 1)); runs [`fast_vs_teaching`] and
/// panics, naming the quantity, unless every gap is within `tol`.
/// Returns the gaps, for the test to count.
pub fn check_paths<F: NdFloat, C: Sequence<F>>(
    cell: &C,
    sizes: Sizes,
    dense: bool,
    seed: u64,
    tol: Tolerance,
) -> Vec<Gap> {
    let Sizes {
        inputs,
        hiddens,
        batch,
        steps,
    } = sizes;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut p = cell.init(&mut rng);
    randomize(&mut p, 0.5, &mut rng);
    let mut state = cell.zero_state(batch);
    randomize(&mut state, 0.5, &mut rng);
    let dhs = normal((steps * batch, hiddens), 1.0, &mut rng);
    let tokens: Vec<usize> =
        (0..steps * batch).map(|i| (5 * i + 1) % inputs).collect();
    let x: Array2<F> = normal((steps * batch, inputs), 1.0, &mut rng);
    let input = if dense {
        Input::Dense(x.view())
    } else {
        Input::Tokens(&tokens)
    };
    let gaps =
        fast_vs_teaching(cell, &p, &Seq::new(input, batch), &state, &dhs);
    for g in &gaps {
        let bound = tol.bound(sizes, g.scale);
        assert!(
            g.diff <= bound,
            "{}: the paths differ by {:e} (of {:e}), more than {bound:e}",
            g.what,
            g.diff,
            g.scale
        );
    }
    gaps
}

/// [`check_paths`] on token inputs and on dense ones, for a cell made by
/// `cell`: in f64 at [`SMALL`] sizes, to [`Tolerance::F64`], and in f32,
/// the path that trains, at [`F32_SIZES`], to [`Tolerance::F32`].
/// `results` is how many quantities a token input gives (a dense one adds
/// the input's gradient).
pub fn check_cell<C: Sequence<f64> + Sequence<f32>>(
    cell: impl Fn(Sizes) -> C,
    seed: u64,
    results: usize,
) {
    check_cell_in::<f64, C>(&cell, SMALL, seed, Tolerance::F64, results);
    check_cell_in::<f32, C>(&cell, F32_SIZES, seed, Tolerance::F32, results);
}

fn check_cell_in<F: NdFloat, C: Sequence<F>>(
    cell: impl Fn(Sizes) -> C,
    sizes: Sizes,
    seed: u64,
    tol: Tolerance,
    results: usize,
) {
    for dense in [false, true] {
        let gaps = check_paths::<F, _>(&cell(sizes), sizes, dense, seed, tol);
        assert_eq!(gaps.len(), results + usize::from(dense), "{gaps:?}");
    }
}
