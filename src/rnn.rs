//! What every recurrent model here shares: the [`Cell`] trait that GRU and
//! LSTM cells implement, the loops that run a cell forward over a sequence
//! and backward through time, the output layer, and [`RnnModel`], which
//! turns any cell into a [`LanguageModel`].
//!
//! The layout is d2l's: time-major, one `(batch, inputs)` matrix per time
//! step, weights `(inputs, hiddens)` so that `X W` reads like the book.

use crate::data::Batch;
use crate::fast::Sequence;
use crate::loss::softmax_cross_entropy;
use crate::model::LanguageModel;
use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array, Array1, Array2, ArrayView2, ArrayViewD, ArrayViewMutD, Axis,
    Dimension, NdFloat,
};
use ndarray_rand::rand_distr::{Distribution, Normal};
use rand::Rng;

/// A struct of named tensors: a cell's parameters, their gradients (the
/// same struct, with the same field names), or a recurrent state.
pub trait Tensors<F: NdFloat>: Clone {
    /// Every tensor with its name, always in the same order.
    fn named(&self) -> Vec<(String, ArrayViewD<'_, F>)>;
    /// Every tensor with its name, mutably, in the order of `named`.
    fn named_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, F>)>;
    /// The same structure, filled with zeros.
    fn zeros_like(&self) -> Self;
}

/// Implements [`Tensors`] for a struct generic over the float type whose
/// fields are all ndarray arrays: `impl_tensors!(GruState { h });`.
#[macro_export]
macro_rules! impl_tensors {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl<F: ::ndarray::NdFloat> $crate::rnn::Tensors<F> for $ty<F> {
            fn named(&self) -> Vec<(String, ::ndarray::ArrayViewD<'_, F>)> {
                vec![$(
                    (stringify!($field).to_string(),
                     self.$field.view().into_dyn()),
                )*]
            }
            fn named_mut(
                &mut self,
            ) -> Vec<(String, ::ndarray::ArrayViewMutD<'_, F>)> {
                vec![$(
                    (stringify!($field).to_string(),
                     self.$field.view_mut().into_dyn()),
                )*]
            }
            fn zeros_like(&self) -> Self {
                Self { $($field: ::ndarray::Array::zeros(
                    self.$field.raw_dim())),* }
            }
        }
    };
}

/// Layers of a stack: tensor names get the prefix `l{layer}.`.
impl<F: NdFloat, T: Tensors<F>> Tensors<F> for Vec<T> {
    fn named(&self) -> Vec<(String, ArrayViewD<'_, F>)> {
        let layers = self.iter().enumerate();
        layers
            .flat_map(|(l, t)| {
                t.named()
                    .into_iter()
                    .map(move |(n, v)| (format!("l{l}.{n}"), v))
            })
            .collect()
    }
    fn named_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, F>)> {
        let layers = self.iter_mut().enumerate();
        layers
            .flat_map(|(l, t)| {
                let named = t.named_mut().into_iter();
                named.map(move |(n, v)| (format!("l{l}.{n}"), v))
            })
            .collect()
    }
    fn zeros_like(&self) -> Self {
        self.iter().map(T::zeros_like).collect()
    }
}

/// ‖g‖²: the sum of squares of every entry.
pub fn norm_sq<F: NdFloat, T: Tensors<F>>(t: &T) -> f64 {
    let entries = t.named().into_iter().flat_map(|(_, v)| {
        v.iter()
            .map(|x| x.to_f64().unwrap_or(f64::NAN))
            .collect::<Vec<_>>()
    });
    entries.map(|x| x * x).sum()
}

/// Multiplies every entry by `factor`.
pub fn scale<F: NdFloat, T: Tensors<F>>(t: &mut T, factor: f64) {
    let factor = F::from(factor).expect("factor fits in F");
    for (_, mut v) in t.named_mut() {
        v.mapv_inplace(|x| x * factor);
    }
}

/// Sets every entry to zero.
pub fn zero<F: NdFloat, T: Tensors<F>>(t: &mut T) {
    for (_, mut v) in t.named_mut() {
        v.fill(F::zero());
    }
}

/// θ ← θ − lr · g, tensor by tensor.
pub fn sgd<F: NdFloat, T: Tensors<F>>(params: &mut T, grads: &T, lr: f64) {
    let lr = F::from(lr).expect("lr fits in F");
    for ((name, mut p), (_, g)) in
        params.named_mut().into_iter().zip(grads.named())
    {
        assert_eq!(p.shape(), g.shape(), "sgd: shape mismatch in {name}");
        p.scaled_add(-lr, &g);
    }
}

