//! [`Condition`]: Python's `threading.Condition`, over a [`Lock`] or an [`RLock`]; and
//! [`WaitQueue`] (in [`crate::raw`]), the FIFO of waiters under it, usable on its own by code
//! that manages the lock itself (the Python bindings, for a Condition over a foreign lock).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::ident::get_ident;
use crate::lock::{Lock, ReleaseError};
use crate::rlock::RLock;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

/// What a [`Condition`] needs from its lock: Python's `_is_owned`, `_release_save` and
/// `_acquire_restore` protocol, plus acquire and release for the condition's passthroughs.
///
/// Implemented for [`Lock`] and [`RLock`].
///
/// ```
/// use threadkit::{ConditionLock, RLock};
///
/// let lock = RLock::new();
/// lock.acquire();
/// lock.acquire();
/// assert!(ConditionLock::is_owned(&lock));
/// let saved = ConditionLock::release_save(&lock).unwrap();
/// assert!(!lock.locked());
/// ConditionLock::acquire_restore(&lock, saved);
/// assert_eq!(lock.recursion_count(), 2);
/// ```
pub trait ConditionLock: Send + Sync {
    /// What [`release_save`](ConditionLock::release_save) hands to
    /// [`acquire_restore`](ConditionLock::acquire_restore).
    type Saved: Send;

    /// Whether the calling thread holds the lock.
    fn is_owned(&self) -> bool;

    /// Releases the lock completely, returning what is needed to take it back as it was.
    ///
    /// # Errors
    /// The lock's [`ReleaseError`] if the calling thread cannot release it.
    fn release_save(&self) -> Result<Self::Saved, ReleaseError>;

    /// Takes the lock back (blocking, not interruptible) in the state `saved` describes.
    fn acquire_restore(&self, saved: Self::Saved);

    /// [`acquire_restore`](ConditionLock::acquire_restore), handing a deadlock this wait
    /// closes (see [`crate::debug`]) to `interrupt`'s
    /// [`on_deadlock`](Interrupt::on_deadlock); the wait still cannot be interrupted or give
    /// up. [`WaitQueue::wait_with`] re-acquires this way. The default ignores `interrupt`.
    ///
    /// ```
    /// use threadkit::{ConditionLock, NoInterrupt, RLock};
    /// let lock = RLock::new();
    /// lock.acquire();
    /// let saved = ConditionLock::release_save(&lock).unwrap();
    /// ConditionLock::acquire_restore_reporting(&lock, saved, &mut NoInterrupt);
    /// assert!(lock.is_owned());
    /// ```
    fn acquire_restore_reporting(&self, saved: Self::Saved, interrupt: &mut dyn Interrupt) {
        let _ = interrupt;
        self.acquire_restore(saved);
    }

    /// Acquires the lock as the lock's own `acquire_interruptible` does.
    ///
    /// # Errors
    /// [`Interrupted`] if `interrupt` stopped the wait.
    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted>;

    /// Releases the lock (one level of an [`RLock`]).
    ///
    /// # Errors
    /// The lock's [`ReleaseError`].
    fn release(&self) -> Result<(), ReleaseError>;

    /// Resets the lock in a child process after `fork()`.
    fn reinit_after_fork(&self);
}

/// A plain [`Lock`] is owned by the thread that acquired it: `is_owned` is
/// `owner() == Some(get_ident())`. CPython's `Condition._is_owned` for a lock without
/// `_is_owned` only checks that the lock is held by some thread; we know the owner, so a thread
/// that waits or notifies on a lock another thread acquired gets [`ConditionError::NotOwned`].
impl ConditionLock for Lock {
    type Saved = ();

    #[inline]
    fn is_owned(&self) -> bool {
        self.owner() == Some(get_ident())
    }

    fn release_save(&self) -> Result<(), ReleaseError> {
        Lock::release(self)
    }

