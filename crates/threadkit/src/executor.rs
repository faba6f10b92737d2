//! [`ThreadPoolExecutor`] and [`Future`]: Python's `concurrent.futures.ThreadPoolExecutor` and
//! `concurrent.futures.Future`, plus the [`WorkQueue`] the pool's workers wait on.
//!
//! The pieces are usable on their own: a [`Future<T>`] is a result slot with CPython's state
//! machine (`PENDING`, `RUNNING`, `CANCELLED`, `CANCELLED_AND_NOTIFIED`, `FINISHED`), and a
//! [`WorkQueue<I>`] is a closable queue of opaque items with the pool's idle-worker count.
//! Neither calls user code except a future's done-callbacks, which a caller that must not run
//! foreign code here (the Python bindings) simply does not register.
//!
//! ```
//! use threadkit::ThreadPoolExecutor;
//!
//! let pool = ThreadPoolExecutor::new(4);
//! let futures: Vec<_> = (0..8u64).map(|i| pool.submit(move || i * i).unwrap()).collect();
//! let total: u64 = futures.iter().map(|f| *f.result().unwrap()).sum();
//! assert_eq!(total, 140);
//! let squares: Vec<u64> = pool.map(|i: u64| i * i, 0..4).unwrap().map(Result::unwrap).collect();
//! assert_eq!(squares, [0, 1, 4, 9]);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::ident::get_ident;
use crate::panic::catch_panic;
use crate::sync::{Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::thread::{is_shutting_down, register_exit_hook, Builder, Thread};

// ---------------------------------------------------------------------------------------------
// Future

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

struct Core<T> {
    callbacks: Vec<Callback<T>>,
    waiters: Vec<(std::sync::Arc<Waiter>, usize)>,
}

struct FutureInner<T> {
    /// The state's index in `FutureState::ALL`; written under `core`, read anywhere.
    state: AtomicUsize,
    core: Mutex<Core<T>>,
    cv: Condvar,
    /// Set once, under `core`, just before the state becomes FINISHED; read-only afterwards.
    outcome: OnceLock<Result<T, FutureError>>,
}

/// The result of an asynchronous computation: Python's `concurrent.futures.Future`.
///
/// A `Future` is a shared handle (clones are the same future). The value is kept inside and
/// read by reference as many times as wanted ([`Future::result`] returns `&T`); pools return
/// futures from [`ThreadPoolExecutor::submit`], and [`Future::new`] makes a free-standing one that
/// any thread completes with [`Future::set_result`] / [`Future::set_exception`].
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
    inner: Arc<FutureInner<T>>,
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
            }),
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
        let g = self.inner.core.lock();
        let (g, outcome) = wait_while(
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

// ---------------------------------------------------------------------------------------------
// wait / as_completed

/// Collects completions for [`wait`] and [`as_completed`].
struct Waiter {
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

    fn add(&self, index: usize, exception: bool) {
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

// ---------------------------------------------------------------------------------------------
// WorkQueue

/// What [`WorkQueue::pop_interruptible`] got.
///
/// ```
/// use threadkit::{Deadline, Pop, WorkQueue};
/// let q = WorkQueue::new();
/// q.push(1).unwrap();
/// assert_eq!(q.pop_until(Deadline::now()), Pop::Item(1));
/// assert_eq!(q.pop_until(Deadline::now()), Pop::TimedOut);
/// q.close();
/// assert_eq!(q.pop_until(Deadline::now()), Pop::<i32>::Closed);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pop<I> {
    /// The oldest item.
    Item(I),
    /// The queue is closed and empty: the worker should exit.
    Closed,
    /// The deadline passed with the queue empty.
    TimedOut,
}

struct WqState<I> {
    items: VecDeque<I>,
    closed: bool,
}

/// The pool's work queue: FIFO of opaque items that workers block on, closable (a closed queue
/// still hands out what it holds, then reports [`Pop::Closed`]), with the count of idle workers
/// (CPython's `_idle_semaphore`) that decides whether a submit starts a new worker.
///
/// ```
/// use threadkit::WorkQueue;
/// let q = WorkQueue::new();
/// q.push("job").unwrap();
/// q.close();
/// assert!(q.push("late").is_err());
/// assert_eq!(q.pop(), Some("job"));
/// assert_eq!(q.pop(), None);
/// ```
pub struct WorkQueue<I> {
    state: Mutex<WqState<I>>,
    cv: Condvar,
    idle: AtomicUsize,
}

impl<I> Default for WorkQueue<I> {
    fn default() -> Self {
        WorkQueue::new()
    }
}

impl<I> WorkQueue<I> {
    /// An empty, open queue with no idle workers.
    ///
    /// ```
    /// let q: threadkit::WorkQueue<u8> = threadkit::WorkQueue::new();
    /// assert!(q.is_empty());
    /// ```
    pub fn new() -> Self {
        WorkQueue {
            state: Mutex::new(WqState {
                items: VecDeque::new(),
                closed: false,
            }),
            cv: Condvar::new(),
            idle: AtomicUsize::new(0),
        }
    }

    /// Appends an item and wakes one waiting worker.
    ///
    /// # Errors
    /// Gives the item back if the queue is closed.
    ///
    /// ```
    /// let q = threadkit::WorkQueue::new();
    /// q.push(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn push(&self, item: I) -> Result<(), I> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(item);
        }
        s.items.push_back(item);
        drop(s);
        self.cv.notify_one();
        Ok(())
    }

    /// Takes the oldest item without blocking.
    ///
    /// ```
    /// let q = threadkit::WorkQueue::new();
    /// assert_eq!(q.try_pop(), None);
    /// q.push(2).unwrap();
    /// assert_eq!(q.try_pop(), Some(2));
    /// ```
    pub fn try_pop(&self) -> Option<I> {
        self.state.lock().items.pop_front()
    }

    /// Blocks for the oldest item; `None` once the queue is closed and empty.
    ///
    /// ```
    /// let q = threadkit::WorkQueue::new();
    /// q.push(3).unwrap();
    /// assert_eq!(q.pop(), Some(3));
    /// ```
    pub fn pop(&self) -> Option<I> {
        match self.pop_interruptible(Deadline::never(), &mut NoInterrupt) {
            Ok(Pop::Item(i)) => Some(i),
            _ => None,
        }
    }

    /// Waits until `deadline` at most for an item.
    ///
    /// ```
    /// use threadkit::{Deadline, Pop};
    /// let q: threadkit::WorkQueue<()> = threadkit::WorkQueue::new();
    /// assert_eq!(q.pop_until(Deadline::now()), Pop::TimedOut);
    /// ```
    pub fn pop_until(&self, deadline: Deadline) -> Pop<I> {
        self.pop_interruptible(deadline, &mut NoInterrupt)
            .unwrap_or(Pop::TimedOut)
    }

    /// Waits until `deadline` at most for an item, asking `interrupt` at its interval whether to
    /// give up.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Pop};
    /// let q = threadkit::WorkQueue::new();
    /// q.push('a').unwrap();
    /// assert_eq!(q.pop_interruptible(Deadline::never(), &mut NoInterrupt), Ok(Pop::Item('a')));
    /// ```
    pub fn pop_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<Pop<I>, Interrupted> {
        let g = self.state.lock();
        let (mut g, outcome) = wait_while(&self.state, &self.cv, g, deadline, interrupt, |s| {
            s.items.is_empty() && !s.closed
        });
        match outcome {
            WaitOutcome::Ready => Ok(match g.items.pop_front() {
                Some(i) => Pop::Item(i),
                None => Pop::Closed,
            }),
            WaitOutcome::TimedOut => Ok(Pop::TimedOut),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    /// Closes the queue: no more pushes; workers drain it, then get [`Pop::Closed`].
    ///
    /// ```
    /// let q: threadkit::WorkQueue<()> = threadkit::WorkQueue::new();
    /// q.close();
    /// assert!(q.is_closed());
    /// ```
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.cv.notify_all();
    }

    /// Whether [`WorkQueue::close`] was called.
    ///
    /// ```
    /// assert!(!threadkit::WorkQueue::<()>::new().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Removes and returns every queued item (for `shutdown(cancel_futures=True)`).
    ///
    /// ```
    /// let q = threadkit::WorkQueue::new();
    /// q.push(1).unwrap();
    /// q.push(2).unwrap();
    /// assert_eq!(q.drain(), [1, 2]);
    /// assert!(q.is_empty());
    /// ```
    pub fn drain(&self) -> Vec<I> {
        self.state.lock().items.drain(..).collect()
    }

    /// The number of queued items.
    ///
    /// ```
    /// assert_eq!(threadkit::WorkQueue::<()>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether no item is queued.
    ///
    /// ```
    /// assert!(threadkit::WorkQueue::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A worker finished an item and is idle again (CPython's `_idle_semaphore.release()`).
    ///
    /// ```
    /// let q: threadkit::WorkQueue<()> = threadkit::WorkQueue::new();
    /// q.release_idle();
    /// assert!(q.try_acquire_idle());
    /// assert!(!q.try_acquire_idle());
    /// ```
    pub fn release_idle(&self) {
        self.idle.fetch_add(1, Ordering::Release);
    }

    /// Takes one idle-worker token if there is one (CPython's `_idle_semaphore.acquire(timeout=0)`):
    /// true means an idle worker will take the new item, so no thread need be started.
    ///
    /// ```
    /// assert!(!threadkit::WorkQueue::<()>::new().try_acquire_idle());
    /// ```
    pub fn try_acquire_idle(&self) -> bool {
        let mut n = self.idle.load(Ordering::Acquire);
        while n > 0 {
            match self
                .idle
                .compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => n = actual,
            }
        }
        false
    }

    /// Resets the queue for a child process after `fork()`: empty, open, no idle workers.
    ///
    /// ```
    /// let q = threadkit::WorkQueue::new();
    /// q.push(1).unwrap();
    /// q.close();
    /// q.reinit_after_fork();
    /// assert!(q.is_empty() && !q.is_closed());
    /// ```
    pub fn reinit_after_fork(&self) {
        let mut s = self.state.lock();
        s.items.clear();
        s.closed = false;
        self.idle.store(0, Ordering::Release);
    }
}

