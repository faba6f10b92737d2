//! [`RLock`]: Python's `threading.RLock`, a reentrant lock owned by the thread that acquired it.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{Deadline, Interrupt, Interrupted, NoInterrupt};
use crate::debug::{HeldBy, Label, ReportOnly, Tag, Waitable};
use crate::ident::get_ident;
use crate::lock::{AcquireFor, Lock, ReleaseError};
use crate::sync::{AtomicU64, Ordering};

/// A reentrant lock, as Python's `threading.RLock`: the thread that holds it may acquire it
/// again, and must release it as many times; only that thread may release it.
///
/// Built on a [`Lock`] (the mutual exclusion and the contended path) plus the owner's ident and
/// a recursion count. The count is only ever touched by the owner, so a re-entrant acquire or a
/// nested release is a load and a store; a first acquire or last release is the [`Lock`]'s one
/// atomic operation plus the owner bookkeeping.
///
/// ```
/// use threadkit::RLock;
///
/// let lock = RLock::new();
/// lock.acquire();
/// lock.acquire(); // re-entry by the owner does not block
/// assert_eq!(lock.recursion_count(), 2);
/// lock.release().unwrap();
/// assert!(lock.locked());
/// lock.release().unwrap();
/// assert!(!lock.locked());
/// ```
pub struct RLock {
    /// The mutual exclusion; its label is the RLock's.
    lock: Lock,
    /// Ident of the owning thread, 0 when unowned. Written by the owner only (and by
    /// [`RLock::reinit_after_fork`]); a thread reading its own ident here is the owner.
    owner: AtomicU64,
    /// Recursion depth; read and written by the owner only.
    count: AtomicU64,
}

impl Default for RLock {
    #[track_caller]
    fn default() -> Self {
        RLock::new()
    }
}

