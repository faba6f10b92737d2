//! [`Semaphore`] and [`BoundedSemaphore`]: Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`, a counter of permits that acquire takes and release gives back.
//!
//! The count and a "threads may be waiting" bit share one atomic word, so an uncontended acquire
//! or release is one compare-and-swap and takes no lock. Only a thread that must block takes the
//! internal mutex: it counts itself as a waiter, sets the bit, and sleeps on a condition
//! variable; a release that finds the bit set takes the mutex and wakes as many waiters as it
//! released permits (Python's `notify(n)`). As in CPython, a woken waiter competes with threads
//! arriving on the fast path: wake-ups go to waiters in the order they started waiting, but a
//! newcomer may take a released permit first.

use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// Set in the state word while threads may be sleeping in the slow path (changed only under the
/// waiters mutex): a release that sees it must wake them.
const WAITERS: usize = 1;
/// One permit in the state word; the count is `state >> 1`.
const ONE: usize = 2;

/// Why a release failed. The count is unchanged when it does.
///
/// ```
/// use threadkit::{BoundedSemaphore, Semaphore, SemaphoreError};
/// assert_eq!(Semaphore::new(0).release(0), Err(SemaphoreError::ZeroRelease));
/// assert_eq!(BoundedSemaphore::new(1).release(1), Err(SemaphoreError::ReleasedTooManyTimes));
/// assert_eq!(SemaphoreError::ZeroRelease.to_string(), "n must be one or more");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SemaphoreError {
    /// `release(0)` (Python: `ValueError('n must be one or more')`).
    ZeroRelease,
    /// A [`BoundedSemaphore`] released above its initial value (Python:
    /// `ValueError('Semaphore released too many times')`).
    ReleasedTooManyTimes,
    /// The count would exceed [`Semaphore::MAX_VALUE`] (Python's integers never overflow; the
    /// bindings raise `OverflowError`).
    Overflow,
}

impl fmt::Display for SemaphoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SemaphoreError::ZeroRelease => "n must be one or more",
            SemaphoreError::ReleasedTooManyTimes => "Semaphore released too many times",
            SemaphoreError::Overflow => "semaphore value too large",
        })
    }
}

impl std::error::Error for SemaphoreError {}

/// A counting semaphore, as Python's `threading.Semaphore`: [`acquire`](Semaphore::acquire)
/// takes one permit, blocking while there is none; [`release`](Semaphore::release) gives `n`
/// back and wakes up to `n` waiters.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use threadkit::Semaphore;
///
/// // At most two threads inside at once.
/// let sem = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let (sem, inside) = (sem.clone(), inside.clone());
///         std::thread::spawn(move || {
///             let _permit = sem.acquire_guard();
///             assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///             inside.fetch_sub(1, Ordering::SeqCst);
///         })
///     })
///     .collect();
/// for h in handles { h.join().unwrap(); }
/// assert_eq!(sem.value(), 2);
/// ```
pub struct Semaphore {
    /// `count << 1 | WAITERS`.
    state: AtomicUsize,
    /// The largest count a release may reach: the initial value for a [`BoundedSemaphore`],
    /// [`Semaphore::MAX_VALUE`] otherwise.
    bound: usize,
    /// Whether this is a [`BoundedSemaphore`] (which errors differently at its bound).
    bounded: bool,
    /// Number of threads in the slow path; the condvar's mutex.
    waiters: Mutex<usize>,
    cv: Condvar,
    tag: Tag,
}

impl Default for Semaphore {
    /// A semaphore with one permit (Python's default `value=1`).
    #[track_caller]
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl Semaphore {
    /// The largest count a semaphore can hold (`isize::MAX`).
    ///
    /// ```
    /// assert_eq!(threadkit::Semaphore::MAX_VALUE, isize::MAX as usize);
    /// ```
    pub const MAX_VALUE: usize = usize::MAX >> 1;

    /// A semaphore holding `value` permits.
    ///
    /// # Panics
    /// If `value` exceeds [`Semaphore::MAX_VALUE`].
    ///
    /// ```
    /// assert_eq!(threadkit::Semaphore::new(3).value(), 3);
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Self {
        Semaphore::with_bound(value, None)
    }

    /// The same semaphore, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let x = threadkit::Semaphore::new(1).with_name("n");
    /// assert_eq!(x.label().name(), Some("n"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<StdArc<str>>) -> Self {
        self.tag.set_name(name.into());
        self
    }