/// d2l's initialisation of a weight: independent draws from N(0, σ²).
pub fn normal<F: NdFloat, Sh: ndarray::ShapeBuilder, R: Rng>(
    shape: Sh,
    std: f64,
    rng: &mut R,
) -> Array<F, Sh::Dim> {
    let dist = Normal::new(0.0, std).expect("std must be finite and >= 0");
    Array::from_shape_simple_fn(shape, || {
        F::from(dist.sample(rng)).expect("f64 fits in F")
    })
}

/// σ(a) = 1 / (1 + e^(−a)), in place.
pub fn sigmoid<F: NdFloat, D: Dimension>(a: Array<F, D>) -> Array<F, D> {
    a.mapv_into(|v| F::one() / (F::one() + (-v).exp()))
}

/// tanh(a), in place.
pub fn tanh<F: NdFloat, D: Dimension>(a: Array<F, D>) -> Array<F, D> {
    a.mapv_into(F::tanh)
}

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

// ANCHOR: cell
/// A recurrent cell: one time step forward, and the same step backward.
///
/// The cell holds its shape and formulation; its parameters are passed in,
/// so that a stack of cells is a cell too (its parameters are the list of
/// its layers' parameters).
pub trait Cell<F: NdFloat>: Sync {
    /// Parameters, and their gradients (the same struct).
    type Params: Tensors<F> + Send + Sync;
    /// The state passed from one step to the next; its gradient has the
    /// same type.
    type State: Tensors<F> + Send;
    /// What the forward step keeps for the backward step.
    type Cache;

    /// Fresh parameters, with d2l's initialisation.
    fn init<R: Rng>(&self, rng: &mut R) -> Self::Params;

    fn num_hiddens(&self) -> usize;

    /// The all-zero state for `batch_size` sequences.
    fn zero_state(&self, batch_size: usize) -> Self::State;

    /// The hidden state H, which the output layer (or the next layer) reads.
    fn h<'s>(&self, state: &'s Self::State) -> &'s Array2<F>;

    /// Mutable access to H, where the gradient from above is added.
    fn h_mut<'s>(&self, state: &'s mut Self::State) -> &'s mut Array2<F>;

    /// One step: (X_t, state_{t−1}) → (state_t, cache).
    fn step(
        &self,
        p: &Self::Params,
        x: &Input<'_, F>,
        state: &Self::State,
    ) -> (Self::State, Self::Cache);

    /// The step backward: from the gradient of the loss with respect to
    /// state_t, adds the parameter gradients into `grads` and returns the
    /// gradient with respect to state_{t−1}, and with respect to X_t when
    /// the input is dense.
    fn step_backward(
        &self,
        p: &Self::Params,
        x: &Input<'_, F>,
        cache: &Self::Cache,
        d_state: &Self::State,
        grads: &mut Self::Params,
    ) -> (Self::State, Option<Array2<F>>);
}
// ANCHOR_END: cell

// ANCHOR: forward_seq
/// Runs `cell` over every time step, from `state`, and leaves `state` at
/// the last step. Returns the hidden states of all steps, stacked
/// time-major, and one cache per step.
///
/// # Shapes
/// `xs`: `num_steps` inputs of `batch` rows; returns
/// `(num_steps · batch, hiddens)`, row `t · batch + i` for sequence `i` at
/// step `t`.
pub fn forward_seq<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    xs: &[Input<'_, F>],
    state: &mut C::State,
) -> (Array2<F>, Vec<C::Cache>) {
    let batch = xs.first().map_or(0, Input::batch_size);
    let mut hs = Array2::zeros((xs.len() * batch, cell.num_hiddens()));
    let mut caches = Vec::with_capacity(xs.len());
    for (t, x) in xs.iter().enumerate() {
        let (next, cache) = cell.step(p, x, state);
        hs.slice_mut(ndarray::s![t * batch..(t + 1) * batch, ..])
            .assign(cell.h(&next));
        *state = next;
        caches.push(cache);
    }
    (hs, caches)
}
// ANCHOR_END: forward_seq

