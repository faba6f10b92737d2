//! [`WorkQueue`]: the closable FIFO a pool's workers wait on, with its idle-worker count.

use std::collections::VecDeque;
use std::fmt;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::HeldBy;
use crate::ident::get_ident;
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// What [`WorkQueue::pop_interruptible`] got.
///
/// Used by the Python bindings (`crates/threadkit-python`) to tell a pool worker what to do next.
///
/// ```
/// use threadkit::raw::{Pop, WorkQueue};
/// use threadkit::Deadline;
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
/// Used by the Python bindings (`crates/threadkit-python`) as the queue of a Python
/// `ThreadPoolExecutor`, whose workers are Python loops (tasks run in Python frames); the Rust
/// [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) uses it the same way with Rust closures.
///
/// ```
/// use threadkit::raw::WorkQueue;
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
    /// Who serves the queue: what a pending future of the pool waits for.
    workers: std::sync::Arc<Workers>,
}

/// The workers of a pool, as deadlock detection sees them: the threads that can run a queued
/// item. Shared with the pool's futures (a weak link each, set at submit), so that a wait for a
/// pending future can name who would run it.
pub(crate) struct Workers {
    /// The most workers the pool starts; 0 if unknown (the pool may always grow).
    max: AtomicUsize,
    /// The workers serving the queue now ([`WorkQueue::worker_started`] to
    /// [`WorkQueue::worker_exited`]), by ident.
    idents: Mutex<Vec<u64>>,
}

impl Workers {
    /// Who must act for a pending item of the pool to run: every worker, if the pool cannot
    /// start another (each would take the item as soon as it is free, and none other will
    /// come); otherwise nobody known (a new worker may take it).
    ///
    /// Every worker is certain: a pending item runs only in one of them. What this does not
    /// see: a thread that cancels the pending future (`shutdown(cancel_futures=True)`,
    /// `cancel()`) or completes it by hand ends the wait too; such programs are rare, and the
    /// deadlock is then one that only that thread's intervention breaks.
    pub(crate) fn held_by(&self) -> HeldBy {
        let idents = self.idents.lock();
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 || idents.len() < max {
            return HeldBy::Unknown;
        }
        HeldBy::AllOf(idents.clone())
    }
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
    /// let q: threadkit::raw::WorkQueue<u8> = threadkit::raw::WorkQueue::new();
    /// assert!(q.is_empty());
    /// ```
    pub fn new() -> Self {
        WorkQueue::with_max_workers(0)
    }