impl<I> fmt::Debug for WorkQueue<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("WorkQueue")
            .field("len", &s.items.len())
            .field("closed", &s.closed)
            .field("idle", &self.idle.load(Ordering::Relaxed))
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// ThreadPoolExecutor

/// Why [`ThreadPoolExecutor::submit`] refused a task.
///
/// ```
/// use threadkit::{SubmitError, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(1);
/// pool.shutdown(true, false);
/// let e = pool.submit(|| ()).unwrap_err();
/// assert!(matches!(e, SubmitError::Shutdown));
/// assert_eq!(e.to_string(), "cannot schedule new futures after shutdown");
/// ```
#[derive(Debug)]
pub enum SubmitError {
    /// The pool was shut down (Python: `RuntimeError`).
    Shutdown,
    /// [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads) has begun (Python:
    /// `RuntimeError('cannot schedule new futures after interpreter shutdown')`).
    InterpreterShutdown,
    /// An initializer failed (Python: `BrokenThreadPool`); the message says so.
    Broken(String),
    /// A worker thread could not be started. The task was queued and runs if a worker exists.
    Spawn(io::Error),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Shutdown => f.write_str("cannot schedule new futures after shutdown"),
            SubmitError::InterpreterShutdown => {
                f.write_str("cannot schedule new futures after interpreter shutdown")
            }
            SubmitError::Broken(m) => f.write_str(m),
            SubmitError::Spawn(e) => write!(f, "can't start new thread: {e}"),
        }
    }
}

