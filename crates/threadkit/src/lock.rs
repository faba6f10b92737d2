//! [`Lock`]: Python's `threading.Lock`, a mutual-exclusion lock that any thread may release.

use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{
    before_blocking, forget_held, HeldBy, Label, ReportOnly, Tag, WaitKind, WaitOn, Waitable,
    Waiting,
};
use crate::ident::get_ident;
use crate::rlock::RLock;
use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};

const UNLOCKED: usize = 0;
const LOCKED: usize = 1;
/// Locked, and a thread may be waiting: the release must wake one.
const CONTENDED: usize = 2;

/// Whom a [`Lock`]'s slow path waits for, as its wait record says.
#[derive(Clone, Copy)]
pub(crate) enum AcquireFor<'a> {
    /// The lock itself.
    Lock,
    /// The [`RLock`] this lock is the inner lock of.
    RLock(&'a RLock),
    /// A Condition taking back this lock (or that RLock): the wait cannot give up.
    Reacquire(Option<&'a RLock>),
}

/// Why a release failed.
///
/// ```
/// use threadkit::{Lock, ReleaseError};
/// assert_eq!(Lock::new().release(), Err(ReleaseError::Unlocked));
/// assert_eq!(ReleaseError::Unlocked.to_string(), "release unlocked lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseError {
    /// The lock was not held (Python: `RuntimeError('release unlocked lock')`).
    Unlocked,
    /// An `RLock` held by another thread, or by none (Python:
    /// `RuntimeError('cannot release un-acquired lock')`).
    NotOwner,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReleaseError::Unlocked => "release unlocked lock",
            ReleaseError::NotOwner => "cannot release un-acquired lock",
        })
    }
}

impl std::error::Error for ReleaseError {}

/// A primitive lock, as Python's `threading.Lock`: not reentrant, released by any thread.
///
/// Uncontended acquire and release are one atomic operation each; a contended acquire sleeps
/// (no spinning on a sleep) until a release wakes it. The lock records the ident of the thread
/// that acquired it ([`Lock::owner`]), for diagnostics and for [`crate::Condition`], and has a
/// [`Label`] (where it was created, and a name if given: [`Lock::named`]) for reports.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::Lock;
///
/// let lock = Arc::new(Lock::new());
/// let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let (lock, counter) = (lock.clone(), counter.clone());
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 let _held = lock.lock();
///                 // a read-modify-write made safe by the lock
///                 let v = counter.load(std::sync::atomic::Ordering::Relaxed);
///                 counter.store(v + 1, std::sync::atomic::Ordering::Relaxed);
///             }
///         })
///     })
///     .collect();
/// for h in handles { h.join().unwrap(); }
/// assert_eq!(counter.load(std::sync::atomic::Ordering::Relaxed), 4000);
/// ```
pub struct Lock {
    state: AtomicUsize,
    owner: AtomicU64,
    /// Sticky: a thread once released the lock while another had acquired it (the hand-off
    /// idiom), so its owner is no certain holder for deadlock detection.
    handed_off: AtomicBool,
    /// Number of threads in the slow path, guarded; the condvar's mutex.
    waiters: Mutex<usize>,
    cv: Condvar,
    tag: Tag,
    /// `Lock`, or `RLock` for the lock inside an [`RLock`] (how debug mode names its class).
    kind: WaitKind,
}

impl Default for Lock {
    #[track_caller]
    fn default() -> Self {
        Lock::new()
    }
}