// ANCHOR: backward_seq
/// Backpropagation through time: walks the steps in reverse, adding the
/// gradient that reaches each H_t from above (`dhs`, stacked like the
/// output of [`forward_seq`]) to the gradient that flows back from step
/// t + 1 (`d_next`). Adds every parameter gradient into `grads`; returns
/// the gradient with respect to the initial state, and with respect to
/// every dense input.
pub fn backward_seq<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    xs: &[Input<'_, F>],
    caches: &[C::Cache],
    dhs: ArrayView2<'_, F>,
    grads: &mut C::Params,
) -> (C::State, Vec<Option<Array2<F>>>) {
    assert_eq!(xs.len(), caches.len(), "one cache per input");
    let batch = xs.first().map_or(0, Input::batch_size);
    let mut d_next = cell.zero_state(batch);
    let mut dxs = vec![None; xs.len()];
    for t in (0..xs.len()).rev() {
        *cell.h_mut(&mut d_next) +=
            &dhs.slice(ndarray::s![t * batch..(t + 1) * batch, ..]);
        let (d_prev, dx) =
            cell.step_backward(p, &xs[t], &caches[t], &d_next, grads);
        d_next = d_prev;
        dxs[t] = dx;
    }
    (d_next, dxs)
}
// ANCHOR_END: backward_seq

/// The output layer, O = H W_hq + b_q: one logit per vocabulary entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Output<F> {
    /// `(hiddens, vocab)`
    pub w_hq: Array2<F>,
    /// `(vocab,)`
    pub b_q: Array1<F>,
}
crate::impl_tensors!(Output { w_hq, b_q });

impl<F: NdFloat> Output<F> {
    /// d2l's initialisation: W_hq ~ N(0, 0.01²), b_q = 0.
    pub fn new<R: Rng>(
        num_hiddens: usize,
        vocab_size: usize,
        rng: &mut R,
    ) -> Self {
        Self {
            w_hq: normal((num_hiddens, vocab_size), 0.01, rng),
            b_q: Array1::zeros(vocab_size),
        }
    }

    /// O = H W_hq + b_q.
    pub fn forward(&self, h: &Array2<F>) -> Array2<F> {
        h.dot(&self.w_hq) + &self.b_q
    }

    /// Adds ∂L/∂W_hq = Hᵀ dO and ∂L/∂b_q = Σ_rows dO into `grads`, and
    /// returns ∂L/∂H = dO W_hqᵀ.
    pub fn backward(
        &self,
        h: &Array2<F>,
        d_o: &Array2<F>,
        grads: &mut Output<F>,
    ) -> Array2<F> {
        general_mat_mul(F::one(), &h.t(), d_o, F::one(), &mut grads.w_hq);
        grads.b_q += &d_o.sum_axis(Axis(0));
        d_o.dot(&self.w_hq.t())
    }
}

/// A recurrent language model: tokens → cell → output layer, d2l's
/// `RNNModelScratch`.
#[derive(Debug, Clone)]
pub struct RnnModel<F: NdFloat, C: Cell<F>> {
    pub cell: C,
    pub params: C::Params,
    pub output: Output<F>,
    /// Gradients of the last [`LanguageModel::forward_backward`].
    pub cell_grads: C::Params,
    pub output_grads: Output<F>,
    /// Threads that share each minibatch in training; 1 runs the code
    /// exactly as the chapters show it.
    pub threads: usize,
    /// The step-by-step loops the chapters teach, or the cell's fast path.
    pub path: CodePath,
}

// ANCHOR: path
/// Which computation trains a from-scratch model. Both compute the same
/// numbers, up to the order of floating-point sums (tests check 10⁻¹² in
/// f64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CodePath {
    /// The step-by-step loops the chapters show: the cell's step and
    /// step_backward once per time step (forward_seq, backward_seq).
    Teaching,
    /// The whole sequence at once (Sequence::seq_forward_backward): fused
    /// gates, and weight gradients summed over all steps in one matrix
    /// product.
    #[default]
    Fast,
}
// ANCHOR_END: path

impl CodePath {
    pub fn name(self) -> &'static str {
        match self {
            CodePath::Teaching => "teaching",
            CodePath::Fast => "fast",
        }
    }
}

/// The inputs of a batch, one token slice per time step (the columns of
/// `batch.x`), and the labels in the same time-major order as the outputs.
pub fn time_major(batch: &Batch) -> (Vec<Vec<usize>>, Vec<usize>) {
    let steps = batch.x.columns().into_iter().map(|c| c.to_vec()).collect();
    let labels = batch.y.t().iter().copied().collect();
    (steps, labels)
}

