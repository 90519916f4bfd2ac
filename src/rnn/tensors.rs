//! Named tensors: a cell's parameters, their gradients and its state are
//! structs of arrays that the loops, the optimiser and the tests walk by
//! name ([`Tensors`]).

use ndarray::{ArrayViewD, ArrayViewMutD, NdFloat};

/// A struct of named tensors: a cell's parameters, their gradients (the
/// same struct, with the same field names), or a recurrent state.
pub trait Tensors<F: NdFloat>: Clone {
    /// Every tensor with its name, always in the same order.
    fn named(&self) -> Vec<(String, ArrayViewD<'_, F>)>;
    /// Every tensor with its name, mutably, in the order of `named`.
    fn named_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, F>)>;
    /// The same structure, filled with zeros.
    fn zeros_like(&self) -> Self;
}

/// Implements [`Tensors`] for a struct generic over the float type whose
/// fields are all ndarray arrays: `impl_tensors!(GruState { h });`.
#[macro_export]
macro_rules! impl_tensors {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl<F: ::ndarray::NdFloat> $crate::rnn::Tensors<F> for $ty<F> {
            fn named(&self) -> Vec<(String, ::ndarray::ArrayViewD<'_, F>)> {
                vec![$(
                    (stringify!($field).to_string(),
                     self.$field.view().into_dyn()),
                )*]
            }
            fn named_mut(
                &mut self,
            ) -> Vec<(String, ::ndarray::ArrayViewMutD<'_, F>)> {
                vec![$(
                    (stringify!($field).to_string(),
                     self.$field.view_mut().into_dyn()),
                )*]
            }
            fn zeros_like(&self) -> Self {
                Self { $($field: ::ndarray::Array::zeros(
                    self.$field.raw_dim())),* }
            }
        }
    };
}

/// Defines a struct of named tensors and implements [`Tensors`] for it,
/// so that its fields are listed once:
///
/// ```
/// use ndarray::{Array1, Array2};
/// d2l::tensors! {
///     /// A layer's weight and bias.
///     #[derive(Debug, Clone)]
///     pub struct Layer<F> {
///         pub w: Array2<F>,
///         pub b: Array1<F>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! tensors {
    (
        $(#[$meta:meta])*
        $vis:vis struct $ty:ident<F> {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $field_ty:ty),*
            $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $ty<F> {
            $($(#[$field_meta])* $field_vis $field: $field_ty),*
        }
        $crate::impl_tensors!($ty { $($field),* });
    };
}

/// Layers of a stack: tensor names get the prefix `l{layer}.`.
impl<F: NdFloat, T: Tensors<F>> Tensors<F> for Vec<T> {
    fn named(&self) -> Vec<(String, ArrayViewD<'_, F>)> {
        let layers = self.iter().enumerate();
        layers
            .flat_map(|(l, t)| {
                t.named()
                    .into_iter()
                    .map(move |(n, v)| (format!("l{l}.{n}"), v))
            })
            .collect()
    }
    fn named_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, F>)> {
        let layers = self.iter_mut().enumerate();
        layers
            .flat_map(|(l, t)| {
                let named = t.named_mut().into_iter();
                named.map(move |(n, v)| (format!("l{l}.{n}"), v))
            })
            .collect()
    }
    fn zeros_like(&self) -> Self {
        self.iter().map(T::zeros_like).collect()
    }
}

/// ‖g‖²: the sum of squares of every entry.
pub fn norm_sq<F: NdFloat, T: Tensors<F>>(t: &T) -> f64 {
    let entries = t.named().into_iter().flat_map(|(_, v)| {
        v.iter()
            .map(|x| x.to_f64().unwrap_or(f64::NAN))
            .collect::<Vec<_>>()
    });
    entries.map(|x| x * x).sum()
}

/// Multiplies every entry by `factor`.
pub fn scale<F: NdFloat, T: Tensors<F>>(t: &mut T, factor: f64) {
    let factor = F::from(factor).expect("factor fits in F");
    for (_, mut v) in t.named_mut() {
        v.mapv_inplace(|x| x * factor);
    }
}

/// Sets every entry to zero.
pub fn zero<F: NdFloat, T: Tensors<F>>(t: &mut T) {
    for (_, mut v) in t.named_mut() {
        v.fill(F::zero());
    }
}

/// θ ← θ − lr · g, tensor by tensor.
pub fn sgd<F: NdFloat, T: Tensors<F>>(params: &mut T, grads: &T, lr: f64) {
    let lr = F::from(lr).expect("lr fits in F");
    for ((name, mut p), (_, g)) in
        params.named_mut().into_iter().zip(grads.named())
    {
        assert_eq!(p.shape(), g.shape(), "sgd: shape mismatch in {name}");
        p.scaled_add(-lr, &g);
    }
}
