//! `ngram`: the Kneser–Ney baseline's perplexity on the validation text,
//! for each order, on the same split as `train`.

use super::NgramArgs;
use crate::data::Splits;
use crate::io::console;
use crate::model::ngram::KneserNey;
use anyhow::{bail, Result};

/// Prints the table of [`ngram_table`] for the split `args` asks for.
pub fn ngram(args: &NgramArgs) -> Result<()> {
    let splits = args.split.load()?;
    if splits.valid.len() < 2 {
        bail!(
            "the validation text has {} character(s) to score; the n-gram \
             needs at least 2. Raise --valid-tokens",
            splits.valid.len()
        );
    }
    console::result(&ngram_table(&splits, args.max_order))?;
    Ok(())
}

/// A Markdown table: for each order from 1 to `max_order`, the perplexity
/// of an interpolated Kneser–Ney model counted on `splits.train` on
/// `splits.valid`, and on `splits.test` where the split has one, each with
/// its bits per character (log₂ of it).
pub fn ngram_table(splits: &Splits, max_order: usize) -> String {
    let o = &splits.offsets;
    let span = |r: &std::ops::Range<usize>| format!("{}..{}", r.start, r.end);
    let mut table = format!(
        "Interpolated Kneser–Ney counted on characters {}, validated on {}",
        span(&o.train),
        span(&o.valid)
    );
    let with_test = o.test.as_ref().filter(|_| !splits.test.is_empty());
    match with_test {
        Some(test) => {
            table += &format!(
                ", tested on {}:\n\n| order | validation perplexity | bits \
                 per character | test perplexity | bits per character |\n\
                 |---|---|---|---|---|\n",
                span(test)
            )
        }
        None => {
            table += ":\n\n| order | validation perplexity | bits per \
                      character |\n|---|---|---|\n"
        }
    }
    for order in 1..=max_order {
        let lm = KneserNey::new(&splits.train, order, splits.vocab.len());
        let ppl = lm.perplexity(&splits.valid);
        table += &format!("| {order} | {ppl:.2} | {:.3} |", ppl.log2());
        if with_test.is_some() {
            let ppl = lm.perplexity(&splits.test);
            table += &format!(" {ppl:.2} | {:.3} |", ppl.log2());
        }
        table.push('\n');
    }
    table
}
