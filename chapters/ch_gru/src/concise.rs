//! The concise GRU on libtorch: one-hot input → `nn::gru` → linear, d2l's
//! `RNNModel`. It trains through the same loop as the scratch model.

use crate::layout::{from_torch, grads_from_torch, to_torch, TorchGru};
use crate::scratch::GruParams;
use anyhow::{bail, Result};
use d2l::cli::{self, Device as DeviceArg, TrainArgs};
use d2l::data::Batch;
use d2l::rnn::Output;
use d2l::LanguageModel;
use ndarray::{Array2, ArrayD, Ix1, Ix2};
use std::collections::BTreeMap;
use tch::nn::{self, RNN};
use tch::{Device, Kind, Tensor};

// ANCHOR: concise_gru
/// d2l's `RNNModel` around `nn::gru`: inputs one-hot encoded, a GRU layer,
/// and a linear layer from the hidden state to the vocabulary.
pub struct ConciseGru {
    pub vs: nn::VarStore,
    gru: nn::GRU,
    linear: nn::Linear,
    vocab_size: i64,
    num_hiddens: i64,
}

impl ConciseGru {
    /// PyTorch's default initialisation: every weight and bias from
    /// U(−1/√h, 1/√h).
    pub fn new(
        vocab_size: usize,
        num_hiddens: usize,
        device: Device,
        kind: Kind,
    ) -> Self {
        let mut vs = nn::VarStore::new(device);
        let k = 1.0 / (num_hiddens as f64).sqrt();
        let uniform = nn::Init::Uniform { lo: -k, up: k };
        let config = nn::RNNConfig {
            w_ih_init: uniform,
            w_hh_init: uniform,
            b_ih_init: Some(uniform),
            b_hh_init: Some(uniform),
            ..Default::default() // batch_first: (batch, steps, inputs)
        };
        let (v, h) = (vocab_size as i64, num_hiddens as i64);
        let gru = nn::gru(vs.root() / "rnn", v, h, config);
        let linear = nn::linear(vs.root() / "linear", h, v, Default::default());
        vs.set_kind(kind);
        Self {
            vs,
            gru,
            linear,
            vocab_size: v,
            num_hiddens: h,
        }
    }

    /// Logits `(batch · steps, vocab)`, row `i · steps + t` (batch-first),
    /// and the final state.
    pub fn forward(
        &self,
        x: &Array2<usize>,
        state: &Tensor,
    ) -> (Tensor, Tensor) {
        let (b, s) = (x.nrows() as i64, x.ncols() as i64);
        let tokens: Vec<i64> = x.iter().map(|&t| t as i64).collect();
        let one_hot = Tensor::from_slice(&tokens)
            .view([b, s])
            .to_device(self.vs.device())
            .one_hot(self.vocab_size)
            .to_kind(self.vs.kind());
        let (hs, nn::GRUState(h)) = self
            .gru
            .seq_init(&one_hot, &nn::GRUState(state.shallow_clone()));
        let logits = hs.reshape([-1, self.num_hiddens]).apply(&self.linear);
        (logits, h)
    }
}
// ANCHOR_END: concise_gru

/// Mean cross-entropy in the logits' own precision. (tch's
/// `cross_entropy_for_logits` computes its log-softmax in f32, which would
/// cost an f64 comparison eight digits.)
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Tensor {
    logits.cross_entropy_loss::<Tensor>(
        labels,
        None,
        tch::Reduction::Mean,
        -100,
        0.0,
    )
}

fn labels(y: &Array2<usize>, device: Device) -> Tensor {
    let y: Vec<i64> = y.iter().map(|&t| t as i64).collect();
    Tensor::from_slice(&y).to_device(device)
}

impl LanguageModel for ConciseGru {
    /// H, shaped `(layers, batch, hiddens)` as libtorch wants it.
    type State = Tensor;

    fn begin_state(&self, batch_size: usize) -> Tensor {
        self.gru.zero_state(batch_size as i64).0
    }

    fn detach_state(&self, state: &mut Tensor) {
        *state = state.detach();
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut Tensor) -> f64 {
        for mut v in self.vs.trainable_variables() {
            v.zero_grad();
        }
        let (logits, h) = self.forward(&batch.x, state);
        let y = labels(&batch.y, self.vs.device());
        let loss = cross_entropy(&logits, &y);
        loss.backward();
        *state = h;
        loss.double_value(&[])
    }

    fn loss(&mut self, batch: &Batch, state: &mut Tensor) -> f64 {
        tch::no_grad(|| {
            let (logits, h) = self.forward(&batch.x, state);
            *state = h;
            let y = labels(&batch.y, self.vs.device());
            cross_entropy(&logits, &y).double_value(&[])
        })
    }

    fn grad_norm_sq(&self) -> f64 {
        let vars = self.vs.trainable_variables();
        let sq: Vec<Tensor> = vars
            .iter()
            .map(|v| v.grad().square().sum(Kind::Double))
            .collect();
        Tensor::stack(&sq, 0).sum(Kind::Double).double_value(&[])
    }

    fn scale_grads(&mut self, factor: f64) {
        tch::no_grad(|| {
            for v in self.vs.trainable_variables() {
                let mut g = v.grad();
                g *= factor;
            }
        });
    }

