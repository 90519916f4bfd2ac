//! `ch_gru gates` dumps what the teaching cell computes: every value of
//! gates.csv is the cache (Z, R) or the new state (H) of `gru_step`, run
//! here by hand on the passage with the checkpoint's weights. Its
//! statistics are those of the held-out text, and it draws the units it
//! says. And bad input is refused.

use ch_gru::args::checkpoint_variant;
use ch_gru::scratch::{gru_step, Gru};
use d2l::cli::{SplitArgs, SplitKind};
use d2l::inspect;
use d2l::rnn::Input;
use d2l::testkit::clitest::gates::{
    gates_of_a_tiny_run, gates_on, gates_refuses_bad_input, gates_with,
    saturate_bias,
};
use d2l::testkit::clitest::in_temp_dir;
use ndarray::Array2;

const BIN: &str = env!("CARGO_BIN_EXE_ch_gru");

/// The GRU of a checkpoint, as `ch_gru gates` loads it.
fn load(checkpoint: &std::path::Path) -> d2l::cli::Loaded<Gru> {
    d2l::cli::load_scratch_model(
        Some(checkpoint),
        "ch_gru",
        "gru",
        |ck, v, h| Ok(Gru::new(v, h, checkpoint_variant(ck)?)),
    )
    .unwrap()
}

#[test]
fn the_dump_is_the_teaching_cells_cache() {
    in_temp_dir(BIN, |bin, dir| {
        let dump = gates_of_a_tiny_run(bin, dir);
        let loaded = load(&dump.checkpoint);
        let (m, vocab) = (&loaded.model, &loaded.vocab);
        assert_eq!(dump.rows.len(), 3 * dump.text.len());
        let mut h = Array2::<f32>::zeros((1, m.cell.num_hiddens));
        for (t, c) in dump.text.iter().enumerate() {
            let x = [vocab.index(&c.to_string())];
            let (h_next, cache) =
                gru_step(&m.params, m.cell.variant, &Input::Tokens(&x), &h);
            for (name, values) in
                [("Z", &cache.z), ("R", &cache.r), ("H", &h_next)]
            {
                let dumped = &dump.rows[&(t, name.to_string())];
                assert_eq!(dumped, &values.row(0).to_vec(), "{name} at {t}");
            }
            h = h_next;
        }
        let readings = dump.summary["readings"].as_array().unwrap();
        let names: Vec<&str> = readings
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Z", "R", "H"]);
        // Gates have a saturation; the state has none.
        assert!(readings[0]["low"].is_number());
        assert!(readings[2]["low"].is_null());
    });
}

/// gates.json's numbers, recomputed here from a trace of the held-out
/// text (the tiny run's validation text, characters 600..900), on a
/// checkpoint whose update gate's bias is set to ±6 so that half its
/// units are open and half shut.
#[test]
fn the_statistics_are_the_held_out_texts() {
    in_temp_dir(BIN, |bin, dir| {
        let tiny = gates_of_a_tiny_run(bin, dir);
        let edited = dir.join("saturated.safetensors");
        saturate_bias(&tiny.checkpoint, &edited, "cell.b_z", 6.0);
        let dump = gates_on(bin, &edited, &dir.join("saturated"), &[]);
        let loaded = load(&dump.checkpoint);
        let split = SplitArgs {
            kind: SplitKind::D2l,
            max_tokens: Some(600),
            valid_tokens: Some(300),
        };
        let splits = split.load().unwrap();
        let text: Vec<char> = splits
            .valid
            .iter()
            .map(|&i| splits.vocab.to_token(i).chars().next().unwrap())
            .collect();
        let tokens: Vec<usize> = text
            .iter()
            .map(|c| loaded.vocab.index(&c.to_string()))
            .collect();
        let m = &loaded.model;
        let traces = inspect::trace(&m.cell, &m.params, &tokens);
        let readings = dump.summary["readings"].as_array().unwrap();
        let floats = |v: &serde_json::Value| -> Vec<f64> {
            let a = v.as_array().unwrap();
            a.iter().map(|x| x.as_f64().unwrap()).collect()
        };
        let units = |v: &serde_json::Value| -> Vec<usize> {
            let a = v.as_array().unwrap();
            a.iter().map(|x| x.as_u64().unwrap() as usize).collect()
        };
        for (t, r) in traces.iter().zip(readings) {
            let space =
                inspect::correlations(&t.values, &inspect::is_space(&text));
            let position = inspect::correlations(
                &t.values,
                &inspect::position_in_word(&text),
            );
            assert_eq!(floats(&r["space_r"]), space, "{}", t.name);
            assert_eq!(floats(&r["position_r"]), position, "{}", t.name);
            if t.name != "H" {
                let s = inspect::saturation(&t.values);
                assert_eq!(floats(&r["units_low"]), s.low, "{}", t.name);
                assert_eq!(floats(&r["units_high"]), s.high, "{}", t.name);
            }
            if t.name == "Z" {
                // Not a vacuous check: the edited gate saturates both ways.
                let (low, high) =
                    (floats(&r["units_low"]), floats(&r["units_high"]));
                assert!(low.iter().any(|&f| f > 0.9), "{low:?}");
                assert!(high.iter().any(|&f| f > 0.9), "{high:?}");
            }
            // The drawn units: the 3 most like a space, then those of the
            // 3 most like the position that are not already drawn.
            let mut drawn = inspect::strongest(&space, 3);
            for u in inspect::strongest(&position, 3) {
                if !drawn.contains(&u) {
                    drawn.push(u);
                }
            }
            assert_eq!(units(&r["drawn"]), drawn, "{}", t.name);
        }
        // --units draws those, for every reading.
        let chosen = gates_with(bin, &dir.join("chosen"), &["--units", "5,3"]);
        for r in chosen.summary["readings"].as_array().unwrap() {
            assert_eq!(units(&r["drawn"]), [5, 3]);
        }
    });
}

#[test]
fn bad_gates_input_is_refused() {
    in_temp_dir(BIN, gates_refuses_bad_input);
}
