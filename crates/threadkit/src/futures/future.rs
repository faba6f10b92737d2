//! [`Future`]: a result slot with CPython's state machine (`concurrent.futures._base.Future`).

use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::time::Duration;

use super::wait::Waiter;
use super::work_queue::{WorkQueue, Workers};
use crate::deadline::{Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{wait_while_watched, HeldBy, Label, Site, WaitKind, WaitOn, Waitable, Waiting};
use crate::ident::get_ident;
use crate::panic::catch_panic;
use crate::sync::{Arc, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};

/// The states of a [`Future`], as CPython's `concurrent.futures._base`.
///
/// ```
/// use threadkit::{Future, FutureState};
/// let f: Future<i32> = Future::new();
/// assert_eq!(f.state(), FutureState::Pending);
/// assert_eq!(FutureState::CancelledAndNotified.to_string(), "CANCELLED_AND_NOTIFIED");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FutureState {
    /// Not started.
    Pending,
    /// Being computed; can no longer be cancelled.
    Running,
    /// Cancelled while pending; the executor has not seen it yet.
    Cancelled,
    /// Cancelled, and the executor (or `set_running_or_notify_cancel`) acknowledged it.
    CancelledAndNotified,
    /// Has a result or an exception.
    Finished,
}

impl FutureState {
    const ALL: [FutureState; 5] = [
        FutureState::Pending,
        FutureState::Running,
        FutureState::Cancelled,
        FutureState::CancelledAndNotified,
        FutureState::Finished,
    ];

    /// CPython's name of the state (`"PENDING"`...).
    ///
    /// ```
    /// assert_eq!(threadkit::FutureState::Running.as_str(), "RUNNING");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            FutureState::Pending => "PENDING",
            FutureState::Running => "RUNNING",
            FutureState::Cancelled => "CANCELLED",
            FutureState::CancelledAndNotified => "CANCELLED_AND_NOTIFIED",
            FutureState::Finished => "FINISHED",
        }
    }

    /// Whether a future in this state is done: cancelled or finished.
    ///
    /// ```
    /// assert!(threadkit::FutureState::Cancelled.is_done());
    /// assert!(!threadkit::FutureState::Running.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            FutureState::Cancelled | FutureState::CancelledAndNotified | FutureState::Finished
        )
    }

    fn is_cancelled(&self) -> bool {
        matches!(
            self,
            FutureState::Cancelled | FutureState::CancelledAndNotified
        )
    }
}

impl fmt::Display for FutureState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`Future`] has instead of a value: how it failed, or why the wait for it ended.
///
/// ```
/// use threadkit::{FutureError, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(1);
/// let f = pool.submit(|| -> u8 { panic!("bad input") }).unwrap();
/// assert!(matches!(f.result(), Err(FutureError::Panicked(m)) if m == "bad input"));
/// ```
#[derive(Clone, Debug)]
pub enum FutureError {
    /// The future was cancelled (Python: `CancelledError`).
    Cancelled,
    /// The wait timed out; the future may still complete (Python: `TimeoutError`).
    Timeout,
    /// An [`Interrupt`] stopped the wait; the future may still complete.
    Interrupted,
    /// The task panicked with this message.
    Panicked(String),
    /// The pool could not run the task (Python: `BrokenThreadPool`).
    BrokenThreadPool(String),
    /// An error set by [`Future::set_exception`] (the Python bindings store the exception here).
    Exception(std::sync::Arc<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("cancelled"),
            FutureError::Timeout => f.write_str("timed out"),
            FutureError::Interrupted => f.write_str("wait interrupted"),
            FutureError::Panicked(m) => f.write_str(m),
            FutureError::BrokenThreadPool(m) => f.write_str(m),
            FutureError::Exception(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FutureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FutureError::Exception(e) => Some(&**e),
            _ => None,
        }
    }
}

/// A state change not allowed in the future's current state (Python: `InvalidStateError`, or
/// `RuntimeError('Future in unexpected state')` for `set_running_or_notify_cancel`).
///
/// ```
/// use threadkit::{Future, FutureState, InvalidStateError};
/// let f = Future::new();
/// f.set_result(1).unwrap();
/// assert_eq!(f.set_result(2), Err(InvalidStateError(FutureState::Finished)));
/// assert_eq!(InvalidStateError(FutureState::Finished).to_string(), "invalid state: FINISHED");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InvalidStateError(pub FutureState);

