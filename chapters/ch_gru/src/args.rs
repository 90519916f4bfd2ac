//! The GRU's own command-line pieces, shared by `ch_gru` and
//! `ch_deep_rnn --cell gru`: the `--variant` flag and its checkpoint entry.

use crate::scratch::Variant;
use anyhow::{bail, Result};
use d2l::io::checkpoint::Checkpoint;

/// `--variant`: where the reset gate acts. Its names are the ones a
/// checkpoint records, so the flag and the file share one mapping.
impl clap::ValueEnum for Variant {
    fn value_variants<'a>() -> &'a [Self] {
        &[Variant::ResetBefore, Variant::ResetAfter]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(variant_name(*self)))
    }
}

/// The name of `v` on the command line and in a checkpoint.
pub fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::ResetBefore => "reset-before",
        Variant::ResetAfter => "reset-after",
    }
}

/// The variant a checkpoint's metadata records.
pub fn checkpoint_variant(ck: &Checkpoint) -> Result<Variant> {
    let Ok(variant) = ck.meta("variant") else {
        bail!(
            "the checkpoint records a GRU but no `variant`, which every GRU \
             checkpoint has: the file was edited or damaged"
        );
    };
    match <Variant as clap::ValueEnum>::from_str(variant, false) {
        Ok(v) => Ok(v),
        Err(_) => bail!(
            "the checkpoint's metadata `variant` is {variant:?}, not \
             \"reset-before\" or \"reset-after\": the file was edited or \
             damaged"
        ),
    }
}
