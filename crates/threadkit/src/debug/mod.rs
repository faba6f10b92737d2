//! "Why is my program stuck?": names for every primitive, what each thread waits for,
//! deadlocks found the moment they form, thread dumps and contention counters.
//!
//! - Every primitive has a [`Label`]: the [`Site`] that created it (`#[track_caller]`) and an
//!   optional name (`Lock::named("inventory")`, or `.with_name(..)` on any constructor).
//! - A thread that parks in a threadkit wait records what it waits for and since when; the
//!   record is cleared when it wakes. Only slow paths pay: an uncontended acquire or release,
//!   `Event::is_set`, a `get` that finds an item do exactly what they did before.
//! - An untimed wait whose target has a holder looks for a cycle waits-for -> held-by ->
//!   waits-for before it parks: a lock (an [`RLock`](crate::RLock), a [`Lock`](crate::Lock),
//!   a Condition taking its lock back; held by its owner), a [`Thread::join`](crate::Thread::join)
//!   (held by the thread joined), a pool's shutdown (held by each worker in turn), a
//!   [`Future::result`](crate::Future::result) of a
//!   [`ThreadPoolExecutor`](crate::ThreadPoolExecutor)'s future (held by the worker running
//!   it, or while it is queued in a pool that has all its workers, by all of them: stuck only
//!   if every one is), and a [`wait`](crate::wait) or [`as_completed`](crate::as_completed)
//!   that any one of such futures ends. Events, semaphores, barriers, queues and free-standing
//!   futures have no known holder: their waits are recorded, never part of a cycle. What happens when it finds one is the process-wide [`DeadlockAction`]:
//!   report it (the default: the [`DeadlockReport`] goes to the hook, stderr unless
//!   [`set_deadlock_hook`] replaced it, and the thread keeps waiting), raise
//!   ([`DeadlockError`] in the wait that closed the cycle) or ignore. The first value comes
//!   from the environment variable `THREADKIT_DEADLOCK` (`report`, `raise`, `ignore`).
//!   The action is carried out by [`Interrupt::on_deadlock`](crate::Interrupt::on_deadlock),
//!   which the Python bindings override to act in Python.
//! - [`snapshot`] returns every thread and its wait as plain data; its `Display` is a dump.
//! - Debug mode ([`enable`], or `THREADKIT_DEBUG=1`; off by default) finds deadlocks that did
//!   not happen yet: lock-order inversions between [`Lock`](crate::Lock)s and
//!   [`RLock`](crate::RLock)s grouped into classes by name or creation site
//!   ([`PotentialDeadlockReport`], see the `order` module's source for the model), and a
//!   process whose every thread waits in an untimed wait ([`AllAsleepReport`]).
//! - [`contention`] returns, per kind and label, how often and how long threads waited.
//!
//! What is not a deadlock: a timed wait; a cycle through a plain `Lock` that some thread once
//! released for another (the hand-off idiom: any thread may release a `Lock`, so its owner is
//! then only a guess), or that the waiting thread holds itself (the idiom's first step), or
//! whose owner waits for something other than a lock (a join, a future: it may hold the `Lock`
//! as a closed gate that another thread opens; hold an [`RLock`](crate::RLock) there, whose
//! owner alone can release it, and the same cycle is found). See
//! the [detection notes](self#how-deadlocks-are-found). One thing detection does not foresee:
//! a pool's queued future that another thread cancels (`cancel`, a shutdown that cancels
//! queued work) or completes by hand; a program whose only way out of such a cycle is that
//! intervention is reported as deadlocked.
//!
//! ```
//! use std::panic::{catch_unwind, AssertUnwindSafe};
//! use std::sync::Arc;
//! use threadkit::debug::{self, DeadlockAction, DeadlockError};
//! use threadkit::{Barrier, Builder, Lock};
//!
//! debug::set_deadlock_action(DeadlockAction::Raise);
//! let (a, b) = (Arc::new(Lock::named("a")), Arc::new(Lock::named("b")));
//! let both_hold_one = Arc::new(Barrier::new(2));
//! let other = {
//!     let (a, b, both_hold_one) = (a.clone(), b.clone(), both_hold_one.clone());
//!     Builder::new().name("other").spawn(move || {
//!         let _b = b.lock();
//!         both_hold_one.wait().unwrap();
//!         let _a = a.lock(); // AB/BA: one of the two waits closes the cycle
//!     }).unwrap()
//! };
//! let held_a = a.lock();
//! both_hold_one.wait().unwrap();
//! let mine = catch_unwind(AssertUnwindSafe(|| drop(b.lock())));
//! drop(held_a);
//! let theirs = other.join();
//! // The wait that closed the cycle gave up; the other one then got its lock.
//! let error = match (mine, theirs) {
//!     (Err(e), Ok(())) | (Ok(()), Err(e)) => e.downcast::<DeadlockError>().unwrap(),
//!     _ => unreachable!("exactly one wait gives up"),
//! };
//! assert!(error.report().cycle_line().contains("Lock 'a'"));
//! ```
//!
//! # How deadlocks are found
//!
//! See the `detect` module's source for the argument: only untimed waits and certain holders,
//! a walk that runs twice and compares (so a changing owner never makes a report), the walks
//! serialized by one mutex taken on the slow path only (so the last thread to close a cycle
//! sees it), and each deadlock reported once.
//!
//! A Condition taking its lock back after `wait` cannot give up (the lock must be held when
//! `wait` returns). If such a wait closes a cycle with [`DeadlockAction::Raise`], the error is
//! raised in the next thread of the cycle whose wait can give up, which is woken for it.

