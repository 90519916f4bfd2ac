//! What a recurrent layer reads: tokens or dense rows, at one step
//! ([`Input`]) or for a whole sequence at once ([`Seq`]).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis, NdFloat};

// ANCHOR: input
/// The input of a recurrent layer at one time step.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a, F> {
    /// One token index per sequence. The one-hot matrix is never built:
    /// the product of a one-hot row with `W` is the row of `W` at the
    /// token's index, so `X W` is a row lookup.
    Tokens(&'a [usize]),
    /// Dense features, such as the hidden states of the layer below.
    /// Shape `(batch, inputs)`.
    Dense(ArrayView2<'a, F>),
}

impl<F: NdFloat> Input<'_, F> {
    /// The number of sequences.
    pub fn batch_size(&self) -> usize {
        match self {
            Input::Tokens(t) => t.len(),
            Input::Dense(x) => x.nrows(),
        }
    }

    /// The same input, borrowed for a shorter time (ndarray's views are
    /// invariant in their lifetime, so this does not happen by itself).
    pub fn reborrow(&self) -> Input<'_, F> {
        match self {
            Input::Tokens(t) => Input::Tokens(t),
            Input::Dense(x) => Input::Dense(x.view()),
        }
    }

    /// `X W`, where `w` is `(inputs, outputs)`.
    ///
    /// # Shapes
    /// returns `(batch, outputs)`.
    pub fn dot(&self, w: &Array2<F>) -> Array2<F> {
        match self {
            Input::Tokens(tokens) => w.select(Axis(0), tokens),
            Input::Dense(x) => x.dot(w),
        }
    }

    /// Adds `Xᵀ da` to `dw`: for tokens, row `da[i]` is added to row
    /// `dw[token_i]`.
    pub fn add_t_dot(&self, da: &Array2<F>, dw: &mut Array2<F>) {
        match self {
            Input::Tokens(tokens) => {
                for (&token, row) in tokens.iter().zip(da.outer_iter()) {
                    let mut dw_row = dw.row_mut(token);
                    dw_row += &row;
                }
            }
            Input::Dense(x) => {
                general_mat_mul(F::one(), &x.t(), da, F::one(), dw)
            }
        }
    }
}
// ANCHOR_END: input

// ANCHOR: seq
/// A whole sequence of inputs at once, time-major: `x` holds the
/// `steps · batch` tokens (or rows) of every step, step 0's first, so that
/// row `t · batch + i` is sequence `i` at step `t`, like the hidden states
/// [`forward_seq`] returns.
#[derive(Debug, Clone, Copy)]
pub struct Seq<'a, F> {
    pub x: Input<'a, F>,
    pub batch: usize,
}
// ANCHOR_END: seq

impl<'a, F: NdFloat> Seq<'a, F> {
    /// # Panics
    /// If the rows of `x` do not make whole steps of `batch` rows.
    pub fn new(x: Input<'a, F>, batch: usize) -> Self {
        let rows = x.batch_size();
        assert!(
            batch > 0 && rows % batch == 0,
            "{rows} input rows do not make whole steps of {batch} sequences"
        );
        Self { x, batch }
    }

    /// The same sequence, borrowed for a shorter time.
    pub fn reborrow(&self) -> Seq<'_, F> {
        Seq {
            x: self.x.reborrow(),
            batch: self.batch,
        }
    }

    /// The number of time steps.
    pub fn num_steps(&self) -> usize {
        self.x.batch_size() / self.batch
    }

    /// The input of each time step, for the step-by-step loops.
    pub fn steps(&self) -> Vec<Input<'_, F>> {
        let b = self.batch;
        (0..self.num_steps())
            .map(|t| match &self.x {
                Input::Tokens(tokens) => {
                    Input::Tokens(&tokens[t * b..(t + 1) * b])
                }
                Input::Dense(x) => {
                    Input::Dense(x.slice(ndarray::s![t * b..(t + 1) * b, ..]))
                }
            })
            .collect()
    }
}