    /// The same semaphore, labelled `label` (the Python bindings give the Python site
    /// this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let x = threadkit::Semaphore::new(1).with_label(Label::new(None, Site::intern("a.py", 4)));
    /// assert_eq!(x.label().site().to_string(), "a.py:4");
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.tag.set_label(label);
        self
    }

    /// Its name and creation site.
    ///
    /// ```
    /// let x = threadkit::Semaphore::new(1);
    /// assert_eq!(x.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    #[track_caller]
    fn with_bound(value: usize, bound: Option<usize>) -> Self {
        assert!(
            value <= Semaphore::MAX_VALUE,
            "semaphore value too large: {value} > {}",
            Semaphore::MAX_VALUE
        );
        Semaphore {
            state: AtomicUsize::new(value << 1),
            bound: bound.unwrap_or(Semaphore::MAX_VALUE),
            bounded: bound.is_some(),
            waiters: Mutex::new(0),
            cv: Condvar::new(),
            tag: Tag::here(),
        }
    }

    /// The number of permits available now (Python's `_value`).
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(2);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn value(&self) -> usize {
        self.state.load(Ordering::Relaxed) >> 1
    }

    /// Takes a permit, blocking as long as it takes.
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn acquire(&self) {
        let r = self.acquire_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    /// Takes a permit if one is available, without blocking. Returns whether it did.
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            if current < ONE {
                return false;
            }
            match self.state.compare_exchange_weak(
                current,
                current - ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// Takes a permit, waiting at most `timeout`. Returns whether it did.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::Semaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(10)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Takes a permit, waiting until `deadline` at most. Returns whether it did.
    ///
    /// ```
    /// use threadkit::{Deadline, Semaphore};
    /// let sem = Semaphore::new(1);
    /// assert!(sem.acquire_until(Deadline::now()));
    /// assert!(!sem.acquire_until(Deadline::now()));
    /// ```
    pub fn acquire_until(&self, deadline: Deadline) -> bool {
        self.acquire_interruptible(deadline, &mut NoInterrupt) == Ok(true)
    }

    /// Takes a permit, waiting until `deadline` at most, and asking `interrupt` at its interval
    /// whether to give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Semaphore};
    /// let sem = Semaphore::new(1);
    /// assert_eq!(sem.acquire_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// assert_eq!(sem.acquire_interruptible(Deadline::now(), &mut NoInterrupt), Ok(false));
    /// ```
    pub fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        if self.try_acquire() {
            return Ok(true);
        }
        if deadline.has_passed() {
            return Ok(false);
        }
        self.acquire_slow(deadline, interrupt)
    }

    #[cold]
    fn acquire_slow(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        let kind = if self.bounded {
            WaitKind::BoundedSemaphore
        } else {
            WaitKind::Semaphore
        };
        let _waiting = Waiting::start(WaitOn::new(kind, &self.tag, &self.tag), deadline);
        let mut guard = self.waiters.lock();
        *guard += 1;
        let (mut guard, outcome) =
            wait_while(&self.waiters, &self.cv, guard, deadline, interrupt, |_| {
                !self.take_or_mark_waiting()
            });
        *guard -= 1;
        if *guard == 0 {
            // The last waiter leaves: releases go back to the lock-free path.
            self.state.fetch_and(!WAITERS, Ordering::Relaxed);
        } else if outcome != WaitOutcome::Ready && self.value() > 0 {
            // This thread may have consumed a wake-up meant for a waiter that can now proceed.
            self.cv.notify_one();
        }
        drop(guard);
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    /// Under the waiters mutex: takes a permit if there is one (returns true), or makes sure the
    /// waiters bit is set, in a read-modify-write that saw no permit, so that the release that
    /// adds the next one wakes a waiter (returns false).
    fn take_or_mark_waiting(&self) -> bool {
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (new, takes) = if current >= ONE {
                (current - ONE, true)
            } else {
                (current | WAITERS, false)
            };
            match self
                .state
                .compare_exchange(current, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return takes,
                Err(actual) => current = actual,
            }
        }
    }

    /// Gives back `n` permits and wakes up to `n` waiting threads.
    ///
    /// # Errors
    /// [`SemaphoreError::ZeroRelease`] if `n == 0`; [`SemaphoreError::Overflow`] if the count
    /// would exceed [`Semaphore::MAX_VALUE`]. The count is unchanged on error.
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(0);
    /// sem.release(3).unwrap();
    /// assert_eq!(sem.value(), 3);
    /// assert!(sem.release(0).is_err());
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), SemaphoreError> {
        if n == 0 {
            return Err(SemaphoreError::ZeroRelease);
        }
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let value = match (current >> 1).checked_add(n) {
                Some(v) if v <= self.bound => v,
                _ if self.bounded => return Err(SemaphoreError::ReleasedTooManyTimes),
                _ => return Err(SemaphoreError::Overflow),
            };
            match self.state.compare_exchange_weak(
                current,
                value << 1 | (current & WAITERS),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(previous) => {
                    if previous & WAITERS != 0 {
                        self.wake(n);
                    }
                    return Ok(());
                }
                Err(actual) => current = actual,
            }
        }
    }

    #[cold]
    fn wake(&self, n: usize) {
        // Taking the mutex orders this wake-up after a waiter's check of the state.
        let waiters = self.waiters.lock();
        if n >= *waiters {
            self.cv.notify_all();
        } else {
            for _ in 0..n {
                self.cv.notify_one();
            }
        }
    }

    /// Takes a permit, blocking as long as it takes, and returns a guard that gives it back
    /// when dropped.
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// {
    ///     let _permit = sem.acquire_guard();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn acquire_guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { sem: self }
    }

    /// A guard holding a permit if one is available now, without blocking.
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// let permit = sem.try_acquire_guard().unwrap();
    /// assert!(sem.try_acquire_guard().is_none());
    /// drop(permit);
    /// ```
    pub fn try_acquire_guard(&self) -> Option<SemaphoreGuard<'_>> {
        self.try_acquire().then(|| SemaphoreGuard { sem: self })
    }

    /// A guard holding a permit if one could be taken within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::Semaphore::new(0);
    /// assert!(sem.acquire_guard_timeout(Duration::from_millis(5)).is_none());
    /// ```
    pub fn acquire_guard_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| SemaphoreGuard { sem: self })
    }

    /// Resets the waiting state for a child process after `fork()` (Python's `_at_fork_reinit`):
    /// the threads that were waiting do not exist in the child. The count is kept.
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(2);
    /// sem.reinit_after_fork();
    /// assert_eq!(sem.value(), 2);
    /// ```
    pub fn reinit_after_fork(&self) {
        {
            let mut waiters = self.waiters.lock_after_fork();
            *waiters = 0;
        }
        self.state.fetch_and(!WAITERS, Ordering::Relaxed);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A semaphore that refuses to be released above its initial value, as Python's
/// `threading.BoundedSemaphore`: releasing too often is a sign of a bug.
///
/// It has the same methods as [`Semaphore`]; only [`release`](BoundedSemaphore::release)
/// differs.
///
/// ```
/// use threadkit::{BoundedSemaphore, SemaphoreError};
///
/// let sem = BoundedSemaphore::new(2);
/// sem.acquire();
/// sem.release(1).unwrap();
/// assert_eq!(sem.release(1), Err(SemaphoreError::ReleasedTooManyTimes));
/// assert_eq!(sem.value(), 2);
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
}