mod asleep;
mod contention;
mod detect;
mod label;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_model;
mod order;
mod report;
mod slot;
mod snapshot;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

pub use asleep::{
    default_on_all_asleep, reset_all_asleep_hook, set_all_asleep_hook, AllAsleepReport,
};
pub use contention::{contention, reset_contention, ContentionRow};
pub use label::{Label, Site};
pub use order::{
    allow, default_on_potential_deadlock, disable, enable, is_enabled, lock_order_size,
    reset_lock_order, reset_potential_deadlock_hook, set_potential_deadlock_hook,
    set_stack_capture, Captured, OrderEdge, PotentialDeadlockError, PotentialDeadlockReport, Stack,
    StackFrame,
};
pub use report::{
    CycleThread, DeadlockError, DeadlockReport, ACQUIRED_AT_UNKNOWN,
    ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE,
};
pub use snapshot::{snapshot, HeldSnapshot, Snapshot, ThreadSnapshot, WaitSnapshot};

pub(crate) use asleep::take_all_asleep;
pub(crate) use label::Tag;
pub(crate) use order::{
    acquired as order_acquired, before_blocking, forget_held, holds_any, released as order_released,
};
pub(crate) use slot::{wait_while_watched, HeldBy, ReportOnly, WaitOn, Waitable, Waiting};

use crate::deadline::Interrupted;

/// What a thread waits in.
///
/// ```
/// use threadkit::debug::WaitKind;
/// assert_eq!(WaitKind::QueueGet.primitive(), "Queue");
/// assert_eq!(WaitKind::QueueGet.operation(), Some("get"));
/// assert_eq!(WaitKind::QueueGet.to_string(), "Queue.get");
/// assert_eq!(WaitKind::Lock.to_string(), "Lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitKind {
    /// Acquiring a [`Lock`](crate::Lock).
    Lock,
    /// Acquiring an [`RLock`](crate::RLock).
    RLock,
    /// Waiting to be notified on a [`Condition`](crate::Condition).
    Condition,
    /// Acquiring a [`Semaphore`](crate::Semaphore).
    Semaphore,
    /// Acquiring a [`BoundedSemaphore`](crate::BoundedSemaphore).
    BoundedSemaphore,
    /// Waiting for an [`Event`](crate::Event).
    Event,
    /// Waiting at a [`Barrier`](crate::Barrier).
    Barrier,
    /// A [`Queue`](crate::Queue) get waiting for an item.
    QueueGet,
    /// A [`Queue`](crate::Queue) put waiting for room.
    QueuePut,
    /// A [`Queue`](crate::Queue) join waiting for every task to be done.
    QueueJoin,
    /// A [`SimpleQueue`](crate::SimpleQueue) get waiting for an item.
    SimpleQueueGet,
    /// Joining a thread.
    ThreadJoin,
    /// Waiting for a future's result.
    FutureResult,
    /// Waiting for some of several futures.
    FuturesWait,
    /// A pool's shutdown waiting for its workers.
    PoolShutdown,
}

