//! The engine's threads: a team that runs the loop over time together.
//!
//! The sequences of a minibatch could each go to a thread of their own
//! ([`crate::model::parallel`] does that on the teaching path), but every
//! thread would then multiply half the batch by all of the weights, lay
//! the weights out again, and add its gradients into the others'. On the
//! fast path the threads work on one sequence instead, in two phases per
//! step, a barrier after each:
//!
//! - **the product** `H_{t−1} W_h`: each member computes a block of its
//!   columns for all the rows of the batch, with its own block of the
//!   weights laid out once;
//! - **the cell's arithmetic**, which is row by row: each member does a
//!   block of the rows.
//!
//! Every entry is then computed by the same operations in the same order
//! as on one thread, so the result does not depend on the number of
//! threads at all (a test checks it bit for bit). The products after the
//! loop are cut by columns the same way ([`add_mat_mul`]).
//!
//! The number of threads is set for a stretch of code with
//! [`with_threads`]; the engine reads it with [`threads`].

use ndarray::linalg::general_mat_mul;
use ndarray::{
    s, Array2, ArrayView2, ArrayViewMut2, Axis, NdFloat, ShapeBuilder,
};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

thread_local! {
    static THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(1) };
}

/// Runs `f` with the engine's products and steps cut between `n` threads
/// (this one and `n − 1` helpers).
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREADS.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(THREADS.with(|t| t.replace(n.max(1))));
    f()
}

/// How many threads the engine uses here (1 unless [`with_threads`]).
pub fn threads() -> usize {
    THREADS.with(|t| t.get())
}

// ANCHOR: blocks
/// Cuts `0..n` into `parts` contiguous blocks whose boundaries are
/// multiples of `align` (except the end), as even as that allows. Some
/// blocks are empty when `n` is small.
pub fn blocks(n: usize, parts: usize, align: usize) -> Vec<Range<usize>> {
    let parts = parts.max(1);
    let units = n.div_ceil(align.max(1));
    let (size, extra) = (units / parts, units % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = (size + usize::from(i < extra)) * align;
            let block = start.min(n)..(start + len).min(n);
            start += len;
            block
        })
        .collect()
}
// ANCHOR_END: blocks

/// A barrier that spins: at one wait per phase and a phase of a few dozen
/// microseconds, putting a thread to sleep and waking it would cost as
/// much as the phase. After a while it yields, in case the machine has
/// fewer free cores than the team has members.
struct SpinBarrier {
    count: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    /// Set when a member panics, so that the others stop waiting for it.
    broken: AtomicBool,
}

impl SpinBarrier {
    fn wait(&self) {
        if self.count == 1 {
            return;
        }
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.count {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            assert!(
                !self.broken.load(Ordering::Relaxed),
                "another thread of the engine's team panicked"
            );
            if spins < 1 << 12 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Marks the barrier broken if its member unwinds.
struct BreakOnPanic<'b>(&'b SpinBarrier);

impl Drop for BreakOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.broken.store(true, Ordering::Relaxed);
        }
    }
}

/// One thread of a team: which one, of how many, and the barrier.
pub struct Member<'b> {
    pub index: usize,
    pub count: usize,
    barrier: &'b SpinBarrier,
}

impl Member<'_> {
    /// Waits until every member has reached this point: what each wrote
    /// before is then visible to all.
    pub fn wait(&self) {
        self.barrier.wait();
    }

    /// This member's block of `0..n` ([`blocks`]).
    pub fn block(&self, n: usize, align: usize) -> Range<usize> {
        blocks(n, self.count, align)[self.index].clone()
    }
}

/// Runs `work` on `count` threads at once (this one and `count − 1`
/// helpers), each with its own [`Member`]. A panic in one reaches the
/// caller; the others stop at their next wait.
pub fn run_team(count: usize, work: impl Fn(&Member) + Sync) {
    let barrier = SpinBarrier {
        count: count.max(1),
        arrived: AtomicUsize::new(0),
        generation: AtomicUsize::new(0),
        broken: AtomicBool::new(false),
    };
    let member = |index| Member {
        index,
        count: barrier.count,
        barrier: &barrier,
    };
    if barrier.count == 1 {
        return work(&member(0));
    }
    let (work, barrier) = (&work, &barrier);
    std::thread::scope(|scope| {
        for index in 1..barrier.count {
            scope.spawn(move || {
                let _guard = BreakOnPanic(barrier);
                work(&member(index));
            });
        }
        let _guard = BreakOnPanic(barrier);
        work(&member(0));
    });
}

