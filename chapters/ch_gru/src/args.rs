//! The GRU's own command-line pieces, shared by `ch_gru` and
//! `ch_deep_rnn --cell gru`: the `--variant` flag and its checkpoint entry.

use crate::scratch::Variant;
use anyhow::{bail, Result};
use d2l::io::checkpoint::Checkpoint;

/// `--variant`: where the reset gate acts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum VariantArg {
    #[default]
    ResetBefore,
    ResetAfter,
}

impl VariantArg {
    pub fn variant(self) -> Variant {
        match self {
            Self::ResetBefore => Variant::ResetBefore,
            Self::ResetAfter => Variant::ResetAfter,
        }
    }
}

/// The name a checkpoint records for `v`.
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
    match variant {
        "reset-before" => Ok(Variant::ResetBefore),
        "reset-after" => Ok(Variant::ResetAfter),
        other => bail!(
            "the checkpoint's metadata `variant` is {other:?}, not \
             \"reset-before\" or \"reset-after\": the file was edited or \
             damaged"
        ),
    }
}
