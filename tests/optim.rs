//! Adam, written by hand: a step worked out by hand, the property that
//! makes it Adam, and (in the torch lane) libtorch's Adam on the same
//! gradients.

use d2l::train::optim::{adam_step, Adam, Moments};
use ndarray::{array, Array1, Array2};

d2l::tensors! {
    /// Two tensors of different shapes, as a model's would be.
    #[derive(Debug, Clone, PartialEq)]
    struct Params<F> {
        w: Array2<F>,
        b: Array1<F>,
    }
}

/// Two steps on one weight, worked by hand with lr = 0.1, β₁ = 0.9,
/// β₂ = 0.999, ε = 10⁻⁸, from θ = 1:
/// - g = 0.5: m = 0.05, v = 0.00025; m̂ = 0.05 / 0.1 = 0.5, v̂ = 0.00025 /
///   0.001 = 0.25; θ = 1 − 0.1 · 0.5 / (0.5 + ε) = 0.9 + 2 · 10⁻⁹ (to
///   10⁻¹⁵: 0.1 · 0.5 / (0.5 + ε) = 0.1 · (1 − 2ε + …)).
/// - g = −1: m = 0.045 − 0.1 = −0.055, v = 0.00024975 + 0.001 =
///   0.00124975; m̂ = −0.055 / 0.19 = −0.2894736842,
///   v̂ = 0.00124975 / 0.001999 = 0.6251875938, √v̂ = 0.7906880509;
///   θ = 0.900000002 + 0.1 · 0.2894736842 / 0.7906880509 = 0.9366103542.
#[test]
fn two_steps_worked_by_hand() {
    let mut p = Params {
        w: array![[1.0f64]],
        b: array![0.0],
    };
    let mut moments = Moments::new(&p);
    let adam = Adam::new(0.1);
    let g = |w: f64| Params {
        w: array![[w]],
        b: array![0.0],
    };
    adam_step(&mut p, &g(0.5), &mut moments, &adam);
    assert!((p.w[[0, 0]] - (0.9 + 2e-9)).abs() < 1e-15, "{}", p.w);
    assert!((moments.m.w[[0, 0]] - 0.05).abs() < 1e-15);
    assert!((moments.v.w[[0, 0]] - 0.00025).abs() < 1e-15);
    adam_step(&mut p, &g(-1.0), &mut moments, &adam);
    assert!((p.w[[0, 0]] - 0.9366103542).abs() < 1e-10, "{}", p.w);
    // A weight whose gradient is always 0 does not move.
    assert_eq!(p.b, array![0.0]);
    assert_eq!(moments.t, 2);
}

/// Adam's step does not depend on the gradients' scale: multiplying every
/// gradient by 1000 moves the weights the same way (up to ε's share).
/// SGD's step would be 1000 times longer.
#[test]
fn steps_ignore_the_gradients_scale() {
    let start = Params {
        w: array![[0.3, -0.2], [0.1, 0.4]],
        b: array![0.5, -0.5],
    };
    let grads = [
        Params {
            w: array![[0.01, -0.02], [0.03, 0.0]],
            b: array![-0.01, 0.02],
        },
        Params {
            w: array![[-0.02, 0.01], [0.01, 0.05]],
            b: array![0.03, 0.01],
        },
    ];
    let run = |scale: f64| {
        let mut p = start.clone();
        let mut moments = Moments::new(&p);
        for g in &grads {
            let g = Params {
                w: &g.w * scale,
                b: &g.b * scale,
            };
            adam_step(&mut p, &g, &mut moments, &Adam::new(0.01));
        }
        p
    };
    let (small, large) = (run(1.0), run(1000.0));
    for (a, b) in small.w.iter().zip(&large.w) {
        assert!((a - b).abs() < 1e-7, "{a} {b}");
    }
    assert!((&small.w - &start.w).iter().all(|d| d.abs() > 1e-3));
}

/// libtorch's Adam (`torch::optim::Adam`, through tch) and ours take five
/// steps from the same weights on the same random gradients, in f64; the
/// weights agree to 10⁻¹⁰ after every step.
#[cfg(feature = "torch")]
#[test]
fn agrees_with_libtorch_adam() {
    use ndarray::Array;
    use ndarray_rand::rand_distr::Normal;
    use ndarray_rand::RandomExt;
    use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

    let normal = Normal::new(0.0, 1.0).unwrap();
    let mut p = Params {
        w: Array::random((3, 4), normal),
        b: Array::random(4, normal),
    };
    let mut vs = nn::VarStore::new(Device::Cpu);
    vs.set_kind(Kind::Double); // the variables below are made in f64
    let to_tensor = |a: &ndarray::ArrayD<f64>| {
        let shape: Vec<i64> = a.shape().iter().map(|&n| n as i64).collect();
        let data: Vec<f64> = a.iter().copied().collect();
        Tensor::from_slice(&data).view(shape.as_slice())
    };
    let w = vs.root().var_copy("w", &to_tensor(&p.w.clone().into_dyn()));
    let b = vs.root().var_copy("b", &to_tensor(&p.b.clone().into_dyn()));
    let config = nn::Adam::default();
    let mut torch_adam = config.build(&vs, 0.01).unwrap();
    let mut moments = Moments::new(&p);
    for step in 0..5 {
        let g = Params {
            w: Array::random((3, 4), normal) * 10f64.powi(step - 2),
            b: Array::random(4, normal),
        };
        // The gradient of Σ θ ⊙ G with respect to θ is G, exactly.
        torch_adam.zero_grad();
        let loss = (&w * to_tensor(&g.w.clone().into_dyn())).sum(Kind::Double)
            + (&b * to_tensor(&g.b.clone().into_dyn())).sum(Kind::Double);
        loss.backward();
        torch_adam.step();
        adam_step(&mut p, &g, &mut moments, &Adam::new(0.01));
        let ours = p.w.iter().chain(&p.b);
        let theirs: Vec<f64> = Vec::<f64>::try_from(Tensor::cat(
            &[w.flatten(0, -1), b.flatten(0, -1)],
            0,
        ))
        .unwrap();
        for (a, t) in ours.zip(&theirs) {
            assert!((a - t).abs() <= 1e-10, "step {step}: {a} against {t}");
        }
    }
}
