//! [`wait`] and [`as_completed`]: waiting on many futures at once (CPython's
//! `concurrent.futures._base.wait` and `as_completed`).

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use super::future::{Awaited, Future, FutureError, FutureState};
use crate::deadline::{Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{wait_while_watched, HeldBy, Label, Tag, WaitKind, WaitOn, Waitable, Waiting};
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

/// A wait for several futures as wait records see it (for [`wait`] and [`as_completed`]).
struct Several<'a, T> {
    waiter: &'a Waiter,
    futures: Vec<Awaited<'a, T>>,
    tag: &'a Tag,
    /// The wait ends when any one future completes (`FIRST_COMPLETED`, `as_completed`, or a
    /// single future); otherwise it needs them all, and has no holder this can name.
    any: bool,
}

impl<'a, T> Several<'a, T> {
    fn new(waiter: &'a Waiter, fs: &'a [Future<T>], tag: &'a Tag, any: bool) -> Self {
        Several {
            waiter,
            futures: fs.iter().map(Future::awaited).collect(),
            tag,
            any: any || fs.len() == 1,
        }
    }

    /// Starts the record of the wait.
    fn start(&self, deadline: Deadline) -> Waiting<'_> {
        Waiting::start(WaitOn::new(WaitKind::FuturesWait, self, self.tag), deadline)
    }
}

impl<T> Waitable for Several<'_, T> {
    fn label(&self) -> Label {
        self.tag.label.clone()
    }

    /// For a wait that any one future ends: the holders of all of them together, if each
    /// has certain holders (a done future, or one without known holders, ends or may end the
    /// wait: nobody known). Any of those threads can end the wait; it is stuck only if all are.
    fn held_by(&self, waiter: u64) -> HeldBy {
        if !self.any {
            return HeldBy::Unknown;
        }
        let mut all = Vec::new();
        for f in &self.futures {
            match f.held_by(waiter) {
                HeldBy::Thread {
                    ident,
                    certain: true,
                } => all.push(ident),
                HeldBy::AllOf(idents) => all.extend(idents),
                _ => return HeldBy::Unknown,
            }
        }
        all.sort_unstable();
        all.dedup();
        match all[..] {
            [] => HeldBy::Unknown,
            [ident] => HeldBy::Thread {
                ident,
                certain: true,
            },
            _ => HeldBy::AllOf(all),
        }
    }

    fn wakes(&self) -> bool {
        true
    }

    fn wake(&self) {
        let _g = self.waiter.state.lock();
        self.waiter.cv.notify_all();
    }
}

/// Removes the waiter from the futures when dropped (also when a deadlock unwinds the wait).
struct Installed<'a, T> {
    fs: &'a [Future<T>],
    waiter: &'a std::sync::Arc<Waiter>,
}