impl std::error::Error for SubmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SubmitError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// The message of a pool whose initializer failed (CPython's).
///
/// ```
/// assert!(threadkit::BROKEN_INITIALIZER.starts_with("A thread initializer failed"));
/// ```
pub const BROKEN_INITIALIZER: &str =
    "A thread initializer failed, the thread pool is not usable anymore";

/// A queued task: runs, or completes its future without running.
trait Job: Send {
    /// Runs the task; calls `idle` as soon as the worker is free again (after the task body,
    /// before the future completes and its callbacks run).
    fn run(self: Box<Self>, idle: &dyn Fn());
    fn cancel(self: Box<Self>);
    fn fail(self: Box<Self>, error: FutureError);
}

struct Task<F, T> {
    future: Future<T>,
    f: F,
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send + Sync,
{
    fn run(self: Box<Self>, idle: &dyn Fn()) {
        let Task { future, f } = *self;
        if future.set_running_or_notify_cancel() != Ok(true) {
            idle();
            return;
        }
        let outcome = catch_panic(f);
        // Idle before completing: a caller that submits again as soon as it sees this result
        // finds this worker idle rather than starting another (CPython marks it idle after the
        // result, which can start a needless thread).
        idle();
        let _ = match outcome {
            Ok(v) => future.set_result(v),
            Err(p) => future.set_exception(FutureError::Panicked(p.message)),
        };
    }

    fn cancel(self: Box<Self>) {
        self.future.cancel();
    }

    fn fail(self: Box<Self>, error: FutureError) {
        let _ = self.future.set_exception(error);
    }
}

type Initializer = std::sync::Arc<dyn Fn() + Send + Sync>;

struct PoolState {
    threads: Vec<Thread>,
    shutdown: bool,
    broken: Option<String>,
}

struct PoolShared {
    queue: WorkQueue<Box<dyn Job>>,
    max_workers: usize,
    prefix: String,
    initializer: Option<Initializer>,
    /// CPython's `_shutdown_lock`.
    state: Mutex<PoolState>,
}

impl PoolShared {
    fn initializer_failed(&self) {
        let drained = {
            let mut st = self.state.lock();
            st.broken = Some(BROKEN_INITIALIZER.to_string());
            self.queue.drain()
        };
        for job in drained {
            job.fail(FutureError::BrokenThreadPool(
                BROKEN_INITIALIZER.to_string(),
            ));
        }
    }
}

fn worker(shared: std::sync::Arc<PoolShared>) {
    if let Some(init) = &shared.initializer {
        if let Err(p) = catch_panic(|| init()) {
            let _ = writeln!(
                io::stderr().lock(),
                "Exception in initializer:\n{}",
                p.message
            );
            shared.initializer_failed();
            return;
        }
    }
    while let Some(job) = shared.queue.pop() {
        job.run(&|| shared.queue.release_idle());
    }
}

static POOL_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static POOLS: parking_lot::Mutex<Vec<std::sync::Weak<PoolShared>>> =
    parking_lot::Mutex::new(Vec::new());

/// The exit hook, registered with the thread registry when the first pool is built; runs at
/// program end ([`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads), which has
/// already set the registry's "shutting down" flag that `submit` checks): stops every pool
/// taking work, lets the workers finish what is queued, and joins them (CPython's
/// `concurrent.futures.thread._python_exit`).
fn shutdown_all_pools() {
    let pools: Vec<_> = POOLS.lock().iter().filter_map(|w| w.upgrade()).collect();
    let mut threads = Vec::new();
    for p in &pools {
        let st = p.state.lock();
        p.queue.close();
        threads.extend(st.threads.iter().cloned());
    }
    for t in threads {
        if t.ident() != Some(get_ident()) {
            let _ = t.join();
        }
    }
}

/// The default `max_workers`: `min(32, cpus + 4)`, as CPython.
fn default_max_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    32.min(cpus + 4)
}

