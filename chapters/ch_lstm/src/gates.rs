//! What `ch_lstm gates` draws: the input, forget and output gates and the
//! memory cell of each step, read from the step's cache.

use crate::scratch::{Lstm, LstmCache, LstmState};
use crate::variants::{LstmVariant, Variant};
use d2l::inspect::{Reading, Readout};
use ndarray::NdFloat;

// ANCHOR: lstm_readout
/// The readings of one LSTM step, whichever variant computed it.
fn lstm_readings<F: NdFloat>(
    cache: &LstmCache<F>,
    state: &LstmState<F>,
) -> Vec<Reading<F>> {
    vec![
        // I_t: how much of the candidate C̃_t enters the memory.
        Reading::gate("I", &cache.i),
        // F_t: how much of C_{t−1} the memory keeps.
        Reading::gate("F", &cache.f),
        // O_t: how much of tanh(C_t) the hidden state shows.
        Reading::gate("O", &cache.o),
        // C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t, the memory itself.
        Reading::state("C", &state.c),
    ]
}
// ANCHOR_END: lstm_readout

impl<F: NdFloat> Readout<F> for Lstm {
    fn readout(
        &self,
        cache: &LstmCache<F>,
        state: &LstmState<F>,
    ) -> Vec<Reading<F>> {
        lstm_readings(cache, state)
    }
}

/// A variant without a gate holds ones in its place: those are left out,
/// so that a gate that is not there is not counted as wide open.
impl<F: NdFloat> Readout<F> for LstmVariant {
    fn readout(
        &self,
        cache: &LstmCache<F>,
        state: &LstmState<F>,
    ) -> Vec<Reading<F>> {
        let removed = match self.variant {
            Variant::Nig => Some("I"),
            Variant::Nfg => Some("F"),
            Variant::Nog => Some("O"),
            _ => None,
        };
        let mut readings = lstm_readings(cache, state);
        readings.retain(|r| Some(r.name) != removed);
        readings
    }
}
