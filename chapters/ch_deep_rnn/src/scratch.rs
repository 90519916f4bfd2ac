//! Stacking: layer l reads, at every time step, the hidden state that
//! layer l − 1 has just computed, and the output layer reads only the top
//! layer. A stack of cells is itself a cell, so the loops over time, the
//! output layer and the training loop are the ones every model uses.

use d2l::rnn::{Cell, Head, Input, Seq, SeqGrads};
use ndarray::ArrayView2;
use ndarray::{Array2, NdFloat};
use rand::Rng;

// ANCHOR: stack
/// `layers[0]` reads the input; `layers[l]` reads the hidden state of
/// `layers[l − 1]`. Its parameters and its state are one entry per layer.
#[derive(Debug, Clone)]
pub struct Stack<C> {
    pub layers: Vec<C>,
}

/// What the backward step of one layer needs: the layer's own cache, and
/// the dense input it read (the hidden state of the layer below), which
/// the first layer does not need.
#[derive(Debug, Clone)]
pub struct LayerCache<F, K> {
    pub cache: K,
    pub input: Option<Array2<F>>,
}
// ANCHOR_END: stack

impl<C> Stack<C> {
    /// # Panics
    /// If `layers` is empty.
    pub fn new(layers: Vec<C>) -> Self {
        assert!(!layers.is_empty(), "a stack needs at least one layer");
        Self { layers }
    }
}

impl<F: NdFloat, C: Cell<F>> Cell<F> for Stack<C> {
    type Params = Vec<C::Params>;
    type State = Vec<C::State>;
    type Cache = Vec<LayerCache<F, C::Cache>>;

    fn init<R: Rng>(&self, rng: &mut R) -> Vec<C::Params> {
        self.layers.iter().map(|c| c.init(rng)).collect()
    }

    fn num_hiddens(&self) -> usize {
        self.top().num_hiddens()
    }

    fn zero_state(&self, batch_size: usize) -> Vec<C::State> {
        self.layers
            .iter()
            .map(|c| c.zero_state(batch_size))
            .collect()
    }

    fn h<'s>(&self, state: &'s Vec<C::State>) -> &'s Array2<F> {
        self.top().h(state.last().expect("one state per layer"))
    }

    fn h_mut<'s>(&self, state: &'s mut Vec<C::State>) -> &'s mut Array2<F> {
        self.top()
            .h_mut(state.last_mut().expect("one state per layer"))
    }

    // ANCHOR: stack_step
    /// H_t^(l) = f_l(H_t^(l−1), H_{t−1}^(l)), with H_t^(0) = X_t.
    fn step(
        &self,
        p: &Vec<C::Params>,
        x: &Input<'_, F>,
        state: &Vec<C::State>,
    ) -> (Vec<C::State>, Self::Cache) {
        let mut next = Vec::with_capacity(self.layers.len());
        let mut caches = Vec::with_capacity(self.layers.len());
        let mut below: Option<Array2<F>> = None;
        for (l, cell) in self.layers.iter().enumerate() {
            let input = match &below {
                None => x.reborrow(),
                Some(h) => Input::Dense(h.view()),
            };
            let (s, cache) = cell.step(&p[l], &input, &state[l]);
            let h = cell.h(&s).clone();
            caches.push(LayerCache {
                cache,
                input: below.replace(h),
            });
            next.push(s);
        }
        (next, caches)
    }
    // ANCHOR_END: stack_step

    // ANCHOR: stack_step_backward
    /// Top layer first: each layer's gradient with respect to its input is
    /// added to the hidden-state gradient of the layer below, at the same
    /// time step; each layer's gradient with respect to its previous state
    /// goes back in time.
    fn step_backward(
        &self,
        p: &Vec<C::Params>,
        x: &Input<'_, F>,
        cache: &Self::Cache,
        d_state: &Vec<C::State>,
        grads: &mut Vec<C::Params>,
    ) -> (Vec<C::State>, Option<Array2<F>>) {
        let mut d_prev = Vec::with_capacity(self.layers.len());
        let mut from_above: Option<Array2<F>> = None;
        for (l, cell) in self.layers.iter().enumerate().rev() {
            let mut d = d_state[l].clone();
            if let Some(dx) = from_above.take() {
                *cell.h_mut(&mut d) += &dx;
            }
            let input = match &cache[l].input {
                None => x.reborrow(),
                Some(h) => Input::Dense(h.view()),
            };
            let (dp, dx) = cell.step_backward(
                &p[l],
                &input,
                &cache[l].cache,
                &d,
                &mut grads[l],
            );
            d_prev.push(dp);
            from_above = dx;
        }
        d_prev.reverse();
        (d_prev, from_above)
    }
    // ANCHOR_END: stack_step_backward

    // ANCHOR: stack_seq
    /// The fast path of a stack runs layer by layer instead of step by
    /// step: layer 0 over the whole sequence, then layer 1 over all of
    /// layer 0's hidden states, and so on, each with its own fast path.
    fn seq_forward(
        &self,
        p: &Vec<C::Params>,
        xs: &Seq<'_, F>,
        state: &mut Vec<C::State>,
    ) -> Array2<F> {
        let mut below: Option<Array2<F>> = None;
        for (l, cell) in self.layers.iter().enumerate() {
            let input = match &below {
                None => xs.reborrow(),
                Some(h) => Seq::new(Input::Dense(h.view()), xs.batch),
            };
            let hs = cell.seq_forward(&p[l], &input, &mut state[l]);
            below = Some(hs);
        }
        below.expect("a stack has at least one layer")
    }

    /// Backward the same way: the top layer's head is the model's; the
    /// head of every layer below is the layers above it, which return the
    /// gradient with respect to its hidden states.
    fn seq_forward_backward(
        &self,
        p: &Vec<C::Params>,
        xs: &Seq<'_, F>,
        state: &mut Vec<C::State>,
        head: &mut Head<'_, F>,
        grads: &mut Vec<C::Params>,
    ) -> SeqGrads<F, Vec<C::State>> {
        layers_forward_backward(&self.layers, p, xs, state, head, grads)
    }
    // ANCHOR_END: stack_seq
}

