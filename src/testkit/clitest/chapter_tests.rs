//! The macros that give every chapter binary the same end-to-end tests,
//! each a call of a function of this folder.

/// The end-to-end tests of a chapter binary, in one line of its
/// `tests/cli.rs`: `d2l::chapter_cli_tests!(env!("CARGO_BIN_EXE_ch_gru"),
/// &["--iter", "random"], "gru");`, where the flags give a second training
/// run and `"gru"` is the model its checkpoints record.
/// The crate needs `tempfile` as a dev-dependency.
#[macro_export]
macro_rules! chapter_cli_tests {
    ($bin:expr, $second_run:expr, $model:expr) => {
        /// Runs `test` on the chapter's binary in a fresh folder.
        fn check(test: impl FnOnce(&str, &std::path::Path)) {
            $crate::testkit::clitest::in_temp_dir($bin, test)
        }

        $crate::chapter_fault_tests!($bin, $model);

        mod training {
            use $crate::testkit::clitest::basics as b;
            use $crate::testkit::clitest::training as t;

            use super::check;

            #[test]
            fn scratch_trains_writes_outputs_and_generates() {
                check(|bin, dir| {
                    b::trains_writes_outputs_and_generates(
                        bin,
                        $second_run,
                        dir,
                    )
                });
            }

            #[test]
            fn train_is_the_default_subcommand() {
                check(b::train_is_the_default_subcommand);
            }

            #[test]
            fn threads_split_the_batch_and_the_result_says_so() {
                check(b::threads_split_the_batch);
            }

            #[test]
            fn ngram_prints_a_row_per_order() {
                check(|bin, _| t::ngram_prints_a_row_per_order(bin));
            }

            #[test]
            fn book_split_scores_the_test_text_once() {
                check(t::book_split_scores_the_test_once);
            }

            #[test]
            fn patience_stops_and_best_checkpoint_is_kept() {
                check(t::patience_keeps_the_best);
            }

            #[test]
            fn both_paths_train_to_the_same_perplexity() {
                // Without dropout, and with each kind: the same seed draws
                // the same masks on both paths.
                let flags: [&[&str]; 3] =
                    [&[], &["--dropout", "0.3"], &["--weight-drop", "0.3"]];
                for dropout in flags {
                    check(|bin, dir| t::both_paths_agree(bin, dropout, dir));
                }
            }

            #[test]
            fn dropout_trains_and_is_recorded() {
                for flag in ["--dropout", "--weight-drop"] {
                    check(|bin, dir| {
                        t::dropout_trains_and_is_recorded(bin, flag, &[], dir)
                    });
                }
            }

            #[test]
            fn adam_trains() {
                check(|bin, dir| t::adam_trains(bin, &[], dir));
            }

            #[cfg(feature = "torch")]
            #[test]
            fn concise_dropout_trains_and_is_recorded() {
                let concise = &["--impl", "concise"];
                for flag in ["--dropout", "--weight-drop"] {
                    check(|bin, dir| {
                        t::dropout_trains_and_is_recorded(
                            bin, flag, concise, dir,
                        )
                    });
                }
            }

            #[cfg(feature = "torch")]
            #[test]
            fn concise_adam_trains() {
                check(|bin, dir| {
                    t::adam_trains(bin, &["--impl", "concise"], dir)
                });
            }
        }

        #[test]
        fn bad_input_gets_a_clear_error() {
            let dir = tempfile::tempdir().unwrap();
            $crate::testkit::clitest::bad_input_is_refused($bin, dir.path());
        }

        #[cfg(not(feature = "torch"))]
        #[test]
        fn concise_without_the_feature_says_how_to_enable_it() {
            use $crate::testkit::clitest::basics as b;
            check(b::concise_without_libtorch_says_how);
        }

        #[cfg(feature = "torch")]
        #[test]
        fn concise_trains_and_its_checkpoint_generates() {
            use $crate::testkit::clitest::basics as b;
            check(b::concise_trains_and_generates);
        }
    };
}

/// The fault tests of [`faults`] for a chapter binary; `$model` is the
/// `model` its checkpoints record (`gru`, `lstm`, `deep`). Part of
/// [`chapter_cli_tests`], which defines the `check` they call.
#[macro_export]
macro_rules! chapter_fault_tests {
    ($bin:expr, $model:expr) => {
        mod faults {
            use $crate::testkit::clitest::checkpoints as c;
            use $crate::testkit::clitest::faults as f;
            use $crate::testkit::clitest::outputs as o;

            use super::check;

            #[test]
            fn diverged_run_keeps_the_previous_one() {
                check(f::diverged_run_keeps_the_previous_one);
            }

            #[test]
            fn closed_stdout_costs_nothing() {
                check(f::closed_stdout_costs_nothing);
            }

            #[test]
            fn full_stdout_is_an_error() {
                check(f::full_stdout_is_an_error);
            }

            #[test]
            fn outputs_appear_together() {
                check(o::outputs_appear_together);
            }

            #[test]
            fn recovery_deletes_nothing() {
                check(o::recovery_deletes_nothing);
            }

            #[test]
            fn interrupt_keeps_the_previous_run() {
                check(f::interrupt_keeps_the_previous_run);
            }

            #[test]
            fn shared_steps_change_no_bit() {
                check($crate::testkit::clitest::resume::shared_steps_change_no_bit);
            }

            #[test]
            fn resume_ends_where_the_run_would_have() {
                check(
                    $crate::testkit::clitest::resume::resume_ends_where_the_run_would_have,
                );
            }

            #[test]
            fn output_problems_come_before_training() {
                check(f::output_problems_come_before_training);
            }

            #[test]
            fn huge_values_are_refused() {
                check(f::huge_values_are_refused);
            }

            #[test]
            fn edited_checkpoints_are_refused() {
                check(c::edited_checkpoints_are_refused);
            }

            #[test]
            fn seeded_runs_write_identical_checkpoints() {
                check(c::seeded_runs_write_identical_checkpoints);
            }

            #[test]
            fn messages_say_what_to_do() {
                check(|bin, dir| f::messages_say_what_to_do(bin, $model, dir));
            }

            #[test]
            fn modes_follow_the_umask() {
                check(f::modes_follow_the_umask);
            }

            #[test]
            #[cfg(unix)]
            fn odd_output_paths() {
                check(o::odd_output_paths);
            }

            #[test]
            fn settings_are_recorded_as_run() {
                check(f::settings_are_recorded_as_run);
            }
        }
    };
}
