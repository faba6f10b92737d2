//! [`SimpleQueue`]: Python's `queue.SimpleQueue`, an unbounded FIFO queue without task tracking.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use super::{GetError, QueueExt};
use crate::deadline::{wait_while, Deadline, Interrupt, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::sync::{Condvar, Mutex, SpinMutex};

/// The items, and how many getters are asleep (or about to be) waiting for one.
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
    /// Held for a few instructions by every put and get: one atomic swap and one store.
    state: SpinMutex<SimpleState<T>>,
    /// Sleeping getters wait on `not_empty` under this; a put takes it only to wake one.
    sleep: Mutex<()>,
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
            state: SpinMutex::new(SimpleState {
                items: VecDeque::new(),
                getters: 0,
                in_flight: 0,
            }),
            sleep: Mutex::new(()),
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
        let sleeping = {
            let mut state = self.state.lock();
            state.items.push_back(item);
            state.getters > 0
        };
        if sleeping {
            self.wake_one();
        }
    }

    /// Wakes a sleeping getter. Taking `sleep` orders this after the getter's last look at
    /// the items (made holding `sleep`, just before it sleeps): the notification cannot fall
    /// between its look and its sleep.
    #[cold]
    fn wake_one(&self) {
        let _sleep = self.sleep.lock();
        self.not_empty.notify_one();
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

    /// A get; with `IN_FLIGHT`, the item taken stays counted in `qsize()` ([`QueueExt`]): it
    /// is taken and counted in one critical section, so no snapshot sees it gone meanwhile.
    #[inline]
    fn get_counted<const IN_FLIGHT: bool>(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        if let Some(item) = self.take::<IN_FLIGHT>() {
            return Ok(item);
        }
        self.get_slow::<IN_FLIGHT>(deadline, interrupt)
    }

    /// The front item, if any (with `IN_FLIGHT`, counted in flight), under `state`.
    #[inline]
    fn take<const IN_FLIGHT: bool>(&self) -> Option<T> {
        let mut state = self.state.lock();
        let item = state.items.pop_front();
        if IN_FLIGHT && item.is_some() {
            state.in_flight += 1;
        }
        item
    }

    #[cold]
    fn get_slow<const IN_FLIGHT: bool>(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<T, GetError> {
        let _waiting = Waiting::start(
            WaitOn::new(WaitKind::SimpleQueueGet, &self.tag, &self.tag),
            deadline,
        );
        let sleep = self.sleep.lock();
        {
            let mut state = self.state.lock();
            if let Some(item) = state.items.pop_front() {
                if IN_FLIGHT {
                    state.in_flight += 1;
                }
                return Ok(item);
            }
            // From now on every put wakes a sleeper (it sees `getters` under `state`).
            state.getters += 1;
        }
        let mut got = None;
        let (_sleep, outcome) = wait_while(
            &self.sleep,
            &self.not_empty,
            sleep,
            deadline,
            interrupt,
            // Takes the item when there is one (a fast-path get may take it first).
            |_| match self.take::<IN_FLIGHT>() {
                Some(item) => {
                    got = Some(item);
                    false
                }
                None => true,
            },
        );
        self.state.lock().getters -= 1;
        match outcome {
            WaitOutcome::Ready => Ok(got.expect("a ready get took an item")),
            WaitOutcome::TimedOut => Err(GetError::Empty),
            WaitOutcome::Interrupted => Err(GetError::Interrupted),
        }
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
    /// are kept. (An internal lock that another thread held at the instant of the fork is let
    /// go: that thread does not exist in the child.)
    ///
    /// ```
    /// let q = threadkit::SimpleQueue::new();
    /// q.put(1);
    /// q.reinit_after_fork();
    /// assert_eq!(q.get(), 1);
    /// ```
    pub fn reinit_after_fork(&self) {
        drop(self.sleep.lock_after_fork());
        let mut state = self.state.lock_after_fork();
        state.getters = 0;
        state.in_flight = 0;
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
