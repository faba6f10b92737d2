//! [`SimpleQueue`]: Python's `queue.SimpleQueue`, an unbounded FIFO queue without task tracking.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use super::{GetError, QueueExt};
use crate::deadline::{wait_while, Deadline, Interrupt, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::sync::{Condvar, Mutex, MutexGuard};

struct SimpleState<T> {
    items: VecDeque<T>,
    getters: usize,
    /// Items taken by [`QueueExt::get_in_flight`] and not yet [`landed`](QueueExt::landed):
    /// still counted by `qsize()` and `empty()`.
    in_flight: usize,
}

/// An unbounded first-in, first-out queue without task tracking or shutdown, as Python's
/// `queue.SimpleQueue`: a put never blocks.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::SimpleQueue;
///
/// let q = Arc::new(SimpleQueue::new());
/// let producer = {
///     let q = q.clone();
///     std::thread::spawn(move || (0..100).for_each(|n| q.put(n)))
/// };
/// let got: Vec<i32> = (0..100).map(|_| q.get()).collect();
/// producer.join().unwrap();
/// assert_eq!(got, (0..100).collect::<Vec<_>>());
/// ```
pub struct SimpleQueue<T> {
    state: Mutex<SimpleState<T>>,
    not_empty: Condvar,
    tag: Tag,
}

impl<T> Default for SimpleQueue<T> {
    #[track_caller]
    fn default() -> Self {
        SimpleQueue::new()
    }
}

impl<T> SimpleQueue<T> {
    /// A new, empty queue.
    ///
    /// ```
    /// assert!(threadkit::SimpleQueue::<i32>::new().empty());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        SimpleQueue {
            state: Mutex::new(SimpleState {
                items: VecDeque::new(),
                getters: 0,
                in_flight: 0,
            }),
            not_empty: Condvar::new(),
            tag: Tag::here(),
        }
    }

    /// The same queue, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let q = threadkit::SimpleQueue::<u8>::new().with_name("jobs");
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
    /// let q = threadkit::SimpleQueue::<u8>::new().with_label(Label::new(None, Site::intern("q.py", 8)));
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
    /// let q = threadkit::SimpleQueue::<u8>::new();
    /// assert_eq!(q.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    /// Puts `item` at the back; never blocks.
    ///
    /// ```
    /// let q = threadkit::SimpleQueue::new();
    /// q.put("a");
    /// assert_eq!(q.qsize(), 1);
    /// ```
    #[inline]
    pub fn put(&self, item: T) {
        let mut guard = self.state.lock();
        guard.items.push_back(item);
        if guard.getters > 0 {
            self.not_empty.notify_one();
        }
    }

    /// Removes and returns the front item, blocking while the queue is empty.
    ///
    /// ```
    /// let q = threadkit::SimpleQueue::new();
    /// q.put(1);
    /// assert_eq!(q.get(), 1);
    /// ```
    pub fn get(&self) -> T {
        match self.get_interruptible(Deadline::never(), &mut NoInterrupt) {
            Ok(item) => item,
            Err(_) => unreachable!("an endless, uninterruptible get returned without an item"),
        }
    }

    /// Removes and returns the front item if there is one, without blocking.
    ///
    /// # Errors
    /// [`GetError::Empty`].
    ///
    /// ```
    /// use threadkit::{GetError, SimpleQueue};
    /// let q = SimpleQueue::<u8>::new();
    /// assert_eq!(q.try_get(), Err(GetError::Empty));
    /// ```
    #[inline]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.state.lock().items.pop_front().ok_or(GetError::Empty)
    }

    /// Removes and returns the front item, waiting at most `timeout` for one.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = threadkit::SimpleQueue::<u8>::new();
    /// assert!(q.get_timeout(Duration::from_millis(5)).is_err());
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_until(Deadline::after(timeout))
    }

    /// Removes and returns the front item, waiting until `deadline` at most.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, SimpleQueue};
    /// let q = SimpleQueue::new();
    /// q.put(3);
    /// assert_eq!(q.get_until(Deadline::now()), Ok(3));
    /// ```
    pub fn get_until(&self, deadline: Deadline) -> Result<T, GetError> {
        self.get_interruptible(deadline, &mut NoInterrupt)
    }

    /// Removes and returns the front item, waiting until `deadline` at most and asking
    /// `interrupt` at its interval whether to give up.
    ///
    /// # Errors
    /// [`GetError::Empty`] on timeout, [`GetError::Interrupted`].
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, SimpleQueue};
    /// let q = SimpleQueue::new();
    /// q.put(3);
    /// assert_eq!(q.get_interruptible(Deadline::never(), &mut NoInterrupt), Ok(3));
    /// ```
    #[inline]
    pub fn get_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        self.get_counted::<false>(deadline, interrupt)
    }

    /// A get; with `IN_FLIGHT`, the item taken stays counted in `qsize()` ([`QueueExt`]).
    #[inline]
    fn get_counted<const IN_FLIGHT: bool>(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        let mut guard = self.state.lock();
        if let Some(item) = guard.items.pop_front() {
            if IN_FLIGHT {
                guard.in_flight += 1;
            }
            return Ok(item);
        }
        let (mut guard, r) = self.get_slow(guard, deadline, interrupt);
        if IN_FLIGHT && r.is_ok() {
            guard.in_flight += 1;
        }
        r
    }

    #[cold]
    fn get_slow<'a>(
        &'a self,
        mut guard: MutexGuard<'a, SimpleState<T>>,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> (MutexGuard<'a, SimpleState<T>>, Result<T, GetError>) {
        let _waiting = Waiting::start(
            WaitOn::new(WaitKind::SimpleQueueGet, &self.tag, &self.tag),
            deadline,
        );
        guard.getters += 1;
        let (mut guard, outcome) = wait_while(
            &self.state,
            &self.not_empty,
            guard,
            deadline,
            interrupt,
            |s| s.items.is_empty(),
        );
        guard.getters -= 1;
        let r = match outcome {
            WaitOutcome::Ready => Ok(guard.items.pop_front().expect("a ready get finds an item")),
            WaitOutcome::TimedOut => Err(GetError::Empty),
            WaitOutcome::Interrupted => Err(GetError::Interrupted),
        };
        (guard, r)
    }

    /// The number of items queued (a snapshot).
    ///
    /// ```
    /// assert_eq!(threadkit::SimpleQueue::<()>::new().qsize(), 0);
    /// ```
    pub fn qsize(&self) -> usize {
        let guard = self.state.lock();
        guard.items.len() + guard.in_flight
    }

    /// Whether no item is queued (a snapshot).
    ///
    /// ```
    /// let q = threadkit::SimpleQueue::new();
    /// q.put(());
    /// assert!(!q.empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Forgets the threads that were waiting, for a child process after `fork()`; the items
    /// are kept. (If another thread held the internal mutex at the instant of the fork, this
    /// does nothing.)
    ///
    /// ```
    /// let q = threadkit::SimpleQueue::new();
    /// q.put(1);
    /// q.reinit_after_fork();
    /// assert_eq!(q.get(), 1);
    /// ```
    pub fn reinit_after_fork(&self) {
        {
            let mut guard = self.state.lock_after_fork();
            guard.getters = 0;
            guard.in_flight = 0;
        }
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.qsize())
            .finish()
    }
}

impl<T> QueueExt<T> for SimpleQueue<T> {
    fn get_in_flight(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        self.get_counted::<true>(deadline, interrupt)
    }

    fn landed(&self) {
        let mut guard = self.state.lock();
        guard.in_flight = guard.in_flight.saturating_sub(1);
    }
}
