//! What `ch_gru gates` draws: the update and reset gates and the hidden
//! state of each step, read from the step's cache.

use crate::scratch::{Gru, GruCache, GruState};
use d2l::inspect::{Reading, Readout};
use ndarray::NdFloat;

// ANCHOR: gru_readout
impl<F: NdFloat> Readout<F> for Gru {
    fn readout(
        &self,
        cache: &GruCache<F>,
        state: &GruState<F>,
    ) -> Vec<Reading<F>> {
        vec![
            // Z_t: 1 keeps H_{t−1}, 0 takes the candidate H̃_t.
            Reading::gate("Z", &cache.z),
            // R_t: how much of H_{t−1} the candidate may read.
            Reading::gate("R", &cache.r),
            Reading::state("H", &state.h),
        ]
    }
}
// ANCHOR_END: gru_readout