impl Lock {
    /// A new, unlocked lock, labelled with the caller's location.
    ///
    /// ```
    /// assert!(!threadkit::Lock::new().locked());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        Lock::with_tag(Tag::here())
    }

    /// A new, unlocked lock named `name` (in deadlock reports, dumps and contention rows).
    ///
    /// ```
    /// let lock = threadkit::Lock::named("inventory");
    /// assert_eq!(lock.label().name(), Some("inventory"));
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<StdArc<str>>) -> Self {
        Lock::new().with_name(name)
    }

    pub(crate) fn with_tag(tag: Tag) -> Self {
        Lock {
            state: AtomicUsize::new(UNLOCKED),
            owner: AtomicU64::new(0),
            handed_off: AtomicBool::new(false),
            waiters: Mutex::new(0),
            cv: Condvar::new(),
            tag,
            kind: WaitKind::Lock,
        }
    }

    /// The same lock, named `name`.
    ///
    /// ```
    /// let lock = threadkit::Lock::new().with_name("log");
    /// assert_eq!(lock.label().name(), Some("log"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<StdArc<str>>) -> Self {
        self.tag.set_name(name.into());
        self
    }

    /// The same lock, labelled `label` (the Python bindings give the Python site this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let lock = threadkit::Lock::new().with_label(Label::new(None, Site::intern("app.py", 3)));
    /// assert_eq!(lock.label().site().to_string(), "app.py:3");
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.tag.set_label(label);
        self
    }

    /// The lock's name and creation site.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert_eq!(lock.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    /// Whether debug mode checks this lock's order ([`crate::debug::enable`]): it was on when
    /// the lock was created, and the lock was not made with
    /// [`order_unchecked`](Lock::order_unchecked).
    ///
    /// ```
    /// threadkit::debug::enable();
    /// assert!(threadkit::Lock::new().is_order_checked());
    /// assert!(!threadkit::Lock::new().order_unchecked().is_order_checked());
    /// ```
    #[inline]
    pub fn is_order_checked(&self) -> bool {
        self.tag.order.is_checked()
    }

    /// The same lock, never checked by debug mode's lock-order checking: for a lock whose
    /// order the program makes safe some other way (a lock taken in both orders, but never by
    /// two threads at once), where [`crate::debug::allow`] would be too broad.
    ///
    /// ```
    /// let lock = threadkit::Lock::new().order_unchecked();
    /// assert!(!lock.is_order_checked());
    /// ```
    #[must_use]
    pub fn order_unchecked(mut self) -> Self {
        self.tag.order.uncheck();
        self
    }

    /// The lock inside an RLock: its debug-mode class says `RLock`.
    pub(crate) fn for_rlock(mut self) -> Self {
        self.kind = WaitKind::RLock;
        self
    }

    pub(crate) fn addr(&self) -> usize {
        self as *const Lock as usize
    }

    #[cold]
    fn order_acquired(&self) {
        crate::debug::order_acquired(&self.tag.order, self.addr(), &self.tag.label, self.kind);
    }

    #[cold]
    fn order_released(&self, owner: u64, mine: bool) {
        if mine {
            crate::debug::order_released(self.addr());
        } else {
            forget_held(owner, self.addr());
        }
    }

    /// Acquires the lock, blocking as long as it takes.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    pub fn acquire(&self) {
        let r = self.acquire_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    /// Acquires the lock if it is free, without blocking. Returns whether it did.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            self.owner.store(get_ident(), Ordering::Relaxed);
            if self.tag.order.is_checked() {
                self.order_acquired();
            }
            true
        } else {
            false
        }
    }

    /// Acquires the lock, waiting at most `timeout`. Returns whether it did.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Acquires the lock, waiting until `deadline` at most. Returns whether it did.
    ///
    /// ```
    /// use threadkit::{Deadline, Lock};
    /// let lock = Lock::new();
    /// assert!(lock.acquire_until(Deadline::now()));
    /// assert!(!lock.acquire_until(Deadline::now()));
    /// ```
    pub fn acquire_until(&self, deadline: Deadline) -> bool {
        self.acquire_interruptible(deadline, &mut NoInterrupt) == Ok(true)
    }

    /// Acquires the lock, waiting until `deadline` at most, and asking `interrupt` at its interval
    /// whether to give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, Lock, NoInterrupt};
    /// let lock = Lock::new();
    /// assert_eq!(lock.acquire_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        self.acquire_as(deadline, interrupt, AcquireFor::Lock)
    }

    /// [`Lock::acquire_interruptible`], with the slow path recording the wait as `what` says.
    /// (Two words, passed in registers: the fast path builds nothing.)
    #[inline]
    pub(crate) fn acquire_as(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
        what: AcquireFor<'_>,
    ) -> Result<bool, Interrupted> {
        if self.tag.order.is_checked() && deadline.is_never() && crate::debug::holds_any() {
            self.check_order(interrupt, what)?;
        }
        if self.try_acquire() {
            return Ok(true);
        }
        if deadline.has_passed() {
            return Ok(false);
        }
        self.acquire_slow(deadline, interrupt, what)
    }

    /// A Condition's re-acquire: blocks until acquired; a deadlock it closes goes to
    /// `interrupt`'s [`on_deadlock`](Interrupt::on_deadlock), never to give up.
    pub(crate) fn reacquire_reporting(&self, interrupt: &mut dyn Interrupt) {
        let what = AcquireFor::Reacquire(None);
        let r = self.acquire_as(Deadline::never(), &mut ReportOnly(interrupt), what);
        debug_assert_eq!(r, Ok(true));
    }

    /// Debug mode, before a blocking acquisition without a timeout: the lock-order check.
    #[cold]
    fn check_order(
        &self,
        interrupt: &mut dyn Interrupt,
        what: AcquireFor<'_>,
    ) -> Result<(), Interrupted> {
        let can_raise = !matches!(what, AcquireFor::Reacquire(_));
        before_blocking(
            &self.tag.order,
            self.addr(),
            &self.tag.label,
            self.kind,
            can_raise,
            interrupt,
        )
    }

    #[cold]
    fn acquire_slow(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
        what: AcquireFor<'_>,
    ) -> Result<bool, Interrupted> {
        let on = match what {
            AcquireFor::Lock => WaitOn::new(WaitKind::Lock, self, &self.tag),
            AcquireFor::RLock(rlock) => WaitOn::new(WaitKind::RLock, rlock, &self.tag),
            AcquireFor::Reacquire(None) => WaitOn {
                reacquire: true,
                ..WaitOn::new(WaitKind::Lock, self, &self.tag)
            },
            AcquireFor::Reacquire(Some(rlock)) => WaitOn {
                reacquire: true,
                ..WaitOn::new(WaitKind::RLock, rlock, &self.tag)
            },
        };
        let waiting = Waiting::start(on, deadline);
        waiting.check_deadlock(interrupt)?;
        loop {
            let mut guard = self.waiters.lock();
            *guard += 1;
            let mut took = false;
            let (mut guard, outcome) = wait_while(
                &self.waiters,
                &self.cv,
                guard,
                deadline,
                interrupt,
                |waiters| {
                    took = self.take_contended(*waiters > 1);
                    !took && !waiting.poked()
                },
            );
            *guard -= 1;
            // Ready without the lock: another thread handed this one a deadlock to act on.
            let poked = outcome == WaitOutcome::Ready && !took;
            if (outcome != WaitOutcome::Ready || poked) && *guard > 0 {
                // This thread may have consumed the wake-up a release meant for another waiter.
                self.cv.notify_one();
            }
            drop(guard);
            match outcome {
                WaitOutcome::Ready if took => {
                    self.owner.store(get_ident(), Ordering::Relaxed);
                    if self.tag.order.is_checked() {
                        self.order_acquired();
                    }
                    return Ok(true);
                }
                WaitOutcome::Ready => waiting.deliver(interrupt)?,
                WaitOutcome::TimedOut => return Ok(false),
                WaitOutcome::Interrupted => return Err(Interrupted),
            }
        }
    }

    /// Under the waiters mutex: takes the lock if free (leaving it marked contended if other
    /// threads wait), or marks it contended so that its release wakes a waiter.
    fn take_contended(&self, others_wait: bool) -> bool {
        let taken = if others_wait { CONTENDED } else { LOCKED };
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (new, takes) = match current {
                UNLOCKED => (taken, true),
                LOCKED => (CONTENDED, false),
                _ => return false,
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

    /// Releases the lock. Any thread may release it, as in Python.
    ///
    /// # Errors
    /// [`ReleaseError::Unlocked`] if the lock was not held.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// lock.acquire();
    /// assert!(lock.release().is_ok());
    /// assert!(lock.release().is_err());
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        if self.state.load(Ordering::Relaxed) == UNLOCKED {
            return Err(ReleaseError::Unlocked);
        }
        let owner = self.owner.load(Ordering::Relaxed);
        let mine = owner == get_ident();
        if !mine {
            self.note_hand_off();
        }
        if self.tag.order.is_checked() {
            self.order_released(owner, mine);
        }
        self.let_go()
    }

    /// [`Lock::release`] by a caller that acquired the lock itself (an [`crate::RLock`]'s
    /// last release): no hand-off to note.
    #[inline]
    pub(crate) fn release_owned(&self) -> Result<(), ReleaseError> {
        if self.state.load(Ordering::Relaxed) == UNLOCKED {
            return Err(ReleaseError::Unlocked);
        }
        if self.tag.order.is_checked() {
            crate::debug::order_released(self.addr());
        }
        self.let_go()
    }

    #[cold]
    fn note_hand_off(&self) {
        self.handed_off.store(true, Ordering::Relaxed);
    }

    #[inline]
    fn let_go(&self) -> Result<(), ReleaseError> {
        self.owner.store(0, Ordering::Relaxed);
        match self.state.swap(UNLOCKED, Ordering::Release) {
            UNLOCKED => Err(ReleaseError::Unlocked),
            LOCKED => Ok(()),
            _ => {
                self.wake_one();
                Ok(())
            }
        }
    }

    #[cold]
    fn wake_one(&self) {
        // Taking the mutex orders this wake-up after a waiter's check of the state.
        let _guard = self.waiters.lock();
        self.cv.notify_one();
    }

    /// Whether the lock is held.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }

    /// The ident ([`crate::get_ident`]) of the thread that acquired the lock, if it is held.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert_eq!(lock.owner(), None);
    /// lock.acquire();
    /// assert_eq!(lock.owner(), Some(threadkit::get_ident()));
    /// ```
    #[inline]
    pub fn owner(&self) -> Option<u64> {
        if !self.locked() {
            return None;
        }
        match self.owner.load(Ordering::Relaxed) {
            0 => None,
            ident => Some(ident),
        }
    }

    /// Acquires the lock and returns a guard that releases it when dropped.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// {
    ///     let _held = lock.lock();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// ```
    pub fn lock(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self }
    }

    /// A guard if the lock is free now, without blocking.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// let held = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(held);
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        // `then`, not `then_some`: a guard built eagerly and dropped on failure would release
        // the lock that another holder has.
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// A guard if the lock could be acquired within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::Lock::new();
    /// let _held = lock.lock();
    /// assert!(lock.try_lock_for(Duration::from_millis(5)).is_none());
    /// ```
    pub fn try_lock_for(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| LockGuard { lock: self })
    }

    /// Resets the lock to unlocked, for a child process after `fork()` (Python's
    /// `_at_fork_reinit`): the thread that held it does not exist in the child.
    ///
    /// Every primitive's `reinit_after_fork` has the same contract: call it in the child,
    /// before any other thread of the child uses the primitive. Internal state that a thread
    /// of the parent held at the fork is then taken back by force.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// lock.acquire();
    /// lock.reinit_after_fork();
    /// assert!(!lock.locked());
    /// ```
    pub fn reinit_after_fork(&self) {
        *self.waiters.lock_after_fork() = 0;
        self.owner.store(0, Ordering::Relaxed);
        self.state.store(UNLOCKED, Ordering::Release);
    }
}

