//! [`Queue`] (Python's `queue.Queue`, `LifoQueue` and `PriorityQueue`) and [`SimpleQueue`]
//! (Python's `queue.SimpleQueue`).
//!
//! A [`Queue`] is made of two separable parts:
//!
//! - its *storage*, chosen by an [`Order`]: [`Fifo`] (a `VecDeque`), [`Lifo`] (a `Vec`) or
//!   [`Priority`] (a min-heap, smallest first, as Python's `heapq`);
//! - its *coordination*: the item count against `maxsize`, the waiting getters, putters and
//!   joiners, the unfinished-task count and the shutdown flag, all under one internal mutex.
//!
//! The coordination never looks inside the storage except through [`Order::push`],
//! [`Order::pop`] and [`Order::len`], so any [`Order`] (including one whose "storage" is only a
//! count, with the real items kept elsewhere) reuses the same waiting, task and shutdown logic.
//!
//! Uncontended `put` and `get` are one short critical section each; a condition variable is
//! notified only when a thread is actually waiting on it.
//!
//! ```
//! use std::sync::Arc;
//! use threadkit::Queue;
//!
//! let q = Arc::new(Queue::new(2));
//! let consumer = {
//!     let q = q.clone();
//!     std::thread::spawn(move || {
//!         let mut sum = 0;
//!         while let Ok(n) = q.get() {
//!             sum += n;
//!             q.task_done().unwrap();
//!         }
//!         sum
//!     })
//! };
//! for n in 1..=10 {
//!     q.put(n).unwrap();
//! }
//! q.join();
//! q.shutdown(false);
//! assert_eq!(consumer.join().unwrap(), 55);
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::spin::SpinWait;
use crate::sync::{AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};

mod simple_queue;
pub use simple_queue::SimpleQueue;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a put failed; the item always comes back.
///
/// Python raises `queue.Full` for [`PutError::Full`] and `queue.ShutDown` for
/// [`PutError::ShutDown`], both without a message.
///
/// ```
/// use threadkit::{PutError, Queue};
///
/// let q = Queue::new(1);
/// q.put("a").unwrap();
/// assert_eq!(q.try_put("b"), Err(PutError::Full("b")));
/// q.shutdown(false);
/// let err = q.put("c").unwrap_err();
/// assert!(err.is_shut_down());
/// assert_eq!(err.into_inner(), "c");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// The queue was full and stayed full until the deadline (or a non-blocking put).
    Full(T),
    /// The queue has been shut down.
    ShutDown(T),
    /// The [`Interrupt`] stopped the wait.
    Interrupted(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// assert_eq!(threadkit::PutError::Full(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(t) | PutError::ShutDown(t) | PutError::Interrupted(t) => t,
        }
    }

    /// Whether this is [`PutError::Full`].
    ///
    /// ```
    /// assert!(threadkit::PutError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether this is [`PutError::ShutDown`].
    ///
    /// ```
    /// assert!(threadkit::PutError::ShutDown(()).is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }

    /// Whether this is [`PutError::Interrupted`].
    ///
    /// ```
    /// assert!(threadkit::PutError::Interrupted(()).is_interrupted());
    /// ```
    pub fn is_interrupted(&self) -> bool {
        matches!(self, PutError::Interrupted(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "Full(..)",
            PutError::ShutDown(_) => "ShutDown(..)",
            PutError::Interrupted(_) => "Interrupted(..)",
        })
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "queue full",
            PutError::ShutDown(_) => "queue shut down",
            PutError::Interrupted(_) => "wait interrupted",
        })
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why a get failed.
///
/// Python raises `queue.Empty` for [`GetError::Empty`] and `queue.ShutDown` for
/// [`GetError::ShutDown`], both without a message.
///
/// ```
/// use threadkit::{GetError, Queue};
///
/// let q: Queue<i32> = Queue::new(0);
/// assert_eq!(q.try_get(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get(), Err(GetError::ShutDown));
/// assert_eq!(GetError::Empty.to_string(), "queue empty");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetError {
    /// The queue was empty and stayed empty until the deadline (or a non-blocking get).
    Empty,
    /// The queue has been shut down and is empty (or was shut down with `immediate`).
    ShutDown,
    /// The [`Interrupt`] stopped the wait.
    Interrupted,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GetError::Empty => "queue empty",
            GetError::ShutDown => "queue shut down",
            GetError::Interrupted => "wait interrupted",
        })
    }
}

impl std::error::Error for GetError {}

/// [`Queue::task_done`] was called more times than items were put (Python:
/// `ValueError('task_done() called too many times')`).
///
/// ```
/// let q: threadkit::Queue<()> = threadkit::Queue::new(0);
/// let err = q.task_done().unwrap_err();
/// assert_eq!(err.to_string(), "task_done() called too many times");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}

// ---------------------------------------------------------------------------------------------
// Orders (storage)
// ---------------------------------------------------------------------------------------------

