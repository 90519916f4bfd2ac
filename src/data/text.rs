//! Text preprocessing: the Time Machine corpus, tokens and the vocabulary.

use super::{download, DataError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;
use std::str::FromStr;

/// Lower-cases a line and turns every run of characters other than the
/// ASCII letters into one space, then trims it: d2l's
/// `re.sub('[^A-Za-z]+', ' ', line).strip().lower()`.
pub fn normalize_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_gap = false;
    for ch in line.chars() {
        if ch.is_ascii_alphabetic() {
            if in_gap && !out.is_empty() {
                out.push(' ');
            }
            in_gap = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            in_gap = true;
        }
    }
    out
}

/// The lines of H. G. Wells' *The Time Machine*, normalised by
/// [`normalize_line`]. Empty lines are kept, as in d2l.
pub fn read_time_machine() -> Result<Vec<String>, DataError> {
    let path = download("time_machine")?;
    let bytes = std::fs::read(&path).map_err(|source| DataError::Io {
        path: path.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().map(normalize_line).collect())
}

/// What a token is: a character or a whitespace-separated word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Char,
    Word,
}

impl FromStr for TokenKind {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "char" => Ok(Self::Char),
            "word" => Ok(Self::Word),
            other => Err(DataError::UnknownTokenKind(other.to_string())),
        }
    }
}

/// Splits each line into tokens.
pub fn tokenize(lines: &[String], kind: TokenKind) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|line| match kind {
            TokenKind::Char => line.chars().map(String::from).collect(),
            TokenKind::Word => {
                line.split_whitespace().map(String::from).collect()
            }
        })
        .collect()
}

/// A vocabulary: token ↔ index.
///
/// Index 0 is `<unk>`, the reserved tokens follow, then every token seen at
/// least `min_freq` times, most frequent first. Ties keep the order of first
/// appearance (as Python's stable sort over a `Counter` does), so the
/// indices are the same as d2l's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    idx_to_token: Vec<String>,
    token_to_idx: HashMap<String, usize>,
    token_freqs: Vec<(String, usize)>,
}

impl Vocab {
    /// The index of the unknown token.
    pub const UNK: usize = 0;

    // ANCHOR: vocab_new
    /// Builds a vocabulary from lines of tokens.
    pub fn new(
        tokens: &[Vec<String>],
        min_freq: usize,
        reserved_tokens: &[&str],
    ) -> Self {
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        let mut token_freqs: Vec<(String, usize)> = Vec::new();
        for token in tokens.iter().flatten() {
            match first_seen.get(token.as_str()) {
                Some(&i) => token_freqs[i].1 += 1,
                None => {
                    first_seen.insert(token, token_freqs.len());
                    token_freqs.push((token.clone(), 1));
                }
            }
        }
        // A stable sort: equal counts keep their order of first appearance.
        token_freqs.sort_by_key(|(_, freq)| std::cmp::Reverse(*freq));

        let mut idx_to_token = vec!["<unk>".to_string()];
        idx_to_token.extend(reserved_tokens.iter().map(|t| t.to_string()));
        let mut token_to_idx: HashMap<String, usize> = idx_to_token
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        for (token, freq) in &token_freqs {
            if *freq < min_freq {
                break;
            }
            if !token_to_idx.contains_key(token) {
                token_to_idx.insert(token.clone(), idx_to_token.len());
                idx_to_token.push(token.clone());
            }
        }
        Self {
            idx_to_token,
            token_to_idx,
            token_freqs,
        }
    }
    // ANCHOR_END: vocab_new

    /// Rebuilds a vocabulary from its index → token list, as stored in a
    /// checkpoint. Frequencies are not stored, so `token_freqs` is empty.
    pub fn from_tokens(idx_to_token: Vec<String>) -> Self {
        let token_to_idx = idx_to_token
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        Self {
            idx_to_token,
            token_to_idx,
            token_freqs: Vec::new(),
        }
    }

    /// The number of tokens, `<unk>` included.
    pub fn len(&self) -> usize {
        self.idx_to_token.len()
    }

    /// Always false: a vocabulary holds at least `<unk>`.
    pub fn is_empty(&self) -> bool {
        self.idx_to_token.is_empty()
    }

    /// The index of a token; unknown tokens map to [`Vocab::UNK`].
    pub fn index(&self, token: &str) -> usize {
        self.token_to_idx.get(token).copied().unwrap_or(Self::UNK)
    }

    /// The indices of several tokens.
    pub fn indices<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<usize> {
        tokens.iter().map(|t| self.index(t.as_ref())).collect()
    }

