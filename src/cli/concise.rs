//! `--impl concise` for every chapter: a model of tch, trained through the
//! shared loop and saved in our layout, so that `generate` and the
//! from-scratch model can load it.

use super::prepare::Prepared;
use super::run::train_and_save;
use super::{scratch_tensors, TrainArgs};
use crate::concise::{ConciseRnn, Read, TchRnn};
use crate::rnn::{Tensors, TorchLayout};
use anyhow::Result;
use std::collections::BTreeMap;
use tch::Kind;

/// How many layers a concise model has, and so how its checkpoint names
/// them: as one cell's parameters (the GRU and LSTM chapters), or as a
/// stack's list of them (the deep chapter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layers {
    One,
    Stack(usize),
}

/// Trains a concise model of `layers` layers of `R`, with parameters `P` in
/// our layout, and saves it as the from-scratch model of the same shape.
pub fn train_concise<R, P>(
    layers: Layers,
    args: &TrainArgs,
    run: Prepared,
    title: &str,
    mut meta: BTreeMap<String, String>,
) -> Result<()>
where
    R: TchRnn,
    P: TorchLayout<f64> + Tensors<f64>,
{
    let device = args.device.tch()?;
    tch::manual_seed(args.seed as i64);
    let (v, h) = (run.splits.vocab.len(), args.num_hiddens);
    let n = match layers {
        Layers::One => 1,
        Layers::Stack(n) => n,
    };
    let mut model = ConciseRnn::<R>::new(v, h, n, device, Kind::Float);
    model.dropout = args.dropout;
    model.weight_drop = args.weight_drop;
    meta.insert("impl".to_string(), "concise".to_string());
    let tensors = |m: &ConciseRnn<R>| {
        let output = m.output(Read::Value);
        match layers {
            Layers::One => {
                scratch_tensors(&m.layer::<P>(0, Read::Value), &output)
            }
            Layers::Stack(n) => {
                let p: Vec<P> =
                    (0..n).map(|l| m.layer(l, Read::Value)).collect();
                scratch_tensors(&p, &output)
            }
        }
    };
    train_and_save(&mut model, tensors, args, run, title, meta)?;
    Ok(())
}
