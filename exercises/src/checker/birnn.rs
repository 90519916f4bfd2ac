//! The bidirectional chapter's exercise: the backward pass of both
//! directions.

use super::tools::*;
use crate::Answers;
use ch_birnn::scratch::{Bidirectional, Both};
use ch_gru::scratch::{Gru, GruParams};
use d2l::rnn::{Input, Tensors};
use d2l::testkit::gradcheck::check_tensors;
use ndarray::{Array2, ArrayViewD, ArrayViewMutD};

const STEPS: usize = 3;

/// The input of every step, as tensors named X_0, X_1, … for the checks.
#[derive(Clone)]
struct Steps(Vec<Array2<f64>>);

impl Tensors<f64> for Steps {
    fn named(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        let each = self.0.iter().enumerate();
        each.map(|(t, x)| (format!("X_{t}"), x.view().into_dyn()))
            .collect()
    }
    fn named_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
        let each = self.0.iter_mut().enumerate();
        each.map(|(t, x)| (format!("X_{t}"), x.view_mut().into_dyn()))
            .collect()
    }
    fn zeros_like(&self) -> Self {
        Steps(self.0.iter().map(|x| Array2::zeros(x.raw_dim())).collect())
    }
}

pub(super) fn backward(a: &Answers) -> Result<String, String> {
    let mut rng = rng();
    let layer = Bidirectional::new(Gru::new(INPUTS, HIDDENS, RESET_BEFORE));
    let p = Both {
        fwd: gru_params(INPUTS, &mut rng),
        bwd: gru_params(INPUTS, &mut rng),
    };
    let xs = Steps(
        (0..STEPS)
            .map(|_| random(BATCH, INPUTS, &mut rng))
            .collect(),
    );
    let d_o = random(STEPS * BATCH, 2 * HIDDENS, &mut rng);
    let state0 = layer.zero_state(BATCH);
    // L = Σ O ⊙ d_o, so that ∂L/∂O = d_o.
    let loss = |p: &Both<GruParams<f64>>, xs: &Steps| {
        let inputs: Vec<Input<f64>> =
            xs.0.iter().map(|x| Input::Dense(x.view())).collect();
        let (o, _) = layer.forward(p, &inputs, &mut state0.clone());
        (o * &d_o).sum()
    };
    let inputs: Vec<Input<f64>> =
        xs.0.iter().map(|x| Input::Dense(x.view())).collect();
    let (_, cache) = layer.forward(&p, &inputs, &mut state0.clone());
    let mut g = p.zeros_like();
    let dxs =
        (a.bidirectional_backward)(&layer, &p, &xs.0, &cache, &d_o, &mut g);
    if dxs.len() != STEPS {
        return Err(format!(
            "returned {} input gradients for {STEPS} steps",
            dxs.len()
        ));
    }
    for dx in &dxs {
        check_shape("∂L/∂X_t", dx, (BATCH, INPUTS))?;
    }
    let mut checks = check_tensors("", &p, &g, |q| loss(q, &xs));
    checks.extend(check_tensors("", &xs, &Steps(dxs), |x| loss(&p, x)));
    let names: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let field = |name: &str| {
        let f = if name.starts_with("X_") {
            "return value"
        } else {
            "g"
        };
        Some(f.to_string())
    };
    verdict(&checks, &names, field).map(|_| {
        let worst = checks.iter().map(|c| c.max_rel_error).fold(0.0, f64::max);
        format!(
            "∂L/∂ every weight of both directions and ∂L/∂X_t of every step \
             match finite differences (worst relative error {worst:.0e})"
        )
    })
}
