//! Data parallelism over the minibatch. The sequences of a minibatch do not
//! interact: each has its own hidden state, and the loss is a mean over
//! all tokens. So the batch can be cut into row blocks, one per thread,
//! each block run through the very same [`Minibatch::run`] as the whole
//! batch, and the results put back together:
//!
//! - the loss is the mean of the blocks' losses, weighted by their rows;
//! - each parameter gradient is the same weighted sum of the blocks'
//!   gradients;
//! - each block's final state is its rows of the batch's final state, and
//!   its initial state's gradient, weighted the same way, its rows of the
//!   batch's.
//!
//! Only the order of the sums changes, so the result agrees with one
//! thread to rounding (a test checks 10⁻¹² in f64).

use super::rnn_model::{Grads, Minibatch};
use super::CodePath;
use crate::data::Batch;
use crate::fast::Sequence;
use crate::rnn::{scale, zero, Tensors};
use ndarray::{s, Axis, NdFloat};
use std::ops::Range;

// ANCHOR: row_blocks
/// Cuts `n` rows into `parts` contiguous blocks whose sizes differ by at
/// most one (fewer blocks when there are fewer rows).
pub fn row_blocks(n: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    let (size, extra) = (n / parts, n % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = size + usize::from(i < extra);
            let block = start..start + len;
            start += len;
            block
        })
        .collect()
}
// ANCHOR_END: row_blocks

/// Rows `rows` of every tensor of `t`, into `part`, a structure of the
/// block's size (every tensor of a state has the batch on axis 0).
fn take_rows<F: NdFloat, T: Tensors<F>>(
    t: &T,
    mut part: T,
    rows: &Range<usize>,
) -> T {
    for ((_, mut dst), (_, src)) in part.named_mut().into_iter().zip(t.named())
    {
        dst.assign(&src.slice_axis(Axis(0), rows.clone().into()));
    }
    part
}

/// Writes `part` back into rows `rows` of `t`.
fn put_rows<F: NdFloat, T: Tensors<F>>(
    t: &mut T,
    part: &T,
    rows: &Range<usize>,
) {
    for ((_, mut dst), (_, src)) in t.named_mut().into_iter().zip(part.named())
    {
        dst.slice_axis_mut(Axis(0), rows.clone().into())
            .assign(&src);
    }
}

/// `acc += factor · t`, tensor by tensor.
fn add_scaled<F: NdFloat, T: Tensors<F>>(acc: &mut T, t: &T, factor: f64) {
    let factor = F::from(factor).expect("factor fits in F");
    for ((_, mut a), (_, b)) in acc.named_mut().into_iter().zip(t.named()) {
        a.scaled_add(factor, &b);
    }
}

// ANCHOR: run_split
impl<F: NdFloat, C: Sequence<F>> Minibatch<'_, '_, F, C> {
    /// [`Minibatch::run`] with the batch split between `threads` threads.
    /// Same results (to rounding).
    pub fn run_split(
        &self,
        state: &mut C::State,
        (cell_grads, output_grads): Grads<'_, F, C>,
        (threads, path): (usize, CodePath),
    ) -> (f64, C::State) {
        let Minibatch {
            cell,
            params,
            output,
            batch,
            mask,
        } = *self;
        let n = batch.batch_size();
        let blocks = row_blocks(n, threads);
        let results: Vec<_> = std::thread::scope(|scope| {
            let workers: Vec<_> = blocks
                .iter()
                .map(|rows| {
                    let part = Batch {
                        x: batch.x.slice(s![rows.clone(), ..]).to_owned(),
                        y: batch.y.slice(s![rows.clone(), ..]).to_owned(),
                    };
                    let mask = mask.map(|m| m.slice_move(s![rows.clone(), ..]));
                    let zeros = cell.zero_state(rows.len());
                    let mut state = take_rows(state, zeros, rows);
                    let rows = rows.clone();
                    scope.spawn(move || {
                        // This thread's rows of any masks inside the cell.
                        let cell = cell.mask_rows(rows);
                        let mut grads =
                            (params.zeros_like(), output.zeros_like());
                        let part = Minibatch {
                            cell: &cell,
                            batch: &part,
                            mask,
                            ..*self
                        };
                        let (loss, d_state0) = part.run(
                            path,
                            &mut state,
                            (&mut grads.0, &mut grads.1),
                        );
                        (loss, d_state0, state, grads)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
                })
                .collect()
        });
        zero(cell_grads);
        zero(output_grads);
        let mut loss = 0.0;
        let mut d_state0 = cell.zero_state(n);
        for (rows, (l, mut d0, s, (cg, og))) in blocks.iter().zip(results) {
            // A block's loss is the mean over its own rows: its share of the
            // batch's mean is rows / n, and so is the share of its gradients.
            let weight = rows.len() as f64 / n as f64;
            loss += weight * l;
            add_scaled(cell_grads, &cg, weight);
            add_scaled(output_grads, &og, weight);
            scale(&mut d0, weight);
            put_rows(state, &s, rows);
            put_rows(&mut d_state0, &d0, rows);
        }
        (loss, d_state0)
    }
}
// ANCHOR_END: run_split

// ANCHOR: keep_freed_memory
/// Asks the C allocator to keep freed memory for reuse instead of handing
/// it back to the system. The fast path allocates a few matrices of
/// several MB per minibatch; by default glibc maps each one fresh from
/// the system and unmaps it when freed, and the page faults of touching
/// new pages cost about a sixth of a minibatch's time. One arena for all
/// threads lets the threads of the next minibatch reuse the blocks the
/// last ones freed, instead of each keeping its own. Does nothing outside
/// glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called with
    // documented parameters and valid values.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
// ANCHOR_END: keep_freed_memory