    fn acquire_restore(&self, _saved: ()) {
        self.reacquire_reporting(&mut NoInterrupt);
    }

    fn acquire_restore_reporting(&self, _saved: (), interrupt: &mut dyn Interrupt) {
        self.reacquire_reporting(interrupt);
    }

    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        Lock::acquire_interruptible(self, deadline, interrupt)
    }

    fn release(&self) -> Result<(), ReleaseError> {
        Lock::release(self)
    }

    fn reinit_after_fork(&self) {
        Lock::reinit_after_fork(self);
    }
}

/// `Saved` is `(count, owner)`, as Python's `RLock._release_save()` returns.
impl ConditionLock for RLock {
    type Saved = (u64, u64);

    #[inline]
    fn is_owned(&self) -> bool {
        RLock::is_owned(self)
    }

    fn release_save(&self) -> Result<(u64, u64), ReleaseError> {
        RLock::release_save(self)
    }

    fn acquire_restore(&self, saved: (u64, u64)) {
        RLock::acquire_restore(self, saved);
    }

    fn acquire_restore_reporting(&self, saved: (u64, u64), interrupt: &mut dyn Interrupt) {
        self.reacquire_reporting(saved, interrupt);
    }

    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        RLock::acquire_interruptible(self, deadline, interrupt)
    }

    fn release(&self) -> Result<(), ReleaseError> {
        RLock::release(self)
    }

    fn reinit_after_fork(&self) {
        RLock::reinit_after_fork(self);
    }
}

/// The operation a [`ConditionError::NotOwned`] refused.
///
/// ```
/// use threadkit::{Condition, ConditionError, ConditionOp};
/// let cond = Condition::new();
/// assert_eq!(cond.notify(1), Err(ConditionError::NotOwned(ConditionOp::Notify)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionOp {
    /// `wait`, `wait_for` and their variants.
    Wait,
    /// `notify`, `notify_all`.
    Notify,
}

/// Why a [`Condition`] operation failed.
///
/// ```
/// use threadkit::{Condition, ConditionError, ConditionOp};
///
/// let cond = Condition::new();
/// assert_eq!(cond.wait(), Err(ConditionError::NotOwned(ConditionOp::Wait)));
/// assert_eq!(cond.notify(1).unwrap_err().to_string(), "cannot notify on un-acquired lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionError {
    /// The calling thread does not hold the condition's lock (Python: `RuntimeError('cannot
    /// wait on un-acquired lock')` / `RuntimeError('cannot notify on un-acquired lock')`).
    NotOwned(ConditionOp),
    /// The [`Interrupt`] stopped the wait. The lock is held again, as after any wait.
    Interrupted,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConditionError::NotOwned(ConditionOp::Wait) => "cannot wait on un-acquired lock",
            ConditionError::NotOwned(ConditionOp::Notify) => "cannot notify on un-acquired lock",
            ConditionError::Interrupted => "wait interrupted",
        })
    }
}

impl std::error::Error for ConditionError {}

impl From<Interrupted> for ConditionError {
    fn from(_: Interrupted) -> Self {
        ConditionError::Interrupted
    }
}

/// One waiter's wake slot. `notified` is written under the queue's mutex.
#[derive(Debug)]
struct Slot {
    notified: AtomicBool,
    cv: Condvar,
}

/// A place in a [`WaitQueue`], from [`WaitQueue::enqueue`]; to be passed to
/// [`WaitQueue::wait`] or [`WaitQueue::cancel`] of the same queue.
///
/// Held by the Python bindings (`crates/threadkit-python`) to wait on a `Condition` over a
/// lock written in Python (`_core.WaitTicket`).
///
/// ```
/// use threadkit::raw::WaitQueue;
/// use threadkit::{Deadline, NoInterrupt};
/// let q = WaitQueue::new();
/// let ticket = q.enqueue();
/// q.notify(1);
/// assert_eq!(q.wait(&ticket, Deadline::never(), &mut NoInterrupt), Ok(true));
/// ```
#[derive(Debug)]
#[must_use = "a ticket must be waited on or cancelled, or it absorbs a notification"]
pub struct WaitTicket {
    slot: Arc<Slot>,
}

