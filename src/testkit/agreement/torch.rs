//! Records of the concise models on libtorch, in our layout.

use super::{flat_named, sgd_losses, Record, SGD_STEPS};
use crate::cli::Layers;
use crate::concise::{to_array, ConciseRnn, Read, TchRnn};
use crate::data::Batch;
use crate::model::LanguageModel;
use crate::rnn::{Output, Tensors, TorchLayout};
use crate::testkit::single_biases::SingleBiases;
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// A concise model in f64 on the CPU holding a copy of our `layers`
/// and `output`.
pub fn concise_copy<R: TchRnn, P: TorchLayout<f64>>(
    layers: &[P],
    output: &Output<f64>,
) -> ConciseRnn<R> {
    let (h, v) = output.w_hq.dim();
    let n = layers.len();
    let mut c = ConciseRnn::new(v, h, n, Device::Cpu, Kind::Double);
    for (l, p) in layers.iter().enumerate() {
        c.set_layer(l, p);
    }
    c.set_output(output);
    c
}

/// A concise model's parameter gradients in our layout, named as
/// ours: `cell.…` for one layer of `P` (or `cell.<l>.…` for a stack)
/// and `output.…`.
pub fn our_grads<P, R>(
    m: &ConciseRnn<R>,
    layers: Layers,
) -> BTreeMap<String, Vec<f64>>
where
    P: TorchLayout<f64> + Tensors<f64>,
{
    let mut g = match layers {
        Layers::One => flat_named("cell.", &m.layer::<P>(0, Read::Grad)),
        Layers::Stack(n) => {
            let p: Vec<P> = (0..n).map(|l| m.layer(l, Read::Grad)).collect();
            flat_named("cell.", &p)
        }
    };
    g.extend(flat_named("output.", &m.output(Read::Grad)));
    g
}

/// The values of a tensor, row-major.
pub fn flat(t: &Tensor) -> Vec<f64> {
    to_array(t).iter().copied().collect()
}

/// Batch-first logits rows (i · steps + t) as time-major rows
/// (t · batch + i), the order of the scratch models.
pub fn time_major_rows(
    logits: &Tensor,
    batch: usize,
    steps: usize,
) -> Vec<f64> {
    let l = logits.view([batch as i64, steps as i64, -1]);
    flat(&l.transpose(0, 1))
}

/// How to read a concise model in our layout.
pub struct Reader<R: TchRnn> {
    /// A fresh model with the weights under test.
    pub model: fn() -> ConciseRnn<R>,
    /// The initial state, from leaves (see `leaves`).
    pub state: fn(&[Tensor]) -> R::State,
    /// The initial state's tensors, by name, in our layout
    /// `(batch, hiddens)` per layer.
    pub leaves: fn() -> Vec<(String, Tensor)>,
    /// The final state by name, in our layout.
    pub final_state: fn(&R::State) -> BTreeMap<String, Vec<f64>>,
    /// Parameter gradients by name (`cell.…`, `output.…`), in our
    /// layout.
    pub grads: fn(&ConciseRnn<R>) -> BTreeMap<String, Vec<f64>>,
    /// `bias_hh` entries that duplicate ours (see `SingleBiases`).
    pub masks: Vec<(String, i64, i64)>,
}

/// The record of a concise model on `batch`: forward, backward with
/// the initial state as a leaf of the graph, and [`SGD_STEPS`] steps of
/// clipped SGD on a fresh copy.
pub fn record<R: TchRnn>(r: &Reader<R>, batch: &Batch) -> Record {
    let mut model = (r.model)();
    let leaves: Vec<(String, Tensor)> = (r.leaves)()
        .into_iter()
        .map(|(n, t)| (n, t.set_requires_grad(true)))
        .collect();
    let tensors: Vec<Tensor> =
        leaves.iter().map(|(_, t)| t.shallow_clone()).collect();
    let mut state = (r.state)(&tensors);
    let loss = model.forward_backward(batch, &mut state);
    let detached: Vec<Tensor> = tensors.iter().map(Tensor::detach).collect();
    let (logits, _) =
        tch::no_grad(|| model.forward(&batch.x, &(r.state)(&detached)));
    let mut grads = (r.grads)(&model);
    for (name, leaf) in &leaves {
        grads.insert(format!("state0.{name}"), flat(&leaf.grad()));
    }
    let mut fresh = SingleBiases {
        model: (r.model)(),
        masks: r.masks.clone(),
    };
    let copies = || {
        let c: Vec<Tensor> = detached.iter().map(Tensor::copy).collect();
        (r.state)(&c)
    };
    let losses = sgd_losses(&mut fresh, batch, copies);
    assert_eq!(losses.len(), SGD_STEPS);
    Record {
        loss,
        logits: time_major_rows(&logits, batch.batch_size(), batch.num_steps()),
        final_state: (r.final_state)(&state),
        grads,
        sgd_losses: losses,
    }
}
