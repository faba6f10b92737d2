//! [`WorkQueue`]: the closable FIFO a pool's workers wait on, with its idle-worker count.

use std::collections::VecDeque;
use std::fmt;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
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