/// Options of a [`ThreadPoolExecutor`]: `ThreadPoolExecutor(max_workers, thread_name_prefix,
/// initializer)`.
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("io")
///     .initializer(|| ())
///     .build();
/// let name = pool.submit(|| threadkit::current_thread().name()).unwrap();
/// assert_eq!(name.result().unwrap(), "io_0");
/// ```
#[derive(Default)]
pub struct ExecutorBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl ExecutorBuilder {
    /// The most worker threads (default `min(32, cpus + 4)`).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().max_workers(3).build();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Workers are named `<prefix>_N` (default prefix `ThreadPoolExecutor-K`, one K per pool).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().thread_name_prefix("db").build();
    /// assert_eq!(pool.thread_name_prefix(), "db");
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs in each worker before it takes work. If it panics, the pool is broken: queued and
    /// later tasks fail with [`FutureError::BrokenThreadPool`] / [`SubmitError::Broken`].
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().initializer(|| println!("hello")).build();
    /// pool.submit(|| ()).unwrap().result().unwrap();
    /// ```
    pub fn initializer(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.initializer = Some(std::sync::Arc::new(f));
        self
    }

    /// Makes the pool. No thread starts until work is submitted.
    ///
    /// # Panics
    /// If `max_workers` is 0 (Python: `ValueError('max_workers must be greater than 0')`).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().build();
    /// assert_eq!(pool.num_threads(), 0);
    /// ```
    pub fn build(self) -> ThreadPoolExecutor {
        let max_workers = self.max_workers.unwrap_or_else(default_max_workers);
        assert!(max_workers > 0, "max_workers must be greater than 0");
        let prefix = match self.prefix {
            Some(p) if !p.is_empty() => p,
            _ => format!(
                "ThreadPoolExecutor-{}",
                POOL_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
        };
        let shared = std::sync::Arc::new(PoolShared {
            queue: WorkQueue::new(),
            max_workers,
            prefix,
            initializer: self.initializer,
            state: Mutex::new(PoolState {
                threads: Vec::new(),
                shutdown: false,
                broken: None,
            }),
        });
        static EXIT_HOOK: std::sync::Once = std::sync::Once::new();
        EXIT_HOOK.call_once(|| register_exit_hook(shutdown_all_pools));
        {
            let mut pools = POOLS.lock();
            pools.retain(|w| w.strong_count() > 0);
            pools.push(std::sync::Arc::downgrade(&shared));
        }
        ThreadPoolExecutor { shared }
    }
}

impl fmt::Debug for ExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

/// A pool of threads running submitted tasks: Python's
/// `concurrent.futures.ThreadPoolExecutor`.
///
/// Workers start lazily, one per submit while there are fewer than `max_workers` and no idle
/// worker, and are reused. A panicking task fails its own future
/// ([`FutureError::Panicked`]) and the worker goes on. Dropping the pool shuts it down and
/// waits for the queued tasks (`with ThreadPoolExecutor() as pool:`).
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::new(2);
/// let f = pool.submit(|| 40 + 2).unwrap();
/// assert_eq!(*f.result().unwrap(), 42);
/// pool.shutdown(true, false);
/// assert!(pool.submit(|| 0).is_err());
/// ```
pub struct ThreadPoolExecutor {
    shared: std::sync::Arc<PoolShared>,
}

impl Default for ThreadPoolExecutor {
    fn default() -> Self {
        ThreadPoolExecutor::builder().build()
    }
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads, other options default.
    ///
    /// # Panics
    /// If `max_workers` is 0.
    ///
    /// ```
    /// assert_eq!(threadkit::ThreadPoolExecutor::new(4).max_workers(), 4);
    /// ```
    pub fn new(max_workers: usize) -> Self {
        ThreadPoolExecutor::builder()
            .max_workers(max_workers)
            .build()
    }