impl WaitKind {
    /// The kind of primitive waited on: `"Lock"`, `"Queue"`, `"Thread"`...
    ///
    /// ```
    /// assert_eq!(threadkit::debug::WaitKind::ThreadJoin.primitive(), "Thread");
    /// ```
    pub fn primitive(&self) -> &'static str {
        match self {
            WaitKind::Lock => "Lock",
            WaitKind::RLock => "RLock",
            WaitKind::Condition => "Condition",
            WaitKind::Semaphore => "Semaphore",
            WaitKind::BoundedSemaphore => "BoundedSemaphore",
            WaitKind::Event => "Event",
            WaitKind::Barrier => "Barrier",
            WaitKind::QueueGet | WaitKind::QueuePut | WaitKind::QueueJoin => "Queue",
            WaitKind::SimpleQueueGet => "SimpleQueue",
            WaitKind::ThreadJoin => "Thread",
            WaitKind::FutureResult | WaitKind::FuturesWait => "Future",
            WaitKind::PoolShutdown => "ThreadPoolExecutor",
        }
    }

    /// The operation, for primitives waited on in more than one way: `get`, `put`, `join`...
    ///
    /// ```
    /// assert_eq!(threadkit::debug::WaitKind::Lock.operation(), None);
    /// ```
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            WaitKind::QueueGet | WaitKind::SimpleQueueGet => Some("get"),
            WaitKind::QueuePut => Some("put"),
            WaitKind::QueueJoin | WaitKind::ThreadJoin => Some("join"),
            WaitKind::FutureResult => Some("result"),
            WaitKind::FuturesWait => Some("wait"),
            WaitKind::PoolShutdown => Some("shutdown"),
            _ => None,
        }
    }
}

/// `Lock`, `Queue.get`, `Thread.join`...
impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation() {
            Some(op) => write!(f, "{}.{op}", self.primitive()),
            None => f.write_str(self.primitive()),
        }
    }
}

/// What a wait that would close a deadlock does; process-wide ([`set_deadlock_action`]).
///
/// ```
/// use threadkit::debug::DeadlockAction;
/// assert_eq!("raise".parse::<DeadlockAction>(), Ok(DeadlockAction::Raise));
/// assert_eq!(DeadlockAction::Report.to_string(), "report");
/// assert!("panic".parse::<DeadlockAction>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DeadlockAction {
    /// Report it (to the hook: stderr by default) and keep waiting, as the program would
    /// without threadkit. The default.
    #[default]
    Report,
    /// Make the wait that closed the cycle give up with [`DeadlockError`].
    Raise,
    /// Do not look for deadlocks.
    Ignore,
}

impl DeadlockAction {
    const ALL: [DeadlockAction; 3] = [
        DeadlockAction::Report,
        DeadlockAction::Raise,
        DeadlockAction::Ignore,
    ];

    /// `"report"`, `"raise"` or `"ignore"`.
    ///
    /// ```
    /// assert_eq!(threadkit::debug::DeadlockAction::Ignore.as_str(), "ignore");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            DeadlockAction::Report => "report",
            DeadlockAction::Raise => "raise",
            DeadlockAction::Ignore => "ignore",
        }
    }
}