    /// The token at `index`.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    pub fn to_token(&self, index: usize) -> &str {
        &self.idx_to_token[index]
    }

    /// The tokens at several indices.
    pub fn to_tokens(&self, indices: &[usize]) -> Vec<&str> {
        indices.iter().map(|&i| self.to_token(i)).collect()
    }

    /// Index → token, in index order.
    pub fn idx_to_token(&self) -> &[String] {
        &self.idx_to_token
    }

    /// Every distinct token with its count, most frequent first.
    pub fn token_freqs(&self) -> &[(String, usize)] {
        &self.token_freqs
    }
}

/// The Time Machine as character indices, and its vocabulary, like d2l's
/// `load_corpus_time_machine`. Lines are concatenated with nothing between
/// them, as in d2l. The vocabulary is built from the whole book; with
/// `Some(n)` only the first `n` indices are returned.
pub fn load_corpus_time_machine(
    max_tokens: Option<usize>,
) -> Result<(Vec<usize>, Vocab), DataError> {
    let lines = read_time_machine()?;
    let tokens = tokenize(&lines, TokenKind::Char);
    let vocab = Vocab::new(&tokens, 0, &[]);
    let mut corpus: Vec<usize> =
        tokens.iter().flatten().map(|t| vocab.index(t)).collect();
    if let Some(n) = max_tokens {
        corpus.truncate(n);
    }
    Ok((corpus, vocab))
}

/// The corpus split into a training part, a held-out validation part and,
/// for the whole-book split, a test part, with where each part lies.
#[derive(Debug, Clone)]
pub struct Splits {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    /// Empty for d2l's split, which has no test part.
    pub test: Vec<usize>,
    pub offsets: SplitOffsets,
    pub vocab: Vocab,
}

/// Where each part of a split lies, as `start..end` positions in the
/// corpus: the characters of the book after preprocessing (letters and
/// spaces, lower case, lines joined with nothing between them), which
/// [`load_corpus_time_machine`] returns and `metrics.json` records, so that
/// another tool can score the same text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitOffsets {
    /// `d2l` or `book`.
    pub name: String,
    pub train: Range<usize>,
    pub valid: Range<usize>,
    pub test: Option<Range<usize>>,
}

impl Splits {
    /// The parts of `corpus` at `offsets`.
    ///
    /// # Panics
    /// If a part lies outside the corpus.
    fn cut(corpus: &[usize], vocab: Vocab, offsets: SplitOffsets) -> Self {
        let part = |r: &Range<usize>| corpus[r.clone()].to_vec();
        Self {
            train: part(&offsets.train),
            valid: part(&offsets.valid),
            test: offsets.test.as_ref().map_or_else(Vec::new, part),
            offsets,
            vocab,
        }
    }
}

// ANCHOR: load_splits
/// The first `max_tokens` characters of the book for training (d2l trains
/// on the first 10,000), and the `valid_tokens` characters that follow them
/// for validation. The validation text is never seen in training, and it
/// continues the same story, so its perplexity measures how well the model
/// generalises rather than how well it memorised. With `max_tokens = None`
/// training takes everything except the last `valid_tokens` characters.
pub fn load_splits_time_machine(
    max_tokens: Option<usize>,
    valid_tokens: usize,
) -> Result<Splits, DataError> {
    let (corpus, vocab) = load_corpus_time_machine(None)?;
    let available = corpus.len();
    let train_len = match max_tokens {
        Some(n) => n,
        None => available.saturating_sub(valid_tokens),
    };
    let fits = train_len
        .checked_add(valid_tokens)
        .is_some_and(|n| n <= available);
    if !fits || train_len == 0 {
        return Err(DataError::SplitTooLarge {
            train: train_len,
            valid: valid_tokens,
            available,
        });
    }
    let offsets = SplitOffsets {
        name: "d2l".to_string(),
        train: 0..train_len,
        valid: train_len..train_len + valid_tokens,
        test: None,
    };
    Ok(Splits::cut(&corpus, vocab, offsets))
}

/// The whole book in three contiguous parts: the first 80% of its
/// characters for training, the next 10% for validation (choosing the
/// epoch, tuning) and the last 10% for a test scored once, at the end.
/// Contiguous, so that no sentence of the held-out text was seen in
/// training.
pub fn load_book_splits() -> Result<Splits, DataError> {
    let (corpus, vocab) = load_corpus_time_machine(None)?;
    let n = corpus.len();
    let (train_end, valid_end) = (n * 8 / 10, n * 9 / 10);
    let offsets = SplitOffsets {
        name: "book".to_string(),
        train: 0..train_end,
        valid: train_end..valid_end,
        test: Some(valid_end..n),
    };
    Ok(Splits::cut(&corpus, vocab, offsets))
}
// ANCHOR_END: load_splits