impl fmt::Display for InvalidStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid state: {}", self.0)
    }
}

impl std::error::Error for InvalidStateError {}

type Callback<T> = Box<dyn FnOnce(&Future<T>) + Send + 'static>;

pub(super) struct Core<T> {
    callbacks: Vec<Callback<T>>,
    pub(super) waiters: Vec<(std::sync::Arc<Waiter>, usize)>,
}

pub(super) struct FutureInner<T> {
    /// The state's index in `FutureState::ALL`; written under `core`, read anywhere.
    pub(super) state: AtomicUsize,
    pub(super) core: Mutex<Core<T>>,
    pub(super) cv: Condvar,
    /// Set once, under `core`, just before the state becomes FINISHED; read-only afterwards.
    pub(super) outcome: OnceLock<Result<T, FutureError>>,
    pub(super) runs: Runs,
}

/// Who can complete a future, as deadlock detection sees it (see [`Awaited`]).
pub(super) struct Runs {
    /// The thread that took the future to RUNNING (0: none yet); stored before the state.
    runner: AtomicU64,
    /// The workers of the pool the future was submitted to, set once at submit.
    pool: OnceLock<std::sync::Weak<Workers>>,
    /// Where the future was made: its label in wait records and deadlock reports.
    site: Mutex<Site>,
}

/// The result of an asynchronous computation: Python's `concurrent.futures.Future`.
///
/// A `Future` is a shared handle (clones are the same future). The value is kept inside and
/// read by reference as many times as wanted ([`Future::result`] returns `&T`); pools return
/// futures from [`ThreadPoolExecutor::submit`](crate::ThreadPoolExecutor::submit), and
/// [`Future::new`] makes a free-standing one that any thread completes with
/// [`Future::set_result`] / [`Future::set_exception`].
///
/// ```
/// use threadkit::Future;
/// let f = Future::new();
/// let g = f.clone();
/// std::thread::spawn(move || g.set_result(String::from("hi")).unwrap());
/// assert_eq!(f.result().unwrap(), "hi");
/// assert!(f.done());
/// ```
pub struct Future<T> {
    pub(super) inner: Arc<FutureInner<T>>,
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Future<T> {
    fn default() -> Self {
        Future::new()
    }
}

impl<T> Future<T> {
    /// A new pending future.
    ///
    /// ```
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert!(!f.done());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        Future {
            inner: Arc::new(FutureInner {
                state: AtomicUsize::new(0),
                core: Mutex::new(Core {
                    callbacks: Vec::new(),
                    waiters: Vec::new(),
                }),
                cv: Condvar::new(),
                outcome: OnceLock::new(),
                runs: Runs {
                    runner: AtomicU64::new(0),
                    pool: OnceLock::new(),
                    site: Mutex::new(Site::caller()),
                },
            }),
        }
    }

    /// What deadlock reports and thread dumps call the future when a thread waits for it:
    /// where it was made (the caller of [`Future::new`], or of
    /// [`ThreadPoolExecutor::submit`](crate::ThreadPoolExecutor::submit) for a pool's).
    ///
    /// ```
    /// let f: threadkit::Future<u8> = threadkit::Future::new();
    /// assert_eq!(f.label().site().line(), line!() - 1);
    /// assert_eq!(f.label().name(), None);
    /// ```
    pub fn label(&self) -> Label {
        self.inner.runs.label()
    }