// ANCHOR: layers_forward_backward
/// Layer 0 of `layers` forward, with the layers above it (recursively) as
/// its head, then layer 0 backward. Returns the gradient with respect to
/// every layer's initial state, and with respect to the input.
fn layers_forward_backward<F: NdFloat, C: Cell<F>>(
    layers: &[C],
    p: &[C::Params],
    xs: &Seq<'_, F>,
    state: &mut [C::State],
    head: &mut Head<'_, F>,
    grads: &mut [C::Params],
) -> SeqGrads<F, Vec<C::State>> {
    let one_layer = "one parameter set, state and gradient per layer";
    let (cell, above) = layers.split_first().expect(one_layer);
    let (p0, p_above) = p.split_first().expect(one_layer);
    let (s0, s_above) = state.split_first_mut().expect(one_layer);
    let (g0, g_above) = grads.split_first_mut().expect(one_layer);
    if above.is_empty() {
        let (d0, dx) = cell.seq_forward_backward(p0, xs, s0, head, g0);
        return (vec![d0], dx);
    }
    let mut d_above = Vec::new();
    let batch = xs.batch;
    let mut layers_above = |hs: ArrayView2<'_, F>| {
        let input = Seq::new(Input::Dense(hs), batch);
        let (d, dx) = layers_forward_backward(
            above, p_above, &input, s_above, head, g_above,
        );
        d_above = d;
        dx.expect("a layer with a dense input returns its gradient")
    };
    let (d0, dx) = cell.seq_forward_backward(p0, xs, s0, &mut layers_above, g0);
    let mut d_state0 = vec![d0];
    d_state0.append(&mut d_above);
    (d_state0, dx)
}
// ANCHOR_END: layers_forward_backward

impl<C> Stack<C> {
    fn top(&self) -> &C {
        self.layers.last().expect("a stack has at least one layer")
    }
}

/// `num_layers` layers of a cell: the first reads `num_inputs` features,
/// the others the `num_hiddens` of the layer below.
pub fn stack<C>(
    num_layers: usize,
    num_inputs: usize,
    num_hiddens: usize,
    cell: impl Fn(usize, usize) -> C,
) -> Stack<C> {
    Stack::new(
        (0..num_layers)
            .map(|l| {
                let inputs = if l == 0 { num_inputs } else { num_hiddens };
                cell(inputs, num_hiddens)
            })
            .collect(),
    )
}