impl WaitTicket {
    /// Whether a notification has reached this ticket.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let t = q.enqueue();
    /// assert!(!t.is_notified());
    /// q.notify(1);
    /// assert!(t.is_notified());
    /// ```
    pub fn is_notified(&self) -> bool {
        self.slot.notified.load(Ordering::Relaxed)
    }
}

/// The FIFO of threads waiting on a condition, each with its own wake slot: `notify(n)` wakes
/// the first `n` that are still waiting, and a waiter that times out or is interrupted leaves
/// the queue, so no notification is spent on it.
///
/// Used by the Python bindings (`crates/threadkit-python`) to wait on a `Condition` whose
/// lock is not threadkit's: the lock's methods are Python code, which runs in Python frames
/// between [`enqueue`](WaitQueue::enqueue) and [`wait`](WaitQueue::wait).
///
/// [`Condition`] is a lock plus a `WaitQueue`. Use a `WaitQueue` directly when the lock is
/// managed elsewhere: either through [`WaitQueue::wait_with`] and [`WaitQueue::notify_with`],
/// which take any [`ConditionLock`], or with the raw steps of a condition wait, which work with
/// any lock: while holding it, [`enqueue`](WaitQueue::enqueue); release the lock;
/// [`wait`](WaitQueue::wait); take the lock back. Notifiers call [`notify`](WaitQueue::notify)
/// while holding the lock.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::raw::WaitQueue;
/// use threadkit::{Deadline, Lock, NoInterrupt};
///
/// let lock = Arc::new(Lock::new());
/// let queue = Arc::new(WaitQueue::new());
/// lock.acquire();
/// let ticket = queue.enqueue();
/// lock.release().unwrap();
/// let notifier = {
///     let (lock, queue) = (lock.clone(), queue.clone());
///     std::thread::spawn(move || {
///         let _held = lock.lock();
///         queue.notify(1);
///     })
/// };
/// assert_eq!(queue.wait(&ticket, Deadline::never(), &mut NoInterrupt), Ok(true));
/// lock.acquire();
/// notifier.join().unwrap();
/// ```
pub struct WaitQueue {
    queue: Mutex<VecDeque<Arc<Slot>>>,
    /// `queue.len()`, readable without the mutex.
    len: AtomicUsize,
    /// The condition's label.
    tag: Tag,
}

impl Default for WaitQueue {
    #[track_caller]
    fn default() -> Self {
        WaitQueue::new()
    }
}