/// The storage of a [`Queue`], which decides the order items come out in (Python's `_init`,
/// `_put`, `_get` and `_qsize` hooks). Called with the queue's internal mutex held: keep it
/// short and never block.
///
/// ```
/// use threadkit::{Order, Queue};
///
/// /// Largest first.
/// struct MaxFirst;
/// impl<T: Ord> Order<T> for MaxFirst {
///     type Store = std::collections::BinaryHeap<T>;
///     fn push(store: &mut Self::Store, item: T) { store.push(item) }
///     fn pop(store: &mut Self::Store) -> Option<T> { store.pop() }
///     fn len(store: &Self::Store) -> usize { store.len() }
/// }
///
/// let q: Queue<i32, MaxFirst> = Queue::with_maxsize(0);
/// for n in [2, 9, 4] { q.put(n).unwrap(); }
/// assert_eq!(q.get(), Ok(9));
/// ```
pub trait Order<T> {
    /// The container (created empty with `Default`).
    type Store: Default;
    /// Adds an item.
    fn push(store: &mut Self::Store, item: T);
    /// Removes the next item, `None` if empty.
    fn pop(store: &mut Self::Store) -> Option<T>;
    /// The number of items stored.
    fn len(store: &Self::Store) -> usize;
}

/// First in, first out: Python's `queue.Queue`.
///
/// ```
/// let q = threadkit::Queue::new(0);
/// q.put(1).unwrap();
/// q.put(2).unwrap();
/// assert_eq!(q.get(), Ok(1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Fifo;

impl<T> Order<T> for Fifo {
    type Store = VecDeque<T>;
    #[inline]
    fn push(store: &mut Self::Store, item: T) {
        store.push_back(item);
    }
    #[inline]
    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop_front()
    }
    #[inline]
    fn len(store: &Self::Store) -> usize {
        store.len()
    }
}

/// Last in, first out: Python's `queue.LifoQueue`.
///
/// ```
/// let q = threadkit::Queue::lifo(0);
/// q.put(1).unwrap();
/// q.put(2).unwrap();
/// assert_eq!(q.get(), Ok(2));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Lifo;

impl<T> Order<T> for Lifo {
    type Store = Vec<T>;
    #[inline]
    fn push(store: &mut Self::Store, item: T) {
        store.push(item);
    }
    #[inline]
    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop()
    }
    #[inline]
    fn len(store: &Self::Store) -> usize {
        store.len()
    }
}

/// Smallest first (a binary min-heap, as Python's `heapq`): Python's `queue.PriorityQueue`.
/// Equal items come out in no particular order; add a sequence number to make it stable.
///
/// ```
/// let q = threadkit::Queue::priority(0);
/// for n in [5, 1, 3] { q.put(n).unwrap(); }
/// assert_eq!(q.get(), Ok(1));
/// assert_eq!(q.get(), Ok(3));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Priority;

impl<T: Ord> Order<T> for Priority {
    type Store = BinaryHeap<Reverse<T>>;
    #[inline]
    fn push(store: &mut Self::Store, item: T) {
        store.push(Reverse(item));
    }
    #[inline]
    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop().map(|Reverse(t)| t)
    }
    #[inline]
    fn len(store: &Self::Store) -> usize {
        store.len()
    }
}

/// A last-in, first-out [`Queue`] (Python's `queue.LifoQueue`).
///
/// ```
/// let q: threadkit::LifoQueue<i32> = threadkit::Queue::lifo(0);
/// q.put(1).unwrap();
/// q.put(2).unwrap();
/// assert_eq!(q.get(), Ok(2));
/// ```
pub type LifoQueue<T> = Queue<T, Lifo>;
/// A smallest-first [`Queue`] (Python's `queue.PriorityQueue`).
///
/// ```
/// let q: threadkit::PriorityQueue<i32> = threadkit::Queue::priority(0);
/// q.put(3).unwrap();
/// q.put(1).unwrap();
/// assert_eq!(q.get(), Ok(1));
/// ```
pub type PriorityQueue<T> = Queue<T, Priority>;

// ---------------------------------------------------------------------------------------------
// Coordination
// ---------------------------------------------------------------------------------------------

/// Everything a queue coordinates besides its items: kept apart from the storage so that the
/// same waiting/task/shutdown logic serves any storage.
#[derive(Debug, Default)]
struct Gate {
    /// Threads blocked in a get (waiting on `not_empty`).
    getters: usize,
    /// Threads blocked in a put (waiting on `not_full`).
    putters: usize,
    /// Threads blocked in a join (waiting on `all_done`).
    joiners: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    /// Items taken by [`QueueExt::get_in_flight`] whose getter has not called
    /// [`QueueExt::landed`] yet: still counted by `qsize()` and `empty()`.
    in_flight: usize,
    shutdown: bool,
}

struct State<S> {
    store: S,
    gate: Gate,
}

