//! What every concise model shares on libtorch (the `torch` feature): one
//! model, d2l's `RNNModel` (one-hot input → a recurrent layer of tch →
//! linear), generic over the layer, and the conversions between tensors
//! and our arrays.

use ndarray::{Array, ArrayD, Dimension};
use tch::nn::{self, RNN};
use tch::{Device, Kind, Tensor};

mod layout;
mod tanh;
mod training;

pub use layout::{Direction, Read};
pub use tanh::{TanhRnn, TanhState};

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

// ANCHOR: tch_rnn
/// A recurrent layer of tch that [`ConciseRnn`] can hold, and how it is
/// built under a path from (inputs, hiddens, config).
pub trait TchRnn: RNN<State: TorchState> + Sized {
    fn build(p: &nn::Path, i: i64, h: i64, config: nn::RNNConfig) -> Self;
}

impl TchRnn for nn::GRU {
    fn build(p: &nn::Path, i: i64, h: i64, config: nn::RNNConfig) -> Self {
        nn::gru(p, i, h, config)
    }
}

impl TchRnn for nn::LSTM {
    fn build(p: &nn::Path, i: i64, h: i64, config: nn::RNNConfig) -> Self {
        nn::lstm(p, i, h, config)
    }
}
// ANCHOR_END: tch_rnn

// ANCHOR: concise_rnn
/// d2l's `RNNModel`: inputs one-hot encoded, a recurrent layer of tch
/// (`vs / "rnn"`), and a linear layer from the top hidden state to the
/// vocabulary (`vs / "linear"`).
pub struct ConciseRnn<R> {
    pub vs: nn::VarStore,
    pub rnn: R,
    linear: nn::Linear,
    vocab_size: i64,
    /// The width of what the linear layer reads: the hidden units, twice
    /// over for a bidirectional layer.
    num_outputs: i64,
    /// libtorch's Adam, made at the first Adam step.
    adam: Option<nn::Optimizer>,
    /// The probability of dropping a unit of the hidden states the linear
    /// layer reads, in training, with one mask per sequence as the
    /// from-scratch model does.
    pub dropout: f64,
    /// The probability of dropping each entry of the recurrent weights
    /// (`weight_hh_l·`) for a minibatch, in training.
    pub weight_drop: f64,
}

impl<R: TchRnn> ConciseRnn<R> {
    /// PyTorch's default initialisation: every weight and bias of the
    /// recurrent layer from U(−1/√h, 1/√h). `num_layers` layers are
    /// stacked inside the one tch layer.
    pub fn new(
        vocab_size: usize,
        num_hiddens: usize,
        num_layers: usize,
        device: Device,
        kind: Kind,
    ) -> Self {
        Self::with_directions(
            vocab_size,
            num_hiddens,
            num_layers,
            false,
            device,
            kind,
        )
    }

    /// [`ConciseRnn::new`], bidirectional with `bidirectional: true`
    /// (d2l's `nn.LSTM(..., bidirectional=True)`): every layer runs both
    /// ways, its reverse direction's weights named `…_reverse`, and the
    /// linear layer reads both hidden states, `2 · num_hiddens` wide.
    pub fn with_directions(
        vocab_size: usize,
        num_hiddens: usize,
        num_layers: usize,
        bidirectional: bool,
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
            bidirectional,
            ..Default::default() // batch_first: (batch, steps, inputs)
        };
        let (v, h) = (vocab_size as i64, num_hiddens as i64);
        let rnn = R::build(&(vs.root() / "rnn"), v, h, config);
        let o = if bidirectional { 2 * h } else { h };
        let linear = nn::linear(vs.root() / "linear", o, v, Default::default());
        vs.set_kind(kind);
        Self {
            vs,
            rnn,
            linear,
            vocab_size: v,
            num_outputs: o,
            adam: None,
            dropout: 0.0,
            weight_drop: 0.0,
        }
    }
}

impl<R: TchRnn> ConciseRnn<R> {
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
            let shape = [b, 1, self.num_outputs];
            let mask = Tensor::empty(shape, (hs.kind(), hs.device()))
                .bernoulli_float_(keep)
                / keep;
            hs * mask // not in place: the layer's backward may need hs
        } else {
            hs
        };
        let logits = hs.reshape([-1, self.num_outputs]).apply(&self.linear);
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