impl WaitQueue {
    /// An empty queue, labelled (as a Condition, in reports and dumps) with the caller's
    /// location.
    ///
    /// ```
    /// assert!(!threadkit::raw::WaitQueue::new().has_waiters());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        WaitQueue {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            tag: Tag::here(),
        }
    }

    /// The same queue, named `name`.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new().with_name("ready");
    /// assert_eq!(q.label().name(), Some("ready"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<StdArc<str>>) -> Self {
        self.tag.set_name(name.into());
        self
    }

    /// The same queue, labelled `label` (the Python bindings give the Python site this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let q = threadkit::raw::WaitQueue::new().with_label(Label::new(None, Site::intern("c.py", 2)));
    /// assert_eq!(q.label().site().file(), "c.py");
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.tag.set_label(label);
        self
    }

    /// The label waits on this queue are recorded with (a Condition's).
    ///
    /// ```
    /// assert_eq!(threadkit::raw::WaitQueue::new().label().name(), None);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    /// How many threads are in the queue (enqueued and neither notified, timed out nor
    /// cancelled). One atomic load.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let t = q.enqueue();
    /// assert_eq!(q.waiter_count(), 1);
    /// q.cancel(&t);
    /// assert_eq!(q.waiter_count(), 0);
    /// ```
    #[inline]
    pub fn waiter_count(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether any thread is in the queue. One atomic load.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let _t = q.enqueue();
    /// assert!(q.has_waiters());
    /// ```
    #[inline]
    pub fn has_waiters(&self) -> bool {
        self.waiter_count() != 0
    }

    /// Joins the end of the queue. Call it while holding the condition's lock, before releasing
    /// it, so that a notification sent after the release reaches this waiter.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let t = q.enqueue();
    /// assert_eq!(q.notify(5), 1);
    /// assert!(t.is_notified());
    /// ```
    pub fn enqueue(&self) -> WaitTicket {
        let slot = Arc::new(Slot {
            notified: AtomicBool::new(false),
            cv: Condvar::new(),
        });
        let mut queue = self.queue.lock();
        queue.push_back(slot.clone());
        self.len.store(queue.len(), Ordering::Relaxed);
        WaitTicket { slot }
    }

    /// Blocks until `ticket` is notified (`Ok(true)`) or `deadline` passes (`Ok(false)`),
    /// checking `interrupt` at its interval. On a timeout or interrupt the ticket leaves the
    /// queue; a notification that arrived as the deadline passed still counts as one.
    ///
    /// # Errors
    /// [`Interrupted`] if `interrupt` stopped the wait. A notification that reached the ticket
    /// during the interrupt check is passed on to the next waiter.
    ///
    /// ```
    /// use threadkit::raw::WaitQueue;
    /// use threadkit::{Deadline, NoInterrupt};
    /// let q = WaitQueue::new();
    /// let t = q.enqueue();
    /// assert_eq!(q.wait(&t, Deadline::now(), &mut NoInterrupt), Ok(false));
    /// assert!(!q.has_waiters());
    /// ```
    pub fn wait(
        &self,
        ticket: &WaitTicket,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        let slot = &ticket.slot;
        let _waiting = Waiting::start(
            WaitOn::new(WaitKind::Condition, &self.tag, &self.tag),
            deadline,
        );
        let guard = self.queue.lock();
        let (mut queue, outcome) =
            wait_while(&self.queue, &slot.cv, guard, deadline, interrupt, |_| {
                !slot.notified.load(Ordering::Relaxed)
            });
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => {
                self.remove(&mut queue, slot);
                Ok(false)
            }
            WaitOutcome::Interrupted => {
                if slot.notified.load(Ordering::Relaxed) {
                    // Notified while checking the interrupt: hand the wake-up on.
                    self.notify_locked(&mut queue, 1);
                } else {
                    self.remove(&mut queue, slot);
                }
                Err(Interrupted)
            }
        }
    }

    /// Leaves the queue without waiting (e.g. when releasing the lock failed). Returns whether
    /// the ticket had been notified; if so, the notification is passed on to the next waiter.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let t = q.enqueue();
    /// assert!(!q.cancel(&t));
    /// assert!(!q.has_waiters());
    /// ```
    pub fn cancel(&self, ticket: &WaitTicket) -> bool {
        let mut queue = self.queue.lock();
        if ticket.slot.notified.load(Ordering::Relaxed) {
            self.notify_locked(&mut queue, 1);
            true
        } else {
            self.remove(&mut queue, &ticket.slot);
            false
        }
    }

    fn remove(&self, queue: &mut VecDeque<Arc<Slot>>, slot: &Arc<Slot>) {
        if let Some(i) = queue.iter().position(|s| Arc::ptr_eq(s, slot)) {
            queue.remove(i);
            self.len.store(queue.len(), Ordering::Relaxed);
        }
    }

    /// Wakes the first `n` waiters in the queue (fewer if fewer wait). Returns how many it woke.
    /// Does not check any lock: call it while holding the condition's lock.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let (a, b) = (q.enqueue(), q.enqueue());
    /// assert_eq!(q.notify(1), 1);
    /// assert!(a.is_notified() && !b.is_notified());
    /// assert_eq!(q.notify(0), 0);
    /// ```
    #[inline]
    pub fn notify(&self, n: usize) -> usize {
        if n == 0 || !self.has_waiters() {
            return 0;
        }
        self.notify_slow(n)
    }

    #[cold]
    fn notify_slow(&self, n: usize) -> usize {
        let mut queue = self.queue.lock();
        self.notify_locked(&mut queue, n)
    }

    fn notify_locked(&self, queue: &mut VecDeque<Arc<Slot>>, n: usize) -> usize {
        let n = n.min(queue.len());
        for slot in queue.drain(..n) {
            slot.notified.store(true, Ordering::Relaxed);
            slot.cv.notify_one();
        }
        self.len.store(queue.len(), Ordering::Relaxed);
        n
    }

    /// Wakes every waiter in the queue. Returns how many it woke.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let (a, b) = (q.enqueue(), q.enqueue());
    /// assert_eq!(q.notify_all(), 2);
    /// assert!(a.is_notified() && b.is_notified());
    /// ```
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// A full condition wait on `lock`: checks the caller holds it, joins the queue, releases
    /// the lock completely, waits as [`WaitQueue::wait`], and takes the lock back as it was
    /// before returning, on every path. `Ok(false)` is a timeout.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the caller does not hold `lock` (nothing else happens
    /// then); [`ConditionError::Interrupted`] if `interrupt` stopped the wait (the lock is
    /// held again).
    ///
    /// ```
    /// use threadkit::raw::WaitQueue;
    /// use threadkit::{Deadline, Lock, NoInterrupt};
    /// let (lock, q) = (Lock::new(), WaitQueue::new());
    /// let _held = lock.lock();
    /// assert_eq!(q.wait_with(&lock, Deadline::now(), &mut NoInterrupt), Ok(false));
    /// assert!(lock.locked());
    /// ```
    pub fn wait_with<L: ConditionLock + ?Sized>(
        &self,
        lock: &L,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, ConditionError> {
        if !lock.is_owned() {
            return Err(ConditionError::NotOwned(ConditionOp::Wait));
        }
        let ticket = self.enqueue();
        let saved = match lock.release_save() {
            Ok(saved) => saved,
            Err(_) => {
                self.cancel(&ticket);
                return Err(ConditionError::NotOwned(ConditionOp::Wait));
            }
        };
        let r = self.wait(&ticket, deadline, interrupt);
        lock.acquire_restore_reporting(saved, interrupt);
        Ok(r?)
    }

    /// [`WaitQueue::notify`] after checking that the caller holds `lock`.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if it does not.
    ///
    /// ```
    /// use threadkit::raw::WaitQueue;
    /// use threadkit::Lock;
    /// let (lock, q) = (Lock::new(), WaitQueue::new());
    /// assert!(q.notify_with(&lock, 1).is_err());
    /// let _held = lock.lock();
    /// assert_eq!(q.notify_with(&lock, 1), Ok(0));
    /// ```
    #[inline]
    pub fn notify_with<L: ConditionLock + ?Sized>(
        &self,
        lock: &L,
        n: usize,
    ) -> Result<usize, ConditionError> {
        if !lock.is_owned() {
            return Err(ConditionError::NotOwned(ConditionOp::Notify));
        }
        Ok(self.notify(n))
    }

    /// Empties the queue without waking anyone, for a child process after `fork()`: the waiting
    /// threads do not exist there.
    ///
    /// ```
    /// let q = threadkit::raw::WaitQueue::new();
    /// let _t = q.enqueue();
    /// q.reinit_after_fork();
    /// assert!(!q.has_waiters());
    /// ```
    pub fn reinit_after_fork(&self) {
        // The mutex may have been held by a thread that is gone: do not wait for it.
        {
            let mut queue = self.queue.lock_after_fork();
            queue.clear();
        }
        self.len.store(0, Ordering::Relaxed);
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue")
            .field("waiters", &self.waiter_count())
            .finish()
    }
}

