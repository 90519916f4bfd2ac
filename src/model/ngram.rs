//! The baseline every recurrent model must beat: an interpolated
//! Kneser–Ney character n-gram (Chen and Goodman, 1998), counted from the
//! training text in one pass.
//!
//! The probability of token w after the context h (the n − 1 tokens
//! before it) mixes what was seen after h with the next lower order,
//! which drops h's first token:
//!
//! ```text
//! P(w | h) = max(c(h w) − D, 0) / c(h)  +  D · N(h •) / c(h) · P(w | h′)
//! ```
//!
//! - c are raw counts at the highest order and *continuation counts* below
//!   it: c(h w) is the number of different tokens seen just before h w.
//!   A character that follows many contexts is a likely guess in a new one;
//!   one seen often but only in one phrase is not.
//! - D is the absolute discount of the order, taken off every seen count:
//!   D = n₁ / (n₁ + 2 n₂), from the numbers n₁ and n₂ of counts equal to 1
//!   and 2 at that order (Ney, Essen and Kneser's estimate).
//! - N(h •) is the number of different tokens seen after h, so that
//!   D · N(h •) / c(h) is exactly the mass the discounts took off.
//! - A context never seen (c(h) = 0) leaves everything to the lower order;
//!   below order 1 is the uniform distribution over the vocabulary, so
//!   every token, seen or not, has a probability above zero, and the
//!   probabilities over the vocabulary sum to 1.

use std::collections::HashMap;

/// What one order knows about one context: the counts of the tokens seen
/// after it, their sum, and the discount of the order.
#[derive(Debug, Clone, Default)]
struct Context {
    counts: HashMap<usize, f64>,
    total: f64,
}

/// An interpolated Kneser–Ney model of order `n` over a vocabulary of
/// `vocab_size` tokens.
#[derive(Debug, Clone)]
pub struct KneserNey {
    order: usize,
    vocab_size: usize,
    /// `levels[k]` holds the contexts of k tokens (order k + 1).
    levels: Vec<HashMap<Vec<usize>, Context>>,
    /// The discount D of each order, `discounts[k]` for order k + 1.
    discounts: Vec<f64>,
}

impl KneserNey {
    /// Counts the n-grams of `text` up to `order`.
    ///
    /// # Panics
    /// If `order` is 0, the vocabulary is empty, or a token of `text` is
    /// not below `vocab_size`.
    pub fn new(text: &[usize], order: usize, vocab_size: usize) -> Self {
        assert!(order >= 1, "KneserNey: the order must be at least 1");
        assert!(vocab_size >= 1, "KneserNey: an empty vocabulary");
        if let Some(&t) = text.iter().find(|&&t| t >= vocab_size) {
            panic!("KneserNey: token {t} is not below vocab_size {vocab_size}");
        }
        let mut levels: Vec<HashMap<Vec<usize>, Context>> =
            vec![HashMap::new(); order];
        // The highest order counts every occurrence.
        let n = order;
        for end in n..=text.len() {
            let gram = &text[end - n..end];
            add(&mut levels[n - 1], gram, 1.0);
        }
        // Below it, c(h w) is the number of different tokens seen before
        // h w: one for each different n-gram of order k + 1 ending in it.
        for k in 1..order {
            let mut seen: std::collections::HashSet<&[usize]> =
                std::collections::HashSet::new();
            for end in (k + 1)..=text.len() {
                seen.insert(&text[end - k - 1..end]);
            }
            for longer in seen {
                add(&mut levels[k - 1], &longer[1..], 1.0);
            }
        }
        let discounts = levels.iter().map(discount).collect();
        Self {
            order,
            vocab_size,
            levels,
            discounts,
        }
    }

    pub fn order(&self) -> usize {
        self.order
    }

    /// P(w | context), from the last `order − 1` tokens of `context` (or
    /// all of them, if there are fewer).
    pub fn prob(&self, context: &[usize], w: usize) -> f64 {
        let keep = context.len().min(self.order - 1);
        self.prob_at(&context[context.len() - keep..], w)
    }

    // ANCHOR: kneser_ney
    /// P(w | h) at the order of h's length + 1.
    fn prob_at(&self, h: &[usize], w: usize) -> f64 {
        let lower = match h {
            [] => 1.0 / self.vocab_size as f64,
            [_, shorter @ ..] => self.prob_at(shorter, w),
        };
        let Some(ctx) = self.levels[h.len()].get(h) else {
            return lower;
        };
        let d = self.discounts[h.len()];
        let c = ctx.counts.get(&w).copied().unwrap_or(0.0);
        let types = ctx.counts.len() as f64;
        (c - d).max(0.0) / ctx.total + d * types / ctx.total * lower
    }
    // ANCHOR_END: kneser_ney

    /// The perplexity on `text`: exp of the mean of −ln P over every token
    /// after the first, each from the tokens before it in `text`.
    ///
    /// # Panics
    /// If `text` has fewer than two tokens.
    pub fn perplexity(&self, text: &[usize]) -> f64 {
        assert!(text.len() >= 2, "KneserNey: nothing to score");
        let nll: f64 = (1..text.len())
            .map(|i| -self.prob(&text[..i], text[i]).ln())
            .sum();
        (nll / (text.len() - 1) as f64).exp()
    }
}

fn add(level: &mut HashMap<Vec<usize>, Context>, gram: &[usize], c: f64) {
    let (h, w) = gram.split_at(gram.len() - 1);
    let ctx = level.entry(h.to_vec()).or_default();
    *ctx.counts.entry(w[0]).or_insert(0.0) += c;
    ctx.total += c;
}

/// D = n₁ / (n₁ + 2 n₂) over every count of the order; ½ when the order
/// has no count of 1 or 2 to estimate it from.
fn discount(level: &HashMap<Vec<usize>, Context>) -> f64 {
    let (mut n1, mut n2) = (0.0, 0.0);
    for c in level.values().flat_map(|ctx| ctx.counts.values()) {
        if *c == 1.0 {
            n1 += 1.0;
        } else if *c == 2.0 {
            n2 += 1.0;
        }
    }
    if n1 + 2.0 * n2 > 0.0 && n1 > 0.0 {
        n1 / (n1 + 2.0 * n2)
    } else {
        0.5
    }
}