/// What a put or get does when it cannot go on at once.
enum Block<'i> {
    No,
    Until(Deadline, &'i mut dyn Interrupt),
}

// ---------------------------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------------------------

/// A multi-producer, multi-consumer queue with task tracking and shutdown, as Python's
/// `queue.Queue` (CPython 3.13 semantics). The order is a type parameter: [`Fifo`] (the
/// default, [`Queue::new`]), [`Lifo`] ([`Queue::lifo`]) or [`Priority`] ([`Queue::priority`]).
///
/// `maxsize` 0 means unbounded; otherwise a put blocks while `maxsize` items are queued.
/// Every put counts an unfinished task that [`Queue::task_done`] marks done and
/// [`Queue::join`] waits for. After [`Queue::shutdown`], puts fail and gets fail once the queue
/// is empty.
///
/// ```
/// use threadkit::{GetError, Queue};
///
/// let q = Queue::new(0);
/// q.put("job").unwrap();
/// assert_eq!(q.qsize(), 1);
/// assert_eq!(q.get(), Ok("job"));
/// q.task_done().unwrap();
/// q.join(); // returns at once: every task is done
/// q.shutdown(false);
/// assert_eq!(q.get(), Err(GetError::ShutDown));
/// ```
pub struct Queue<T, O: Order<T> = Fifo> {
    state: Mutex<State<O::Store>>,
    not_empty: Condvar,
    not_full: Condvar,
    all_done: Condvar,
    /// The bound (0: unbounded); changed only under the state lock, read anywhere.
    maxsize: AtomicUsize,
    /// The store's length, written under the state lock after each change; read without it
    /// only by [`QueueExt::spin_for_item`] and [`QueueExt::spin_for_room`], whose polls must not
    /// take the lock the other side is putting and getting with.
    queued: AtomicUsize,
    tag: Tag,
    /// `T` lives in the store (so `Queue<T>` is `Send + Sync` when `T: Send`, like a mutex).
    _item: PhantomData<fn(T) -> T>,
    _order: PhantomData<O>,
}

impl<T> Queue<T, Fifo> {
    /// A first-in, first-out queue (Python's `queue.Queue(maxsize)`); `maxsize` 0 is unbounded.
    ///
    /// ```
    /// let q: threadkit::Queue<u8> = threadkit::Queue::new(3);
    /// assert_eq!(q.maxsize(), 3);
    /// ```
    #[track_caller]
    pub fn new(maxsize: usize) -> Self {
        Queue::with_maxsize(maxsize)
    }
}

impl<T> Queue<T, Lifo> {
    /// A last-in, first-out queue (Python's `queue.LifoQueue(maxsize)`).
    ///
    /// ```
    /// let q = threadkit::Queue::lifo(0);
    /// q.put('a').unwrap();
    /// q.put('b').unwrap();
    /// assert_eq!(q.get(), Ok('b'));
    /// ```
    #[track_caller]
    pub fn lifo(maxsize: usize) -> Self {
        Queue::with_maxsize(maxsize)
    }
}

impl<T: Ord> Queue<T, Priority> {
    /// A smallest-first queue (Python's `queue.PriorityQueue(maxsize)`).
    ///
    /// ```
    /// let q = threadkit::Queue::priority(0);
    /// q.put((2, "later")).unwrap();
    /// q.put((1, "first")).unwrap();
    /// assert_eq!(q.get(), Ok((1, "first")));
    /// ```
    #[track_caller]
    pub fn priority(maxsize: usize) -> Self {
        Queue::with_maxsize(maxsize)
    }
}

impl<T, O: Order<T>> Default for Queue<T, O> {
    #[track_caller]
    fn default() -> Self {
        Queue::with_maxsize(0)
    }
}