impl<F: NdFloat, C: Cell<F>> RnnModel<F, C> {
    /// A cell with fresh parameters and an output layer, with d2l's
    /// initialisation.
    pub fn new<R: Rng>(cell: C, vocab_size: usize, rng: &mut R) -> Self {
        let params = cell.init(rng);
        let output = Output::new(cell.num_hiddens(), vocab_size, rng);
        Self {
            cell_grads: params.zeros_like(),
            output_grads: output.zeros_like(),
            cell,
            params,
            output,
            threads: 1,
            path: CodePath::default(),
        }
    }
}

impl<F: NdFloat, C: Sequence<F>> RnnModel<F, C> {
    /// Forward over the batch, loss, and backward through time. Returns the
    /// mean loss and the gradient with respect to the initial state;
    /// parameter gradients are left in `self.cell_grads` and
    /// `self.output_grads`. With `threads` > 1 the batch is split between
    /// threads ([`crate::parallel`]).
    pub fn forward_backward_from(
        &mut self,
        batch: &Batch,
        state: &mut C::State,
    ) -> (f64, C::State) {
        let grads = (&mut self.cell_grads, &mut self.output_grads);
        if self.threads > 1 && batch.batch_size() > 1 {
            crate::parallel::forward_backward_split(
                &self.cell,
                &self.params,
                &self.output,
                batch,
                state,
                grads,
                (self.threads, self.path),
            )
        } else {
            let run = match self.path {
                CodePath::Teaching => forward_backward,
                CodePath::Fast => forward_backward_fast,
            };
            run(&self.cell, &self.params, &self.output, batch, state, grads)
        }
    }
}

// ANCHOR: model_forward_backward
/// Forward over the batch, loss, and backward through time: the whole
/// minibatch computation of a model made of `cell` (with `params`) and the
/// output layer. Returns the mean loss and the gradient with respect to
/// the initial state, and leaves the parameter gradients in `grads`.
pub fn forward_backward<F: NdFloat, C: Cell<F>>(
    cell: &C,
    params: &C::Params,
    output: &Output<F>,
    batch: &Batch,
    state: &mut C::State,
    (cell_grads, output_grads): (&mut C::Params, &mut Output<F>),
) -> (f64, C::State) {
    let (steps, labels) = time_major(batch);
    let xs: Vec<Input<F>> = steps.iter().map(|s| Input::Tokens(s)).collect();
    let (hs, caches) = forward_seq(cell, params, &xs, state);
    let logits = output.forward(&hs); // (steps · batch, vocab)
    let mut d_logits = Array2::zeros(logits.raw_dim());
    let loss = softmax_cross_entropy(
        logits.view(),
        &labels,
        Some(d_logits.view_mut()),
    );
    zero(output_grads);
    zero(cell_grads);
    let dhs = output.backward(&hs, &d_logits, output_grads);
    let (d_state0, _) =
        backward_seq(cell, params, &xs, &caches, dhs.view(), cell_grads);
    (loss, d_state0)
}
// ANCHOR_END: model_forward_backward

// ANCHOR: model_forward_backward_fast
/// [`forward_backward`] on the fast path: the same arguments and results,
/// but the cell runs the whole sequence at once
/// ([`Sequence::seq_forward_backward`]), and the output layer and the loss run
/// in between, as its `head`.
pub fn forward_backward_fast<F: NdFloat, C: Sequence<F>>(
    cell: &C,
    params: &C::Params,
    output: &Output<F>,
    batch: &Batch,
    state: &mut C::State,
    (cell_grads, output_grads): (&mut C::Params, &mut Output<F>),
) -> (f64, C::State) {
    let tokens: Vec<usize> = batch.x.t().iter().copied().collect();
    let labels: Vec<usize> = batch.y.t().iter().copied().collect();
    let xs = Seq::new(Input::Tokens(&tokens), batch.batch_size());
    zero(output_grads);
    zero(cell_grads);
    let mut loss = 0.0;
    let mut head = |hs: ArrayView2<'_, F>| {
        let hs = hs.to_owned();
        let logits = output.forward(&hs);
        let mut d_logits = Array2::zeros(logits.raw_dim());
        loss = softmax_cross_entropy(
            logits.view(),
            &labels,
            Some(d_logits.view_mut()),
        );
        output.backward(&hs, &d_logits, output_grads)
    };
    let (d_state0, _) =
        cell.seq_forward_backward(params, &xs, state, &mut head, cell_grads);
    (loss, d_state0)
}
// ANCHOR_END: model_forward_backward_fast

impl<F: NdFloat, C: Sequence<F>> LanguageModel for RnnModel<F, C> {
    type State = C::State;