    /// The future as wait records see it.
    pub(super) fn awaited(&self) -> Awaited<'_, T> {
        Awaited {
            state: &self.inner.state,
            runs: &self.inner.runs,
            core: &self.inner.core,
            cv: &self.inner.cv,
        }
    }

    /// Whether `self` and `other` are the same future.
    ///
    /// ```
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert!(f.ptr_eq(&f.clone()));
    /// assert!(!f.ptr_eq(&threadkit::Future::new()));
    /// ```
    pub fn ptr_eq(&self, other: &Future<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The current state.
    ///
    /// ```
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert_eq!(f.state(), threadkit::FutureState::Pending);
    /// ```
    pub fn state(&self) -> FutureState {
        FutureState::ALL[self.inner.state.load(Ordering::Acquire)]
    }

    fn set_state(&self, s: FutureState) {
        let idx = FutureState::ALL.iter().position(|x| *x == s).unwrap_or(0);
        self.inner.state.store(idx, Ordering::Release);
    }

    /// Whether the future was cancelled.
    ///
    /// ```
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// f.cancel();
    /// assert!(f.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.state().is_cancelled()
    }

    /// Whether the future is being computed.
    ///
    /// ```
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert!(f.set_running_or_notify_cancel().unwrap());
    /// assert!(f.running());
    /// ```
    pub fn running(&self) -> bool {
        self.state() == FutureState::Running
    }

    /// Whether the future is cancelled or finished.
    ///
    /// ```
    /// let f = threadkit::Future::new();
    /// f.set_result(()).unwrap();
    /// assert!(f.done());
    /// ```
    pub fn done(&self) -> bool {
        self.state().is_done()
    }

    /// Cancels the future if it is pending: returns whether it is cancelled (true also if it
    /// already was), false if it is running or finished. Runs the done-callbacks.
    ///
    /// ```
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert!(f.cancel());
    /// let g: threadkit::Future<()> = threadkit::Future::new();
    /// g.set_running_or_notify_cancel().unwrap();
    /// assert!(!g.cancel());
    /// ```
    pub fn cancel(&self) -> bool {
        let mut core = self.inner.core.lock();
        match self.state() {
            FutureState::Running | FutureState::Finished => return false,
            FutureState::Cancelled | FutureState::CancelledAndNotified => return true,
            FutureState::Pending => {}
        }
        self.set_state(FutureState::Cancelled);
        let callbacks = std::mem::take(&mut core.callbacks);
        drop(core);
        self.inner.cv.notify_all();
        self.invoke(callbacks);
        true
    }

    /// Marks the future running, or acknowledges its cancellation: returns `Ok(true)` if the
    /// caller should compute it (it was pending), `Ok(false)` if it was cancelled. For executors.
    ///
    /// # Errors
    /// [`InvalidStateError`] if it is running or finished (Python:
    /// `RuntimeError('Future in unexpected state')`).
    ///
    /// ```
    /// use threadkit::{Future, FutureState};
    /// let f: Future<()> = Future::new();
    /// f.cancel();
    /// assert_eq!(f.set_running_or_notify_cancel(), Ok(false));
    /// assert_eq!(f.state(), FutureState::CancelledAndNotified);
    /// ```
    pub fn set_running_or_notify_cancel(&self) -> Result<bool, InvalidStateError> {
        let mut core = self.inner.core.lock();
        match self.state() {
            FutureState::Cancelled => {
                self.set_state(FutureState::CancelledAndNotified);
                for (w, i) in core.waiters.drain(..) {
                    w.add(i, false);
                }
                Ok(false)
            }
            FutureState::Pending => {
                // Before the state, which a reader reads first (Awaited::held_by).
                self.inner.runs.runner.store(get_ident(), Ordering::Relaxed);
                self.set_state(FutureState::Running);
                Ok(true)
            }
            s => Err(InvalidStateError(s)),
        }
    }

    /// Completes the future with `value`; wakes waiters and runs the done-callbacks (in this
    /// thread).
    ///
    /// # Errors
    /// [`InvalidStateError`] if it is cancelled or finished.
    ///
    /// ```
    /// let f = threadkit::Future::new();
    /// f.set_result(5).unwrap();
    /// assert_eq!(*f.result().unwrap(), 5);
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError> {
        self.complete(Ok(value))
    }

    /// Completes the future with an error (Python's `set_exception`): `result()` returns it.
    ///
    /// # Errors
    /// [`InvalidStateError`] if it is cancelled or finished.
    ///
    /// ```
    /// use threadkit::{Future, FutureError};
    /// let f: Future<()> = Future::new();
    /// f.set_exception(FutureError::Panicked("no".into())).unwrap();
    /// assert!(matches!(f.exception(), Ok(Some(FutureError::Panicked(_)))));
    /// ```
    pub fn set_exception(&self, error: FutureError) -> Result<(), InvalidStateError> {
        self.complete(Err(error))
    }

    fn complete(&self, outcome: Result<T, FutureError>) -> Result<(), InvalidStateError> {
        let mut core = self.inner.core.lock();
        let s = self.state();
        if s.is_done() {
            return Err(InvalidStateError(s));
        }
        let is_err = outcome.is_err();
        if self.inner.outcome.set(outcome).is_err() {
            return Err(InvalidStateError(FutureState::Finished));
        }
        self.set_state(FutureState::Finished);
        for (w, i) in core.waiters.drain(..) {
            w.add(i, is_err);
        }
        let callbacks = std::mem::take(&mut core.callbacks);
        drop(core);
        self.inner.cv.notify_all();
        self.invoke(callbacks);
        Ok(())
    }

    fn invoke(&self, callbacks: Vec<Callback<T>>) {
        for cb in callbacks {
            if let Err(p) = catch_panic(|| cb(self)) {
                let _ = writeln!(
                    io::stderr().lock(),
                    "exception calling callback for {self:?}\n{}",
                    p.message
                );
            }
        }
    }

    /// Calls `f(&future)` when the future is done (finished or cancelled): at once, in this
    /// thread, if it already is; otherwise in the thread that completes it. Callbacks run in the
    /// order they were added; a panicking callback is reported to stderr and the others still run.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let f = threadkit::Future::new();
    /// let c = calls.clone();
    /// f.add_done_callback(move |f| { assert!(f.done()); c.fetch_add(1, Ordering::SeqCst); });
    /// f.set_result(()).unwrap();
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<T>) + Send + 'static) {
        let mut core = self.inner.core.lock();
        if !self.state().is_done() {
            core.callbacks.push(Box::new(f));
            return;
        }
        drop(core);
        self.invoke(vec![Box::new(f)]);
    }

    /// Blocks until the future is done.
    ///
    /// ```
    /// let f = threadkit::Future::new();
    /// f.set_result(()).unwrap();
    /// f.wait();
    /// ```
    pub fn wait(&self) {
        let _ = self.wait_interruptible(Deadline::never(), &mut NoInterrupt);
    }

    /// Waits until the future is done or `deadline`, asking `interrupt` at its interval whether
    /// to give up: `Ok(true)` once done, `Ok(false)` on timeout.
    ///
    /// Every wait for a future ([`Future::result`], [`Future::exception`] and their timed and
    /// interruptible forms) comes here. A wait that blocks is recorded (a thread dump shows
    /// it); an untimed one on a future of a [`ThreadPoolExecutor`](crate::ThreadPoolExecutor)
    /// is part of deadlocks found at block time: the future is held by the worker running it,
    /// or, while it is queued in a pool that cannot start another worker, by all the pool's
    /// workers (a deadlock then needs every one of them stuck). A pool of one worker whose task
    /// waits for another task of the same pool is the classic case: with
    /// [`DeadlockAction::Raise`](crate::debug::DeadlockAction::Raise) the wait panics with
    /// [`DeadlockError`](crate::debug::DeadlockError) (through
    /// [`Interrupt::on_deadlock`]). A free-standing future ([`Future::new`]) has no known
    /// holder: any thread may complete it.
    ///
    /// ```
    /// use threadkit::{Deadline, Future, NoInterrupt};
    /// let f: Future<()> = Future::new();
    /// assert_eq!(f.wait_interruptible(Deadline::now(), &mut NoInterrupt), Ok(false));
    /// ```
    pub fn wait_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        if self.done() {
            return Ok(true);
        }
        let target = self.awaited();
        let waiting = Waiting::start(WaitOn::uncounted(WaitKind::FutureResult, &target), deadline);
        waiting.check_deadlock(interrupt)?;
        let g = self.inner.core.lock();
        let (g, outcome) = wait_while_watched(
            &waiting,
            &self.inner.core,
            &self.inner.cv,
            g,
            deadline,
            interrupt,
            |_| !self.state().is_done(),
        );
        drop(g);
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    /// The outcome of a done future, without waiting.
    fn outcome(&self) -> Result<&T, FutureError> {
        match self.state() {
            FutureState::Finished => match self.inner.outcome.get() {
                Some(Ok(v)) => Ok(v),
                Some(Err(e)) => Err(e.clone()),
                None => unreachable!("a finished future has an outcome"),
            },
            s if s.is_cancelled() => Err(FutureError::Cancelled),
            _ => Err(FutureError::Timeout),
        }
    }

    /// Waits for the future and returns a reference to its value (any number of times).
    ///
    /// # Errors
    /// [`FutureError::Cancelled`], or the error it finished with.
    ///
    /// ```
    /// let f = threadkit::Future::new();
    /// f.set_result(vec![1, 2]).unwrap();
    /// assert_eq!(f.result().unwrap(), &[1, 2]);
    /// assert_eq!(f.result().unwrap().len(), 2);
    /// ```
    pub fn result(&self) -> Result<&T, FutureError> {
        self.result_until(Deadline::never())
    }

    /// As [`Future::result`], waiting at most `timeout` ([`FutureError::Timeout`] after).
    ///
    /// ```
    /// use std::time::Duration;
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert!(matches!(f.result_timeout(Duration::from_millis(5)), Err(threadkit::FutureError::Timeout)));
    /// ```
    pub fn result_timeout(&self, timeout: Duration) -> Result<&T, FutureError> {
        self.result_until(Deadline::after(timeout))
    }

    /// As [`Future::result`], waiting until `deadline` at most.
    ///
    /// ```
    /// let f = threadkit::Future::new();
    /// f.set_result(1).unwrap();
    /// assert_eq!(*f.result_until(threadkit::Deadline::now()).unwrap(), 1);
    /// ```
    pub fn result_until(&self, deadline: Deadline) -> Result<&T, FutureError> {
        self.result_interruptible(deadline, &mut NoInterrupt)
    }

    /// As [`Future::result`], waiting until `deadline` at most and asking `interrupt` whether to
    /// give up ([`FutureError::Interrupted`]).
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt};
    /// let f = threadkit::Future::new();
    /// f.set_result("x").unwrap();
    /// assert_eq!(*f.result_interruptible(Deadline::never(), &mut NoInterrupt).unwrap(), "x");
    /// ```
    pub fn result_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<&T, FutureError> {
        match self.wait_interruptible(deadline, interrupt) {
            Err(Interrupted) => Err(FutureError::Interrupted),
            Ok(_) => self.outcome(),
        }
    }

    /// Waits for the future and returns the error it finished with, `None` if it has a value
    /// (Python's `exception()`).
    ///
    /// # Errors
    /// [`FutureError::Cancelled`] if cancelled.
    ///
    /// ```
    /// let f = threadkit::Future::new();
    /// f.set_result(1).unwrap();
    /// assert!(f.exception().unwrap().is_none());
    /// ```
    pub fn exception(&self) -> Result<Option<FutureError>, FutureError> {
        self.exception_interruptible(Deadline::never(), &mut NoInterrupt)
    }

    /// As [`Future::exception`], waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// assert!(f.exception_timeout(Duration::ZERO).is_err());
    /// ```
    pub fn exception_timeout(&self, timeout: Duration) -> Result<Option<FutureError>, FutureError> {
        self.exception_interruptible(Deadline::after(timeout), &mut NoInterrupt)
    }

    /// As [`Future::exception`], waiting until `deadline` at most and asking `interrupt`.
    ///
    /// ```
    /// use threadkit::{Deadline, Future, FutureError, NoInterrupt};
    /// let f: Future<()> = Future::new();
    /// f.set_exception(FutureError::Cancelled).unwrap();
    /// assert!(f.exception_interruptible(Deadline::never(), &mut NoInterrupt).unwrap().is_some());
    /// ```
    pub fn exception_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<Option<FutureError>, FutureError> {
        match self.result_interruptible(deadline, interrupt) {
            Ok(_) => Ok(None),
            Err(e @ (FutureError::Timeout | FutureError::Interrupted)) => Err(e),
            Err(FutureError::Cancelled) if self.cancelled() => Err(FutureError::Cancelled),
            Err(e) => Ok(Some(e)),
        }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Runs {
    fn label(&self) -> Label {
        Label::new(None, *self.site.lock())
    }
}

/// A future as wait records see it: the parts a reader on another thread may touch, which are
/// `Sync` whatever the value's type (the value itself is never read).
pub(super) struct Awaited<'f, T> {
    state: &'f AtomicUsize,
    runs: &'f Runs,
    core: &'f Mutex<Core<T>>,
    cv: &'f Condvar,
}