/// A condition variable, as Python's `threading.Condition`: a lock ([`RLock`] by default, or a
/// [`Lock`]) plus a FIFO of waiting threads.
///
/// Waiting and notifying require holding the lock. [`wait`](Condition::wait) releases it
/// completely (whatever an [`RLock`]'s recursion depth), blocks until notified, and takes it
/// back as it was before returning, on every path. `notify(n)` wakes the first `n` threads still
/// waiting; a waiter that times out leaves the queue, so notifications are never spent on it.
/// With no waiter, `notify` is an ownership check and one atomic load.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::Condition;
///
/// let cond = Arc::new(Condition::new());
/// let items = Arc::new(std::sync::Mutex::new(Vec::new()));
/// let consumer = {
///     let (cond, items) = (cond.clone(), items.clone());
///     std::thread::spawn(move || {
///         let _held = cond.lock().lock();
///         cond.wait_for(|| !items.lock().unwrap().is_empty(), None).unwrap();
///         items.lock().unwrap().pop().unwrap()
///     })
/// };
/// {
///     let _held = cond.lock().lock();
///     items.lock().unwrap().push(42);
///     cond.notify(1).unwrap();
/// }
/// assert_eq!(consumer.join().unwrap(), 42);
/// ```
pub struct Condition<L: ConditionLock = RLock> {
    lock: Arc<L>,
    waiters: WaitQueue,
}