impl Default for BoundedSemaphore {
    /// A bounded semaphore with one permit (Python's default `value=1`).
    #[track_caller]
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl BoundedSemaphore {
    /// A bounded semaphore holding `value` permits, which is also its bound.
    ///
    /// # Panics
    /// If `value` exceeds [`Semaphore::MAX_VALUE`].
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(3);
    /// assert_eq!((sem.value(), sem.initial_value()), (3, 3));
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            sem: Semaphore::with_bound(value, Some(value)),
        }
    }

    /// The same semaphore, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let x = threadkit::BoundedSemaphore::new(1).with_name("n");
    /// assert_eq!(x.label().name(), Some("n"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<StdArc<str>>) -> Self {
        self.sem.tag.set_name(name.into());
        self
    }

    /// The same semaphore, labelled `label` (the Python bindings give the Python site
    /// this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let x = threadkit::BoundedSemaphore::new(1).with_label(Label::new(None, Site::intern("a.py", 4)));
    /// assert_eq!(x.label().site().to_string(), "a.py:4");
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.sem.tag.set_label(label);
        self
    }

    /// Its name and creation site.
    ///
    /// ```
    /// let x = threadkit::BoundedSemaphore::new(1);
    /// assert_eq!(x.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.sem.tag.label
    }

    /// The initial value, which releases may not exceed (Python's `_initial_value`).
    ///
    /// ```
    /// assert_eq!(threadkit::BoundedSemaphore::new(4).initial_value(), 4);
    /// ```
    #[inline]
    pub fn initial_value(&self) -> usize {
        self.sem.bound
    }

    /// The number of permits available now (Python's `_value`).
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(2);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn value(&self) -> usize {
        self.sem.value()
    }

    /// Takes a permit, blocking as long as it takes.
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn acquire(&self) {
        self.sem.acquire()
    }

    /// Takes a permit if one is available, without blocking. Returns whether it did.
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.sem.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`. Returns whether it did.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(10)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.sem.acquire_timeout(timeout)
    }

    /// Takes a permit, waiting until `deadline` at most. Returns whether it did.
    ///
    /// ```
    /// use threadkit::{BoundedSemaphore, Deadline};
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.acquire_until(Deadline::now()));
    /// assert!(!sem.acquire_until(Deadline::now()));
    /// ```
    pub fn acquire_until(&self, deadline: Deadline) -> bool {
        self.sem.acquire_until(deadline)
    }

    /// Takes a permit, waiting until `deadline` at most, and asking `interrupt` at its interval
    /// whether to give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{BoundedSemaphore, Deadline, NoInterrupt};
    /// let sem = BoundedSemaphore::new(1);
    /// assert_eq!(sem.acquire_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        self.sem.acquire_interruptible(deadline, interrupt)
    }

    /// Gives back `n` permits and wakes up to `n` waiting threads.
    ///
    /// # Errors
    /// [`SemaphoreError::ZeroRelease`] if `n == 0`; [`SemaphoreError::ReleasedTooManyTimes`] if
    /// the count would exceed [`initial_value`](BoundedSemaphore::initial_value). The count is
    /// unchanged on error.
    ///
    /// ```
    /// use threadkit::{BoundedSemaphore, SemaphoreError};
    /// let sem = BoundedSemaphore::new(2);
    /// sem.acquire();
    /// assert_eq!(sem.release(2), Err(SemaphoreError::ReleasedTooManyTimes));
    /// assert_eq!(sem.value(), 1);
    /// sem.release(1).unwrap();
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), SemaphoreError> {
        self.sem.release(n)
    }

    /// Takes a permit, blocking as long as it takes, and returns a guard that gives it back
    /// when dropped.
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// {
    ///     let _permit = sem.acquire_guard();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn acquire_guard(&self) -> SemaphoreGuard<'_> {
        self.sem.acquire_guard()
    }

    /// A guard holding a permit if one is available now, without blocking.
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// let permit = sem.try_acquire_guard().unwrap();
    /// assert!(sem.try_acquire_guard().is_none());
    /// drop(permit);
    /// ```
    pub fn try_acquire_guard(&self) -> Option<SemaphoreGuard<'_>> {
        self.sem.try_acquire_guard()
    }

    /// A guard holding a permit if one could be taken within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// let _permit = sem.acquire_guard();
    /// assert!(sem.acquire_guard_timeout(Duration::from_millis(5)).is_none());
    /// ```
    pub fn acquire_guard_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.sem.acquire_guard_timeout(timeout)
    }

    /// Resets the waiting state for a child process after `fork()` (Python's `_at_fork_reinit`).
    /// The count is kept.
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(2);
    /// sem.reinit_after_fork();
    /// assert_eq!(sem.value(), 2);
    /// ```
    pub fn reinit_after_fork(&self) {
        self.sem.reinit_after_fork()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("initial_value", &self.initial_value())
            .finish()
    }
}

/// Holds one permit of a [`Semaphore`] or [`BoundedSemaphore`] and gives it back when dropped;
/// made by [`Semaphore::acquire_guard`] and its siblings.
///
/// ```
/// let sem = threadkit::Semaphore::new(1);
/// let permit = sem.acquire_guard();
/// assert_eq!(sem.value(), 0);
/// drop(permit);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
#[derive(Debug)]
pub struct SemaphoreGuard<'a> {
    sem: &'a Semaphore,
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // A bounded semaphore released by someone else meanwhile refuses: nothing to give back.
        let _ = self.sem.release(1);
    }
}
