//! A stack's fast path (layer after layer, each over the whole sequence)
//! computes what the teaching loops (step after step, each through every layer)
//! compute, for stacks of 2 and 3 GRU (both formulations) and LSTM layers and
//! of 2 plain RNN layers, from a nonzero state: every result, in f64 to 10⁻¹²,
//! and in f32 within the bound derived from f32's ε.

use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use ch_rnn::scratch::Rnn;
use d2l::fast::Sequence;
use d2l::rnn::{Cell, Tensors};
use d2l::testkit::paths::{check_paths, Sizes, Tolerance, F32_SIZES, SMALL};
use ndarray::NdFloat;

fn check<F: NdFloat, C: Sequence<F>>(cell: Stack<C>, s: Sizes, tol: Tolerance) {
    let gaps = check_paths(&cell, s, false, 3, tol);
    let (p, state) = (cell.init(&mut rand::thread_rng()), cell.zero_state(1));
    let tensors = p.named().len() + 3 * state.named().len() + 2;
    assert_eq!(gaps.len(), tensors, "every result compared");
}

fn grus(layers: usize, variant: Variant, s: Sizes) -> Stack<Gru> {
    stack(layers, s.inputs, s.hiddens, |i, h| Gru::new(i, h, variant))
}

#[test]
fn gru_stacks_fast_path_matches_the_teaching_loops() {
    for layers in [2, 3] {
        for variant in [Variant::ResetBefore, Variant::ResetAfter] {
            check::<f64, _>(
                grus(layers, variant, SMALL),
                SMALL,
                Tolerance::F64,
            );
            let f32_stack = grus(layers, variant, F32_SIZES);
            check::<f32, _>(f32_stack, F32_SIZES, Tolerance::F32);
        }
    }
}

#[test]
fn lstm_stacks_fast_path_matches_the_teaching_loops() {
    for layers in [2, 3] {
        let (s, t) = (SMALL, F32_SIZES);
        check::<f64, _>(
            stack(layers, s.inputs, s.hiddens, Lstm::new),
            s,
            Tolerance::F64,
        );
        check::<f32, _>(
            stack(layers, t.inputs, t.hiddens, Lstm::new),
            t,
            Tolerance::F32,
        );
    }
}

#[test]
fn plain_rnn_stacks_fast_path_matches_the_teaching_loops() {
    let (s, t) = (SMALL, F32_SIZES);
    check::<f64, _>(stack(2, s.inputs, s.hiddens, Rnn::new), s, Tolerance::F64);
    check::<f32, _>(stack(2, t.inputs, t.hiddens, Rnn::new), t, Tolerance::F32);
}