impl<T, O: Order<T>> Queue<T, O> {
    /// A queue of any [`Order`]; `maxsize` 0 is unbounded.
    ///
    /// ```
    /// use threadkit::{Lifo, Queue};
    /// let q: Queue<i32, Lifo> = Queue::with_maxsize(0);
    /// assert!(q.empty());
    /// ```
    #[track_caller]
    pub fn with_maxsize(maxsize: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                store: O::Store::default(),
                gate: Gate::default(),
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_done: Condvar::new(),
            maxsize: AtomicUsize::new(maxsize),
            queued: AtomicUsize::new(0),
            tag: Tag::here(),
            _item: PhantomData,
            _order: PhantomData,
        }
    }

    /// The same queue, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let q = threadkit::Queue::<u8>::new(0).with_name("jobs");
    /// assert_eq!(q.label().name(), Some("jobs"));
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
    /// let q = threadkit::Queue::<u8>::new(0).with_label(Label::new(None, Site::intern("q.py", 8)));
    /// assert_eq!(q.label().site().to_string(), "q.py:8");
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.tag.set_label(label);
        self
    }

    /// Its name and creation site.
    ///
    /// ```
    /// let q = threadkit::Queue::<u8>::new(0);
    /// assert_eq!(q.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    /// The bound; 0 is unbounded.
    ///
    /// ```
    /// assert_eq!(threadkit::Queue::<()>::new(0).maxsize(), 0);
    /// ```
    #[inline]
    pub fn maxsize(&self) -> usize {
        self.maxsize.load(Ordering::Relaxed)
    }

    /// Changes the bound (Python code may assign `queue.maxsize`). Blocked putters re-check
    /// for room; items already queued stay, even above a smaller bound.
    ///
    /// ```
    /// let q = threadkit::Queue::new(1);
    /// q.try_put(1).unwrap();
    /// assert!(q.try_put(2).is_err());
    /// q.set_maxsize(2);
    /// assert!(q.try_put(2).is_ok());
    /// ```
    pub fn set_maxsize(&self, maxsize: usize) {
        let state = self.state.lock();
        self.maxsize.store(maxsize, Ordering::Relaxed);
        if state.gate.putters > 0 {
            self.not_full.notify_all();
        }
    }

    #[inline]
    fn is_full(&self, store: &O::Store) -> bool {
        let maxsize = self.maxsize.load(Ordering::Relaxed);
        maxsize > 0 && O::len(store) >= maxsize
    }

    // --- put -----------------------------------------------------------------------------

    /// Puts `item`, blocking while the queue is full.
    ///
    /// # Errors
    /// [`PutError::ShutDown`] (with the item) if the queue is or gets shut down.
    ///
    /// ```
    /// let q = threadkit::Queue::new(0);
    /// q.put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_impl(item, Block::Until(Deadline::never(), &mut NoInterrupt))
    }

    /// Puts `item` if there is room now, without blocking (Python's `put_nowait`).
    ///
    /// # Errors
    /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
    ///
    /// ```
    /// use threadkit::{PutError, Queue};
    /// let q = Queue::new(1);
    /// assert_eq!(q.try_put(1), Ok(()));
    /// assert_eq!(q.try_put(2), Err(PutError::Full(2)));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_impl(item, Block::No)
    }

    /// Puts `item`, waiting at most `timeout` for room.
    ///
    /// # Errors
    /// [`PutError::Full`] on timeout, [`PutError::ShutDown`]; the item comes back.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = threadkit::Queue::new(1);
    /// q.put(1).unwrap();
    /// assert!(q.put_timeout(2, Duration::from_millis(5)).unwrap_err().is_full());
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_until(item, Deadline::after(timeout))
    }

    /// Puts `item`, waiting until `deadline` at most for room.
    ///
    /// # Errors
    /// [`PutError::Full`] on timeout, [`PutError::ShutDown`]; the item comes back.
    ///
    /// ```
    /// use threadkit::{Deadline, Queue};
    /// let q = Queue::new(0);
    /// assert!(q.put_until(1, Deadline::now()).is_ok()); // room: no wait needed
    /// ```
    pub fn put_until(&self, item: T, deadline: Deadline) -> Result<(), PutError<T>> {
        self.put_impl(item, Block::Until(deadline, &mut NoInterrupt))
    }

    /// Puts `item`, waiting until `deadline` at most for room, asking `interrupt` at its interval
    /// whether to give up. The one the other puts are made of.
    ///
    /// # Errors
    /// [`PutError::Full`] on timeout, [`PutError::ShutDown`], [`PutError::Interrupted`]; the
    /// item always comes back.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Queue};
    /// let q = Queue::new(0);
    /// q.put_interruptible(1, Deadline::never(), &mut NoInterrupt).unwrap();
    /// assert_eq!(q.get(), Ok(1));
    /// ```
    pub fn put_interruptible(
        &self,
        item: T,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<(), PutError<T>> {
        self.put_impl(item, Block::Until(deadline, interrupt))
    }

    #[inline]
    fn put_impl(&self, item: T, block: Block<'_>) -> Result<(), PutError<T>> {
        let mut guard = self.state.lock();
        if guard.gate.shutdown {
            return Err(PutError::ShutDown(item));
        }
        if self.is_full(&guard.store) {
            let Block::Until(deadline, interrupt) = block else {
                return Err(PutError::Full(item));
            };
            let (g, outcome) = self.wait_for_room(guard, deadline, interrupt);
            guard = g;
            match outcome {
                // Woken by room or by shutdown: as Python, shutdown wins.
                WaitOutcome::Ready if guard.gate.shutdown => return Err(PutError::ShutDown(item)),
                WaitOutcome::Ready => {}
                WaitOutcome::TimedOut => return Err(PutError::Full(item)),
                WaitOutcome::Interrupted => return Err(PutError::Interrupted(item)),
            }
        }
        O::push(&mut guard.store, item);
        self.queued.store(O::len(&guard.store), Ordering::Relaxed);
        guard.gate.unfinished += 1;
        if guard.gate.getters > 0 {
            // parking_lot requeues the woken getter onto the mutex we hold: no wake-then-block.
            self.not_empty.notify_one();
        }
        Ok(())
    }

    #[cold]
    fn wait_for_room<'a>(
        &'a self,
        mut guard: MutexGuard<'a, State<O::Store>>,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> (MutexGuard<'a, State<O::Store>>, WaitOutcome) {
        let _waiting = Waiting::start(
            WaitOn::new(WaitKind::QueuePut, &self.tag, &self.tag),
            deadline,
        );
        guard.gate.putters += 1;
        let (mut guard, outcome) = wait_while(
            &self.state,
            &self.not_full,
            guard,
            deadline,
            interrupt,
            |s| !s.gate.shutdown && self.is_full(&s.store),
        );
        guard.gate.putters -= 1;
        (guard, outcome)
    }

    // --- get -----------------------------------------------------------------------------

    /// Removes and returns the next item, blocking while the queue is empty.
    ///
    /// # Errors
    /// [`GetError::ShutDown`] once the queue is shut down and empty.
    ///
    /// ```
    /// let q = threadkit::Queue::new(0);
    /// q.put(5).unwrap();
    /// assert_eq!(q.get(), Ok(5));
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.get_impl(Block::Until(Deadline::never(), &mut NoInterrupt))
    }

    /// Removes and returns the next item if there is one, without blocking (Python's
    /// `get_nowait`).
    ///
    /// # Errors
    /// [`GetError::Empty`], or [`GetError::ShutDown`] if shut down and empty.
    ///
    /// ```
    /// use threadkit::{GetError, Queue};
    /// let q: Queue<i32> = Queue::new(0);
    /// assert_eq!(q.try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_impl(Block::No)
    }

    /// Removes and returns the next item, waiting at most `timeout` for one.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout, [`GetError::ShutDown`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{GetError, Queue};
    /// let q: Queue<i32> = Queue::new(0);
    /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_until(Deadline::after(timeout))
    }

    /// Removes and returns the next item, waiting until `deadline` at most.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout, [`GetError::ShutDown`].
    ///
    /// ```
    /// use threadkit::{Deadline, GetError, Queue};
    /// let q: Queue<i32> = Queue::new(0);
    /// assert_eq!(q.get_until(Deadline::now()), Err(GetError::Empty));
    /// ```
    pub fn get_until(&self, deadline: Deadline) -> Result<T, GetError> {
        self.get_impl(Block::Until(deadline, &mut NoInterrupt))
    }

    /// Removes and returns the next item, waiting until `deadline` at most and asking
    /// `interrupt` at its interval whether to give up. The one the other gets are made of.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout, [`GetError::ShutDown`], [`GetError::Interrupted`].
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Queue};
    /// let q = Queue::new(0);
    /// q.put('x').unwrap();
    /// assert_eq!(q.get_interruptible(Deadline::never(), &mut NoInterrupt), Ok('x'));
    /// ```
    pub fn get_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        self.get_impl(Block::Until(deadline, interrupt))
    }

    #[inline]
    fn get_impl(&self, block: Block<'_>) -> Result<T, GetError> {
        self.get_counted::<false>(block)
    }

    /// A get; with `IN_FLIGHT`, the item taken stays counted in `qsize()` ([`QueueExt`]).
    #[inline]
    fn get_counted<const IN_FLIGHT: bool>(&self, block: Block<'_>) -> Result<T, GetError> {
        let mut guard = self.state.lock();
        let item = match O::pop(&mut guard.store) {
            Some(item) => item,
            None => {
                if guard.gate.shutdown {
                    return Err(GetError::ShutDown);
                }
                let Block::Until(deadline, interrupt) = block else {
                    return Err(GetError::Empty);
                };
                let (g, outcome) = self.wait_for_item(guard, deadline, interrupt);
                guard = g;
                match outcome {
                    WaitOutcome::Ready => match O::pop(&mut guard.store) {
                        Some(item) => item,
                        // Ready and empty: shut down.
                        None => return Err(GetError::ShutDown),
                    },
                    WaitOutcome::TimedOut => return Err(GetError::Empty),
                    WaitOutcome::Interrupted => return Err(GetError::Interrupted),
                }
            }
        };
        self.queued.store(O::len(&guard.store), Ordering::Relaxed);
        if IN_FLIGHT {
            guard.gate.in_flight += 1;
        }
        if guard.gate.putters > 0 {
            self.not_full.notify_one();
        }
        Ok(item)
    }

    #[cold]
    fn wait_for_item<'a>(
        &'a self,
        mut guard: MutexGuard<'a, State<O::Store>>,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> (MutexGuard<'a, State<O::Store>>, WaitOutcome) {
        let _waiting = Waiting::start(
            WaitOn::new(WaitKind::QueueGet, &self.tag, &self.tag),
            deadline,
        );
        guard.gate.getters += 1;
        let (mut guard, outcome) = wait_while(
            &self.state,
            &self.not_empty,
            guard,
            deadline,
            interrupt,
            |s| !s.gate.shutdown && O::len(&s.store) == 0,
        );
        guard.gate.getters -= 1;
        (guard, outcome)
    }

    // --- sizes -----------------------------------------------------------------------------

    /// The number of items queued (a snapshot: other threads may change it at once).
    ///
    /// ```
    /// let q = threadkit::Queue::new(0);
    /// q.put(()).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        let guard = self.state.lock();
        O::len(&guard.store) + guard.gate.in_flight
    }

    /// Whether no item is queued (a snapshot).
    ///
    /// ```
    /// assert!(threadkit::Queue::<()>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether `maxsize` items are queued (never, if unbounded; a snapshot).
    ///
    /// ```
    /// let q = threadkit::Queue::new(1);
    /// q.put(()).unwrap();
    /// assert!(q.full());
    /// ```
    pub fn full(&self) -> bool {
        self.is_full(&self.state.lock().store)
    }

    // --- tasks -----------------------------------------------------------------------------

    /// Marks one task (an item got earlier) done; when none is left, wakes every
    /// [`join`](Queue::join).
    ///
    /// # Errors
    /// [`TaskDoneError`] if every put has already been matched by a `task_done` (the count is
    /// left at zero).
    ///
    /// ```
    /// let q = threadkit::Queue::new(0);
    /// q.put(1).unwrap();
    /// q.get().unwrap();
    /// assert!(q.task_done().is_ok());
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut guard = self.state.lock();
        let gate = &mut guard.gate;
        if gate.unfinished == 0 {
            return Err(TaskDoneError);
        }
        gate.unfinished -= 1;
        if gate.unfinished == 0 && gate.joiners > 0 {
            self.all_done.notify_all();
        }
        Ok(())
    }

    /// The number of items put and not yet marked done with [`task_done`](Queue::task_done)
    /// (Python's `unfinished_tasks` attribute).
    ///
    /// ```
    /// let q = threadkit::Queue::new(0);
    /// q.put(1).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.state.lock().gate.unfinished
    }

    /// Blocks until every item put has been marked done.
    ///
    /// ```
    /// let q: threadkit::Queue<()> = threadkit::Queue::new(0);
    /// q.join(); // nothing was put
    /// ```
    pub fn join(&self) {
        let r = self.join_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    /// Waits at most `timeout` for every item to be marked done. Returns whether they were.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = threadkit::Queue::new(0);
    /// q.put(1).unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(5)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_until(Deadline::after(timeout))
    }

    /// Waits until `deadline` at most for every item to be marked done. Returns whether they
    /// were.
    ///
    /// ```
    /// use threadkit::{Deadline, Queue};
    /// let q: Queue<()> = Queue::new(0);
    /// assert!(q.join_until(Deadline::now()));
    /// ```
    pub fn join_until(&self, deadline: Deadline) -> bool {
        self.join_interruptible(deadline, &mut NoInterrupt) == Ok(true)
    }

    /// Waits until `deadline` at most for every item to be marked done, asking `interrupt` at
    /// its interval whether to give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Queue};
    /// let q: Queue<()> = Queue::new(0);
    /// assert_eq!(q.join_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn join_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        let mut guard = self.state.lock();
        if guard.gate.unfinished == 0 {
            return Ok(true);
        }
        let _waiting = Waiting::start(
            WaitOn::new(WaitKind::QueueJoin, &self.tag, &self.tag),
            deadline,
        );
        guard.gate.joiners += 1;
        let (mut guard, outcome) = wait_while(
            &self.state,
            &self.all_done,
            guard,
            deadline,
            interrupt,
            |s| s.gate.unfinished > 0,
        );
        guard.gate.joiners -= 1;
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    // --- shutdown --------------------------------------------------------------------------

    /// Shuts the queue down (Python 3.13's `Queue.shutdown`): from now on puts fail with
    /// [`PutError::ShutDown`], and gets fail with [`GetError::ShutDown`] once the queue is
    /// empty. Every blocked put and get wakes up to see it.
    ///
    /// With `immediate`, the queued items are removed (and dropped, outside the internal lock)
    /// and one task is marked done for each, which may release [`join`](Queue::join)s; gets fail
    /// at once.
    ///
    /// ```
    /// use threadkit::{GetError, Queue};
    /// let q = Queue::new(0);
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// q.shutdown(true);
    /// assert_eq!(q.get(), Err(GetError::ShutDown));
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// q.join();
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut drained = Vec::new();
        {
            let mut guard = self.state.lock();
            let state = &mut *guard;
            state.gate.shutdown = true;
            if immediate {
                drained.reserve_exact(O::len(&state.store));
                while let Some(item) = O::pop(&mut state.store) {
                    drained.push(item);
                    state.gate.unfinished = state.gate.unfinished.saturating_sub(1);
                }
                self.queued.store(0, Ordering::Relaxed);
                if state.gate.joiners > 0 {
                    self.all_done.notify_all();
                }
            }
            if state.gate.getters > 0 {
                self.not_empty.notify_all();
            }
            if state.gate.putters > 0 {
                self.not_full.notify_all();
            }
        }
        drop(drained);
    }

    /// Whether [`shutdown`](Queue::shutdown) was called.
    ///
    /// ```
    /// let q: threadkit::Queue<()> = threadkit::Queue::new(0);
    /// q.shutdown(false);
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.state.lock().gate.shutdown
    }

    /// Forgets the threads that were waiting, for a child process after `fork()`: they do not
    /// exist in the child. Items, unfinished tasks and the shutdown flag are kept. (The internal
    /// mutex is held only for short critical sections; if another thread held it at the
    /// instant of the fork, this does nothing.)
    ///
    /// ```
    /// let q = threadkit::Queue::new(0);
    /// q.put(1).unwrap();
    /// q.reinit_after_fork();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn reinit_after_fork(&self) {
        {
            let mut guard = self.state.lock_after_fork();
            guard.gate.getters = 0;
            guard.gate.putters = 0;
            guard.gate.joiners = 0;
            guard.gate.in_flight = 0;
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for Queue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.state.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize())
            .field("qsize", &O::len(&guard.store))
            .field("unfinished_tasks", &guard.gate.unfinished)
            .field("is_shutdown", &guard.gate.shutdown)
            .finish()
    }
}

