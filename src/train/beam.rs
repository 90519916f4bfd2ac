//! Beam search (d2l's "Beam Search" section, which has no code): keep the
//! `width` most likely continuations at every step instead of the one
//! most likely character.

use super::generate::{warm_up, GenerateError};
use crate::data::Vocab;
use crate::model::LanguageModel;

/// How beam search ranks what it found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beam {
    /// How many continuations are kept from one step to the next (k).
    pub width: usize,
    /// d2l's length normalisation: when given, every continuation the
    /// search kept, of every length from 1 to the one asked for, is a
    /// candidate, scored by log P / L^α (L its length), so the result may
    /// be shorter than asked; d2l suggests α = 0.75. When not, the result
    /// is the most likely continuation of the full length.
    pub alpha: Option<f64>,
}

/// What beam search returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Beamed {
    /// The prefix as the model read it, and the continuation.
    pub text: String,
    /// The continuation's tokens.
    pub tokens: Vec<usize>,
    /// log P(continuation | prefix), natural logarithm.
    pub log_prob: f64,
}

/// One continuation on the beam: its log-probability, the state and
/// input that continue it, and where its last token is in the search's
/// history.
#[derive(Clone)]
struct Hypothesis<S> {
    log_prob: f64,
    state: S,
    input: usize,
    at: usize,
}

/// What one step kept: for each hypothesis, the one it extends (its index
/// at the step before), its last token and its log-probability. The
/// tokens of a continuation are read back through these links, so the
/// search stores two numbers per hypothesis and step, not the whole
/// continuation.
type Kept = Vec<(usize, usize, f64)>;

/// The tokens of hypothesis `k` of step `step`, read back through the
/// links.
fn read_back(history: &[Kept], step: usize, mut k: usize) -> Vec<usize> {
    let mut tokens = vec![0; step + 1];
    for s in (0..=step).rev() {
        let (parent, token, _) = history[s][k];
        tokens[s] = token;
        k = parent;
    }
    tokens
}

/// The log-softmax of `logits`, in f64.
pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &l| m.max(l as f64));
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let log_z = max + sum.ln();
    logits.iter().map(|&l| l as f64 - log_z).collect()
}

// ANCHOR: beam_search
/// Continues `prefix` by `num_preds` tokens with beam search.
///
/// Every step extends each of the (at most) `width` hypotheses by every
/// token of the vocabulary, scores each extension by the sum of its
/// tokens' log-probabilities, and keeps the `width` best; ties go to the
/// earlier hypothesis, then the lower token, so that width 1 is exactly
/// greedy decoding.
pub fn beam_search<M: LanguageModel>(
    model: &mut M,
    vocab: &Vocab,
    prefix: &str,
    num_preds: usize,
    beam: Beam,
) -> Result<Beamed, GenerateError>
where
    M::State: Clone,
{
    assert!(beam.width >= 1, "beam_search: a beam holds at least one");
    let warm = warm_up(model, vocab, prefix)?;
    let mut beams = vec![Hypothesis {
        log_prob: 0.0,
        state: warm.state,
        input: warm.input,
        at: 0,
    }];
    let mut history: Vec<Kept> = Vec::with_capacity(num_preds);
    for i in 0..num_preds {
        // (hypothesis, token, log P of the extension)
        let mut extensions = Vec::new();
        for (b, h) in beams.iter_mut().enumerate() {
            let logits = model.step_logits(h.input, &mut h.state);
            if !logits.iter().all(|l| l.is_finite()) {
                return Err(GenerateError::NotFinite(warm.read + i));
            }
            for (token, lp) in log_softmax(&logits).into_iter().enumerate() {
                extensions.push((b, token, h.log_prob + lp));
            }
        }
        // A stable sort: equal scores keep their (hypothesis, token) order.
        extensions.sort_by(|a, b| b.2.total_cmp(&a.2));
        extensions.truncate(beam.width);
        let kept = extensions
            .iter()
            .map(|&(b, token, lp)| (beams[b].at, token, lp))
            .collect();
        history.push(kept);
        beams = extensions
            .into_iter()
            .enumerate()
            .map(|(at, (b, token, log_prob))| Hypothesis {
                log_prob,
                state: beams[b].state.clone(),
                input: token,
                at,
            })
            .collect();
    }
    // (step, index): the full-length best, or d2l's best over every
    // length by (1 / L^α) log P. Each step's list is sorted, so its first
    // entry is its best.
    let best = match (beam.alpha, num_preds) {
        (_, 0) => None,
        (None, n) => Some((n - 1, 0)),
        (Some(alpha), n) => {
            let score =
                |s: usize| history[s][0].2 / ((s + 1) as f64).powf(alpha);
            (0..n)
                .fold(None, |best, s| match best {
                    Some(b) if score(b) >= score(s) => Some(b),
                    _ => Some(s),
                })
                .map(|s| (s, 0))
        }
    };
    let (tokens, log_prob) = match best {
        None => (Vec::new(), 0.0),
        Some((s, k)) => (read_back(&history, s, k), history[s][k].2),
    };
    let mut text = warm.text;
    for &t in &tokens {
        text.push_str(vocab.to_token(t));
    }
    Ok(Beamed {
        text,
        tokens,
        log_prob,
    })
}
// ANCHOR_END: beam_search

/// log P(`tokens` | `prefix`) under the model: what beam search maximises,
/// for any continuation (a greedy one, or each one of an exhaustive
/// search).
pub fn log_prob_of<M: LanguageModel>(
    model: &mut M,
    vocab: &Vocab,
    prefix: &str,
    tokens: &[usize],
) -> Result<f64, GenerateError> {
    let warm = warm_up(model, vocab, prefix)?;
    let (mut state, mut input) = (warm.state, warm.input);
    let mut total = 0.0;
    for &t in tokens {
        let logits = model.step_logits(input, &mut state);
        total += log_softmax(&logits)[t];
        input = t;
    }
    Ok(total)
}