/// A matrix that the members of a team read and write in blocks, each
/// block written by one member between two barriers.
#[derive(Clone, Copy)]
pub struct Shared<'a, F> {
    ptr: *mut F,
    dim: (usize, usize),
    _borrow: PhantomData<&'a mut [F]>,
}

// SAFETY: a `Shared` is a `&mut` to the matrix cut into blocks; the
// callers of its unsafe methods promise that no two threads touch an entry
// between barriers while one of them writes it.
unsafe impl<F: Send + Sync> Send for Shared<'_, F> {}
unsafe impl<F: Send + Sync> Sync for Shared<'_, F> {}

impl<'a, F> Shared<'a, F> {
    /// # Panics
    /// If `m` is not row-major and contiguous.
    pub fn new(m: &'a mut Array2<F>) -> Self {
        assert!(m.is_standard_layout(), "Shared: a row-major matrix");
        Self {
            dim: m.dim(),
            ptr: m.as_mut_ptr(),
            _borrow: PhantomData,
        }
    }

    fn offset(&self, rows: &Range<usize>, cols: &Range<usize>) -> usize {
        let (r, c) = self.dim;
        if rows.is_empty() || cols.is_empty() {
            // An empty view: any in-bounds pointer will do.
            return 0;
        }
        assert!(
            rows.start <= rows.end && rows.end <= r,
            "Shared: rows {rows:?} of {r}"
        );
        assert!(
            cols.start <= cols.end && cols.end <= c,
            "Shared: columns {cols:?} of {c}"
        );
        rows.start * c + cols.start
    }

    /// The block `rows × cols`, to read.
    ///
    /// # Safety
    /// No other thread writes these entries until the view is dropped.
    pub unsafe fn block(
        &self,
        rows: Range<usize>,
        cols: Range<usize>,
    ) -> ArrayView2<'a, F> {
        let at = self.offset(&rows, &cols);
        let shape = (rows.len(), cols.len()).strides((self.dim.1, 1));
        // SAFETY: in bounds (checked by `offset`); the caller promises no
        // concurrent writer.
        unsafe { ArrayView2::from_shape_ptr(shape, self.ptr.add(at)) }
    }

    /// The block `rows × cols`, to write.
    ///
    /// # Safety
    /// No other thread reads or writes these entries until the view is
    /// dropped.
    pub unsafe fn block_mut(
        &self,
        rows: Range<usize>,
        cols: Range<usize>,
    ) -> ArrayViewMut2<'a, F> {
        let at = self.offset(&rows, &cols);
        let shape = (rows.len(), cols.len()).strides((self.dim.1, 1));
        // SAFETY: as for `block`, and no other reader either.
        unsafe { ArrayViewMut2::from_shape_ptr(shape, self.ptr.add(at)) }
    }

    /// All the columns of `rows`, to read.
    ///
    /// # Safety
    /// As for [`Shared::block`].
    pub unsafe fn rows(&self, rows: Range<usize>) -> ArrayView2<'a, F> {
        unsafe { self.block(rows, 0..self.dim.1) }
    }

    /// All the columns of `rows`, to write.
    ///
    /// # Safety
    /// As for [`Shared::block_mut`].
    pub unsafe fn rows_mut(&self, rows: Range<usize>) -> ArrayViewMut2<'a, F> {
        unsafe { self.block_mut(rows, 0..self.dim.1) }
    }
}

