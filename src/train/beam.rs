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

/// One continuation on the beam: its tokens, their log-probability, and
/// the state and input that continue it.
#[derive(Clone)]
struct Hypothesis<S> {
    tokens: Vec<usize>,
    log_prob: f64,
    state: S,
    input: usize,
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
        tokens: Vec::new(),
        log_prob: 0.0,
        state: warm.state,
        input: warm.input,
    }];
    // Every hypothesis kept at every step, for the length-normalised
    // score: (tokens, log P).
    let mut kept: Vec<(Vec<usize>, f64)> = Vec::new();
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
        beams = extensions
            .into_iter()
            .map(|(b, token, log_prob)| {
                let mut tokens = beams[b].tokens.clone();
                tokens.push(token);
                let state = beams[b].state.clone();
                Hypothesis {
                    tokens,
                    log_prob,
                    state,
                    input: token,
                }
            })
            .collect();
        if beam.alpha.is_some() {
            kept.extend(beams.iter().map(|h| (h.tokens.clone(), h.log_prob)));
        }
    }
    let (tokens, log_prob) = match beam.alpha {
        // The most likely of the full-length hypotheses: beams are sorted.
        None => (beams[0].tokens.clone(), beams[0].log_prob),
        // d2l's score, (1 / L^α) log P, over every length.
        Some(alpha) => {
            let score =
                |(t, lp): &(Vec<usize>, f64)| lp / (t.len() as f64).powf(alpha);
            let best = kept.iter().fold(None, |best, c| match best {
                Some(b) if score(b) >= score(c) => Some(b),
                _ => Some(c),
            });
            best.cloned().unwrap_or((Vec::new(), 0.0))
        }
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