    /// Options: max workers, thread name prefix, initializer.
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().max_workers(1).build();
    /// # drop(pool);
    /// ```
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// The most worker threads.
    ///
    /// ```
    /// assert_eq!(threadkit::ThreadPoolExecutor::new(2).max_workers(), 2);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// The workers' name prefix.
    ///
    /// ```
    /// let p = threadkit::ThreadPoolExecutor::new(1);
    /// assert!(p.thread_name_prefix().starts_with("ThreadPoolExecutor-"));
    /// ```
    pub fn thread_name_prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// How many workers were started (they are kept until shutdown).
    ///
    /// ```
    /// let p = threadkit::ThreadPoolExecutor::new(4);
    /// p.submit(|| ()).unwrap().result().unwrap();
    /// assert_eq!(p.num_threads(), 1);
    /// ```
    pub fn num_threads(&self) -> usize {
        self.shared.state.lock().threads.len()
    }

    /// The workers' threads.
    ///
    /// ```
    /// let p = threadkit::ThreadPoolExecutor::new(4);
    /// p.submit(|| ()).unwrap().result().unwrap();
    /// assert!(p.threads()[0].name().ends_with("_0"));
    /// ```
    pub fn threads(&self) -> Vec<Thread> {
        self.shared.state.lock().threads.clone()
    }

