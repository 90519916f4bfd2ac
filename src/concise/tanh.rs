//! The plain tanh RNN of tch: libtorch has it (`Tensor::rnn_tanh`, what
//! PyTorch's `nn.RNN` calls), tch 0.24 has no layer around it, so this is
//! one, built as `nn::gru` and `nn::lstm` are: the same variable names
//! (`weight_ih_l0`, …), the same config, and one state tensor.

use super::{TchRnn, TorchState};
use tch::nn::{self, RNN};
use tch::{Device, Tensor};

/// The state of a plain RNN: H, `(layers, batch, hiddens)`.
#[derive(Debug)]
pub struct TanhState(pub Tensor);

impl TanhState {
    /// H of every layer.
    pub fn h(&self) -> Tensor {
        self.0.shallow_clone()
    }
}

impl TorchState for TanhState {
    fn detach(&self) -> Self {
        TanhState(self.0.detach())
    }
    fn deep_copy(&self) -> Self {
        TanhState(self.0.copy())
    }
}

/// PyTorch's `nn.RNN(nonlinearity="tanh")`, one direction:
/// `H_t = tanh(X_t W_ihᵀ + b_ih + H_{t−1} W_hhᵀ + b_hh)` in every layer.
#[derive(Debug)]
pub struct TanhRnn {
    flat_weights: Vec<Tensor>,
    hidden_dim: i64,
    config: nn::RNNConfig,
    device: Device,
}

impl TchRnn for TanhRnn {
    fn build(p: &nn::Path, i: i64, h: i64, c: nn::RNNConfig) -> Self {
        assert!(!c.bidirectional, "TanhRnn runs one direction");
        let mut flat_weights = Vec::new();
        for l in 0..c.num_layers {
            let inputs = if l == 0 { i } else { h };
            let w_ih =
                p.var(&format!("weight_ih_l{l}"), &[h, inputs], c.w_ih_init);
            let w_hh = p.var(&format!("weight_hh_l{l}"), &[h, h], c.w_hh_init);
            flat_weights.extend([w_ih, w_hh]);
            if c.has_biases {
                for (name, init) in
                    [("bias_ih", c.b_ih_init), ("bias_hh", c.b_hh_init)]
                {
                    let init = init.expect("a bias has an initialisation");
                    let b = p.var(&format!("{name}_l{l}"), &[h], init);
                    flat_weights.push(b);
                }
            }
        }
        TanhRnn {
            flat_weights,
            hidden_dim: h,
            config: c,
            device: p.device(),
        }
    }
}

impl RNN for TanhRnn {
    type State = TanhState;

    fn zero_state(&self, batch: i64) -> TanhState {
        let shape = [self.config.num_layers, batch, self.hidden_dim];
        let kind = self.flat_weights[0].kind();
        TanhState(Tensor::zeros(shape, (kind, self.device)))
    }

    fn step(&self, input: &Tensor, state: &TanhState) -> TanhState {
        self.seq_init(&input.unsqueeze(1), state).1
    }

    fn seq_init(
        &self,
        input: &Tensor,
        state: &TanhState,
    ) -> (Tensor, TanhState) {
        let c = &self.config;
        let (output, h) = input.rnn_tanh(
            &state.0,
            &self.flat_weights,
            c.has_biases,
            c.num_layers,
            c.dropout,
            c.train,
            c.bidirectional,
            c.batch_first,
        );
        (output, TanhState(h))
    }
}