impl RLock {
    /// A new, unlocked reentrant lock, labelled with the caller's location.
    ///
    /// ```
    /// assert!(!threadkit::RLock::new().locked());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        RLock::with_tag(Tag::here())
    }

    /// A new, unlocked reentrant lock named `name` (in deadlock reports, dumps and contention
    /// rows).
    ///
    /// ```
    /// let lock = threadkit::RLock::named("accounts");
    /// assert_eq!(lock.label().name(), Some("accounts"));
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<StdArc<str>>) -> Self {
        RLock::new().with_name(name)
    }

    pub(crate) fn with_tag(tag: Tag) -> Self {
        RLock {
            lock: Lock::with_tag(tag).for_rlock(),
            owner: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// The same lock, named `name`.
    ///
    /// ```
    /// let lock = threadkit::RLock::new().with_name("cache");
    /// assert_eq!(lock.label().name(), Some("cache"));
    /// ```
    #[must_use]
    pub fn with_name(self, name: impl Into<StdArc<str>>) -> Self {
        RLock {
            lock: self.lock.with_name(name),
            ..self
        }
    }

    /// The same lock, labelled `label` (the Python bindings give the Python site this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let lock = threadkit::RLock::new().with_label(Label::new(None, Site::intern("app.py", 9)));
    /// assert_eq!(lock.label().site().line(), 9);
    /// ```
    #[must_use]
    pub fn with_label(self, label: Label) -> Self {
        RLock {
            lock: self.lock.with_label(label),
            ..self
        }
    }

    /// The lock's name and creation site.
    ///
    /// ```
    /// let lock = threadkit::RLock::named("tree");
    /// assert_eq!(lock.label().to_string(), "'tree'");
    /// ```
    pub fn label(&self) -> &Label {
        self.lock.label()
    }

    pub(crate) fn inner_lock(&self) -> &Lock {
        &self.lock
    }

    /// Whether debug mode checks this lock's order (see [`Lock::is_order_checked`]).
    ///
    /// ```
    /// threadkit::debug::enable();
    /// assert!(threadkit::RLock::new().is_order_checked());
    /// ```
    #[inline]
    pub fn is_order_checked(&self) -> bool {
        self.lock.is_order_checked()
    }

    /// The same lock, never checked by debug mode (see [`Lock::order_unchecked`]).
    ///
    /// ```
    /// assert!(!threadkit::RLock::new().order_unchecked().is_order_checked());
    /// ```
    #[must_use]
    pub fn order_unchecked(self) -> Self {
        RLock {
            lock: self.lock.order_unchecked(),
            ..self
        }
    }

    /// Acquires the lock, blocking as long as it takes; returns at once if the calling thread
    /// already holds it (one more level of recursion).
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// lock.acquire();
    /// lock.acquire();
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    pub fn acquire(&self) {
        let r = self.acquire_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    /// Acquires the lock if it is free or already held by the calling thread, without blocking.
    /// Returns whether it did.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threadkit::RLock::new());
    /// assert!(lock.try_acquire());
    /// assert!(lock.try_acquire());
    /// let other = lock.clone();
    /// assert!(!std::thread::spawn(move || other.try_acquire()).join().unwrap());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let me = get_ident();
        if self.owner.load(Ordering::Relaxed) == me {
            self.bump();
            return true;
        }
        if self.lock.try_acquire() {
            self.take(me, 1);
            true
        } else {
            false
        }
    }

    /// Acquires the lock, waiting at most `timeout`. Returns whether it did.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::RLock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)));
    /// assert!(lock.acquire_timeout(Duration::ZERO)); // re-entry never waits
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Acquires the lock, waiting until `deadline` at most. Returns whether it did.
    ///
    /// ```
    /// use threadkit::{Deadline, RLock};
    /// let lock = RLock::new();
    /// assert!(lock.acquire_until(Deadline::now()));
    /// ```
    pub fn acquire_until(&self, deadline: Deadline) -> bool {
        self.acquire_interruptible(deadline, &mut NoInterrupt) == Ok(true)
    }

    /// Acquires the lock, waiting until `deadline` at most and asking `interrupt` at its interval
    /// whether to give up. `Ok(false)` is a timeout. Re-entry by the owner never waits.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, RLock};
    /// let lock = RLock::new();
    /// assert_eq!(lock.acquire_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        let me = get_ident();
        if self.owner.load(Ordering::Relaxed) == me {
            self.bump();
            return Ok(true);
        }
        let got = self
            .lock
            .acquire_as(deadline, interrupt, AcquireFor::RLock(self))?;
        if got {
            self.take(me, 1);
        }
        Ok(got)
    }

    /// One more level, by the owner.
    #[inline]
    fn bump(&self) {
        let count = self.count.load(Ordering::Relaxed);
        // A u64 recursion count cannot overflow in practice (CPython raises OverflowError).
        self.count.store(count + 1, Ordering::Relaxed);
    }

    /// Records `me` as the owner at depth `count`, right after acquiring the inner lock.
    #[inline]
    fn take(&self, me: u64, count: u64) {
        self.count.store(count, Ordering::Relaxed);
        self.owner.store(me, Ordering::Relaxed);
    }

    /// Releases one level; the lock is free again when the count reaches zero.
    ///
    /// # Errors
    /// [`ReleaseError::NotOwner`] if the calling thread does not hold the lock (Python:
    /// `RuntimeError('cannot release un-acquired lock')`).
    ///
    /// ```
    /// use threadkit::{RLock, ReleaseError};
    /// let lock = RLock::new();
    /// assert_eq!(lock.release(), Err(ReleaseError::NotOwner));
    /// lock.acquire();
    /// assert_eq!(lock.release(), Ok(()));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        if self.owner.load(Ordering::Relaxed) != get_ident() {
            return Err(ReleaseError::NotOwner);
        }
        let count = self.count.load(Ordering::Relaxed);
        if count > 1 {
            self.count.store(count - 1, Ordering::Relaxed);
            return Ok(());
        }
        self.let_go();
        Ok(())
    }

    /// Clears the owner and frees the inner lock: the owner's last release.
    #[inline]
    fn let_go(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        let r = self.lock.release_owned();
        debug_assert_eq!(r, Ok(()));
    }

    /// Whether the lock is held, by any thread (Python 3.14's `RLock.locked()`).
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert!(!lock.locked());
    /// let _held = lock.lock();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// The ident ([`crate::get_ident`]) of the thread that holds the lock, if any.
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert_eq!(lock.owner(), None);
    /// let _held = lock.lock();
    /// assert_eq!(lock.owner(), Some(threadkit::get_ident()));
    /// ```
    #[inline]
    pub fn owner(&self) -> Option<u64> {
        match self.owner.load(Ordering::Relaxed) {
            0 => None,
            ident => Some(ident),
        }
    }

    /// Whether the calling thread holds the lock (Python's `RLock._is_owned()`).
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert!(!lock.is_owned());
    /// let _held = lock.lock();
    /// assert!(lock.is_owned());
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == get_ident()
    }

    /// How many times the calling thread holds the lock: 0 if it does not hold it (Python's
    /// `RLock._recursion_count()`).
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert_eq!(lock.recursion_count(), 0);
    /// let _a = lock.lock();
    /// let _b = lock.lock();
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    #[inline]
    pub fn recursion_count(&self) -> u64 {
        if self.is_owned() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// The owner's recursion depth, whichever thread asks (0 when unlocked): a snapshot for
    /// reprs and diagnostics, as CPython's `RLock` repr shows `count=`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threadkit::RLock::new());
    /// let _a = lock.lock();
    /// let _b = lock.lock();
    /// let other = lock.clone();
    /// assert_eq!(std::thread::spawn(move || other.held_count()).join().unwrap(), 2);
    /// ```
    pub fn held_count(&self) -> u64 {
        if self.locked() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Releases the lock completely, whatever the recursion depth, and returns
    /// `(count, owner)` for [`RLock::acquire_restore`] (Python's `RLock._release_save()`, which
    /// [`crate::Condition::wait`] uses).
    ///
    /// As CPython's, it checks only that some thread holds the lock, and returns that owner's
    /// state: a [`crate::Condition`] calls it only after checking that the caller owns the lock.
    ///
    /// # Errors
    /// [`ReleaseError::NotOwner`] if no thread holds the lock.
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// lock.acquire();
    /// lock.acquire();
    /// let saved = lock.release_save().unwrap();
    /// assert_eq!(saved, (2, threadkit::get_ident()));
    /// assert!(!lock.locked());
    /// lock.acquire_restore(saved);
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    pub fn release_save(&self) -> Result<(u64, u64), ReleaseError> {
        let owner = self.owner.load(Ordering::Relaxed);
        if owner == 0 {
            return Err(ReleaseError::NotOwner);
        }
        let count = self.count.load(Ordering::Relaxed);
        self.let_go();
        Ok((count, owner))
    }

    /// Acquires the lock (blocking, not interruptible) and restores the `(count, owner)` state
    /// that [`RLock::release_save`] returned (Python's `RLock._acquire_restore()`).
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// lock.acquire_restore((3, threadkit::get_ident()));
    /// assert_eq!(lock.recursion_count(), 3);
    /// ```
    pub fn acquire_restore(&self, state: (u64, u64)) {
        self.reacquire_reporting(state, &mut NoInterrupt);
    }

    /// [`RLock::acquire_restore`], as a Condition's re-acquire: a deadlock this wait closes is
    /// handed to `interrupt`'s [`on_deadlock`](Interrupt::on_deadlock) (never to give up:
    /// this wait cannot); the wait is not otherwise interruptible.
    pub(crate) fn reacquire_reporting(&self, state: (u64, u64), interrupt: &mut dyn Interrupt) {
        let (count, owner) = state;
        let what = AcquireFor::Reacquire(Some(self));
        let r = self
            .lock
            .acquire_as(Deadline::never(), &mut ReportOnly(interrupt), what);
        debug_assert_eq!(r, Ok(true));
        self.take(owner, count);
    }

    /// Acquires the lock and returns a guard that releases one level when dropped.
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// {
    ///     let _outer = lock.lock();
    ///     let _inner = lock.lock();
    ///     assert_eq!(lock.recursion_count(), 2);
    /// }
    /// assert!(!lock.locked());
    /// ```
    pub fn lock(&self) -> RLockGuard<'_> {
        self.acquire();
        RLockGuard::new(self)
    }

    /// A guard if the lock is free or already held by the calling thread, without blocking.
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// let a = lock.try_lock().unwrap();
    /// let b = lock.try_lock().unwrap();
    /// drop((b, a));
    /// assert!(!lock.locked());
    /// ```
    pub fn try_lock(&self) -> Option<RLockGuard<'_>> {
        self.try_acquire().then(|| RLockGuard::new(self))
    }

    /// A guard if the lock could be acquired within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::RLock::new();
    /// assert!(lock.try_lock_for(Duration::from_millis(5)).is_some());
    /// ```
    pub fn try_lock_for(&self, timeout: Duration) -> Option<RLockGuard<'_>> {
        self.acquire_timeout(timeout).then(|| RLockGuard::new(self))
    }

    /// Resets the lock to unlocked and unowned, for a child process after `fork()` (Python's
    /// `_at_fork_reinit`).
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// lock.acquire();
    /// lock.reinit_after_fork();
    /// assert!(!lock.locked());
    /// assert_eq!(lock.owner(), None);
    /// ```
    pub fn reinit_after_fork(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        self.lock.reinit_after_fork();
    }
}