impl fmt::Display for DeadlockAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deadlock action that is not `report`, `raise` or `ignore`.
///
/// ```
/// let e = "loud".parse::<threadkit::debug::DeadlockAction>().unwrap_err();
/// assert_eq!(e.to_string(), "deadlock action must be 'report', 'raise' or 'ignore', not 'loud'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDeadlockActionError(String);

impl fmt::Display for ParseDeadlockActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "deadlock action must be 'report', 'raise' or 'ignore', not '{}'",
            self.0
        )
    }
}

impl std::error::Error for ParseDeadlockActionError {}

/// Parses `report`, `raise` or `ignore` (ASCII case and surrounding blanks ignored).
impl FromStr for DeadlockAction {
    type Err = ParseDeadlockActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        DeadlockAction::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseDeadlockActionError(s.to_string()))
    }
}

/// 0: not read from the environment yet; otherwise 1 + the index in `DeadlockAction::ALL`.
static ACTION: AtomicU8 = AtomicU8::new(0);

/// The process's [`DeadlockAction`]. The first call reads `THREADKIT_DEADLOCK` (an unknown
/// value is reported on stderr once and means `report`).
///
/// ```
/// use threadkit::debug::{deadlock_action, set_deadlock_action, DeadlockAction};
/// set_deadlock_action(DeadlockAction::Ignore);
/// assert_eq!(deadlock_action(), DeadlockAction::Ignore);
/// ```
pub fn deadlock_action() -> DeadlockAction {
    match ACTION.load(Ordering::Relaxed) {
        0 => {
            let from_env = match std::env::var("THREADKIT_DEADLOCK") {
                Ok(v) => v.parse().unwrap_or_else(|e: ParseDeadlockActionError| {
                    eprintln!("threadkit: THREADKIT_DEADLOCK ignored: {e}");
                    DeadlockAction::Report
                }),
                Err(_) => DeadlockAction::Report,
            };
            // A concurrent set_deadlock_action wins over the environment.
            let _ =
                ACTION.compare_exchange(0, encode(from_env), Ordering::Relaxed, Ordering::Relaxed);
            deadlock_action()
        }
        n => DeadlockAction::ALL[usize::from(n - 1)],
    }
}

fn encode(action: DeadlockAction) -> u8 {
    match action {
        DeadlockAction::Report => 1,
        DeadlockAction::Raise => 2,
        DeadlockAction::Ignore => 3,
    }
}

/// Sets the process's [`DeadlockAction`] (Python's `threadkit.set_deadlock_action`). Waits
/// already parked keep the action they checked with.
///
/// ```
/// use threadkit::debug::{set_deadlock_action, DeadlockAction};
/// set_deadlock_action(DeadlockAction::Raise);
/// ```
pub fn set_deadlock_action(action: DeadlockAction) {
    ACTION.store(encode(action), Ordering::Relaxed);
}

type Hook = dyn Fn(&DeadlockReport) + Send + Sync;

static HOOK: parking_lot::Mutex<Option<Arc<Hook>>> = parking_lot::Mutex::new(None);

/// Replaces what a reported deadlock does (the default, [`default_deadlock_hook`], writes it
/// to stderr). The hook runs in the thread whose wait found the deadlock, with no internal
/// lock held, before it goes on waiting.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::debug::{reset_deadlock_hook, set_deadlock_hook};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// set_deadlock_hook(Box::new(move |report| sink.lock().unwrap().push(report.cycle_line())));
/// reset_deadlock_hook();
/// ```
pub fn set_deadlock_hook(hook: Box<dyn Fn(&DeadlockReport) + Send + Sync>) {
    note_pid();
    *HOOK.lock() = Some(Arc::from(hook));
}

/// Puts back [`default_deadlock_hook`].
///
/// ```
/// threadkit::debug::reset_deadlock_hook();
/// ```
pub fn reset_deadlock_hook() {
    *HOOK.lock() = None;
}

