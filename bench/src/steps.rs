//! Microbenchmarks of one cell step, forward and backward, on the
//! teaching path.

use crate::{BATCH, HIDDENS};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::rnn::{Cell, Input, Tensors};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::time::Instant;

/// Microseconds per call of one cell step forward and backward, at d2l's
/// batch shape with token inputs; the median of `iters` calls.
pub fn step_benchmarks(vocab: usize, iters: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rng = StdRng::seed_from_u64(0);
    let tokens: Vec<usize> = (0..BATCH).map(|i| i % vocab).collect();
    let gru = Gru::new(vocab, HIDDENS, Variant::ResetBefore);
    out.extend(time_step("gru", &gru, 3, &tokens, iters, &mut rng));
    let lstm = Lstm::new(vocab, HIDDENS);
    out.extend(time_step("lstm", &lstm, 4, &tokens, iters, &mut rng));
    out
}

fn time_step<C: Cell<f32>>(
    name: &str,
    cell: &C,
    gates: usize,
    tokens: &[usize],
    iters: usize,
    rng: &mut StdRng,
) -> Vec<Value> {
    let p = cell.init(rng);
    let x = Input::Tokens(tokens);
    let state = cell.zero_state(tokens.len());
    let (next, cache) = cell.step(&p, &x, &state);
    let d_state = next.clone();
    let mut g = p.zeros_like();
    let median_us = |f: &mut dyn FnMut()| {
        let mut times: Vec<f64> = (0..iters.max(1))
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let forward = median_us(&mut || {
        std::hint::black_box(cell.step(&p, &x, &state));
    });
    let backward = median_us(&mut || {
        std::hint::black_box(
            cell.step_backward(&p, &x, &cache, &d_state, &mut g),
        );
    });
    let flops = 2.0 * (tokens.len() * gates * HIDDENS * HIDDENS) as f64;
    vec![
        json!({"cell": name, "pass": "forward", "micros": forward,
               "gflops": flops / forward / 1e3}),
        json!({"cell": name, "pass": "backward", "micros": backward,
               "gflops": 2.0 * flops / backward / 1e3}),
    ]
}