impl<T> Waitable for Awaited<'_, T> {
    fn label(&self) -> Label {
        self.runs.label()
    }

    /// A future of a pool: while RUNNING, the thread running it (certain: the pool's worker
    /// completes it when the task returns, even if the task waits for the waiter itself); while
    /// PENDING, every worker of its pool if the pool cannot start another (see
    /// `Workers::held_by`). A free-standing future, or one that is done: nobody known.
    fn held_by(&self, _waiter: u64) -> HeldBy {
        let Some(workers) = self.runs.pool.get().and_then(std::sync::Weak::upgrade) else {
            return HeldBy::Unknown;
        };
        // Read-modify-writes read the latest values (crate::debug's detection notes). The
        // state only moves forward, and the runner is stored before RUNNING.
        match FutureState::ALL[self.state.fetch_add(0, Ordering::AcqRel)] {
            FutureState::Running => match self.runs.runner.fetch_add(0, Ordering::AcqRel) {
                0 => HeldBy::Unknown,
                ident => HeldBy::Thread {
                    ident,
                    certain: true,
                },
            },
            FutureState::Pending => workers.held_by(),
            _ => HeldBy::Unknown,
        }
    }

    fn wakes(&self) -> bool {
        true
    }

    fn wake(&self) {
        let _g = self.core.lock();
        self.cv.notify_all();
    }
}

