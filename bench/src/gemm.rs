//! The machine's own matrix-product rates, which the models' effective
//! rates are compared with: the step shapes on one core, through ndarray
//! (the `matrixmultiply` crate) and through the fast path's packed kernel,
//! and a large square product on one core and on every core, the
//! machine's practical f32 peak.

use d2l::fast::kernel::{add_mat_mul_packed, Packed};
use d2l::model::parallel::row_blocks;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2};
use serde_json::{json, Value};
use std::time::Instant;

/// Which code multiplies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// ndarray's `general_mat_mul`, which packs both operands every call.
    Ndarray,
    /// The fast path's kernel, with the right-hand side packed once.
    Packed,
}

impl Product {
    fn name(self) -> &'static str {
        match self {
            Product::Ndarray => "ndarray",
            Product::Packed => "packed kernel",
        }
    }
}

/// The side of the square product that stands for the machine's peak:
/// large enough that packing and thread start-up are noise.
pub const PEAK_SIDE: usize = 1024;

/// How a product is cut between threads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Each thread multiplies a block of the rows of A by all of B: how
    /// the models split their batch today.
    Rows,
    /// Each thread multiplies all of A by a block of the columns of B, and
    /// keeps only that block of the weights.
    Columns,
}

/// The rate of `C = A B` for an `(n, k) × (k, m)` product in f32, in
/// GFLOP/s (2nkm FLOPs a product): the best of five timed batches of
/// products, cut between `threads` threads as `split` says. B is laid out
/// for the kernel before the clock starts, each thread's block its own.
pub fn gemm_gflops(
    (n, k, m): (usize, usize, usize),
    product: Product,
    threads: usize,
    split: Split,
) -> f64 {
    let a = Array2::<f32>::from_elem((n, k), 0.5);
    let b = Array2::<f32>::from_elem((k, m), 0.25);
    let flops = 2.0 * (n * k * m) as f64;
    let reps = ((2e9 / flops) as usize).clamp(3, 20_000);
    let (rows, cols) = match split {
        Split::Rows => (row_blocks(n, threads), vec![0..m; threads]),
        Split::Columns => (vec![0..n; threads], row_blocks(m, threads)),
    };
    // Each thread's rows of A, block of B (as it is and packed) and block
    // of C.
    let mut parts: Vec<_> = rows
        .iter()
        .zip(&cols)
        .map(|(r, cs)| {
            let b = b.slice(s![.., cs.clone()]).to_owned();
            let packed = Packed::new(&b);
            let c = Array2::<f32>::zeros((r.len(), cs.len()));
            (a.slice(s![r.clone(), ..]), b, packed, c)
        })
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        std::thread::scope(|scope| {
            for (a, b, b_packed, c) in &mut parts {
                scope.spawn(move || {
                    for _ in 0..reps {
                        match product {
                            Product::Packed => add_mat_mul_packed(
                                a,
                                b_packed,
                                &mut c.view_mut(),
                            ),
                            Product::Ndarray => {
                                general_mat_mul(1.0, a, b, 0.0, c)
                            }
                        }
                    }
                });
            }
        });
        best = best.min(start.elapsed().as_secs_f64() / reps as f64);
    }
    std::hint::black_box(&parts);
    flops / best / 1e9
}

/// The step's product on every core, cut by rows (the batch, as the
/// models do today) and by columns (the gates), beside one thread: for
/// the GRU's and the LSTM's `H_{t−1} W_h` at 256 units, and the LSTM's
/// at 1024.
pub fn step_splits(cores: usize) -> Vec<Value> {
    let shapes = [(32, 256, 768), (32, 256, 1024), (32, 1024, 4096)];
    let mut out = Vec::new();
    for (n, k, m) in shapes {
        let one = gemm_gflops((n, k, m), Product::Packed, 1, Split::Rows);
        let mut row = json!({
            "shape": format!("{n}x{k}x{m}"),
            "one_thread": one,
            "threads": cores,
        });
        if cores > 1 {
            let p = Product::Packed;
            row["rows"] = json!(gemm_gflops((n, k, m), p, cores, Split::Rows));
            row["columns"] =
                json!(gemm_gflops((n, k, m), p, cores, Split::Columns));
        }
        out.push(row);
    }
    out
}

/// Every rate the report lists: the shapes inside the loop over time
/// (batch × hiddens × gates · hiddens, forward and back) on one thread,
/// and [`square_rates`].
pub fn rates(cores: usize) -> Vec<Value> {
    let steps = [(32, 256, 768), (32, 256, 1024), (32, 1024, 256)];
    let mut rows: Vec<Value> = steps
        .into_iter()
        .flat_map(|shape| {
            [Product::Ndarray, Product::Packed]
                .map(|p| rate(shape, p, 1, "start"))
        })
        .collect();
    rows.extend(square_rates(cores, "start"));
    rows
}

/// The large square product on one thread and on `cores`, through
/// ndarray and through the kernel, labelled with `when` in the run
/// (start, end).
pub fn square_rates(cores: usize, when: &str) -> Vec<Value> {
    let square = (PEAK_SIDE, PEAK_SIDE, PEAK_SIDE);
    let mut thread_counts = vec![1];
    if cores > 1 {
        thread_counts.push(cores);
    }
    thread_counts
        .into_iter()
        .flat_map(|t| {
            [Product::Ndarray, Product::Packed]
                .map(|p| rate(square, p, t, when))
        })
        .collect()
}

fn rate(
    (n, k, m): (usize, usize, usize),
    product: Product,
    threads: usize,
    when: &str,
) -> Value {
    json!({
        "shape": format!("{n}x{k}x{m}"),
        "product": product.name(),
        "threads": threads,
        "when": when,
        "gflops": gemm_gflops((n, k, m), product, threads, Split::Rows),
    })
}

/// The machine's practical peak: the best rate of the large square
/// product on every core, whichever code multiplied.
pub fn peak(rates: &[Value], cores: usize) -> f64 {
    let square = format!("{PEAK_SIDE}x{PEAK_SIDE}x{PEAK_SIDE}");
    rates
        .iter()
        .filter(|r| r["shape"] == square.as_str())
        .filter(|r| r["threads"].as_u64() == Some(cores as u64))
        .filter_map(|r| r["gflops"].as_f64())
        .fold(f64::NAN, f64::max)
}
