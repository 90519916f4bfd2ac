//! The concise model's weights read and written in our layout, so that
//! the from-scratch model and the concise one can be compared, and a
//! concise run saved as a from-scratch checkpoint.

use super::{grad, to_array, to_tensor, ConciseRnn};
use crate::rnn::{Output, TorchLayer, TorchLayout};
use ndarray::{Array, ArrayD, Dimension, Ix1, Ix2};
use tch::Tensor;

/// Which direction of a layer: a bidirectional layer's second one reads
/// the sequence from its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reverse,
}

impl Direction {
    /// What PyTorch appends to the names of the direction's weights.
    pub fn suffix(self) -> &'static str {
        match self {
            Direction::Forward => "",
            Direction::Reverse => "_reverse",
        }
    }
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
        self.read_direction(l, Direction::Forward, read)
    }

    /// Overwrites layer `l` with weights in PyTorch's layout.
    pub fn write_layer(&mut self, l: usize, t: &TorchLayer<f64>) {
        self.write_direction(l, Direction::Forward, t);
    }

    // ANCHOR: reverse_names
    /// One direction of layer `l`, in PyTorch's layout: the reverse
    /// direction of a bidirectional layer is `rnn.weight_ih_l{l}_reverse`
    /// and so on.
    pub fn read_direction(
        &self,
        l: usize,
        d: Direction,
        read: Read,
    ) -> TorchLayer<f64> {
        let name = |w: &str| format!("rnn.{w}_l{l}{}", d.suffix());
        TorchLayer {
            weight_ih: self.read2(&name("weight_ih"), read),
            weight_hh: self.read2(&name("weight_hh"), read),
            bias_ih: self.read1(&name("bias_ih"), read),
            bias_hh: self.read1(&name("bias_hh"), read),
        }
    }

    /// Overwrites one direction of layer `l`.
    pub fn write_direction(
        &mut self,
        l: usize,
        d: Direction,
        t: &TorchLayer<f64>,
    ) {
        let name = |w: &str| format!("rnn.{w}_l{l}{}", d.suffix());
        self.write(&name("weight_ih"), &t.weight_ih);
        self.write(&name("weight_hh"), &t.weight_hh);
        self.write(&name("bias_ih"), &t.bias_ih);
        self.write(&name("bias_hh"), &t.bias_hh);
    }
    // ANCHOR_END: reverse_names

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