/// The waits of a [`Queue`] without the put or get that follows them, for the Python bindings'
/// `PriorityQueue` (`crates/threadkit-python/src/queue.rs`): its heap lives in the bindings,
/// because ordering it runs the items' `__lt__` in Python (ARCHITECTURE.md rule 1), and its
/// queue here holds only one unit per item (its count, tasks and shutdown). The bindings wait
/// here for room or for an item, detached from the interpreter, then compare while attached,
/// then put or get the unit without blocking; another thread may take the room or the item in
/// between, and the bindings then wait again. A Rust program has no use for them: a
/// [`Queue::put`] or [`Queue::get`] waits and acts at once.
///
/// (The bindings' `Queue`, `LifoQueue` and `SimpleQueue` wait with [`QueueExt::get_in_flight`]
/// instead, which takes the item as it returns.)
///
/// ```
/// use threadkit::raw::QueueWaitExt;
/// use threadkit::{Deadline, GetError, NoInterrupt, PutError, Queue};
///
/// let q = Queue::new(1);
/// assert_eq!(q.wait_for_room(Deadline::now(), &mut NoInterrupt), Ok(()));
/// assert_eq!(q.wait_for_item(Deadline::now(), &mut NoInterrupt), Err(GetError::Empty));
/// q.put(()).unwrap();
/// assert_eq!(q.wait_for_room(Deadline::now(), &mut NoInterrupt), Err(PutError::Full(())));
/// assert_eq!(q.wait_for_item(Deadline::now(), &mut NoInterrupt), Ok(()));
/// ```
pub trait QueueWaitExt {
    /// Waits until `deadline` at most for the queue to have room (or be shut down), asking
    /// `interrupt` at its interval whether to give up. Puts nothing.
    ///
    /// # Errors
    /// [`PutError::Full`] on timeout, [`PutError::ShutDown`], [`PutError::Interrupted`].
    fn wait_for_room(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<(), PutError<()>>;

    /// Waits until `deadline` at most for the queue to hold an item (or be shut down and
    /// empty), asking `interrupt` at its interval whether to give up. Takes nothing.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout, [`GetError::ShutDown`], [`GetError::Interrupted`].
    fn wait_for_item(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<(), GetError>;
}

impl<T, O: Order<T>> QueueWaitExt for Queue<T, O> {
    fn wait_for_room(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<(), PutError<()>> {
        let guard = self.state.lock();
        if guard.gate.shutdown {
            return Err(PutError::ShutDown(()));
        }
        if !self.is_full(&guard.store) {
            return Ok(());
        }
        if deadline.has_passed() {
            return Err(PutError::Full(()));
        }
        let (guard, outcome) = self.wait_for_room(guard, deadline, interrupt);
        match outcome {
            WaitOutcome::Ready if guard.gate.shutdown => Err(PutError::ShutDown(())),
            WaitOutcome::Ready => Ok(()),
            WaitOutcome::TimedOut => Err(PutError::Full(())),
            WaitOutcome::Interrupted => Err(PutError::Interrupted(())),
        }
    }

    fn wait_for_item(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<(), GetError> {
        let guard = self.state.lock();
        if O::len(&guard.store) > 0 {
            return Ok(());
        }
        if guard.gate.shutdown {
            return Err(GetError::ShutDown);
        }
        if deadline.has_passed() {
            return Err(GetError::Empty);
        }
        let (guard, outcome) = self.wait_for_item(guard, deadline, interrupt);
        match outcome {
            WaitOutcome::Ready if O::len(&guard.store) > 0 => Ok(()),
            WaitOutcome::Ready => Err(GetError::ShutDown),
            WaitOutcome::TimedOut => Err(GetError::Empty),
            WaitOutcome::Interrupted => Err(GetError::Interrupted),
        }
    }
}

/// The get that the Python bindings (`crates/threadkit-python`) make when `Queue.get()` has to
/// block: the item it takes stays counted by [`Queue::qsize`] and [`Queue::empty`] until the
/// getter has reattached to the interpreter and calls [`landed`](QueueExt::landed).
///
/// Why: in CPython a getter blocked in `get()` takes the item itself, in Python, once it runs
/// again, so until then the item is still in the queue for everyone else's `qsize()` and
/// `empty()`. Programs rely on that order (a dynamic pool that reads `qsize()` next to its
/// workers' idle flags to decide whether to grow). A Rust getter takes the item at once, while
/// the putter still holds the interpreter; this keeps it counted meanwhile. A Rust program does
/// not need it: it has no interpreter to wait for.
///
/// Implemented for [`Queue`] and [`SimpleQueue`].
///
/// ```
/// use threadkit::raw::QueueExt;
/// use threadkit::{Deadline, NoInterrupt, Queue};
/// let q = Queue::new(0);
/// q.put("job").unwrap();
/// let item = q.get_in_flight(Deadline::never(), &mut NoInterrupt).unwrap();
/// assert_eq!((item, q.qsize(), q.empty()), ("job", 1, false)); // taken, still counted
/// q.landed();
/// assert_eq!((q.qsize(), q.empty()), (0, true));
/// ```
pub trait QueueExt<T> {
    /// As [`Queue::get_interruptible`], but the item returned stays counted by `qsize()` and
    /// `empty()` until [`landed`](QueueExt::landed) is called (once per item returned).
    ///
    /// # Errors
    /// As [`Queue::get_interruptible`]; nothing stays counted then.
    ///
    /// ```
    /// use threadkit::raw::QueueExt;
    /// use threadkit::{Deadline, GetError, NoInterrupt, Queue};
    /// let q: Queue<u8> = Queue::new(0);
    /// assert_eq!(q.get_in_flight(Deadline::now(), &mut NoInterrupt), Err(GetError::Empty));
    /// assert_eq!(q.qsize(), 0);
    /// ```
    fn get_in_flight(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError>;

    /// The getter of an item returned by [`get_in_flight`](QueueExt::get_in_flight) has it:
    /// stop counting it.
    ///
    /// ```
    /// use threadkit::raw::QueueExt;
    /// use threadkit::{Deadline, NoInterrupt, Queue};
    /// let q = Queue::new(0);
    /// q.put(1).unwrap();
    /// q.get_in_flight(Deadline::never(), &mut NoInterrupt).unwrap();
    /// q.landed();
    /// assert!(q.empty());
    /// ```
    fn landed(&self);

    /// Before a `get` that would block: spins as `spin` does (the caller has let go of the
    /// interpreter) until an item looks queued, so that a getter whose putter is about to put
    /// does not go to sleep first. Returns whether one did; the get that follows decides.
    /// Polls take no lock. The default does not spin.
    ///
    /// ```
    /// use threadkit::raw::QueueExt;
    /// use threadkit::{Queue, SpinWait};
    /// let q = Queue::new(0);
    /// q.put(1).unwrap();
    /// assert!(q.spin_for_item(SpinWait::RESULT));
    /// ```
    fn spin_for_item(&self, spin: SpinWait) -> bool {
        let _ = spin;
        false
    }

    /// Before a `put` that would block: spins as `spin` does until the queue looks not full.
    /// As [`spin_for_item`](QueueExt::spin_for_item).
    ///
    /// ```
    /// use threadkit::raw::QueueExt;
    /// use threadkit::{Queue, SpinWait};
    /// let q: Queue<u8> = Queue::new(1);
    /// assert!(q.spin_for_room(SpinWait::RESULT));
    /// ```
    fn spin_for_room(&self, spin: SpinWait) -> bool {
        let _ = spin;
        false
    }
}

impl<T, O: Order<T>> QueueExt<T> for Queue<T, O> {
    fn get_in_flight(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        self.get_counted::<true>(Block::Until(deadline, interrupt))
    }

    fn landed(&self) {
        let mut guard = self.state.lock();
        guard.gate.in_flight = guard.gate.in_flight.saturating_sub(1);
    }

    fn spin_for_item(&self, spin: SpinWait) -> bool {
        spin.until(|| self.queued.load(Ordering::Relaxed) > 0)
    }

    fn spin_for_room(&self, spin: SpinWait) -> bool {
        spin.until(|| {
            let maxsize = self.maxsize.load(Ordering::Relaxed);
            maxsize == 0 || self.queued.load(Ordering::Relaxed) < maxsize
        })
    }
}
