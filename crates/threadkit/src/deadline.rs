//! Timeouts as monotonic deadlines, and interruptible waiting.
//!
//! Every blocking call in the crate takes a [`Deadline`]: a timeout is turned into an instant
//! once, at the start of the call, so that spurious wake-ups and retries never extend it.
//!
//! A wait can also be given an [`Interrupt`]: while blocked, the wait wakes up every
//! [`Interrupt::interval`] and asks [`Interrupt::check`] whether to go on. The Python bindings
//! use this to run signal handlers (Ctrl-C) on the main thread; Rust users normally pass
//! [`NoInterrupt`] through the plain methods.
//!
//! ```
//! use std::time::Duration;
//! use threadkit::Deadline;
//!
//! let d = Deadline::after(Duration::from_millis(50));
//! assert!(!d.is_never());
//! assert!(d.remaining().unwrap() <= Duration::from_millis(50));
//! assert!(Deadline::never().remaining().is_none());
//! assert!(Deadline::now().has_passed());
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use crate::sync::{Condvar, Mutex, MutexGuard};

/// The instant a blocking call gives up, or never.
///
/// ```
/// use std::time::Duration;
/// use threadkit::Deadline;
///
/// assert!(Deadline::from_timeout(None).is_never());
/// assert!(!Deadline::from_timeout(Some(Duration::from_secs(1))).has_passed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    at: Option<Instant>,
}

impl Deadline {
    /// A deadline that never passes: wait forever.
    ///
    /// ```
    /// assert!(threadkit::Deadline::never().is_never());
    /// ```
    pub const fn never() -> Self {
        Deadline { at: None }
    }

    /// A deadline that has already passed: do not block at all.
    ///
    /// ```
    /// assert!(threadkit::Deadline::now().has_passed());
    /// ```
    pub fn now() -> Self {
        Deadline {
            at: Some(Instant::now()),
        }
    }

    /// The deadline `timeout` from now. A timeout too large to represent means never.
    ///
    /// ```
    /// use std::time::Duration;
    /// let d = threadkit::Deadline::after(Duration::from_secs(5));
    /// assert!(d.remaining().unwrap() > Duration::from_secs(4));
    /// ```
    pub fn after(timeout: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(timeout),
        }
    }

    /// The deadline at `instant`.
    ///
    /// ```
    /// let d = threadkit::Deadline::at(std::time::Instant::now());
    /// assert!(d.has_passed());
    /// ```
    pub const fn at(instant: Instant) -> Self {
        Deadline { at: Some(instant) }
    }

    /// `None` waits forever, `Some(t)` waits at most `t`.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(threadkit::Deadline::from_timeout(None).is_never());
    /// assert!(threadkit::Deadline::from_timeout(Some(Duration::ZERO)).has_passed());
    /// ```
    pub fn from_timeout(timeout: Option<Duration>) -> Self {
        match timeout {
            None => Deadline::never(),
            Some(t) => Deadline::after(t),
        }
    }

    /// The instant, or `None` for never.
    ///
    /// ```
    /// assert_eq!(threadkit::Deadline::never().instant(), None);
    /// ```
    pub const fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// Whether this deadline is [`Deadline::never`].
    ///
    /// ```
    /// assert!(!threadkit::Deadline::now().is_never());
    /// ```
    pub const fn is_never(&self) -> bool {
        self.at.is_none()
    }

    /// Whether the deadline has passed.
    ///
    /// ```
    /// assert!(!threadkit::Deadline::never().has_passed());
    /// ```
    pub fn has_passed(&self) -> bool {
        match self.at {
            None => false,
            Some(at) => Instant::now() >= at,
        }
    }

    /// Time left (zero once passed), or `None` for never.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(threadkit::Deadline::now().remaining(), Some(Duration::ZERO));
    /// ```
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The earlier of this deadline and `slice` from now: where one interruptible slice ends.
    fn slice_end(&self, slice: Option<Duration>) -> (Option<Instant>, bool) {
        let Some(slice) = slice else {
            return (self.at, false);
        };
        let slice_at = Instant::now().checked_add(slice);
        match (self.at, slice_at) {
            (Some(at), Some(s)) if at <= s => (Some(at), false),
            (_, Some(s)) => (Some(s), true),
            (at, None) => (at, false),
        }
    }
}

