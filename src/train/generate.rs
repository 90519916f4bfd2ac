//! Text generation: greedy decoding (d2l's `predict_ch8`) and sampling with
//! a temperature and top-k.

use crate::data::{normalize_line, Vocab};
use crate::model::LanguageModel;
use rand::Rng;
use thiserror::Error;

/// How the next token is chosen from the logits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoding {
    /// The most likely token, every time (d2l's `argmax`).
    Greedy,
    /// A draw from softmax(logits / temperature), restricted to the
    /// `top_k` most likely tokens when given.
    Sample {
        temperature: f64,
        top_k: Option<usize>,
    },
}

#[derive(Debug, Error, PartialEq)]
pub enum GenerateError {
    #[error(
        "the prefix {0:?} has no letters a-z: the model reads only letters \
         (lower-cased) and spaces, so give a prefix such as \"time \
         traveller\""
    )]
    EmptyPrefix(String),
    #[error("temperature must be a positive number, got {0}")]
    BadTemperature(f64),
    #[error("top-k must be at least 1")]
    ZeroTopK,
    #[error(
        "the model's scores for the next character are not all finite \
         (after {0} characters): its weights are too large to use. Train \
         again, with a smaller --lr"
    )]
    NotFinite(usize),
}

/// A continuation: the text and the tokens added to the prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The prefix as the model read it (preprocessed), and the
    /// continuation.
    pub text: String,
    /// The tokens of the continuation.
    pub tokens: Vec<usize>,
}

// ANCHOR: predict
/// Continues `prefix` by `num_preds` tokens.
///
/// The prefix goes through the same preprocessing as the corpus (lower
/// case, every run of non-letters becomes one space). A character that is
/// still not in the vocabulary is fed to the model as `<unk>` (index 0) but
/// kept as written in the returned text. The model first reads the prefix
/// to warm up its state; then each predicted token is fed back as the next
/// input.
pub fn predict<M: LanguageModel, R: Rng>(
    model: &mut M,
    vocab: &Vocab,
    prefix: &str,
    num_preds: usize,
    decoding: Decoding,
    rng: &mut R,
) -> Result<Generated, GenerateError> {
    check_decoding(decoding)?;
    let warm = warm_up(model, vocab, prefix)?;
    let (mut state, mut input, mut text) = (warm.state, warm.input, warm.text);
    let mut tokens = Vec::with_capacity(num_preds);
    for i in 0..num_preds {
        let logits = model.step_logits(input, &mut state);
        if !logits.iter().all(|l| l.is_finite()) {
            return Err(GenerateError::NotFinite(warm.read + i));
        }
        input = choose(&logits, decoding, rng);
        text.push_str(vocab.to_token(input));
        tokens.push(input);
    }
    Ok(Generated { text, tokens })
}
// ANCHOR_END: predict

/// A model that has read a prefix, all but its last token.
pub struct WarmedUp<S> {
    /// The state after the prefix's other tokens.
    pub state: S,
    /// The prefix's last token: the first input of the continuation.
    pub input: usize,
    /// The prefix as the model read it (preprocessed).
    pub text: String,
    /// How many tokens the prefix has.
    pub read: usize,
}

/// Reads `prefix` after the corpus's preprocessing, every token but the
/// last, from a zero state.
pub fn warm_up<M: LanguageModel>(
    model: &mut M,
    vocab: &Vocab,
    prefix: &str,
) -> Result<WarmedUp<M::State>, GenerateError> {
    let text = normalize_line(prefix);
    let tokens: Vec<String> = text.chars().map(String::from).collect();
    let Some((last, rest)) = tokens.split_last() else {
        return Err(GenerateError::EmptyPrefix(prefix.to_string()));
    };
    let mut state = model.begin_state(1);
    for token in rest {
        model.step_logits(vocab.index(token), &mut state);
    }
    let input = vocab.index(last);
    let read = tokens.len();
    Ok(WarmedUp {
        state,
        input,
        text,
        read,
    })
}

fn check_decoding(decoding: Decoding) -> Result<(), GenerateError> {
    if let Decoding::Sample { temperature, top_k } = decoding {
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(GenerateError::BadTemperature(temperature));
        }
        if top_k == Some(0) {
            return Err(GenerateError::ZeroTopK);
        }
    }
    Ok(())
}

// ANCHOR: choose
/// Picks the next token from `logits`.
///
/// Sampling divides the logits by the temperature before the softmax: below
/// 1 it sharpens the distribution towards greedy, above 1 it flattens it
/// towards uniform.
pub fn choose<R: Rng>(
    logits: &[f32],
    decoding: Decoding,
    rng: &mut R,
) -> usize {
    assert!(!logits.is_empty(), "choose: empty logits");
    let argmax = |xs: &[f32]| {
        (0..xs.len()).fold(0, |best, i| if xs[i] > xs[best] { i } else { best })
    };
    let (temperature, top_k) = match decoding {
        Decoding::Greedy => return argmax(logits),
        Decoding::Sample { temperature, top_k } => (temperature, top_k),
    };
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order.truncate(top_k.unwrap_or(logits.len()).min(logits.len()));
    let max = logits[order[0]] as f64;
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| ((logits[i] as f64 - max) / temperature).exp())
        .collect();
    let mut u = rng.gen::<f64>() * weights.iter().sum::<f64>();
    for (&i, &w) in order.iter().zip(&weights) {
        if u < w {
            return i;
        }
        u -= w;
    }
    order[order.len() - 1]
}
// ANCHOR_END: choose
