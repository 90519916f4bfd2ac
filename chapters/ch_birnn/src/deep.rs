//! Bidirectional layers stacked: layer l reads the whole output of layer
//! l − 1, both directions side by side, so a deep bidirectional RNN runs
//! layer by layer, each over the whole sequence (a stack of cells, by
//! contrast, can run step by step).

use crate::scratch::{BiCache, Bidirectional, Both};
use crate::scratch::{CacheOf, ParamsOf, StateOf};
use d2l::model::seq_model::Encoder;
use d2l::rnn::{Cell, Input};
use ndarray::{concatenate, s, Array2, ArrayView2, Axis, NdFloat};
use rand::Rng;

// ANCHOR: bi_rnn
/// `layers[0]` reads the input; `layers[l]` reads the output O of
/// `layers[l − 1]`, `2 · hiddens` wide. One [`Both`] of parameters and of
/// states per layer.
#[derive(Debug, Clone)]
pub struct BiRnn<C> {
    pub layers: Vec<Bidirectional<C>>,
}

/// A layer's caches, and the input it read (the output of the layer
/// below), which the first layer does not need.
#[derive(Debug, Clone)]
pub struct LayerCache<F, K> {
    pub cache: BiCache<K>,
    pub input: Option<Array2<F>>,
}

/// Every layer's [`LayerCache`].
pub type Caches<F, C> = Vec<LayerCache<F, CacheOf<F, C>>>;
// ANCHOR_END: bi_rnn

/// `num_layers` bidirectional layers of a cell: the first reads
/// `num_inputs` features, the others the `2 · num_hiddens` of the layer
/// below.
///
/// # Panics
/// If `num_layers` is 0.
pub fn bi_rnn<C>(
    num_layers: usize,
    num_inputs: usize,
    num_hiddens: usize,
    cell: impl Fn(usize, usize) -> C,
) -> BiRnn<C> {
    assert!(num_layers > 0, "a bidirectional RNN needs a layer");
    let layers = (0..num_layers).map(|l| {
        let inputs = if l == 0 { num_inputs } else { 2 * num_hiddens };
        Bidirectional::new(cell(inputs, num_hiddens))
    });
    BiRnn {
        layers: layers.collect(),
    }
}

/// The steps of a time-major matrix, `batch` rows each, as dense inputs.
///
/// # Panics
/// If `batch` is 0.
pub fn dense_steps<F: NdFloat>(
    a: &Array2<F>,
    batch: usize,
) -> Vec<Input<'_, F>> {
    assert!(batch > 0, "a step has at least one sequence");
    (0..a.nrows() / batch)
        .map(|t| Input::Dense(a.slice(s![t * batch..(t + 1) * batch, ..])))
        .collect()
}

impl<C> BiRnn<C> {
    /// Fresh parameters for both directions of every layer.
    pub fn init<F: NdFloat, R: Rng>(
        &self,
        rng: &mut R,
    ) -> Vec<Both<ParamsOf<F, C>>>
    where
        C: Cell<F>,
    {
        self.layers.iter().map(|l| l.init(rng)).collect()
    }

    /// The zero state of both directions of every layer.
    pub fn zero_state<F: NdFloat>(
        &self,
        batch: usize,
    ) -> Vec<Both<StateOf<F, C>>>
    where
        C: Cell<F>,
    {
        self.layers.iter().map(|l| l.zero_state(batch)).collect()
    }

    /// The width of the top layer's output.
    pub fn num_outputs<F: NdFloat>(&self) -> usize
    where
        C: Cell<F>,
    {
        self.layers.last().expect("a layer").num_outputs()
    }