    fn sgd_step(&mut self, lr: f64) {
        tch::no_grad(|| {
            for mut v in self.vs.trainable_variables() {
                let step = v.grad() * lr;
                v -= step;
            }
        });
    }

    fn step_logits(&mut self, token: usize, state: &mut Tensor) -> Vec<f32> {
        tch::no_grad(|| {
            let x = Array2::from_elem((1, 1), token);
            let (logits, h) = self.forward(&x, state);
            *state = h;
            let logits = logits
                .view([-1])
                .to_kind(Kind::Float)
                .to_device(Device::Cpu);
            Vec::<f32>::try_from(&logits).expect("logits to Vec")
        })
    }

    fn device(&self) -> String {
        match self.vs.device() {
            Device::Cuda(i) => format!("cuda:{i}"),
            _ => "cpu".to_string(),
        }
    }
}

/// A copy of a tensor as an ndarray array, in f64 on the CPU.
pub fn to_array(t: &Tensor) -> ArrayD<f64> {
    let t = t.detach().to_kind(Kind::Double).to_device(Device::Cpu);
    (&t).try_into().expect("tensor to ndarray")
}

fn to_tensor<D: ndarray::Dimension>(a: &ndarray::Array<f64, D>) -> Tensor {
    Tensor::try_from(a.as_standard_layout().into_owned())
        .expect("ndarray to tensor")
}

impl ConciseGru {
    fn var(&self, name: &str) -> Tensor {
        self.vs
            .variables()
            .remove(name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    }

    fn torch_layout(&self, f: impl Fn(&Tensor) -> Tensor) -> TorchGru<f64> {
        let get = |n: &str| to_array(&f(&self.var(&format!("rnn.{n}_l0"))));
        let d2 = |a: ArrayD<f64>| a.into_dimensionality::<Ix2>().expect("2-D");
        let d1 = |a: ArrayD<f64>| a.into_dimensionality::<Ix1>().expect("1-D");
        TorchGru {
            weight_ih: d2(get("weight_ih")),
            weight_hh: d2(get("weight_hh")),
            bias_ih: d1(get("bias_ih")),
            bias_hh: d1(get("bias_hh")),
        }
    }

    fn output_layout(&self, f: impl Fn(&Tensor) -> Tensor) -> Output<f64> {
        let w = to_array(&f(&self.var("linear.weight")));
        let b = to_array(&f(&self.var("linear.bias")));
        Output {
            w_hq: w.into_dimensionality::<Ix2>().expect("2-D").t().to_owned(),
            b_q: b.into_dimensionality::<Ix1>().expect("1-D"),
        }
    }

    // ANCHOR: concise_copy
    /// Copies parameters in our layout into the model (reset-after
    /// formulation: that is what `nn::gru` computes).
    pub fn set_params(&mut self, p: &GruParams<f64>, out: &Output<f64>) {
        let t = to_torch(p);
        let pairs: [(&str, Tensor); 6] = [
            ("rnn.weight_ih_l0", to_tensor(&t.weight_ih)),
            ("rnn.weight_hh_l0", to_tensor(&t.weight_hh)),
            ("rnn.bias_ih_l0", to_tensor(&t.bias_ih)),
            ("rnn.bias_hh_l0", to_tensor(&t.bias_hh)),
            ("linear.weight", to_tensor(&out.w_hq.t().to_owned())),
            ("linear.bias", to_tensor(&out.b_q)),
        ];
        tch::no_grad(|| {
            for (name, value) in pairs {
                let mut var = self.var(name);
                var.copy_(&value.to_kind(var.kind()).to_device(var.device()));
            }
        });
    }
    // ANCHOR_END: concise_copy

    /// The parameters in our layout.
    pub fn params(&self) -> (GruParams<f64>, Output<f64>) {
        (
            from_torch(&self.torch_layout(Tensor::shallow_clone)),
            self.output_layout(Tensor::shallow_clone),
        )
    }

    /// The gradients of the last backward pass, in our layout.
    pub fn grads(&self) -> (GruParams<f64>, Output<f64>) {
        (
            grads_from_torch(&self.torch_layout(Tensor::grad)),
            self.output_layout(Tensor::grad),
        )
    }
}

fn device(arg: DeviceArg) -> Result<Device> {
    match arg {
        DeviceArg::Cpu => Ok(Device::Cpu),
        DeviceArg::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceArg::Cuda => bail!(
            "--device cuda: libtorch sees no CUDA device (Cuda::is_available() \
             is false). Check nvidia-smi, and that this binary links \
             libtorch_cuda (the build script links it when PyTorch ships it)"
        ),
    }
}

/// `ch_gru --impl concise`: trains the concise model and saves it in our
/// layout, so `generate` (and the scratch model) can load it.
pub fn train_cli(args: &TrainArgs, chapter: &str) -> Result<()> {
    let device = device(args.device)?;
    tch::manual_seed(args.seed as i64);
    let (splits, _) = args.data()?;
    let mut model = ConciseGru::new(
        splits.vocab.len(),
        args.num_hiddens,
        device,
        Kind::Float,
    );
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), "reset-after".to_string()),
        ("impl".to_string(), "concise".to_string()),
    ]);
    cli::train_and_save(
        &mut model,
        |m| {
            let (cell, output) = m.params();
            cli::scratch_tensors(&cell, &output)
        },
        args,
        chapter,
        "GRU on tch (nn::gru)",
        meta,
    )?;
    Ok(())
}
