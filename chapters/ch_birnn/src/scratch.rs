//! The bidirectional layer: one cell reads the sequence from the first
//! step to the last, a second cell (its own parameters, its own state)
//! reads it from the last step to the first, and the output at step t is
//! the two hidden states side by side. Written once, for any [`Cell`],
//! from the loops every chapter uses ([`forward_seq`], [`backward_seq`]).
//!
//! A bidirectional layer is not a cell: its output at step t needs the
//! whole sequence, so it cannot be computed one step at a time. It runs
//! over whole sequences instead.

use d2l::rnn::{backward_seq, forward_seq, Cell, Input, Tensors};
use ndarray::{concatenate, s, Array2, ArrayView2, ArrayViewD};
use ndarray::{ArrayViewMutD, Axis, NdFloat};
use rand::Rng;

// ANCHOR: both
/// One of each per direction: parameters, their gradients, states. The
/// tensors of `fwd` are named `fwd.…`, those of `bwd` `bwd.…`.
#[derive(Debug, Clone, PartialEq)]
pub struct Both<T> {
    /// Reads step 0 first.
    pub fwd: T,
    /// Reads step T − 1 first.
    pub bwd: T,
}

/// A bidirectional layer of cell `C`: the cell gives the shape and the
/// arithmetic of a step, and runs twice, with the parameters and the
/// state of each direction.
#[derive(Debug, Clone)]
pub struct Bidirectional<C> {
    pub cell: C,
}

/// What the backward pass needs: each direction's caches, in the order
/// that direction read the steps.
#[derive(Debug, Clone)]
pub struct BiCache<K> {
    /// Step 0's cache first.
    pub fwd: Vec<K>,
    /// Step T − 1's cache first.
    pub bwd: Vec<K>,
}
// ANCHOR_END: both

/// A cell's parameters in `F`.
pub type ParamsOf<F, C> = <C as Cell<F>>::Params;
/// A cell's state in `F`.
pub type StateOf<F, C> = <C as Cell<F>>::State;
/// What a cell's step keeps for its backward step, in `F`.
pub type CacheOf<F, C> = <C as Cell<F>>::Cache;
/// What the backward pass returns: the gradient with respect to both
/// initial states, and with respect to every dense input.
pub type BiGrads<F, C> = (Both<StateOf<F, C>>, Vec<Option<Array2<F>>>);

impl<F: NdFloat, T: Tensors<F>> Tensors<F> for Both<T> {
    fn named(&self) -> Vec<(String, ArrayViewD<'_, F>)> {
        let fwd = self.fwd.named().into_iter().map(|(n, v)| (n, v, "fwd"));
        let bwd = self.bwd.named().into_iter().map(|(n, v)| (n, v, "bwd"));
        fwd.chain(bwd)
            .map(|(n, v, d)| (format!("{d}.{n}"), v))
            .collect()
    }
    fn named_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, F>)> {
        let fwd = self.fwd.named_mut().into_iter().map(|(n, v)| (n, v, "fwd"));
        let bwd = self.bwd.named_mut().into_iter().map(|(n, v)| (n, v, "bwd"));
        fwd.chain(bwd)
            .map(|(n, v, d)| (format!("{d}.{n}"), v))
            .collect()
    }
    fn zeros_like(&self) -> Self {
        Both {
            fwd: self.fwd.zeros_like(),
            bwd: self.bwd.zeros_like(),
        }
    }
}

/// The steps of a time-major matrix in reverse order, each step's `batch`
/// rows kept as they are.
///
/// # Shapes
/// `a`: `(steps · batch, width)`; returns the same shape.
///
/// # Panics
/// If the rows of `a` do not make whole steps of `batch` rows.
pub fn reverse_steps<F: NdFloat>(
    a: ArrayView2<'_, F>,
    batch: usize,
) -> Array2<F> {
    assert!(
        batch > 0 && a.nrows() % batch == 0,
        "{} rows do not make whole steps of {batch} sequences",
        a.nrows()
    );
    let steps = a.nrows() / batch;
    let blocks: Vec<_> = (0..steps)
        .rev()
        .map(|t| a.slice(s![t * batch..(t + 1) * batch, ..]))
        .collect();
    concatenate(Axis(0), &blocks).expect("blocks of one width")
}

