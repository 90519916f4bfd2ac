//! What every concise model shares on libtorch (the `torch` feature): one
//! model, d2l's `RNNModel` (one-hot input → a recurrent layer of tch →
//! linear), generic over the layer, and the conversions between tensors
//! and our arrays.

use crate::data::Batch;
use crate::model::{KeepWeights, LanguageModel};
use crate::rnn::{Output, TorchLayer, TorchLayout};
use crate::train::optim::Adam;
use ndarray::{Array, ArrayD, Dimension, Ix1, Ix2};
use tch::nn::OptimizerConfig;
use tch::nn::{self, RNN};
use tch::{Device, Kind, Tensor};

/// A recurrent state of tch that can be cut from its graph and copied.
pub trait TorchState: Sized {
    fn detach(&self) -> Self;
    fn deep_copy(&self) -> Self;
}

impl TorchState for nn::GRUState {
    fn detach(&self) -> Self {
        nn::GRUState(self.0.detach())
    }
    fn deep_copy(&self) -> Self {
        nn::GRUState(self.0.copy())
    }
}

impl TorchState for nn::LSTMState {
    fn detach(&self) -> Self {
        nn::LSTMState((self.0 .0.detach(), self.0 .1.detach()))
    }
    fn deep_copy(&self) -> Self {
        nn::LSTMState((self.0 .0.copy(), self.0 .1.copy()))
    }
}

/// How a chapter builds its recurrent layer of tch (`nn::gru`, `nn::lstm`)
/// under a path, from (inputs, hiddens, config).
pub type BuildRnn<R> = fn(&nn::Path, i64, i64, nn::RNNConfig) -> R;

// ANCHOR: concise_rnn
/// d2l's `RNNModel`: inputs one-hot encoded, a recurrent layer of tch
/// (`vs / "rnn"`), and a linear layer from the top hidden state to the
/// vocabulary (`vs / "linear"`).
pub struct ConciseRnn<R> {
    pub vs: nn::VarStore,
    pub rnn: R,
    linear: nn::Linear,
    vocab_size: i64,
    num_hiddens: i64,
    /// libtorch's Adam, made at the first Adam step.
    adam: Option<nn::Optimizer>,
    /// The probability of dropping a unit of the hidden states the linear
    /// layer reads, in training, with one mask per sequence as the
    /// from-scratch model does.
    pub dropout: f64,
}

impl<R: RNN> ConciseRnn<R>
where
    R::State: TorchState,
{
    /// PyTorch's default initialisation: every weight and bias of the
    /// recurrent layer from U(−1/√h, 1/√h). `num_layers` layers are
    /// stacked inside the one tch layer.
    pub fn new(
        build: BuildRnn<R>,
        vocab_size: usize,
        num_hiddens: usize,
        num_layers: usize,
        device: Device,
        kind: Kind,
    ) -> Self {
        let mut vs = nn::VarStore::new(device);
        let k = 1.0 / (num_hiddens as f64).sqrt();
        let uniform = nn::Init::Uniform { lo: -k, up: k };
        let config = nn::RNNConfig {
            num_layers: num_layers as i64,
            w_ih_init: uniform,
            w_hh_init: uniform,
            b_ih_init: Some(uniform),
            b_hh_init: Some(uniform),
            ..Default::default() // batch_first: (batch, steps, inputs)
        };
        let (v, h) = (vocab_size as i64, num_hiddens as i64);
        let rnn = build(&(vs.root() / "rnn"), v, h, config);
        let linear = nn::linear(vs.root() / "linear", h, v, Default::default());
        vs.set_kind(kind);
        Self {
            vs,
            rnn,
            linear,
            vocab_size: v,
            num_hiddens: h,
            adam: None,
            dropout: 0.0,
        }
    }

    /// Logits `(batch · steps, vocab)`, row `i · steps + t` (batch-first),
    /// and the final state.
    pub fn forward(
        &self,
        x: &ndarray::Array2<usize>,
        state: &R::State,
    ) -> (Tensor, R::State) {
        self.forward_train(x, state, false)
    }

    /// [`ConciseRnn::forward`], with dropout on the hidden states when
    /// `train`: one mask per sequence, `(batch, 1, hiddens)`, the same at
    /// every step.
    pub fn forward_train(
        &self,
        x: &ndarray::Array2<usize>,
        state: &R::State,
        train: bool,
    ) -> (Tensor, R::State) {
        let (b, s) = (x.nrows() as i64, x.ncols() as i64);
        let tokens: Vec<i64> = x.iter().map(|&t| t as i64).collect();
        let one_hot = Tensor::from_slice(&tokens)
            .view([b, s])
            .to_device(self.vs.device())
            .one_hot(self.vocab_size)
            .to_kind(self.vs.kind());
        let (hs, state) = self.rnn.seq_init(&one_hot, state);
        let hs = if train && self.dropout > 0.0 {
            let keep = 1.0 - self.dropout;
            let shape = [b, 1, self.num_hiddens];
            let mask = Tensor::empty(shape, (hs.kind(), hs.device()))
                .bernoulli_float_(keep)
                / keep;
            hs * mask // not in place: the layer's backward may need hs
        } else {
            hs
        };
        let logits = hs.reshape([-1, self.num_hiddens]).apply(&self.linear);
        (logits, state)
    }
}
// ANCHOR_END: concise_rnn