impl From<Option<Duration>> for Deadline {
    fn from(timeout: Option<Duration>) -> Self {
        Deadline::from_timeout(timeout)
    }
}

impl From<Duration> for Deadline {
    fn from(timeout: Duration) -> Self {
        Deadline::after(timeout)
    }
}

impl From<Instant> for Deadline {
    fn from(instant: Instant) -> Self {
        Deadline::at(instant)
    }
}

/// A blocking wait was interrupted: [`Interrupt::check`] said stop.
///
/// The reason (for Python, the exception a signal handler raised) stays with the [`Interrupt`]
/// implementation that produced it.
///
/// ```
/// let e = threadkit::Interrupted;
/// assert_eq!(e.to_string(), "wait interrupted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wait interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Lets a blocked wait stop early: the wait calls [`check`](Interrupt::check) every
/// [`interval`](Interrupt::interval), never while holding an internal lock.
///
/// ```
/// use std::time::Duration;
/// use threadkit::{Deadline, Event, Interrupt, Interrupted};
///
/// /// Gives up after three checks.
/// struct Three(u32);
/// impl Interrupt for Three {
///     fn interval(&self) -> Option<Duration> {
///         Some(Duration::from_millis(1))
///     }
///     fn check(&mut self) -> Result<(), Interrupted> {
///         self.0 += 1;
///         if self.0 == 3 { Err(Interrupted) } else { Ok(()) }
///     }
/// }
///
/// let ev = Event::new();
/// let mut three = Three(0);
/// assert_eq!(ev.wait_interruptible(Deadline::never(), &mut three), Err(Interrupted));
/// assert_eq!(three.0, 3);
/// ```
pub trait Interrupt {
    /// How often to call [`check`](Interrupt::check) while blocked; `None` never calls it.
    fn interval(&self) -> Option<Duration>;
    /// Called while blocked (with no internal lock held): `Err` aborts the wait.
    fn check(&mut self) -> Result<(), Interrupted>;

    /// Called, with no internal lock held, when this wait found a deadlock as it was about to
    /// block (see [`crate::debug`]). If the report [`raises`](crate::debug::DeadlockReport::raises),
    /// the wait should give up: return `Err` (the wait then fails as interrupted, having
    /// changed nothing) or panic. Otherwise report it and return `Ok`: the wait goes on. `Err`
    /// from a wait that cannot give up (a Condition taking its lock back) is ignored.
    ///
    /// The default is [`debug::default_on_deadlock`](crate::debug::default_on_deadlock):
    /// panic with [`DeadlockError`](crate::debug::DeadlockError), or call the deadlock hook.
    /// The Python bindings override it to call `threadkit.deadlock_hook` or raise
    /// `threadkit.DeadlockError`.
    ///
    /// ```
    /// use threadkit::debug::DeadlockReport;
    /// use threadkit::{Interrupt, Interrupted};
    ///
    /// /// Gives up on a deadlock instead of panicking, whatever the action.
    /// struct GiveUp;
    /// impl Interrupt for GiveUp {
    ///     fn interval(&self) -> Option<std::time::Duration> { None }
    ///     fn check(&mut self) -> Result<(), Interrupted> { Ok(()) }
    ///     fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
    ///         eprintln!("{report}");
    ///         Err(Interrupted)
    ///     }
    /// }
    /// ```
    fn on_deadlock(&mut self, report: &crate::debug::DeadlockReport) -> Result<(), Interrupted> {
        crate::debug::default_on_deadlock(report)
    }

