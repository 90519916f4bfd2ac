//! A stack on the fast path: layer by layer instead of step by step. A
//! stack of layers that each run a whole sequence at once
//! ([`Sequence`]) runs a whole sequence at once too.

use crate::scratch::Stack;
use d2l::fast::{Head, SeqGrads, Sequence};
use d2l::rnn::{drop_units, Input, Seq};
use ndarray::{Array2, ArrayView2, NdFloat};

// ANCHOR: stack_seq
impl<F: NdFloat, C: Sequence<F>> Sequence<F> for Stack<C> {
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
            // Dropout between layers, one mask row per sequence.
            if let Some(m) = self.mask(l) {
                below = below.map(|h| drop_units(h, m.view()));
            }
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
        let masks: Vec<Array2<F>> = (1..self.layers.len())
            .filter_map(|l| self.mask(l))
            .collect();
        let layers = (&self.layers[..], &masks[..]);
        layers_forward_backward(layers, p, xs, state, head, grads)
    }

    fn shares_steps(&self) -> bool {
        self.layers.iter().all(|l| l.shares_steps())
    }
}
// ANCHOR_END: stack_seq

// ANCHOR: layers_forward_backward
/// Layer 0 of `layers` forward, with the layers above it (recursively) as
/// its head, then layer 0 backward. Returns the gradient with respect to
/// every layer's initial state, and with respect to the input. `masks`,
/// one per layer above the first or none, drop units of the hidden states
/// each of those layers reads.
fn layers_forward_backward<F: NdFloat, C: Sequence<F>>(
    (layers, masks): (&[C], &[Array2<F>]),
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
    let (mask, masks_above) = match masks.split_first() {
        Some((m, rest)) => (Some(m.view()), rest),
        None => (None, masks),
    };
    let mut layers_above = |hs: ArrayView2<'_, F>| {
        // H̃ = H ⊙ M on the way up, ∂L/∂H = ∂L/∂H̃ ⊙ M on the way down.
        let dropped = mask.map(|m| drop_units(hs.to_owned(), m));
        let input = match &dropped {
            Some(d) => Seq::new(Input::Dense(d.view()), batch),
            None => Seq::new(Input::Dense(hs.view()), batch),
        };
        let (d, dx) = layers_forward_backward(
            (above, masks_above),
            p_above,
            &input,
            s_above,
            head,
            g_above,
        );
        d_above = d;
        let dx = dx.expect("a layer with a dense input returns its gradient");
        match mask {
            Some(m) => drop_units(dx, m),
            None => dx,
        }
    };
    let (d0, dx) = cell.seq_forward_backward(p0, xs, s0, &mut layers_above, g0);
    let mut d_state0 = vec![d0];
    d_state0.append(&mut d_above);
    (d_state0, dx)
}
// ANCHOR_END: layers_forward_backward