/// The steps of a future's life that belong to a pool the Python bindings drive themselves:
/// the link from a future to the pool that will run it, and where the future was made.
///
/// Implemented for [`Future`].
///
/// ```
/// use threadkit::raw::{FutureExt, WorkQueue};
/// use threadkit::Future;
///
/// let queue: WorkQueue<Future<u8>> = WorkQueue::with_max_workers(1);
/// let f = Future::new();
/// f.set_pool(&queue);
/// queue.push(f.clone()).unwrap();
/// ```
pub trait FutureExt {
    /// The future will be run by a worker of the pool whose queue is `queue` (set once; later
    /// calls do nothing). From then on a thread waiting for it waits for the pool's workers (see
    /// [`Future::wait_interruptible`]), which is how a deadlock of a pool whose workers all
    /// wait for futures queued behind them is found. The pool's workers must report themselves
    /// to the queue ([`WorkQueue::worker_started`]), and the queue must know the pool's
    /// [`max_workers`](WorkQueue::with_max_workers).
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) in a Python pool's `submit`;
    /// [`ThreadPoolExecutor::submit`](crate::ThreadPoolExecutor::submit) does it itself.
    ///
    /// ```
    /// use threadkit::raw::{FutureExt, WorkQueue};
    /// let queue: WorkQueue<()> = WorkQueue::with_max_workers(2);
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// f.set_pool(&queue);
    /// ```
    fn set_pool<I>(&self, queue: &WorkQueue<I>);

    /// Sets where the future was made, as its [`label`](Future::label) shows it.
    ///
    /// For the Python bindings (`crates/threadkit-python`), to give a future the Python line
    /// that submitted it.
    ///
    /// ```
    /// use threadkit::debug::Site;
    /// use threadkit::raw::FutureExt;
    /// let f: threadkit::Future<()> = threadkit::Future::new();
    /// f.set_site(Site::intern("app.py", 3));
    /// assert_eq!(f.label().to_string(), "created at app.py:3");
    /// ```
    fn set_site(&self, site: Site);
}

impl<T> FutureExt for Future<T> {
    fn set_pool<I>(&self, queue: &WorkQueue<I>) {
        let _ = self.inner.runs.pool.set(queue.workers_link());
    }

    fn set_site(&self, site: Site) {
        *self.inner.runs.site.lock() = site;
    }
}