impl Condition<RLock> {
    /// A condition over a new [`RLock`], as Python's `Condition()`; both are labelled with
    /// the caller's location.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(!cond.lock().locked());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        Condition::with_lock(Arc::new(RLock::new()))
    }

    /// A condition named `name`, over a new [`RLock`] of the same name.
    ///
    /// ```
    /// let cond = threadkit::Condition::named("ready");
    /// assert_eq!(cond.label().name(), Some("ready"));
    /// assert_eq!(cond.lock().label().name(), Some("ready"));
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<StdArc<str>>) -> Self {
        let name = name.into();
        Condition::with_lock(Arc::new(RLock::named(name.clone()))).with_name(name)
    }
}

impl<L: ConditionLock + Default> Default for Condition<L> {
    #[track_caller]
    fn default() -> Self {
        Condition::with_lock(Arc::new(L::default()))
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A condition over `lock`, which other code may share (Python's `Condition(lock)`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condition, Lock};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let cond = Condition::with_lock(lock.clone());
    /// lock.acquire();
    /// assert_eq!(cond.notify_all(), Ok(()));
    /// ```
    #[track_caller]
    pub fn with_lock(lock: Arc<L>) -> Self {
        Condition {
            lock,
            waiters: WaitQueue::new(),
        }
    }

    /// The same condition, named `name` (its lock keeps its own label).
    ///
    /// ```
    /// let cond = threadkit::Condition::new().with_name("items");
    /// assert_eq!(cond.label().name(), Some("items"));
    /// ```
    #[must_use]
    pub fn with_name(self, name: impl Into<StdArc<str>>) -> Self {
        Condition {
            waiters: self.waiters.with_name(name),
            ..self
        }
    }

    /// The same condition, labelled `label` (its lock keeps its own).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let cond = threadkit::Condition::new().with_label(Label::new(None, Site::intern("c.py", 5)));
    /// assert_eq!(cond.label().site().line(), 5);
    /// ```
    #[must_use]
    pub fn with_label(self, label: Label) -> Self {
        Condition {
            waiters: self.waiters.with_label(label),
            ..self
        }
    }

    /// The condition's name and creation site.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert_eq!(cond.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        self.waiters.label()
    }

    /// The condition's lock.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _held = cond.lock().lock();
    /// assert!(cond.lock().is_owned());
    /// ```
    pub fn lock(&self) -> &L {
        &self.lock
    }

    /// The condition's lock, shared.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let lock = cond.lock_arc().clone();
    /// lock.acquire();
    /// assert!(cond.notify(1).is_ok());
    /// ```
    pub fn lock_arc(&self) -> &Arc<L> {
        &self.lock
    }

    /// Acquires the lock, blocking as long as it takes (Python's `Condition.acquire()`).
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// cond.acquire();
    /// assert!(cond.lock().is_owned());
    /// cond.release().unwrap();
    /// ```
    pub fn acquire(&self) {
        let r = self
            .lock
            .acquire_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    /// Acquires the lock if possible without blocking. Returns whether it did.
    ///
    /// ```
    /// let cond = threadkit::Condition::<threadkit::Lock>::default();
    /// assert!(cond.try_acquire());
    /// assert!(!cond.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.acquire_until(Deadline::now())
    }

    /// Acquires the lock, waiting at most `timeout`. Returns whether it did.
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(10)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Acquires the lock, waiting until `deadline` at most. Returns whether it did.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.acquire_until(threadkit::Deadline::now()));
    /// ```
    pub fn acquire_until(&self, deadline: Deadline) -> bool {
        self.acquire_interruptible(deadline, &mut NoInterrupt) == Ok(true)
    }

