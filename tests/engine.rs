//! A new cell gets the fast path by implementing `Fused` alone: a plain
//! tanh RNN, H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h), taught step by
//! step (`Cell`) and then handed to the engine in a few dozen lines. Its
//! fast path computes what its teaching loops compute, in f64 and in f32.

use d2l::fast::{tanh_mut, Backward, Forward, Fused};
use d2l::rnn::{normal, tanh, Cell, Hidden, Input};
use d2l::testkit::paths::{check_cell, Sizes};
use ndarray::{Array1, Array2, NdFloat};
use rand::Rng;

#[derive(Debug, Clone)]
struct RnnParams<F> {
    w_xh: Array2<F>,
    w_hh: Array2<F>,
    b_h: Array1<F>,
}
d2l::impl_tensors!(RnnParams { w_xh, w_hh, b_h });

/// A plain RNN carries H alone.
type RnnState<F> = Hidden<F>;

#[derive(Clone)]
struct Rnn {
    num_inputs: usize,
    num_hiddens: usize,
}

/// What the backward step needs: H_{t−1} and H_t.
struct RnnCache<F> {
    h_prev: Array2<F>,
    h: Array2<F>,
}

impl<F: NdFloat> Cell<F> for Rnn {
    type Params = RnnParams<F>;
    type State = RnnState<F>;
    type Cache = RnnCache<F>;

    fn init<R: Rng>(&self, rng: &mut R) -> RnnParams<F> {
        let (i, h) = (self.num_inputs, self.num_hiddens);
        RnnParams {
            w_xh: normal((i, h), 0.01, rng),
            w_hh: normal((h, h), 0.01, rng),
            b_h: Array1::zeros(h),
        }
    }

    fn num_hiddens(&self) -> usize {
        self.num_hiddens
    }

    fn zero_state(&self, batch: usize) -> RnnState<F> {
        let h = Array2::zeros((batch, self.num_hiddens));
        RnnState { h }
    }

    fn step(
        &self,
        p: &RnnParams<F>,
        x: &Input<'_, F>,
        s: &RnnState<F>,
    ) -> (RnnState<F>, RnnCache<F>) {
        // H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h)
        let h = tanh(x.dot(&p.w_xh) + s.h.dot(&p.w_hh) + &p.b_h);
        let cache = RnnCache {
            h_prev: s.h.clone(),
            h: h.clone(),
        };
        (RnnState { h }, cache)
    }

    fn step_backward(
        &self,
        p: &RnnParams<F>,
        x: &Input<'_, F>,
        c: &RnnCache<F>,
        d: &RnnState<F>,
        g: &mut RnnParams<F>,
    ) -> (RnnState<F>, Option<Array2<F>>) {
        // dA = dH ⊙ (1 − H_t ⊙ H_t)
        let da = &d.h * &c.h.mapv(|h| F::one() - h * h);
        x.add_t_dot(&da, &mut g.w_xh);
        g.w_hh += &c.h_prev.t().dot(&da);
        g.b_h += &da.sum_axis(ndarray::Axis(0));
        let dx = match x {
            Input::Dense(_) => Some(da.dot(&p.w_xh.t())),
            Input::Tokens(_) => None,
        };
        (
            RnnState {
                h: da.dot(&p.w_hh.t()),
            },
            dx,
        )
    }
}

// ANCHOR: rnn_fused
// The whole fast path of a plain RNN: one gate, read by H_{t−1} directly.
d2l::fused_sequence!(Rnn);

impl<F: NdFloat> Fused<F> for Rnn {
    d2l::fused_weights!(input: [(w_xh, b_h)], direct: [w_hh]);

    fn forward_step(&self, _: &RnnParams<F>, mut s: Forward<F>) {
        // H_t = tanh(X W_xh + b_h + H_{t−1} W_hh): the engine added both.
        tanh_mut(s.gates.view_mut());
        s.next[0].assign(&s.gates);
    }

    fn backward_step(&self, _: &RnnParams<F>, mut s: Backward<F>) {
        // dA = dH ⊙ (1 − H_t ⊙ H_t); the engine adds dA W_hhᵀ to dH_{t−1}.
        ndarray::azip!((da in &mut s.da, dh in &mut s.d_state[0],
                        &h in &s.gates) {
            *da = *dh * (F::one() - h * h);
            *dh = F::zero();
        });
    }
}
// ANCHOR_END: rnn_fused

fn rnn(s: Sizes) -> Rnn {
    Rnn {
        num_inputs: s.inputs,
        num_hiddens: s.hiddens,
    }
}

/// hs twice, final state twice, d_state0 and 3 gradients.
const RESULTS: usize = 8;

#[test]
fn a_plain_rnn_on_the_engine_matches_its_teaching_loops_in_f64_and_f32() {
    check_cell(rnn, 5, RESULTS);
}
