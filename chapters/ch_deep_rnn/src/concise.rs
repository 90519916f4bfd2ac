//! The concise deep models: tch's `nn::gru` and `nn::lstm` with
//! `num_layers: L`, through the GRU and LSTM chapters' builders, and their
//! weights layer by layer in our layout.

use anyhow::Result;
use ch_gru::concise::concise_gru;
use ch_lstm::concise::concise_lstm;
use d2l::cli::{self, Prepared, TrainArgs};
use d2l::concise::Read;
use std::collections::BTreeMap;
use tch::Kind;

/// Which tch layer to stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Gru,
    Lstm,
}

// ANCHOR: concise_deep
/// `ch_deep_rnn --impl concise`: trains `layers` layers of tch's GRU
/// (reset-after) or LSTM, and saves them in our layout, as a `Stack`, so
/// that `generate` and the scratch model can load them.
pub fn train_cli(
    args: &TrainArgs,
    cell: CellKind,
    layers: usize,
    run: Prepared,
) -> Result<()> {
    let device = args.device.tch()?;
    tch::manual_seed(args.seed as i64);
    let (v, h) = (run.splits.vocab.len(), args.num_hiddens);
    let mut meta = BTreeMap::from([
        ("model".to_string(), "deep".to_string()),
        ("layers".to_string(), layers.to_string()),
        ("impl".to_string(), "concise".to_string()),
    ]);
    match cell {
        CellKind::Gru => {
            meta.insert("cell".into(), "gru".into());
            meta.insert("variant".into(), "reset-after".into());
            let mut model = concise_gru(v, h, layers, device, Kind::Float);
            cli::train_and_save(
                &mut model,
                |m| {
                    let p: Vec<_> = (0..layers)
                        .map(|l| ch_gru::concise::layer(m, l, Read::Value))
                        .collect();
                    cli::scratch_tensors(&p, &m.output(Read::Value))
                },
                args,
                run,
                "deep GRU on tch",
                meta,
            )?;
        }
        CellKind::Lstm => {
            meta.insert("cell".into(), "lstm".into());
            let mut model = concise_lstm(v, h, layers, device, Kind::Float);
            cli::train_and_save(
                &mut model,
                |m| {
                    let p: Vec<_> = (0..layers)
                        .map(|l| ch_lstm::concise::layer(m, l, Read::Value))
                        .collect();
                    cli::scratch_tensors(&p, &m.output(Read::Value))
                },
                args,
                run,
                "deep LSTM on tch",
                meta,
            )?;
        }
    }
    Ok(())
}
// ANCHOR_END: concise_deep
