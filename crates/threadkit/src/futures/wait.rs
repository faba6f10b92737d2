//! [`wait`] and [`as_completed`]: waiting on many futures at once (CPython's
//! `concurrent.futures._base.wait` and `as_completed`).

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use super::future::{Future, FutureError, FutureState};
use crate::deadline::{wait_while, Deadline, NoInterrupt, WaitOutcome};
use crate::sync::{Condvar, Mutex};

/// Collects completions for [`wait`] and [`as_completed`].
pub(super) struct Waiter {
    state: Mutex<WaiterState>,
    cv: Condvar,
}

#[derive(Default)]
struct WaiterState {
    /// Indices of futures that completed, in completion order.
    completed: VecDeque<usize>,
    exception: bool,
}

impl Waiter {
    fn new() -> std::sync::Arc<Waiter> {
        std::sync::Arc::new(Waiter {
            state: Mutex::new(WaiterState::default()),
            cv: Condvar::new(),
        })
    }

    pub(super) fn add(&self, index: usize, exception: bool) {
        let mut s = self.state.lock();
        s.completed.push_back(index);
        s.exception |= exception;
        drop(s);
        self.cv.notify_all();
    }
}

/// Registers `waiter` on the futures not yet complete; returns the indices already complete.
/// "Complete" is CPython's: FINISHED or CANCELLED_AND_NOTIFIED.
fn install_waiter<T>(fs: &[Future<T>], waiter: &std::sync::Arc<Waiter>) -> Vec<(usize, bool)> {
    let mut already = Vec::new();
    for (i, f) in fs.iter().enumerate() {
        let mut core = f.inner.core.lock();
        match f.state() {
            FutureState::Finished => {
                already.push((i, matches!(f.inner.outcome.get(), Some(Err(_)))));
            }
            FutureState::CancelledAndNotified => already.push((i, false)),
            _ => core.waiters.push((waiter.clone(), i)),
        }
    }
    already
}

fn remove_waiter<T>(fs: &[Future<T>], waiter: &std::sync::Arc<Waiter>) {
    for f in fs {
        f.inner
            .core
            .lock()
            .waiters
            .retain(|(w, _)| !std::sync::Arc::ptr_eq(w, waiter));
    }
}

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
///
/// ```
/// assert_ne!(threadkit::ReturnWhen::AllCompleted, threadkit::ReturnWhen::FirstCompleted);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future finishes or is cancelled.
    FirstCompleted,
    /// As soon as any future finishes with an error; else when all complete.
    FirstException,
    /// When all futures finish or are cancelled.
    AllCompleted,
}

/// The result of [`wait`]: indices into the slice given, each list in ascending order.
///
/// ```
/// let f = threadkit::Future::new();
/// f.set_result(()).unwrap();
/// let r = threadkit::wait(&[f], None, threadkit::ReturnWhen::AllCompleted);
/// assert_eq!((r.done, r.not_done), (vec![0], vec![]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitResult {
    /// Futures that completed (finished, or cancelled).
    pub done: Vec<usize>,
    /// The others.
    pub not_done: Vec<usize>,
}

/// Waits for the futures as `return_when` says, at most `timeout`: Python's
/// `concurrent.futures.wait`. Returns which are done and which are not, as indices into `fs`.
///
/// ```
/// use threadkit::{wait, ReturnWhen, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(2);
/// let fs: Vec<_> = (0..4).map(|i| pool.submit(move || i).unwrap()).collect();
/// let r = wait(&fs, None, ReturnWhen::AllCompleted);
/// assert_eq!(r.done, [0, 1, 2, 3]);
/// ```
pub fn wait<T>(fs: &[Future<T>], timeout: Option<Duration>, return_when: ReturnWhen) -> WaitResult {
    let deadline = Deadline::from_timeout(timeout);
    let waiter = Waiter::new();
    let already = install_waiter(fs, &waiter);
    for (i, e) in already {
        waiter.add(i, e);
    }
    let total = fs.len();
    let g = waiter.state.lock();
    let (g, _) = wait_while(
        &waiter.state,
        &waiter.cv,
        g,
        deadline,
        &mut NoInterrupt,
        |s| {
            let n = s.completed.len();
            match return_when {
                ReturnWhen::FirstCompleted => n == 0 && total > 0,
                ReturnWhen::FirstException => !s.exception && n < total,
                ReturnWhen::AllCompleted => n < total,
            }
        },
    );
    drop(g);
    remove_waiter(fs, &waiter);
    let mut r = WaitResult::default();
    for (i, f) in fs.iter().enumerate() {
        if matches!(
            f.state(),
            FutureState::Finished | FutureState::CancelledAndNotified
        ) {
            r.done.push(i);
        } else {
            r.not_done.push(i);
        }
    }
    r
}

/// Yields the indices of the futures as they complete (finished, or cancelled and notified),
/// giving up at `timeout` from the call: Python's `concurrent.futures.as_completed`. Each item
/// is `Ok(index)`, or one `Err(FutureError::Timeout)` after which the iterator ends.
///
/// ```
/// use threadkit::{as_completed, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(2);
/// let fs: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
/// let mut seen: Vec<usize> = as_completed(&fs, None).map(Result::unwrap).collect();
/// seen.sort();
/// assert_eq!(seen, [0, 1, 2]);
/// ```
pub fn as_completed<T>(fs: &[Future<T>], timeout: Option<Duration>) -> AsCompleted<'_, T> {
    let deadline = Deadline::from_timeout(timeout);
    let waiter = Waiter::new();
    let already = install_waiter(fs, &waiter);
    {
        // Already-complete futures first, in the order given.
        let mut s = waiter.state.lock();
        let mut front: VecDeque<usize> = already.into_iter().map(|(i, _)| i).collect();
        front.append(&mut s.completed);
        s.completed = front;
    }
    AsCompleted {
        fs,
        waiter,
        deadline,
        remaining: fs.len(),
    }
}

/// The iterator of [`as_completed`].
///
/// ```
/// use threadkit::{as_completed, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(2);
/// let fs = vec![pool.submit(|| 1).unwrap(), pool.submit(|| 2).unwrap()];
/// let mut seen: Vec<usize> = as_completed(&fs, None).map(|r| r.unwrap()).collect();
/// seen.sort();
/// assert_eq!(seen, vec![0, 1]);
/// ```
pub struct AsCompleted<'a, T> {
    fs: &'a [Future<T>],
    waiter: std::sync::Arc<Waiter>,
    deadline: Deadline,
    remaining: usize,
}

impl<T> Iterator for AsCompleted<'_, T> {
    type Item = Result<usize, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let g = self.waiter.state.lock();
        let (mut g, outcome) = wait_while(
            &self.waiter.state,
            &self.waiter.cv,
            g,
            self.deadline,
            &mut NoInterrupt,
            |s| s.completed.is_empty(),
        );
        if outcome != WaitOutcome::Ready {
            self.remaining = 0;
            return Some(Err(FutureError::Timeout));
        }
        self.remaining -= 1;
        g.completed.pop_front().map(Ok)
    }
}

impl<T> Drop for AsCompleted<'_, T> {
    fn drop(&mut self) {
        remove_waiter(self.fs, &self.waiter);
    }
}

impl<T> fmt::Debug for AsCompleted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}
