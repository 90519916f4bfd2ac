//! Stacking: layer l reads, at every time step, the hidden state that
//! layer l − 1 has just computed, and the output layer reads only the top
//! layer. A stack of cells is itself a cell, so the loops over time, the
//! output layer and the training loop are the ones every model uses.

use d2l::rnn::{Cell, Input, State};
use ndarray::{Array2, NdFloat};
use rand::Rng;

// ANCHOR: stack
/// `layers[0]` reads the input; `layers[l]` reads the hidden state of
/// `layers[l − 1]`. Its parameters and its state are one entry per layer.
#[derive(Debug, Clone)]
pub struct Stack<C> {
    pub layers: Vec<C>,
    /// Dropout between layers for one minibatch: `masks[l − 1]`, `(batch,
    /// hiddens)`, multiplies the hidden state that layer l reads from
    /// layer l − 1 at every step. Empty: no dropout (evaluation, d2l).
    pub masks: Vec<Array2<f64>>,
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
        Self {
            layers,
            masks: Vec::new(),
        }
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
            // Dropout between layers: H̃ = H ⊙ M, the same M every step.
            if let (Some(h), Some(m)) = (&mut below, self.mask(l)) {
                *h *= &m;
            }
            let input = match &below {
                None => x.reborrow(),
                Some(h) => Input::Dense(h.view()),
            };
            let (s, cache) = cell.step(&p[l], &input, &state[l]);
            let h = s.h().clone();
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
                *d.h_mut() += &dx;
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
            // ∂L/∂H = ∂L/∂H̃ ⊙ M
            from_above = match (dx, self.mask(l)) {
                (Some(dx), Some(m)) => Some(dx * &m),
                (dx, _) => dx,
            };
        }
        d_prev.reverse();
        (d_prev, from_above)
    }
    // ANCHOR_END: stack_step_backward

    fn inner_widths(&self) -> Vec<usize> {
        let below = &self.layers[..self.layers.len() - 1];
        below.iter().map(|c| c.num_hiddens()).collect()
    }

    fn with_masks(&self, masks: Vec<Array2<f64>>) -> Self {
        assert_eq!(
            masks.len(),
            self.layers.len() - 1,
            "one mask per layer above the first"
        );
        Self {
            layers: self.layers.clone(),
            masks,
        }
    }

    fn mask_rows(&self, rows: std::ops::Range<usize>) -> Self {
        let rows =
            |m: &Array2<f64>| m.slice(ndarray::s![rows.clone(), ..]).to_owned();
        Self {
            layers: self.layers.clone(),
            masks: self.masks.iter().map(rows).collect(),
        }
    }
}

impl<C> Stack<C> {
    fn top(&self) -> &C {
        self.layers.last().expect("a stack has at least one layer")
    }

    /// The dropout mask on the input of layer `l` (from layer l − 1), in
    /// `F`; none for layer 0 or without dropout.
    pub fn mask<F: NdFloat>(&self, l: usize) -> Option<Array2<F>> {
        let m = self.masks.get(l.checked_sub(1)?)?;
        Some(m.mapv(|x| F::from(x).expect("a mask entry fits in F")))
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
