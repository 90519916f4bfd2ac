//! Looking inside a trained cell, after Karpathy, Johnson and Fei-Fei
//! (2015): the values of its gates at every character of a passage, how
//! often each gate is saturated, and which units follow simple features
//! of the text.
//!
//! Everything is read from the teaching cell's own step: [`trace`] runs
//! [`Cell::step`] one character at a time and asks the cell, through
//! [`Readout`], what its cache and its new state hold.

mod figures;

pub use figures::{heatmap_svg, saturation_svg, HeatRow, Section};

use crate::rnn::{Cell, Input};
use ndarray::{Array2, NdFloat};

/// What a reading is: a gate, whose values lie in (0, 1), or a state,
/// which may take any sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gate,
    State,
}

/// One quantity a cell computes at a step: `values` is `(batch,
/// hiddens)`.
#[derive(Debug, Clone)]
pub struct Reading<F> {
    pub name: &'static str,
    pub role: Role,
    pub values: Array2<F>,
}

impl<F: NdFloat> Reading<F> {
    /// A gate's values.
    pub fn gate(name: &'static str, values: &Array2<F>) -> Self {
        Self {
            name,
            role: Role::Gate,
            values: values.clone(),
        }
    }

    /// A state's values.
    pub fn state(name: &'static str, values: &Array2<F>) -> Self {
        Self {
            name,
            role: Role::State,
            values: values.clone(),
        }
    }
}

// ANCHOR: readout
/// A cell whose gates can be read after a step, from the cache the step
/// kept for its backward pass and the state it returned.
pub trait Readout<F: NdFloat>: Cell<F> {
    /// The gates (and states worth drawing) of one step, in the order
    /// the figures show them.
    fn readout(
        &self,
        cache: &Self::Cache,
        state: &Self::State,
    ) -> Vec<Reading<F>>;
}
// ANCHOR_END: readout

/// A reading along a passage: `values` is `(characters, hiddens)`, row
/// t read after the step that took character t.
#[derive(Debug, Clone)]
pub struct Trace<F> {
    pub name: &'static str,
    pub role: Role,
    pub values: Array2<F>,
}

// ANCHOR: trace
/// Runs `tokens` through the cell one at a time, from the zero state, as
/// one sequence, and keeps every reading of every step.
pub fn trace<F: NdFloat, C: Readout<F>>(
    cell: &C,
    params: &C::Params,
    tokens: &[usize],
) -> Vec<Trace<F>> {
    let mut traces: Vec<Trace<F>> = Vec::new();
    let mut state = cell.zero_state(1);
    for (t, &token) in tokens.iter().enumerate() {
        let x = [token];
        let (next, cache) = cell.step(params, &Input::Tokens(&x), &state);
        for (k, r) in cell.readout(&cache, &next).into_iter().enumerate() {
            if t == 0 {
                traces.push(Trace {
                    name: r.name,
                    role: r.role,
                    values: Array2::zeros((tokens.len(), r.values.ncols())),
                });
            }
            traces[k].values.row_mut(t).assign(&r.values.row(0));
        }
        state = next;
    }
    traces
}
// ANCHOR_END: trace

/// Below this a gate is left-saturated (nearly shut), the threshold of
/// Karpathy et al.
pub const LOW: f64 = 0.1;
/// Above this a gate is right-saturated (nearly wide open).
pub const HIGH: f64 = 0.9;

// ANCHOR: saturation
/// How often each unit of a gate is saturated: for unit j, the fraction
/// of steps with a value below [`LOW`], and the fraction above [`HIGH`].
#[derive(Debug, Clone, PartialEq)]
pub struct Saturation {
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// The saturation of each column of `values` (`(steps, units)`).
///
/// # Panics
/// If `values` has no rows.
pub fn saturation<F: NdFloat>(values: &Array2<F>) -> Saturation {
    assert!(values.nrows() > 0, "saturation of an empty trace");
    let steps = values.nrows() as f64;
    let fraction = |keep: fn(f64) -> bool| -> Vec<f64> {
        values
            .columns()
            .into_iter()
            .map(|c| {
                let n = c.iter().filter(|v| keep(v.to_f64().unwrap()));
                n.count() as f64 / steps
            })
            .collect()
    };
    Saturation {
        low: fraction(|v| v < LOW),
        high: fraction(|v| v > HIGH),
    }
}
// ANCHOR_END: saturation

impl Saturation {
    /// The fraction of all values (every unit, every step) below
    /// [`LOW`], and above [`HIGH`].
    pub fn overall(&self) -> (f64, f64) {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        (mean(&self.low), mean(&self.high))
    }