/// Debug mode's lock-order check as a step of its own, for callers that try the fast path
/// themselves before a blocking acquisition without a timeout (the Python bindings). The
/// crate's own blocking acquisitions make it for themselves.
///
/// ```
/// use threadkit::raw::LockOrderExt;
/// use threadkit::{Lock, NoInterrupt};
/// let lock = Lock::new();
/// lock.check_order(&mut NoInterrupt).unwrap(); // nothing held: nothing to check
/// assert!(lock.try_acquire());
/// ```
pub trait LockOrderExt {
    /// Records the edges from the locks this thread holds to this one and acts on a cycle
    /// (`Err`: the acquisition must give up). Does nothing for an unchecked lock, or an
    /// [`RLock`] this thread owns (re-entry).
    fn check_order(&self, interrupt: &mut dyn Interrupt) -> Result<(), Interrupted>;
}

impl LockOrderExt for Lock {
    #[inline]
    fn check_order(&self, interrupt: &mut dyn Interrupt) -> Result<(), Interrupted> {
        if self.is_order_checked() && crate::debug::holds_any() {
            Lock::check_order(self, interrupt, AcquireFor::Lock)?;
        }
        Ok(())
    }
}

impl LockOrderExt for RLock {
    #[inline]
    fn check_order(&self, interrupt: &mut dyn Interrupt) -> Result<(), Interrupted> {
        if self.is_order_checked() && crate::debug::holds_any() && !self.is_owned() {
            self.inner_lock()
                .check_order(interrupt, AcquireFor::RLock(self))?;
        }
        Ok(())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // A lock freed while held stops counting as held by its taker (debug mode).
        if self.tag.order.is_checked() && self.locked() {
            forget_held(self.owner.load(Ordering::Relaxed), self.addr());
        }
    }
}

