//! The shared loss against finite differences, and the SVG plot.

use d2l::cli::plot::{perplexity_svg, plot_perplexity};
use d2l::rnn::loss::softmax_cross_entropy;
use d2l::train::EpochMetrics;
use ndarray::Array2;

#[test]
fn cross_entropy_gradient_matches_central_differences() {
    let logits = Array2::from_shape_fn((4, 5), |(i, j)| {
        ((i * 5 + j) as f64 * 0.7).cos() * 3.0
    });
    let labels = [1, 4, 0, 2];
    let mut grad = Array2::zeros((4, 5));
    softmax_cross_entropy(logits.view(), &labels, Some(grad.view_mut()));
    let eps = 1e-6;
    for i in 0..4 {
        for j in 0..5 {
            let (mut plus, mut minus) = (logits.clone(), logits.clone());
            plus[[i, j]] += eps;
            minus[[i, j]] -= eps;
            let numeric = (softmax_cross_entropy(plus.view(), &labels, None)
                - softmax_cross_entropy(minus.view(), &labels, None))
                / (2.0 * eps);
            let err = (numeric - grad[[i, j]]).abs();
            assert!(err < 1e-9, "d/dlogit[{i},{j}]: error {err:e}");
        }
    }
}

#[test]
fn cross_entropy_of_uniform_logits_is_ln_vocab() {
    let logits = Array2::<f32>::from_elem((3, 28), 1e4);
    let loss = softmax_cross_entropy(logits.view(), &[0, 5, 27], None);
    assert!((loss - (28f64).ln()).abs() < 1e-6, "{loss}");
}

#[test]
fn plot_is_an_svg_with_both_curves_and_labels() {
    let epochs: Vec<EpochMetrics> = (1..=30)
        .map(|e| EpochMetrics {
            epoch: e,
            train_perplexity: 20.0 / e as f64 + 1.0,
            train_bpc: (20.0 / e as f64 + 1.0).log2(),
            valid_perplexity: 15.0 / e as f64 + 3.0,
            valid_bpc: (15.0 / e as f64 + 3.0).log2(),
            lr: None,
            tokens_per_sec: 1000.0,
            train_seconds: 0.1,
        })
        .collect();
    let svg = perplexity_svg(&epochs, "GRU").unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    for text in ["GRU", "epoch", "training", "validation"] {
        assert!(svg.contains(text), "no `{text}` in the plot");
    }
    assert!(svg.matches("<polyline").count() >= 2, "two curves expected");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/ppl.svg");
    plot_perplexity(&epochs, "GRU", &path).unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), svg);
}