/// Mean cross-entropy in the logits' own precision. (tch's
/// `cross_entropy_for_logits` takes its log-softmax in f32, which would
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

fn labels(y: &ndarray::Array2<usize>, device: Device) -> Tensor {
    let y: Vec<i64> = y.iter().map(|&t| t as i64).collect();
    Tensor::from_slice(&y).to_device(device)
}

impl<R> KeepWeights for ConciseRnn<R> {
    /// Each variable of the store by name, copied.
    type Weights = Vec<(String, Tensor)>;

    fn weights(&self) -> Self::Weights {
        let mut vars: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(name, t)| (name, t.detach().copy()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    fn set_weights(&mut self, weights: &Self::Weights) {
        let vars = self.vs.variables();
        tch::no_grad(|| {
            for (name, saved) in weights {
                let mut var = vars[name].shallow_clone();
                var.copy_(saved);
            }
        });
    }
}

impl<R: RNN> LanguageModel for ConciseRnn<R>
where
    R::State: TorchState,
{
    type State = R::State;

    fn begin_state(&self, batch_size: usize) -> R::State {
        self.rnn.zero_state(batch_size as i64)
    }

    fn detach_state(&self, state: &mut R::State) {
        *state = state.detach();
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut R::State) -> f64 {
        for mut v in self.vs.trainable_variables() {
            v.zero_grad();
        }
        let (logits, next) = self.forward_train(&batch.x, state, true);
        let loss = cross_entropy(&logits, &labels(&batch.y, self.vs.device()));
        loss.backward();
        *state = next;
        loss.double_value(&[])
    }

    fn loss(&mut self, batch: &Batch, state: &mut R::State) -> f64 {
        tch::no_grad(|| {
            let (logits, next) = self.forward(&batch.x, state);
            *state = next;
            let y = labels(&batch.y, self.vs.device());
            cross_entropy(&logits, &y).double_value(&[])
        })
    }

    fn grad_norm_sq(&self) -> f64 {
        let vars = self.vs.trainable_variables();
        let sq: Vec<Tensor> = vars
            .iter()
            .map(|v| grad(v).square().sum(Kind::Double))
            .collect();
        Tensor::stack(&sq, 0).sum(Kind::Double).double_value(&[])
    }

    fn scale_grads(&mut self, factor: f64) {
        tch::no_grad(|| {
            for v in self.vs.trainable_variables() {
                let mut g = grad(&v);
                g *= factor;
            }
        });
    }

    fn sgd_step(&mut self, lr: f64) {
        tch::no_grad(|| {
            for mut v in self.vs.trainable_variables() {
                let step = grad(&v) * lr;
                v -= step;
            }
        });
    }

    fn adam_step(&mut self, adam: &Adam) {
        let torch_adam = nn::Adam {
            beta1: adam.beta1,
            beta2: adam.beta2,
            wd: 0.0,
            eps: adam.eps,
            amsgrad: false,
        };
        let optimizer = self.adam.get_or_insert_with(|| {
            torch_adam
                .build(&self.vs, adam.lr)
                .expect("libtorch builds Adam on a model's variables")
        });
        optimizer.set_lr(adam.lr);
        optimizer.step();
    }

    fn step_logits(&mut self, token: usize, state: &mut R::State) -> Vec<f32> {
        tch::no_grad(|| {
            let x = ndarray::Array2::from_elem((1, 1), token);
            let (logits, next) = self.forward(&x, state);
            *state = next;
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

    /// libtorch's intra-op threads (for the whole process).
    fn set_threads(&mut self, threads: usize) {
        tch::set_num_threads(threads.max(1) as i32);
    }

    fn threads(&self) -> usize {
        tch::get_num_threads().max(1) as usize
    }
}

/// A parameter's gradient; zeros where backward never reached it.
pub fn grad(v: &Tensor) -> Tensor {
    let g = v.grad();
    if g.defined() {
        g
    } else {
        v.zeros_like()
    }
}

/// A copy of a tensor as an ndarray array, in f64 on the CPU.
pub fn to_array(t: &Tensor) -> ArrayD<f64> {
    let t = t.detach().to_kind(Kind::Double).to_device(Device::Cpu);
    (&t).try_into().expect("tensor to ndarray")
}

/// An f64 array as a tensor on the CPU.
pub fn to_tensor<D: Dimension>(a: &Array<f64, D>) -> Tensor {
    Tensor::try_from(a.as_standard_layout().into_owned())
        .expect("ndarray to tensor")
}

/// Whether to read a variable's value or its gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Value,
    Grad,
}

impl<R> ConciseRnn<R> {
    /// The variable `name` (e.g. `rnn.weight_ih_l0`).
    ///
    /// # Panics
    /// If there is no such variable.
    pub fn var(&self, name: &str) -> Tensor {
        self.vs
            .variables()
            .remove(name)
            .unwrap_or_else(|| panic!("no variable {name} in the var store"))
    }

    /// The value or gradient of a 2-D variable, as an f64 array.
    pub fn read2(&self, name: &str, read: Read) -> ndarray::Array2<f64> {
        self.read(name, read)
            .into_dimensionality::<Ix2>()
            .expect("a 2-D variable")
    }

    /// The value or gradient of a 1-D variable, as an f64 array.
    pub fn read1(&self, name: &str, read: Read) -> ndarray::Array1<f64> {
        self.read(name, read)
            .into_dimensionality::<Ix1>()
            .expect("a 1-D variable")
    }

    fn read(&self, name: &str, read: Read) -> ArrayD<f64> {
        let v = self.var(name);
        to_array(&match read {
            Read::Value => v,
            Read::Grad => grad(&v),
        })
    }

    /// Overwrites variable `name` with `value`, converted to its kind and
    /// device.
    pub fn write<D: Dimension>(&mut self, name: &str, value: &Array<f64, D>) {
        let mut var = self.var(name);
        let t = to_tensor(value).to_kind(var.kind()).to_device(var.device());
        assert_eq!(var.size(), t.size(), "shape of {name}");
        tch::no_grad(|| var.copy_(&t));
    }

    /// Layer `l` of the recurrent layer, value or gradient, in PyTorch's
    /// layout (`rnn.weight_ih_l{l}` and so on).
    pub fn read_layer(&self, l: usize, read: Read) -> TorchLayer<f64> {
        TorchLayer {
            weight_ih: self.read2(&format!("rnn.weight_ih_l{l}"), read),
            weight_hh: self.read2(&format!("rnn.weight_hh_l{l}"), read),
            bias_ih: self.read1(&format!("rnn.bias_ih_l{l}"), read),
            bias_hh: self.read1(&format!("rnn.bias_hh_l{l}"), read),
        }
    }

    /// Overwrites layer `l` with weights in PyTorch's layout.
    pub fn write_layer(&mut self, l: usize, t: &TorchLayer<f64>) {
        self.write(&format!("rnn.weight_ih_l{l}"), &t.weight_ih);
        self.write(&format!("rnn.weight_hh_l{l}"), &t.weight_hh);
        self.write(&format!("rnn.bias_ih_l{l}"), &t.bias_ih);
        self.write(&format!("rnn.bias_hh_l{l}"), &t.bias_hh);
    }

    // ANCHOR: concise_copy
    /// Copies layer `l`'s parameters, in our layout, into the model.
    pub fn set_layer<P: TorchLayout<f64>>(&mut self, l: usize, p: &P) {
        self.write_layer(l, &p.to_torch());
    }

    /// Layer `l`'s parameters (or their gradients) in our layout.
    pub fn layer<P: TorchLayout<f64>>(&self, l: usize, read: Read) -> P {
        let t = self.read_layer(l, read);
        match read {
            Read::Value => P::from_torch(&t),
            Read::Grad => P::grads_from_torch(&t),
        }
    }
    // ANCHOR_END: concise_copy

    /// The output layer in our layout (W_hq is `linear.weight`ᵀ).
    pub fn output(&self, read: Read) -> Output<f64> {
        Output {
            w_hq: self.read2("linear.weight", read).t().to_owned(),
            b_q: self.read1("linear.bias", read),
        }
    }

    /// Copies an output layer in our layout into `linear`.
    pub fn set_output(&mut self, out: &Output<f64>) {
        self.write("linear.weight", &out.w_hq.t().to_owned());
        self.write("linear.bias", &out.b_q);
    }
}
