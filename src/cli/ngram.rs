//! `ngram`: the Kneser–Ney baseline's perplexity on the validation text,
//! for each order, on the same split as `train`.

use super::NgramArgs;
use crate::data::{load_splits_time_machine, Splits};
use crate::io::console;
use crate::model::ngram::KneserNey;
use anyhow::{bail, Result};

/// Prints the table of [`ngram_table`] for the split `args` asks for.
pub fn ngram(args: &NgramArgs) -> Result<()> {
    let split = args.split;
    let splits =
        load_splits_time_machine(Some(split.max_tokens), split.valid_tokens)?;
    if splits.valid.len() < 2 {
        bail!(
            "--valid-tokens {} leaves {} character(s) to score; the n-gram \
             needs at least 2",
            split.valid_tokens,
            splits.valid.len()
        );
    }
    console::result(&ngram_table(&splits, args.max_order))?;
    Ok(())
}

/// A Markdown table: for each order from 1 to `max_order`, the perplexity
/// of an interpolated Kneser–Ney model counted on `splits.train` on
/// `splits.valid`, and the same in bits per character (log₂ of it).
pub fn ngram_table(splits: &Splits, max_order: usize) -> String {
    let (train, valid) = (splits.train.len(), splits.valid.len());
    let mut table = format!(
        "Interpolated Kneser–Ney on characters 0..{train}, scored on the \
         {valid} that follow:\n\n| order | validation perplexity | bits per \
         character |\n|---|---|---|\n"
    );
    for order in 1..=max_order {
        let lm = KneserNey::new(&splits.train, order, splits.vocab.len());
        let ppl = lm.perplexity(&splits.valid);
        table += &format!("| {order} | {ppl:.2} | {:.3} |\n", ppl.log2());
    }
    table
}