/// Writes `report` to stderr, as one write.
///
/// ```
/// # fn f(report: &threadkit::debug::DeadlockReport) {
/// threadkit::debug::default_deadlock_hook(report);
/// # }
/// ```
pub fn default_deadlock_hook(report: &DeadlockReport) {
    write_report(report);
}

/// Writes `threadkit: {report}` to stderr as one write (what every default hook does).
pub(crate) fn write_report(report: &dyn fmt::Display) {
    use std::io::Write;
    let text = format!("threadkit: {report}\n");
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Calls the deadlock hook (outside its lock).
pub(crate) fn call_hook(report: &DeadlockReport) {
    let hook = HOOK.lock().clone();
    match hook {
        Some(hook) => hook(report),
        None => default_deadlock_hook(report),
    }
}

/// What [`Interrupt::on_deadlock`](crate::Interrupt::on_deadlock) does unless overridden:
/// if the report [`raises`](DeadlockReport::raises), panics with [`DeadlockError`]
/// ([`std::panic::panic_any`]; the wait has changed nothing, and no internal lock is held);
/// otherwise calls the deadlock hook ([`set_deadlock_hook`]) and returns `Ok`, so the wait
/// goes on.
///
/// ```
/// use threadkit::debug::{default_on_deadlock, DeadlockReport};
/// use threadkit::{Interrupt, Interrupted};
///
/// /// An interrupt that counts the deadlocks it reported.
/// struct Counting(u32);
/// impl Interrupt for Counting {
///     fn interval(&self) -> Option<std::time::Duration> { None }
///     fn check(&mut self) -> Result<(), Interrupted> { Ok(()) }
///     fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
///         self.0 += 1;
///         default_on_deadlock(report)
///     }
/// }
/// ```
pub fn default_on_deadlock(report: &DeadlockReport) -> Result<(), Interrupted> {
    if report.raises() {
        std::panic::panic_any(DeadlockError::new(report.clone()));
    }
    call_hook(report);
    Ok(())
}

/// Resets the diagnostics state in a child process after `fork()`: forgets the wait records of
/// the threads that do not exist in the child (their records may point at primitives the
/// forking thread frees) and takes back the internal locks a vanished thread may have held.
/// The action, hook and contention counters are kept. Outside a fork() child it does nothing.
///
/// Called from the thread registry's after-fork reset; call it in the child, before any other
/// thread of the child uses threadkit.
///
/// ```
/// threadkit::debug::reinit_after_fork(); // not a fork() child: nothing happens
/// ```
pub fn reinit_after_fork() {
    if !in_fork_child() {
        return;
    }
    unlock_after_fork(&HOOK);
    unlock_after_fork(&detect::REPORTED);
    unlock_after_fork(&contention::TABLE);
    unlock_after_fork(&label::SITES);
    order::unlock_after_fork();
    slot::slots_after_fork();
    asleep::after_fork();
}

/// The process that first used a global of this module: a different `getpid()` later means a
/// fork() child.
static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// Called before a global mutex of this module is first taken.
fn note_pid() {
    PID.get_or_init(std::process::id);
}

fn in_fork_child() -> bool {
    PID.get().is_some_and(|&pid| pid != std::process::id())
}

/// Takes back `mutex` in a fork() child if a vanished thread held it.
fn unlock_after_fork<T>(mutex: &parking_lot::Mutex<T>) {
    if mutex.try_lock().is_none() {
        // SAFETY: this process is a fork() child (checked by the caller), and
        // `reinit_after_fork` is documented to run there before any other thread uses
        // threadkit: the holder is a thread of the parent, which does not exist here and will
        // never release it; this thread holds no guard of it (none of these mutexes is held
        // across a call that could fork).
        unsafe { mutex.force_unlock(parking_lot::lock_api::GuardNoSend::new()) };
    }
}