    /// An empty, open queue that at most `max_workers` workers will serve (0: no limit known).
    /// Knowing the limit lets deadlock detection see that a future queued behind workers that
    /// are all stuck will never run (a pool of one worker whose task waits for another task of
    /// the same pool); the workers say when they start and stop serving the queue
    /// ([`WorkQueue::worker_started`], [`WorkQueue::worker_exited`]).
    ///
    /// Used by the Python bindings (`crates/threadkit-python`) for the queue of a Python
    /// `ThreadPoolExecutor(max_workers)`, and by the Rust
    /// [`ThreadPoolExecutor`](crate::ThreadPoolExecutor).
    ///
    /// ```
    /// let q: threadkit::raw::WorkQueue<u8> = threadkit::raw::WorkQueue::with_max_workers(4);
    /// assert_eq!(q.max_workers(), 4);
    /// assert_eq!(threadkit::raw::WorkQueue::<u8>::new().max_workers(), 0);
    /// ```
    pub fn with_max_workers(max_workers: usize) -> Self {
        WorkQueue {
            state: Mutex::new(WqState {
                items: VecDeque::new(),
                closed: false,
            }),
            cv: Condvar::new(),
            idle: AtomicUsize::new(0),
            workers: std::sync::Arc::new(Workers {
                max: AtomicUsize::new(max_workers),
                idents: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The most workers that serve the queue, as given to [`WorkQueue::with_max_workers`]
    /// (0: not known).
    ///
    /// ```
    /// assert_eq!(threadkit::raw::WorkQueue::<()>::with_max_workers(1).max_workers(), 1);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers.max.load(Ordering::Relaxed)
    }

    /// The calling thread serves this queue from now on: a worker calls it first thing, before
    /// its first pop (and before an initializer). Deadlock detection counts it among those who
    /// would run a pending future of the pool.
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) when a Python pool's worker
    /// starts; the Rust [`ThreadPoolExecutor`](crate::ThreadPoolExecutor)'s workers call it too.
    ///
    /// ```
    /// let q: threadkit::raw::WorkQueue<()> = threadkit::raw::WorkQueue::with_max_workers(1);
    /// q.worker_started();
    /// assert_eq!(q.workers(), [threadkit::get_ident()]);
    /// q.worker_exited();
    /// assert!(q.workers().is_empty());
    /// ```
    pub fn worker_started(&self) {
        let me = get_ident();
        let mut idents = self.workers.idents.lock();
        if !idents.contains(&me) {
            idents.push(me);
        }
    }

    /// The calling thread no longer serves this queue (its worker loop ended); nothing if it
    /// did not call [`WorkQueue::worker_started`].
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) when a Python pool's worker
    /// exits; the Rust [`ThreadPoolExecutor`](crate::ThreadPoolExecutor)'s workers call it too.
    ///
    /// ```
    /// let q: threadkit::raw::WorkQueue<()> = threadkit::raw::WorkQueue::new();
    /// q.worker_exited(); // never started: nothing happens
    /// assert!(q.workers().is_empty());
    /// ```
    pub fn worker_exited(&self) {
        let me = get_ident();
        self.workers.idents.lock().retain(|&i| i != me);
    }

    /// The idents of the threads serving the queue now ([`WorkQueue::worker_started`]), in the
    /// order they started.
    ///
    /// ```
    /// assert!(threadkit::raw::WorkQueue::<()>::new().workers().is_empty());
    /// ```
    pub fn workers(&self) -> Vec<u64> {
        self.workers.idents.lock().clone()
    }

    /// The worker set futures link to.
    pub(crate) fn workers_link(&self) -> std::sync::Weak<Workers> {
        std::sync::Arc::downgrade(&self.workers)
    }

    /// Appends an item and wakes one waiting worker.
    ///
    /// # Errors
    /// Gives the item back if the queue is closed.
    ///
    /// ```
    /// let q = threadkit::raw::WorkQueue::new();
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
    /// let q = threadkit::raw::WorkQueue::new();
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
    /// let q = threadkit::raw::WorkQueue::new();
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
    /// use threadkit::raw::Pop;
    /// use threadkit::Deadline;
    /// let q: threadkit::raw::WorkQueue<()> = threadkit::raw::WorkQueue::new();
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
    /// use threadkit::raw::Pop;
    /// use threadkit::{Deadline, NoInterrupt};
    /// let q = threadkit::raw::WorkQueue::new();
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
    /// let q: threadkit::raw::WorkQueue<()> = threadkit::raw::WorkQueue::new();
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
    /// assert!(!threadkit::raw::WorkQueue::<()>::new().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Removes and returns every queued item (for `shutdown(cancel_futures=True)`).
    ///
    /// ```
    /// let q = threadkit::raw::WorkQueue::new();
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
    /// assert_eq!(threadkit::raw::WorkQueue::<()>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether no item is queued.
    ///
    /// ```
    /// assert!(threadkit::raw::WorkQueue::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A worker finished an item and is idle again (CPython's `_idle_semaphore.release()`).
    ///
    /// ```
    /// let q: threadkit::raw::WorkQueue<()> = threadkit::raw::WorkQueue::new();
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
    /// assert!(!threadkit::raw::WorkQueue::<()>::new().try_acquire_idle());
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
    /// let q = threadkit::raw::WorkQueue::new();
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
        drop(s);
        // The workers were the parent's threads; the child starts its own.
        self.workers.idents.lock_after_fork().clear();
    }
}

impl<I> fmt::Debug for WorkQueue<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("WorkQueue")
            .field("len", &s.items.len())
            .field("closed", &s.closed)
            .field("idle", &self.idle.load(Ordering::Relaxed))
            .field("max_workers", &self.max_workers())
            .field("workers", &self.workers.idents.lock().len())
            .finish()
    }
}