    fn begin_state(&self, batch_size: usize) -> C::State {
        self.cell.zero_state(batch_size)
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut C::State) -> f64 {
        self.forward_backward_from(batch, state).0
    }

    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn set_path(&mut self, path: CodePath) {
        self.path = path;
    }

    fn path(&self) -> Option<CodePath> {
        Some(self.path)
    }

    fn loss(&mut self, batch: &Batch, state: &mut C::State) -> f64 {
        let (steps, labels) = time_major(batch);
        let hs = match self.path {
            CodePath::Teaching => {
                let xs: Vec<Input<F>> =
                    steps.iter().map(|s| Input::Tokens(s)).collect();
                forward_seq(&self.cell, &self.params, &xs, state).0
            }
            CodePath::Fast => {
                let tokens = steps.concat();
                let xs = Seq::new(Input::Tokens(&tokens), batch.batch_size());
                self.cell.seq_forward(&self.params, &xs, state)
            }
        };
        softmax_cross_entropy(self.output.forward(&hs).view(), &labels, None)
    }

    fn grad_norm_sq(&self) -> f64 {
        norm_sq(&self.cell_grads) + norm_sq(&self.output_grads)
    }

    fn scale_grads(&mut self, factor: f64) {
        scale(&mut self.cell_grads, factor);
        scale(&mut self.output_grads, factor);
    }

    fn sgd_step(&mut self, lr: f64) {
        sgd(&mut self.params, &self.cell_grads, lr);
        sgd(&mut self.output, &self.output_grads, lr);
    }

    fn step_logits(&mut self, token: usize, state: &mut C::State) -> Vec<f32> {
        let x = Input::Tokens(&[token]);
        let (next, _) = self.cell.step(&self.params, &x, state);
        *state = next;
        let logits = self.output.forward(self.cell.h(state));
        logits
            .iter()
            .map(|v| v.to_f32().unwrap_or(f32::NAN))
            .collect()
    }
}

// ANCHOR: fuse_t
/// PyTorch's fused layout: the per-gate weights `(inputs, hiddens)`,
/// transposed and stacked into one `(gates · hiddens, inputs)` matrix, in
/// the order given.
pub fn fuse_t<F: NdFloat>(ws: &[&Array2<F>]) -> Array2<F> {
    let ts: Vec<_> = ws.iter().map(|w| w.t()).collect();
    ndarray::concatenate(Axis(0), &ts).expect("gate weights of one shape")
}

/// The inverse of [`fuse_t`]: the `gates` per-gate `(inputs, hiddens)`
/// weights of a fused `(gates · hiddens, inputs)` matrix.
pub fn split_t<F: NdFloat>(fused: &Array2<F>, gates: usize) -> Vec<Array2<F>> {
    assert_eq!(
        fused.nrows() % gates,
        0,
        "rows must split into {gates} gates"
    );
    let h = fused.nrows() / gates;
    (0..gates)
        .map(|k| {
            fused
                .slice(ndarray::s![k * h..(k + 1) * h, ..])
                .t()
                .to_owned()
        })
        .collect()
}
// ANCHOR_END: fuse_t

/// One recurrent layer in PyTorch's layout: every gate's weights fused and
/// transposed, and two biases per gate, one added to the input product and
/// one to the recurrent product. The GRU and LSTM chapters convert their
/// parameters to and from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchLayer<F> {
    /// `(gates · hiddens, inputs)`
    pub weight_ih: Array2<F>,
    /// `(gates · hiddens, hiddens)`
    pub weight_hh: Array2<F>,
    /// `(gates · hiddens)`
    pub bias_ih: Array1<F>,
    /// `(gates · hiddens)`
    pub bias_hh: Array1<F>,
}

/// Per-gate biases stacked into one vector, in the order given.
pub fn fuse_bias<F: NdFloat>(bs: &[&Array1<F>]) -> Array1<F> {
    let views: Vec<_> = bs.iter().map(|b| b.view()).collect();
    ndarray::concatenate(Axis(0), &views).expect("biases of one length")
}

/// The inverse of [`fuse_bias`].
pub fn split_bias<F: NdFloat>(
    fused: &Array1<F>,
    gates: usize,
) -> Vec<Array1<F>> {
    assert_eq!(
        fused.len() % gates,
        0,
        "length must split into {gates} gates"
    );
    let h = fused.len() / gates;
    (0..gates)
        .map(|k| fused.slice(ndarray::s![k * h..(k + 1) * h]).to_owned())
        .collect()
}
