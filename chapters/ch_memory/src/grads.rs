//! How much of the loss's gradient reaches each hidden state. The loss is
//! read at the last step only, so ∂L/∂H_t for an earlier t is what
//! backpropagation through time carries back from there, step by step:
//! what the model can learn about the first token is bounded by what
//! reaches H_0.

use crate::task::Recall;
use d2l::rnn::{forward_seq, softmax_cross_entropy, Cell, Input, Output};
use d2l::rnn::{State, Tensors};
use ndarray::{s, Array2, NdFloat};

// ANCHOR: state_grad_norms
/// ‖∂L/∂H_t‖ for every step t, the loss being the mean cross-entropy at
/// the last step of `data`: the norm of the whole `(batch, hiddens)`
/// gradient. The loop is [`d2l::rnn::backward_seq`]'s, with the gradient
/// of each H_t read on the way.
pub fn state_grad_norms<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    output: &Output<F>,
    data: &Recall,
) -> Vec<f64> {
    let (b, len) = (data.batch, data.len);
    let xs: Vec<Input<F>> = data.tokens.chunks(b).map(Input::Tokens).collect();
    let mut state = cell.zero_state(b);
    let (hs, caches) = forward_seq(cell, p, &xs, &mut state);
    // The loss at the last step, and its gradient with respect to H_T.
    let h_last = hs.slice(s![(len - 1) * b.., ..]).to_owned();
    let logits = output.forward(&h_last);
    let mut d_logits = Array2::zeros(logits.raw_dim());
    softmax_cross_entropy(logits.view(), &data.keys, Some(d_logits.view_mut()));
    let dh = output.backward(&h_last, &d_logits, &mut output.zeros_like());
    let mut d_next = cell.zero_state(b);
    *d_next.h_mut() += &dh;
    let mut grads = p.zeros_like();
    let mut norms = vec![0.0; len];
    for t in (0..len).rev() {
        // d_next holds ∂L/∂H_t here.
        // Squared in f64: f32 squares of entries near 1e-23 would vanish.
        let sq: f64 = d_next
            .h()
            .iter()
            .map(|v| v.to_f64().unwrap_or(f64::NAN).powi(2))
            .sum();
        norms[t] = sq.sqrt();
        let (d_prev, _) =
            cell.step_backward(p, &xs[t], &caches[t], &d_next, &mut grads);
        d_next = d_prev;
    }
    norms
}
// ANCHOR_END: state_grad_norms