    /// Called in debug mode when an acquisition closes a cycle in the lock-order graph
    /// ([`crate::debug::enable`]), before the lock is taken. `Err` makes the acquisition give
    /// up (the lock not taken); `Ok` lets it go on. The default is
    /// [`default_on_potential_deadlock`](crate::debug::default_on_potential_deadlock).
    ///
    /// ```
    /// use threadkit::debug::PotentialDeadlockReport;
    /// use threadkit::{Interrupt, Interrupted};
    /// struct Quiet;
    /// impl Interrupt for Quiet {
    ///     fn interval(&self) -> Option<std::time::Duration> { None }
    ///     fn check(&mut self) -> Result<(), Interrupted> { Ok(()) }
    ///     fn on_potential_deadlock(&mut self, _: &PotentialDeadlockReport) -> Result<(), Interrupted> {
    ///         Ok(()) // ignore lock-order reports
    ///     }
    /// }
    /// ```
    fn on_potential_deadlock(
        &mut self,
        report: &crate::debug::PotentialDeadlockReport,
    ) -> Result<(), Interrupted> {
        crate::debug::default_on_potential_deadlock(report)
    }

    /// Called in debug mode on one of the threads when every thread of the process waits in an
    /// untimed threadkit wait; the wait then goes on. The default is
    /// [`default_on_all_asleep`](crate::debug::default_on_all_asleep).
    ///
    /// ```
    /// use threadkit::debug::AllAsleepReport;
    /// use threadkit::{Interrupt, Interrupted};
    /// struct Loud;
    /// impl Interrupt for Loud {
    ///     fn interval(&self) -> Option<std::time::Duration> { None }
    ///     fn check(&mut self) -> Result<(), Interrupted> { Ok(()) }
    ///     fn on_all_asleep(&mut self, report: &AllAsleepReport) { eprintln!("{report}") }
    /// }
    /// ```
    fn on_all_asleep(&mut self, report: &crate::debug::AllAsleepReport) {
        crate::debug::default_on_all_asleep(report)
    }
}

/// The [`Interrupt`] that never interrupts: block until done or the deadline.
///
/// ```
/// use threadkit::{Interrupt, NoInterrupt};
/// assert!(NoInterrupt.interval().is_none());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoInterrupt;

impl Interrupt for NoInterrupt {
    fn interval(&self) -> Option<Duration> {
        None
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        Ok(())
    }
}

/// How [`wait_while`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitOutcome {
    /// The blocking condition is false: go on.
    Ready,
    /// The deadline passed with the condition still true.
    TimedOut,
    /// The interrupt said stop.
    Interrupted,
}

/// Blocks on `cv` while `blocked(&mut state)` holds, until `deadline`, checking `interrupt`
/// between slices with `mutex` released. The condition is evaluated once more after the
/// deadline passes, so a notification that raced the timeout is not lost. `blocked` may have a
/// side effect when it returns false (take the lock it waits for): it is never evaluated again
/// after returning false.
pub(crate) fn wait_while<'a, T>(
    mutex: &'a Mutex<T>,
    cv: &Condvar,
    mut guard: MutexGuard<'a, T>,
    deadline: Deadline,
    interrupt: &mut dyn Interrupt,
    mut blocked: impl FnMut(&mut T) -> bool,
) -> (MutexGuard<'a, T>, WaitOutcome) {
    loop {
        if !blocked(&mut guard) {
            return (guard, WaitOutcome::Ready);
        }
        if deadline.has_passed() {
            return (guard, WaitOutcome::TimedOut);
        }
        let (until, is_slice) = deadline.slice_end(interrupt.interval());
        let (g, timed_out) = cv.wait_until(guard, until);
        guard = g;
        if timed_out && is_slice {
            // A predicate may take what it waits for (a lock, a permit) when it returns false:
            // return at once rather than evaluate it again at the top of the loop.
            if !blocked(&mut guard) {
                return (guard, WaitOutcome::Ready);
            }
            let (g, r) = mutex.unlocked(guard, || {
                // Debug mode: a report for every thread asleep waits for a wait that wakes.
                if let Some(report) = crate::debug::take_all_asleep() {
                    interrupt.on_all_asleep(&report);
                }
                interrupt.check()
            });
            guard = g;
            if r.is_err() {
                return (guard, WaitOutcome::Interrupted);
            }
        }
    }
}