impl Waitable for Lock {
    fn label(&self) -> Label {
        self.tag.label.clone()
    }

    fn held_by(&self, waiter: u64) -> HeldBy {
        // Read-modify-writes read the latest values (crate::debug's detection notes).
        match self.owner.fetch_add(0, Ordering::AcqRel) {
            0 => HeldBy::Unknown,
            ident => HeldBy::Thread {
                ident,
                // The hand-off idiom: any thread may release a Lock, so an owner that ever
                // let another thread release, or the waiter itself, may not be the one to.
                certain: ident != waiter && !self.handed_off.fetch_or(false, Ordering::AcqRel),
            },
        }
    }

    fn wakes(&self) -> bool {
        true
    }

    fn wake(&self) {
        let _guard = self.waiters.lock();
        self.cv.notify_all();
    }

    fn lock_addr(&self) -> usize {
        self.addr()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("owner", &self.owner())
            .finish()
    }
}

/// Holds a [`Lock`] until dropped; made by [`Lock::lock`].
///
/// ```
/// let lock = threadkit::Lock::new();
/// let guard = lock.lock();
/// assert!(lock.locked());
/// drop(guard);
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
#[derive(Debug)]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Another thread may have released it already (Python allows that): nothing to do then.
        let _ = self.lock.release();
    }
}