impl<T> Drop for Installed<'_, T> {
    fn drop(&mut self) {
        remove_waiter(self.fs, self.waiter);
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
#[track_caller]
pub fn wait<T>(fs: &[Future<T>], timeout: Option<Duration>, return_when: ReturnWhen) -> WaitResult {
    match wait_interruptible(
        fs,
        return_when,
        Deadline::from_timeout(timeout),
        &mut NoInterrupt,
    ) {
        Ok(r) => r,
        Err(Interrupted) => unreachable!("NoInterrupt never interrupts"),
    }
}

/// As [`wait`], until `deadline` at most, asking `interrupt` at its interval whether to give
/// up. Returns which futures are done when the wait ends (by `return_when`, or the deadline).
///
/// A wait that blocks is recorded as a wait of kind
/// [`FuturesWait`](crate::debug::WaitKind::FuturesWait) labelled with the caller's location,
/// and counted in [`contention`](crate::debug::contention). One that any single future ends
/// (`FirstCompleted`, or one future) is part of deadlocks found at block time when every
/// future has known holders, as [`Future::result`] is.
///
/// # Errors
/// [`Interrupted`] if `interrupt` stopped the wait; the futures are unaffected.
///
/// ```
/// use threadkit::{wait_interruptible, Deadline, Future, NoInterrupt, ReturnWhen};
/// let (a, b) = (Future::new(), Future::new());
/// a.set_result(1).unwrap();
/// let fs = [a, b];
/// let when = ReturnWhen::FirstCompleted;
/// let r = wait_interruptible(&fs, when, Deadline::never(), &mut NoInterrupt);
/// assert_eq!(r.map(|r| (r.done, r.not_done)), Ok((vec![0], vec![1])));
/// ```
#[track_caller]
pub fn wait_interruptible<T>(
    fs: &[Future<T>],
    return_when: ReturnWhen,
    deadline: Deadline,
    interrupt: &mut dyn Interrupt,
) -> Result<WaitResult, Interrupted> {
    let tag = Tag::here();
    let waiter = Waiter::new();
    let installed = Installed {
        fs,
        waiter: &waiter,
    };
    let already = install_waiter(fs, &waiter);
    for (i, e) in already {
        waiter.add(i, e);
    }
    let total = fs.len();
    let blocked = |s: &mut WaiterState| {
        let n = s.completed.len();
        match return_when {
            ReturnWhen::FirstCompleted => n == 0 && total > 0,
            ReturnWhen::FirstException => !s.exception && n < total,
            ReturnWhen::AllCompleted => n < total,
        }
    };
    let mut g = waiter.state.lock();
    if blocked(&mut g) {
        drop(g);
        let any = return_when == ReturnWhen::FirstCompleted;
        let target = Several::new(&waiter, fs, &tag, any);
        let waiting = target.start(deadline);
        waiting.check_deadlock(interrupt)?;
        let g = waiter.state.lock();
        let (g, outcome) = wait_while_watched(
            &waiting,
            &waiter.state,
            &waiter.cv,
            g,
            deadline,
            interrupt,
            blocked,
        );
        drop(g);
        if outcome == WaitOutcome::Interrupted {
            return Err(Interrupted);
        }
    } else {
        drop(g);
    }
    drop(installed);
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
    Ok(r)
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
///
/// A wait for the next future that blocks is recorded as in [`wait_interruptible`] (with the
/// location of the `as_completed` call), and is part of deadlocks found at block time while
/// every future is still pending or running with known holders.
#[track_caller]
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
        tag: Tag::here(),
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
    /// The label (the `as_completed` call) and contention counters of its waits.
    tag: Tag,
}

impl<T> AsCompleted<'_, T> {
    /// The next item, as [`Iterator::next`], asking `interrupt` at its interval whether to give
    /// up while it waits: an interrupted wait yields `Err(FutureError::Interrupted)` and, unlike
    /// a timeout, does not end the iteration (the next call waits again).
    ///
    /// ```
    /// use threadkit::{as_completed, Future, NoInterrupt};
    /// let f = Future::new();
    /// f.set_result(()).unwrap();
    /// let fs = [f];
    /// let mut it = as_completed(&fs, None);
    /// assert_eq!(it.next_interruptible(&mut NoInterrupt).map(|r| r.ok()), Some(Some(0)));
    /// assert!(it.next_interruptible(&mut NoInterrupt).is_none());
    /// ```
    pub fn next_interruptible(
        &mut self,
        interrupt: &mut dyn Interrupt,
    ) -> Option<Result<usize, FutureError>> {
        if self.remaining == 0 {
            return None;
        }
        let empty = self.waiter.state.lock().completed.is_empty();
        let outcome = if empty {
            let target = Several::new(&self.waiter, self.fs, &self.tag, true);
            let waiting = target.start(self.deadline);
            if waiting.check_deadlock(interrupt).is_err() {
                return Some(Err(FutureError::Interrupted));
            }
            let (g, outcome) = wait_while_watched(
                &waiting,
                &self.waiter.state,
                &self.waiter.cv,
                self.waiter.state.lock(),
                self.deadline,
                interrupt,
                |s| s.completed.is_empty(),
            );
            // Before the record goes: a thread handing this one a deadlock takes the record's
            // slot, then the waiter's mutex (`Several::wake`).
            drop(g);
            outcome
        } else {
            WaitOutcome::Ready
        };
        // Only this iterator takes completions out: one that was there is there still.
        let mut g = self.waiter.state.lock();
        match outcome {
            WaitOutcome::Ready => {}
            WaitOutcome::Interrupted => return Some(Err(FutureError::Interrupted)),
            WaitOutcome::TimedOut => {
                self.remaining = 0;
                return Some(Err(FutureError::Timeout));
            }
        }
        self.remaining -= 1;
        g.completed.pop_front().map(Ok)
    }
}

impl<T> Iterator for AsCompleted<'_, T> {
    type Item = Result<usize, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_interruptible(&mut NoInterrupt)
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