    /// How many units are left-saturated more than half of the time,
    /// and how many right-saturated.
    pub fn mostly_saturated(&self) -> (usize, usize) {
        let count = |v: &[f64]| v.iter().filter(|&&f| f > 0.5).count();
        (count(&self.low), count(&self.high))
    }
}

// ANCHOR: features
/// 1 where the character is a space, 0 elsewhere.
pub fn is_space(text: &[char]) -> Vec<f64> {
    text.iter()
        .map(|&c| f64::from(u8::from(c == ' ')))
        .collect()
}

/// The position of each character in its word: 1 at a word's first
/// letter, 2 at its second, …, and 0 at a space.
pub fn position_in_word(text: &[char]) -> Vec<f64> {
    let mut position = 0.0;
    text.iter()
        .map(|&c| {
            position = if c == ' ' { 0.0 } else { position + 1.0 };
            position
        })
        .collect()
}

/// The Pearson correlation of each unit (column of `values`) with
/// `feature`, one value per step; 0 for a unit, or a feature, that never
/// changes.
///
/// # Panics
/// If `feature` is not one value per row of `values`.
pub fn correlations<F: NdFloat>(
    values: &Array2<F>,
    feature: &[f64],
) -> Vec<f64> {
    assert_eq!(values.nrows(), feature.len(), "one feature per step");
    let n = feature.len() as f64;
    let mean_f = feature.iter().sum::<f64>() / n;
    values
        .columns()
        .into_iter()
        .map(|c| {
            let v: Vec<f64> = c.iter().map(|x| x.to_f64().unwrap()).collect();
            let mean_v = v.iter().sum::<f64>() / n;
            let (mut cov, mut var_v, mut var_f) = (0.0, 0.0, 0.0);
            for (a, b) in v.iter().zip(feature) {
                cov += (a - mean_v) * (b - mean_f);
                var_v += (a - mean_v) * (a - mean_v);
                var_f += (b - mean_f) * (b - mean_f);
            }
            let r = cov / (var_v * var_f).sqrt();
            if r.is_finite() {
                r
            } else {
                0.0
            }
        })
        .collect()
}
// ANCHOR_END: features

/// The `k` units whose correlation is largest in size, strongest first.
pub fn strongest(r: &[f64], k: usize) -> Vec<usize> {
    let mut units: Vec<usize> = (0..r.len()).collect();
    units.sort_by(|&a, &b| r[b].abs().total_cmp(&r[a].abs()).then(a.cmp(&b)));
    units.truncate(k);
    units
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn saturation_counts_each_unit_strictly_beyond_the_thresholds() {
        // Unit 0: 2 of 4 below 0.1; unit 1: 3 of 4 above 0.9; the
        // thresholds themselves count as neither.
        let v = array![[0.05, 0.95], [0.0, 0.91], [0.1, 0.9], [0.5, 1.0]];
        let s = saturation(&v);
        assert_eq!(s.low, vec![0.5, 0.0]);
        assert_eq!(s.high, vec![0.0, 0.75]);
        assert_eq!(s.overall(), (0.25, 0.375));
        assert_eq!(s.mostly_saturated(), (0, 1));
    }

    #[test]
    fn features_follow_the_words() {
        let text: Vec<char> = "ab  c".chars().collect();
        assert_eq!(is_space(&text), vec![0.0, 0.0, 1.0, 1.0, 0.0]);
        assert_eq!(position_in_word(&text), vec![1.0, 2.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn correlations_are_pearsons_and_zero_for_a_constant() {
        let f = [0.0, 1.0, 0.0, 1.0];
        // Unit 0 is f itself, unit 1 its negation scaled, unit 2 constant,
        // unit 3 half agrees: r = 0.
        let v = array![
            [0.2, 3.0, 7.0, 0.0],
            [0.7, 1.0, 7.0, 0.0],
            [0.2, 3.0, 7.0, 1.0],
            [0.7, 1.0, 7.0, 1.0]
        ];
        let r = correlations(&v, &f);
        assert!((r[0] - 1.0).abs() < 1e-12 && (r[1] + 1.0).abs() < 1e-12);
        assert_eq!(r[2], 0.0);
        assert!(r[3].abs() < 1e-12, "{r:?}");
        assert_eq!(strongest(&r, 2), vec![0, 1]);
    }
}