/// The inputs of a sequence, last step first.
fn reversed<'a, F: NdFloat>(xs: &'a [Input<'_, F>]) -> Vec<Input<'a, F>> {
    xs.iter().rev().map(Input::reborrow).collect()
}

impl<C> Bidirectional<C> {
    pub fn new(cell: C) -> Self {
        Self { cell }
    }

    /// Fresh parameters for both directions, forward first.
    pub fn init<F: NdFloat, R: Rng>(&self, rng: &mut R) -> Both<ParamsOf<F, C>>
    where
        C: Cell<F>,
    {
        Both {
            fwd: self.cell.init(rng),
            bwd: self.cell.init(rng),
        }
    }

    /// The zero state of both directions.
    pub fn zero_state<F: NdFloat>(&self, batch: usize) -> Both<StateOf<F, C>>
    where
        C: Cell<F>,
    {
        Both {
            fwd: self.cell.zero_state(batch),
            bwd: self.cell.zero_state(batch),
        }
    }

    /// The width of the output: both hidden states.
    pub fn num_outputs<F: NdFloat>(&self) -> usize
    where
        C: Cell<F>,
    {
        2 * self.cell.num_hiddens()
    }

    // ANCHOR: bi_forward
    /// Both directions over the whole sequence `xs`:
    ///
    /// →H_t = f(X_t, →H_{t−1}),  t = 0, 1, …, T − 1
    /// ←H_t = f(X_t, ←H_{t+1}),  t = T − 1, …, 1, 0
    /// O_t = [→H_t, ←H_t]
    ///
    /// `state.bwd` is where the backward direction starts, at step T − 1,
    /// and is left after step 0, as PyTorch does. Returns O, stacked
    /// time-major, `(steps · batch, 2 · hiddens)`.
    ///
    /// # Panics
    /// If `xs` is empty: a sequence has at least one step.
    pub fn forward<F: NdFloat>(
        &self,
        p: &Both<ParamsOf<F, C>>,
        xs: &[Input<'_, F>],
        state: &mut Both<StateOf<F, C>>,
    ) -> (Array2<F>, BiCache<CacheOf<F, C>>)
    where
        C: Cell<F>,
    {
        assert!(!xs.is_empty(), "a sequence has at least one step");
        let batch = xs[0].batch_size();
        let (h_fwd, fwd) = forward_seq(&self.cell, &p.fwd, xs, &mut state.fwd);
        let xs_rev = reversed(xs);
        let (h_rev, bwd) =
            forward_seq(&self.cell, &p.bwd, &xs_rev, &mut state.bwd);
        // The backward direction's states in the order of the steps.
        let h_bwd = reverse_steps(h_rev.view(), batch);
        let o = concatenate![Axis(1), h_fwd, h_bwd];
        (o, BiCache { fwd, bwd })
    }
    // ANCHOR_END: bi_forward

    // ANCHOR: bi_backward
    /// Backpropagation through time in both directions. The gradient of
    /// O_t splits into ∂L/∂→H_t (its first `hiddens` columns) and
    /// ∂L/∂←H_t (the rest); each goes back through time in the order its
    /// direction read the steps, so the forward direction's gradient flows
    /// from T − 1 down to 0 and the backward direction's from 0 up to
    /// T − 1. Both directions read X_t, so a dense input's gradient is the
    /// sum of the two. Adds every parameter gradient into `grads`; returns
    /// the gradient with respect to both initial states and every dense
    /// input.
    ///
    /// # Shapes
    /// `d_o`: `(steps · batch, 2 · hiddens)`, like the output of
    /// [`Bidirectional::forward`].
    pub fn backward<F: NdFloat>(
        &self,
        p: &Both<ParamsOf<F, C>>,
        xs: &[Input<'_, F>],
        cache: &BiCache<CacheOf<F, C>>,
        d_o: ArrayView2<'_, F>,
        grads: &mut Both<ParamsOf<F, C>>,
    ) -> BiGrads<F, C>
    where
        C: Cell<F>,
    {
        let batch = xs.first().map_or(0, Input::batch_size);
        let (dh_fwd, dh_bwd) = d_o.split_at(Axis(1), self.cell.num_hiddens());
        let (d_fwd, dx_fwd) = backward_seq(
            &self.cell,
            &p.fwd,
            xs,
            &cache.fwd,
            dh_fwd,
            &mut grads.fwd,
        );
        // The backward direction's gradients in the order it read them.
        let dh_rev = reverse_steps(dh_bwd, batch);
        let (d_bwd, mut dx_bwd) = backward_seq(
            &self.cell,
            &p.bwd,
            &reversed(xs),
            &cache.bwd,
            dh_rev.view(),
            &mut grads.bwd,
        );
        dx_bwd.reverse();
        // ∂L/∂X_t = (∂L/∂X_t through →H) + (∂L/∂X_t through ←H)
        let dxs = dx_fwd
            .into_iter()
            .zip(dx_bwd)
            .map(|(a, b)| Some(a? + &b?))
            .collect();
        (
            Both {
                fwd: d_fwd,
                bwd: d_bwd,
            },
            dxs,
        )
    }
    // ANCHOR_END: bi_backward
}
