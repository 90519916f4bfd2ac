//! The flags' value parsers: each says what it takes when it refuses.

/// Parses a whole number of at least 1, for flags.
pub fn positive_usize(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) if s.trim_start().starts_with('-') => {
            Err(format!("must be at least 1, got {s}"))
        }
        Err(e) => Err(format!("not a whole number: {e}")),
    }
}

/// The most threads `--threads` takes.
pub const MAX_THREADS: usize = 1024;

pub(super) fn threads(s: &str) -> Result<usize, String> {
    match positive_usize(s)? {
        n if n > MAX_THREADS => Err(format!(
            "at most {MAX_THREADS}, got {n}; the default uses every core"
        )),
        n => Ok(n),
    }
}

pub(super) fn seed(s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|_| {
        format!("must be a whole number from 0 to {}, got {s}", u64::MAX)
    })
}

/// The most characters `generate --len` adds in one call.
pub const MAX_LEN: usize = 1_000_000;

pub(super) fn generate_len(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= MAX_LEN => Ok(n),
        _ => Err(format!("must be a whole number from 0 to {MAX_LEN}")),
    }
}

/// The widest beam `generate --beam` takes: every step runs the model
/// once per continuation on the beam.
pub const MAX_BEAM: usize = 100;

pub(super) fn beam_width(s: &str) -> Result<usize, String> {
    match positive_usize(s)? {
        n if n > MAX_BEAM => Err(format!(
            "at most {MAX_BEAM}, got {n}: every character costs one model \
             step per continuation kept"
        )),
        n => Ok(n),
    }
}

/// A number from 0 on, finite.
pub(super) fn non_negative_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a number from 0 on, got {x}")),
        Err(e) => Err(format!("not a number: {e}")),
    }
}

/// A fraction below 1: above 0 (`decay`), or from 0 on (`probability`).
fn below_one(s: &str, zero: bool) -> Result<f64, String> {
    let x = s.parse::<f64>().map_err(|e| format!("not a number: {e}"))?;
    let (ok, range) = if zero {
        ((0.0..1.0).contains(&x), "at least 0")
    } else {
        (x > 0.0 && x < 1.0, "above 0")
    };
    if ok {
        Ok(x)
    } else {
        Err(format!("must be {range} and below 1, got {x}"))
    }
}

pub(super) fn decay(s: &str) -> Result<f64, String> {
    below_one(s, false)
}

pub(super) fn probability(s: &str) -> Result<f64, String> {
    below_one(s, true)
}

pub(super) fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a positive number, got {x}")),
        Err(e) => Err(format!("not a number: {e}")),
    }
}

pub(super) fn max_order(s: &str) -> Result<usize, String> {
    match positive_usize(s)? {
        n if n > 12 => Err(format!(
            "at most 12, got {n}; past 7 a character n-gram gains nothing here"
        )),
        n => Ok(n),
    }
}