    /// Schedules `f` and returns its future.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after [`ThreadPoolExecutor::shutdown`],
    /// [`SubmitError::Broken`] if an initializer failed, [`SubmitError::InterpreterShutdown`]
    /// once [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads) began,
    /// [`SubmitError::Spawn`] if a needed worker could not be started.
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| "ok").unwrap();
    /// assert_eq!(*f.result().unwrap(), "ok");
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let future = Future::new();
        let job: Box<dyn Job> = Box::new(Task {
            future: future.clone(),
            f,
        });
        let mut st = self.shared.state.lock();
        if let Some(b) = &st.broken {
            return Err(SubmitError::Broken(b.clone()));
        }
        if st.shutdown {
            return Err(SubmitError::Shutdown);
        }
        if is_shutting_down() {
            return Err(SubmitError::InterpreterShutdown);
        }
        if self.shared.queue.push(job).is_err() {
            return Err(SubmitError::Shutdown);
        }
        self.adjust_thread_count(&mut st)?;
        Ok(future)
    }

    /// CPython's `_adjust_thread_count`: start a worker unless an idle one will take the item.
    fn adjust_thread_count(&self, st: &mut PoolState) -> Result<(), SubmitError> {
        if self.shared.queue.try_acquire_idle() {
            return Ok(());
        }
        if st.threads.len() < self.shared.max_workers {
            let name = format!("{}_{}", self.shared.prefix, st.threads.len());
            let shared = self.shared.clone();
            let h = Builder::new()
                .name(name)
                .spawn(move || worker(shared))
                .map_err(SubmitError::Spawn)?;
            st.threads.push(h.thread().clone());
        }
        Ok(())
    }

    /// Runs `f` on every item of `iter` in the pool; the results come back in input order
    /// (Python's `executor.map`). Everything is submitted before this returns. Dropping the
    /// iterator early cancels the tasks not yet started.
    ///
    /// # Errors
    /// As [`ThreadPoolExecutor::submit`].
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(3);
    /// let out: Vec<String> = pool.map(|n: u32| n.to_string(), [3, 1, 2]).unwrap()
    ///     .map(Result::unwrap).collect();
    /// assert_eq!(out, ["3", "1", "2"]);
    /// ```
    pub fn map<A, T, F, I>(&self, f: F, iter: I) -> Result<MapResults<T>, SubmitError>
    where
        I: IntoIterator<Item = A>,
        A: Send + 'static,
        F: Fn(A) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.map_until(f, iter, Deadline::never())
    }

    /// As [`ThreadPoolExecutor::map`], but each result is waited for until `deadline` at most
    /// (one deadline for all, as Python's `timeout`); a late one is `Err(FutureError::Timeout)`.
    ///
    /// ```
    /// use threadkit::Deadline;
    /// let pool = threadkit::ThreadPoolExecutor::new(1);
    /// let out: Vec<_> = pool.map_until(|x: i32| x, [1], Deadline::never()).unwrap().collect();
    /// assert_eq!(*out[0].as_ref().unwrap(), 1);
    /// ```
    pub fn map_until<A, T, F, I>(
        &self,
        f: F,
        iter: I,
        deadline: Deadline,
    ) -> Result<MapResults<T>, SubmitError>
    where
        I: IntoIterator<Item = A>,
        A: Send + 'static,
        F: Fn(A) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = std::sync::Arc::new(f);
        let futures = iter
            .into_iter()
            .map(|a| {
                let f = f.clone();
                self.submit(move || std::sync::Mutex::new(Some(f(a))))
            })
            .collect::<Result<VecDeque<_>, _>>()?;
        Ok(MapResults { futures, deadline })
    }

    /// Stops taking work: Python's `shutdown(wait, cancel_futures)`. With `cancel_futures`, the
    /// queued tasks that have not started are cancelled; the rest still run. With `wait`, blocks
    /// until every worker has exited. Idempotent.
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| 1).unwrap();
    /// pool.shutdown(true, false);
    /// assert!(f.done());
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        let (drained, threads) = {
            let mut st = self.shared.state.lock();
            st.shutdown = true;
            let drained = if cancel_futures {
                self.shared.queue.drain()
            } else {
                Vec::new()
            };
            self.shared.queue.close();
            (drained, if wait { st.threads.clone() } else { Vec::new() })
        };
        for job in drained {
            job.cancel();
        }
        for t in threads {
            if t.ident() != Some(get_ident()) {
                let _ = t.join();
            }
        }
    }

    /// Whether an initializer failed.
    ///
    /// ```
    /// assert!(!threadkit::ThreadPoolExecutor::new(1).is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.shared.state.lock().broken.is_some()
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.shared.max_workers)
            .field("thread_name_prefix", &self.shared.prefix)
            .field("threads", &st.threads.len())
            .field("shutdown", &st.shutdown)
            .field("broken", &st.broken.is_some())
            .field("queued", &self.shared.queue.len())
            .finish()
    }
}

/// The results of [`ThreadPoolExecutor::map`], in input order.
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::new(2);
/// let results = pool.map(|x: u32| x * 10, vec![1, 2, 3]).unwrap();
/// let values: Vec<u32> = results.map(|r| r.unwrap()).collect();
/// assert_eq!(values, vec![10, 20, 30]);
/// ```
pub struct MapResults<T> {
    futures: VecDeque<Future<std::sync::Mutex<Option<T>>>>,
    deadline: Deadline,
}

impl<T> Iterator for MapResults<T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let f = self.futures.pop_front()?;
        Some(f.result_until(self.deadline).map(|slot| {
            slot.lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .expect("each map result is taken once")
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.futures.len(), Some(self.futures.len()))
    }
}

impl<T> ExactSizeIterator for MapResults<T> {}

impl<T> Drop for MapResults<T> {
    fn drop(&mut self) {
        for f in &self.futures {
            f.cancel();
        }
    }
}

impl<T> fmt::Debug for MapResults<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapResults")
            .field("remaining", &self.futures.len())
            .finish_non_exhaustive()
    }
}