    // ANCHOR: bi_rnn_forward
    /// O^(l) = Bidirectional_l(O^(l−1)), with O^(0) = X: every layer over
    /// the whole sequence. Returns the top layer's O, `(steps · batch, 2 ·
    /// hiddens)`, and leaves `state` where each direction ended.
    pub fn forward<F: NdFloat>(
        &self,
        p: &[Both<ParamsOf<F, C>>],
        xs: &[Input<'_, F>],
        state: &mut [Both<StateOf<F, C>>],
    ) -> (Array2<F>, Caches<F, C>)
    where
        C: Cell<F>,
    {
        let batch = xs.first().map_or(0, Input::batch_size);
        let mut caches = Vec::with_capacity(self.layers.len());
        let mut below: Option<Array2<F>> = None;
        for (l, layer) in self.layers.iter().enumerate() {
            let (o, cache) = match &below {
                None => layer.forward(&p[l], xs, &mut state[l]),
                Some(o) => {
                    let steps = dense_steps(o, batch);
                    layer.forward(&p[l], &steps, &mut state[l])
                }
            };
            caches.push(LayerCache {
                cache,
                input: below.replace(o),
            });
        }
        (below.expect("a layer"), caches)
    }
    // ANCHOR_END: bi_rnn_forward

    // ANCHOR: bi_rnn_backward
    /// Top layer first: the gradient of each layer's input, summed over
    /// both of its directions, is the gradient of the output of the layer
    /// below. Adds every parameter gradient into `grads`; returns the
    /// gradient with respect to every layer's initial states.
    pub fn backward<F: NdFloat>(
        &self,
        p: &[Both<ParamsOf<F, C>>],
        xs: &[Input<'_, F>],
        caches: &Caches<F, C>,
        d_o: ArrayView2<'_, F>,
        grads: &mut [Both<ParamsOf<F, C>>],
    ) -> Vec<Both<StateOf<F, C>>>
    where
        C: Cell<F>,
    {
        let batch = xs.first().map_or(0, Input::batch_size);
        let mut d_states = Vec::with_capacity(self.layers.len());
        let mut d = d_o.to_owned();
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (ds, dxs) = match &caches[l].input {
                None => layer.backward(
                    &p[l],
                    xs,
                    &caches[l].cache,
                    d.view(),
                    &mut grads[l],
                ),
                Some(o) => {
                    let steps = dense_steps(o, batch);
                    let c = &caches[l].cache;
                    layer.backward(&p[l], &steps, c, d.view(), &mut grads[l])
                }
            };
            d_states.push(ds);
            if l > 0 {
                let dxs: Vec<Array2<F>> = dxs
                    .into_iter()
                    .map(|dx| dx.expect("a dense input has a gradient"))
                    .collect();
                let views: Vec<ArrayView2<F>> =
                    dxs.iter().map(Array2::view).collect();
                d = concatenate(Axis(0), &views).expect("steps of one width");
            }
        }
        d_states.reverse();
        d_states
    }
    // ANCHOR_END: bi_rnn_backward
}

// What the shared `SeqModel` asks of its layers.
impl<F: NdFloat, C: Cell<F>> Encoder<F> for BiRnn<C> {
    type Params = Vec<Both<ParamsOf<F, C>>>;
    type State = Vec<Both<StateOf<F, C>>>;
    type Cache = Caches<F, C>;

    fn init<R: Rng>(&self, rng: &mut R) -> Self::Params {
        BiRnn::init(self, rng)
    }
    fn width(&self) -> usize {
        self.num_outputs()
    }
    fn zero_state(&self, batch: usize) -> Self::State {
        BiRnn::zero_state(self, batch)
    }
    fn encode(
        &self,
        p: &Self::Params,
        xs: &[Input<'_, F>],
        state: &mut Self::State,
    ) -> (Array2<F>, Self::Cache) {
        self.forward(p, xs, state)
    }
    fn encode_backward(
        &self,
        p: &Self::Params,
        xs: &[Input<'_, F>],
        cache: &Self::Cache,
        d_o: ArrayView2<'_, F>,
        grads: &mut Self::Params,
    ) -> Self::State {
        self.backward(p, xs, cache, d_o, grads)
    }
}
