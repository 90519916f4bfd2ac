//! `ch_lstm gates` dumps what the teaching cell computes: every value of
//! gates.csv is the cache (I, F, O) or the new memory (C) of
//! `lstm_step`, run here by hand on the passage with the checkpoint's
//! weights, and `inspect::trace` of the chapter's `Lstm` reads the same.
//! And bad input is refused.

use ch_lstm::scratch::{lstm_step, Lstm, LstmState};
use d2l::inspect::trace;
use d2l::rnn::Input;
use d2l::testkit::clitest::gates::{
    gates_of_a_tiny_run, gates_refuses_bad_input,
};
use d2l::testkit::clitest::in_temp_dir;
use ndarray::Array2;

const BIN: &str = env!("CARGO_BIN_EXE_ch_lstm");

#[test]
fn the_dump_is_the_teaching_cells_cache() {
    in_temp_dir(BIN, |bin, dir| {
        let dump = gates_of_a_tiny_run(bin, dir);
        let loaded = d2l::cli::load_scratch_model(
            Some(&dump.checkpoint),
            "ch_lstm",
            "lstm",
            |_, v, h| Ok(Lstm::new(v, h)),
        )
        .unwrap();
        let (m, vocab) = (&loaded.model, &loaded.vocab);
        let names = ["I", "F", "O", "C"];
        assert_eq!(dump.rows.len(), names.len() * dump.text.len());
        let zeros = Array2::<f32>::zeros((1, m.cell.num_hiddens));
        let mut state = LstmState {
            h: zeros.clone(),
            c: zeros,
        };
        let tokens: Vec<usize> = dump
            .text
            .iter()
            .map(|c| vocab.index(&c.to_string()))
            .collect();
        let traced = trace(&m.cell, &m.params, &tokens);
        for (t, &token) in tokens.iter().enumerate() {
            let x = [token];
            let (next, cache) =
                lstm_step(&m.params, &Input::Tokens(&x), &state);
            let values = [&cache.i, &cache.f, &cache.o, &next.c];
            for (k, (name, v)) in names.iter().zip(values).enumerate() {
                let dumped = &dump.rows[&(t, name.to_string())];
                assert_eq!(dumped, &v.row(0).to_vec(), "{name} at {t}");
                assert_eq!(traced[k].name, *name);
                assert_eq!(traced[k].values.row(t), v.row(0), "{name} at {t}");
            }
            state = next;
        }
    });
}

/// A variant without a gate has no reading for it: the ones its cache
/// holds in the gate's place are not a gate wide open.
#[test]
fn a_removed_gate_is_not_read() {
    use ch_lstm::variants::{LstmVariant, Variant};
    use d2l::rnn::Cell;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    for (variant, names) in [
        (Variant::Full, vec!["I", "F", "O", "C"]),
        (Variant::Nig, vec!["F", "O", "C"]),
        (Variant::Nfg, vec!["I", "O", "C"]),
        (Variant::Nog, vec!["I", "F", "C"]),
        (Variant::Cifg, vec!["I", "F", "O", "C"]),
    ] {
        let cell = LstmVariant {
            num_inputs: 5,
            num_hiddens: 3,
            variant,
            forget_bias: 0.0,
        };
        let params = Cell::<f64>::init(&cell, &mut rng);
        let traced = trace(&cell, &params, &[1, 2, 3]);
        let got: Vec<&str> = traced.iter().map(|t| t.name).collect();
        assert_eq!(got, names, "{variant:?}");
    }
}

#[test]
fn bad_gates_input_is_refused() {
    in_temp_dir(BIN, gates_refuses_bad_input);
}