impl Waitable for RLock {
    fn label(&self) -> Label {
        self.lock.label().clone()
    }

    fn held_by(&self, _waiter: u64) -> HeldBy {
        // Only the owner releases an RLock: its owner is certain. A read-modify-write reads
        // the latest value (crate::debug's detection notes).
        match self.owner.fetch_add(0, Ordering::AcqRel) {
            0 => HeldBy::Unknown,
            ident => HeldBy::Thread {
                ident,
                certain: true,
            },
        }
    }

    fn wakes(&self) -> bool {
        true
    }

    fn wake(&self) {
        Waitable::wake(&self.lock);
    }

    fn lock_addr(&self) -> usize {
        self.lock.addr()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owner = self.owner();
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .field("owner", &owner)
            // Racy when read by another thread than the owner, like CPython's repr.
            .field(
                "count",
                &if owner.is_some() {
                    self.count.load(Ordering::Relaxed)
                } else {
                    0
                },
            )
            .finish()
    }
}

/// Holds one level of an [`RLock`] until dropped; made by [`RLock::lock`]. Not `Send`: only the
/// owning thread may release.
///
/// ```
/// let lock = threadkit::RLock::new();
/// let guard = lock.lock();
/// assert!(lock.is_owned());
/// drop(guard);
/// assert!(!lock.locked());
/// ```
///
/// Sending it to another thread does not compile:
///
/// ```compile_fail
/// let lock = threadkit::RLock::new();
/// let guard = lock.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
    _not_send: PhantomData<*const ()>,
}

impl<'a> RLockGuard<'a> {
    fn new(lock: &'a RLock) -> Self {
        RLockGuard {
            lock,
            _not_send: PhantomData,
        }
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("lock", self.lock)
            .finish()
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // Fails only if the level was already given up (release_save without restore, fork).
        let _ = self.lock.release();
    }
}