    /// Acquires the lock, waiting until `deadline` at most and asking `interrupt` whether to
    /// give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Condition, Deadline, NoInterrupt};
    /// let cond = Condition::new();
    /// assert_eq!(cond.acquire_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        self.lock.acquire_interruptible(deadline, interrupt)
    }

    /// Releases the lock (Python's `Condition.release()`).
    ///
    /// # Errors
    /// The lock's [`ReleaseError`].
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.lock.release()
    }

    /// Whether the calling thread holds the lock (Python's `Condition._is_owned()`).
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(!cond.is_owned());
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.lock.is_owned()
    }

    /// Waits until notified. Returns `Ok(true)`.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.wait().is_err()); // not holding the lock
    /// ```
    pub fn wait(&self) -> Result<bool, ConditionError> {
        self.wait_interruptible(Deadline::never(), &mut NoInterrupt)
    }

    /// Waits until notified or `timeout` passes. Returns `Ok(false)` on timeout.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock.
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threadkit::Condition::new();
    /// let _held = cond.lock().lock();
    /// assert_eq!(cond.wait_timeout(Duration::from_millis(1)), Ok(false));
    /// assert!(cond.lock().is_owned());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ConditionError> {
        self.wait_until(Deadline::after(timeout))
    }

    /// Waits until notified or `deadline` passes. Returns `Ok(false)` on timeout.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _held = cond.lock().lock();
    /// assert_eq!(cond.wait_until(threadkit::Deadline::now()), Ok(false));
    /// ```
    pub fn wait_until(&self, deadline: Deadline) -> Result<bool, ConditionError> {
        self.wait_interruptible(deadline, &mut NoInterrupt)
    }

    /// Waits until notified or `deadline` passes, asking `interrupt` at its interval whether to
    /// give up. The lock is held again when this returns, whatever the outcome.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock;
    /// [`ConditionError::Interrupted`] if `interrupt` stopped the wait.
    ///
    /// ```
    /// use threadkit::{Condition, Deadline, NoInterrupt};
    /// let cond = Condition::new();
    /// let _held = cond.lock().lock();
    /// assert_eq!(cond.wait_interruptible(Deadline::now(), &mut NoInterrupt), Ok(false));
    /// ```
    pub fn wait_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, ConditionError> {
        self.waiters.wait_with(&*self.lock, deadline, interrupt)
    }

    /// Waits until `predicate` is true, or `timeout` passes; returns the predicate's last value
    /// (Python's `Condition.wait_for`). The predicate is called with the lock held, first before
    /// any wait.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock and has to
    /// wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threadkit::Condition::new();
    /// let _held = cond.lock().lock();
    /// assert_eq!(cond.wait_for(|| true, None), Ok(true));
    /// assert_eq!(cond.wait_for(|| false, Some(Duration::from_millis(1))), Ok(false));
    /// ```
    pub fn wait_for(
        &self,
        predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, ConditionError> {
        self.wait_for_until(predicate, Deadline::from_timeout(timeout))
    }

    /// [`Condition::wait_for`] with a [`Deadline`].
    ///
    /// # Errors
    /// As [`Condition::wait_for`].
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _held = cond.lock().lock();
    /// assert_eq!(cond.wait_for_until(|| false, threadkit::Deadline::now()), Ok(false));
    /// ```
    pub fn wait_for_until(
        &self,
        predicate: impl FnMut() -> bool,
        deadline: Deadline,
    ) -> Result<bool, ConditionError> {
        self.wait_for_interruptible(predicate, deadline, &mut NoInterrupt)
    }

    /// [`Condition::wait_for`] with a [`Deadline`] and an [`Interrupt`]: an interrupted wait
    /// returns [`ConditionError::Interrupted`] without calling the predicate again.
    ///
    /// # Errors
    /// As [`Condition::wait_interruptible`].
    ///
    /// ```
    /// use threadkit::{Condition, Deadline, NoInterrupt};
    /// let cond = Condition::new();
    /// let _held = cond.lock().lock();
    /// let mut calls = 0;
    /// let r = cond.wait_for_interruptible(|| { calls += 1; calls == 1 }, Deadline::never(), &mut NoInterrupt);
    /// assert_eq!(r, Ok(true));
    /// ```
    pub fn wait_for_interruptible(
        &self,
        mut predicate: impl FnMut() -> bool,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, ConditionError> {
        let mut result = predicate();
        let mut waited = false;
        // As CPython: a false predicate always gets one wait, even with a zero timeout.
        while !result {
            if waited && deadline.has_passed() {
                break;
            }
            self.wait_interruptible(deadline, interrupt)?;
            waited = true;
            result = predicate();
        }
        Ok(result)
    }

    /// Wakes the first `n` threads waiting (fewer if fewer wait).
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _held = cond.lock().lock();
    /// assert_eq!(cond.notify(1), Ok(())); // nobody waits: nothing happens
    /// ```
    #[inline]
    pub fn notify(&self, n: usize) -> Result<(), ConditionError> {
        self.waiters.notify_with(&*self.lock, n).map(drop)
    }

    /// Wakes every thread waiting.
    ///
    /// # Errors
    /// [`ConditionError::NotOwned`] if the calling thread does not hold the lock.
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.notify_all().is_err());
    /// ```
    pub fn notify_all(&self) -> Result<(), ConditionError> {
        self.notify(usize::MAX)
    }

    /// How many threads wait. One atomic load.
    ///
    /// ```
    /// assert_eq!(threadkit::Condition::new().waiter_count(), 0);
    /// ```
    #[inline]
    pub fn waiter_count(&self) -> usize {
        self.waiters.waiter_count()
    }

    /// Whether any thread waits. One atomic load.
    ///
    /// ```
    /// assert!(!threadkit::Condition::new().has_waiters());
    /// ```
    #[inline]
    pub fn has_waiters(&self) -> bool {
        self.waiters.has_waiters()
    }

    /// Resets the lock and forgets the waiters, for a child process after `fork()` (Python's
    /// `Condition._at_fork_reinit`).
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// cond.acquire();
    /// cond.reinit_after_fork();
    /// assert!(!cond.lock().locked());
    /// ```
    pub fn reinit_after_fork(&self) {
        self.lock.reinit_after_fork();
        self.waiters.reinit_after_fork();
    }
}

impl<L: ConditionLock + fmt::Debug> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &*self.lock)
            .field("waiters", &self.waiter_count())
            .finish()
    }
}