// ANCHOR: add_mat_mul
/// `C_i = β C_i + A_i B_i` for every product `(A_i, B_i, C_i)`, with the
/// columns of each C cut between the engine's [`threads`]: each thread
/// computes its block of every product, with ndarray's `general_mat_mul`.
/// Each entry is the same sum as on one thread.
pub fn add_mat_mul<F: NdFloat>(
    beta: F,
    products: Vec<(ArrayView2<'_, F>, ArrayView2<'_, F>, ArrayViewMut2<'_, F>)>,
) {
    let count = threads();
    // Each thread's share of every product.
    let mut shares: Vec<Vec<_>> = (0..count).map(|_| Vec::new()).collect();
    for (a, b, c) in products {
        let mut rest = c;
        for (share, cols) in shares.iter_mut().zip(blocks(b.ncols(), count, 16))
        {
            let (mine, after) = rest.split_at(Axis(1), cols.len());
            rest = after;
            if !cols.is_empty() {
                share.push((a, b.slice_move(s![.., cols]), mine));
            }
        }
    }
    let multiply =
        |share: Vec<(ArrayView2<F>, ArrayView2<F>, ArrayViewMut2<F>)>| {
            for (a, b, mut c) in share {
                general_mat_mul(F::one(), &a, &b, beta, &mut c);
            }
        };
    let mut shares = shares.into_iter();
    let first = shares.next().unwrap_or_default();
    std::thread::scope(|scope| {
        for share in shares.filter(|s| !s.is_empty()) {
            scope.spawn(move || multiply(share));
        }
        multiply(first);
    });
}
// ANCHOR_END: add_mat_mul

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_range_on_aligned_boundaries() {
        assert_eq!(blocks(1024, 2, 16), vec![0..512, 512..1024]);
        assert_eq!(blocks(64, 3, 16), vec![0..32, 32..48, 48..64]);
        assert_eq!(blocks(10, 2, 16), vec![0..10, 10..10]);
        assert_eq!(blocks(33, 2, 16), vec![0..32, 32..33]);
        assert_eq!(blocks(32, 3, 1), vec![0..11, 11..22, 22..32]);
        for (n, parts, align) in [(0, 2, 16), (7, 4, 1), (300, 7, 16)] {
            let b = blocks(n, parts, align);
            assert_eq!(b.len(), parts);
            assert_eq!(b[0].start, 0);
            assert_eq!(b[parts - 1].end, n);
            assert!(b.windows(2).all(|w| w[0].end == w[1].start));
            assert!(b[..parts - 1].iter().all(|r| r.end % align == 0));
        }
    }

    #[test]
    fn a_team_sees_each_others_writes_after_a_wait() {
        let mut m = Array2::<f64>::zeros((4, 3));
        let shared = Shared::new(&mut m);
        run_team(4, |me| {
            for round in 0..100 {
                // Each member writes its row, then reads the others'.
                let mut mine =
                    unsafe { shared.rows_mut(me.index..me.index + 1) };
                mine.fill(round as f64);
                me.wait();
                let all = unsafe { shared.rows(0..4) };
                assert!(all.iter().all(|&v| v == round as f64));
                me.wait();
            }
        });
        assert!(m.iter().all(|&v| v == 99.0));
    }

    #[test]
    fn a_panic_in_one_member_reaches_the_caller() {
        let out = std::panic::catch_unwind(|| {
            run_team(2, |me| {
                assert!(me.index == 0, "member 1 fails");
                me.wait();
            })
        });
        assert!(out.is_err());
    }

    #[test]
    fn with_threads_restores_the_count() {
        assert_eq!(threads(), 1);
        with_threads(3, || assert_eq!(threads(), 3));
        assert_eq!(threads(), 1);
    }

    #[test]
    fn the_columns_cut_between_threads_give_the_same_product() {
        let a =
            Array2::from_shape_fn((5, 7), |(i, j)| (i * 7 + j) as f32 * 0.1);
        let b = Array2::from_shape_fn((7, 40), |(i, j)| {
            (i as f32 - j as f32).sin()
        });
        let mut want = Array2::<f32>::ones((5, 40));
        general_mat_mul(1.0, &a, &b, 0.5, &mut want);
        for n in [1, 2, 3] {
            let mut got = Array2::<f32>::ones((5, 40));
            with_threads(n, || {
                add_mat_mul(0.5, vec![(a.view(), b.view(), got.view_mut())])
            });
            assert_eq!(got, want, "{n} threads");
        }
    }
}
