//! The `ch_lstm` command line, end to end, on tiny runs: training writes its
//! outputs, `generate` reads the checkpoint back, `train` is the default
//! subcommand, bad input is refused clearly, and `--impl concise` works
//! with the `torch` feature or says how to get it.

d2l::chapter_cli_tests!(
    env!("CARGO_BIN_EXE_ch_lstm"),
    &["--iter", "random"],
    "lstm"
);

mod variants {
    use d2l::io::checkpoint::Checkpoint;
    use d2l::testkit::clitest::{in_temp_dir, run, train_and_generate, TINY};

    const BIN: &str = env!("CARGO_BIN_EXE_ch_lstm");

    fn stderr(o: &std::process::Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    #[test]
    fn a_variant_trains_on_the_teaching_path_and_generates() {
        in_temp_dir(BIN, |bin, dir| {
            let out = dir.join("cifg");
            let flags = ["--variant", "cifg", "--forget-bias", "1"];
            train_and_generate(bin, &flags, &out);
            let ck = Checkpoint::load(&out.join("model.safetensors")).unwrap();
            assert_eq!(ck.meta("variant").unwrap(), "cifg");
            assert_eq!(ck.meta("forget_bias").unwrap(), "1");
            let result =
                std::fs::read_to_string(out.join("result.md")).unwrap();
            assert!(result.contains("teaching path"), "{result}");
        });
    }

    #[test]
    fn generate_runs_the_variant_the_checkpoint_records() {
        use d2l::testkit::clitest::checkpoints::{edit_checkpoint, set_meta};
        in_temp_dir(BIN, |bin, dir| {
            let out = dir.join("nog");
            train_and_generate(bin, &["--variant", "nog"], &out);
            let ck = out.join("model.safetensors");
            let generate = |ck: &std::path::Path| {
                let path = ck.to_str().unwrap();
                let o = run(bin, &["generate", "--checkpoint", path]);
                (o.status.code(), o.stdout.clone(), stderr(&o))
            };
            let (code, nog, _) = generate(&ck);
            assert_eq!(code, Some(0));
            // The same weights run as the full LSTM continue differently.
            let full = dir.join("full.safetensors");
            edit_checkpoint(&ck, &full, set_meta("variant", "full"));
            let (code, as_full, _) = generate(&full);
            assert_eq!(code, Some(0));
            assert_ne!(nog, as_full, "generate ignored the variant");
            // A name that is no variant is an error that says so.
            let bad = dir.join("bad.safetensors");
            edit_checkpoint(&ck, &bad, set_meta("variant", "peephole"));
            let (code, _, err) = generate(&bad);
            assert_eq!(code, Some(1), "{err}");
            assert!(err.contains("no LSTM variant"), "{err}");
        });
    }

    #[test]
    fn d2l_lstm_runs_record_no_variant() {
        in_temp_dir(BIN, |bin, dir| {
            let out = dir.join("plain");
            train_and_generate(bin, &[], &out);
            let ck = Checkpoint::load(&out.join("model.safetensors")).unwrap();
            assert!(ck.meta("variant").is_err());
        });
    }

    #[test]
    fn bad_variants_and_biases_are_refused() {
        in_temp_dir(BIN, |bin, dir| {
            let out = dir.join("never");
            let out = out.to_str().unwrap();
            for (flags, says) in [
                (vec!["--variant", "peephole"], "one of full, nig"),
                (vec!["--forget-bias", "nan"], "from -100 to 100"),
                (vec!["--forget-bias", "1e9"], "from -100 to 100"),
            ] {
                let mut args = TINY.to_vec();
                args.extend(flags.iter());
                args.extend(["--out", out]);
                let o = run(bin, &args);
                assert_eq!(o.status.code(), Some(2), "{flags:?}");
                assert!(stderr(&o).contains(says), "{}", stderr(&o));
            }
            let mut args = TINY.to_vec();
            args.extend(["--variant", "nfg", "--forget-bias", "1", "--out"]);
            args.push(out);
            let o = run(bin, &args);
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(stderr(&o).contains("no forget gate"), "{}", stderr(&o));
            let mut args = TINY.to_vec();
            args.extend(["--variant", "nfg", "--impl", "concise", "--out"]);
            args.push(out);
            let o = run(bin, &args);
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(stderr(&o).contains("leave out --impl concise"));
            let mut args = TINY.to_vec();
            args.extend(["--forget-bias", "1", "--share-steps", "--out"]);
            args.push(out);
            let o = run(bin, &args);
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(stderr(&o).contains("--share-steps needs the fast path"));
            assert!(!std::path::Path::new(out).exists());
        });
    }
}
