//! [`Event`]: Python's `threading.Event`, a flag that threads can wait for.
//!
//! The flag and a "threads may be waiting" bit share one atomic word: [`Event::set`],
//! [`Event::clear`] and [`Event::is_set`] are one atomic operation each and take no lock while
//! nobody waits. A waiter takes the internal mutex, counts itself, sets the bit in the same
//! read-modify-write that checks the flag, and sleeps on a condition variable until the
//! generation counter moves: [`Event::set`] bumps it (under the mutex) when it finds the bit
//! set. Because a waiter waits for the generation rather than the flag, a waiter woken by a set
//! returns `true` even if another thread clears the flag before it runs, as in CPython, where
//! `wait()` returns what the condition wait returned.

use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// The event's flag.
const FLAG: usize = 1;
/// Set while threads may be sleeping in [`Event::wait`] (changed only under the mutex): a set
/// that turns the flag on must wake them.
const WAITERS: usize = 2;

/// What waiters share under the mutex.
#[derive(Debug, Default)]
struct Waiters {
    /// Threads in the slow path of a wait.
    count: usize,
    /// Bumped by every set that wakes waiters.
    generation: u64,
}

/// An event, as Python's `threading.Event`: a flag, initially false, that
/// [`set`](Event::set) turns on (waking every waiter) and [`clear`](Event::clear) turns off;
/// [`wait`](Event::wait) blocks until it is on.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::Event;
///
/// let started = Arc::new(Event::new());
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let started = started.clone();
///         std::thread::spawn(move || started.wait())
///     })
///     .collect();
/// started.set();
/// for h in handles {
///     assert!(h.join().unwrap());
/// }
/// ```
pub struct Event {
    /// `FLAG | WAITERS`.
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
    cv: Condvar,
    tag: Tag,
}

impl Default for Event {
    #[track_caller]
    fn default() -> Self {
        Event::new()
    }
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!threadkit::Event::new().is_set());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        Event {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
            cv: Condvar::new(),
            tag: Tag::here(),
        }
    }

    /// A new event, not set, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let ev = threadkit::Event::named("ready");
    /// assert_eq!(ev.label().name(), Some("ready"));
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<StdArc<str>>) -> Self {
        Event::new().with_name(name)
    }

    /// The same event, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let x = threadkit::Event::new().with_name("n");
    /// assert_eq!(x.label().name(), Some("n"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<StdArc<str>>) -> Self {
        self.tag.set_name(name.into());
        self
    }

    /// The same event, labelled `label` (the Python bindings give the Python site
    /// this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let x = threadkit::Event::new().with_label(Label::new(None, Site::intern("a.py", 4)));
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
    /// let x = threadkit::Event::new();
    /// assert_eq!(x.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// let ev = threadkit::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & FLAG != 0
    }

    /// Sets the flag and wakes every waiting thread. Threads that wait while it is set do not
    /// block at all.
    ///
    /// ```
    /// let ev = threadkit::Event::new();
    /// ev.set();
    /// ev.set();
    /// assert!(ev.wait_timeout(std::time::Duration::ZERO));
    /// ```
    #[inline]
    pub fn set(&self) {
        if self.state.load(Ordering::Relaxed) & FLAG != 0 {
            return;
        }
        let previous = self.state.fetch_or(FLAG, Ordering::Release);
        if previous & (FLAG | WAITERS) == WAITERS {
            self.wake_all();
        }
    }

    #[cold]
    fn wake_all(&self) {
        // Taking the mutex orders this wake-up after a waiter's check of the flag.
        let mut waiters = self.waiters.lock();
        waiters.generation = waiters.generation.wrapping_add(1);
        self.cv.notify_all();
    }

    /// Clears the flag: threads that wait from now on block until the next
    /// [`set`](Event::set).
    ///
    /// ```
    /// let ev = threadkit::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        if self.state.load(Ordering::Relaxed) & FLAG != 0 {
            self.state.fetch_and(!FLAG, Ordering::Relaxed);
        }
    }

    /// Blocks until the flag is set. Returns `true` (the Python method's return value when no
    /// timeout is given).
    ///
    /// ```
    /// let ev = threadkit::Event::new();
    /// ev.set();
    /// assert!(ev.wait());
    /// ```
    pub fn wait(&self) -> bool {
        let r = self.wait_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
        true
    }

    /// Blocks until the flag is set, at most `timeout`. Returns `true` if it was set (on entry,
    /// or by a [`set`](Event::set) while waiting), `false` on timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let ev = threadkit::Event::new();
    /// assert!(!ev.wait_timeout(Duration::from_millis(10)));
    /// ev.set();
    /// assert!(ev.wait_timeout(Duration::from_millis(10)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Deadline::after(timeout))
    }

    /// Blocks until the flag is set, until `deadline` at most. Returns `true` if it was set,
    /// `false` on timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, Event};
    /// let ev = Event::new();
    /// assert!(!ev.wait_until(Deadline::now()));
    /// ```
    pub fn wait_until(&self, deadline: Deadline) -> bool {
        self.wait_interruptible(deadline, &mut NoInterrupt) == Ok(true)
    }

    /// Blocks until the flag is set, until `deadline` at most, asking `interrupt` at its
    /// interval whether to give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, Event, NoInterrupt};
    /// let ev = Event::new();
    /// assert_eq!(ev.wait_interruptible(Deadline::now(), &mut NoInterrupt), Ok(false));
    /// ev.set();
    /// assert_eq!(ev.wait_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn wait_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        if self.is_set() {
            return Ok(true);
        }
        if deadline.has_passed() {
            return Ok(false);
        }
        self.wait_slow(deadline, interrupt)
    }

    #[cold]
    fn wait_slow(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        let mut guard = self.waiters.lock();
        // Setting the bit in the read-modify-write that reads the flag: either this sees a set,
        // or that set sees the bit and wakes this thread (it needs the mutex held here).
        if self.state.fetch_or(WAITERS, Ordering::Acquire) & FLAG != 0 {
            if guard.count == 0 {
                self.state.fetch_and(!WAITERS, Ordering::Relaxed);
            }
            return Ok(true);
        }
        guard.count += 1;
        let waiting = Waiting::start(WaitOn::new(WaitKind::Event, &self.tag, &self.tag), deadline);
        let generation = guard.generation;
        let (mut guard, outcome) =
            wait_while(&self.waiters, &self.cv, guard, deadline, interrupt, |w| {
                w.generation == generation && !self.is_set()
            });
        guard.count -= 1;
        if guard.count == 0 {
            // The last waiter leaves: set goes back to the lock-free path.
            self.state.fetch_and(!WAITERS, Ordering::Relaxed);
        }
        drop(guard);
        drop(waiting);
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    /// Resets the waiting state for a child process after `fork()` (Python's `_at_fork_reinit`):
    /// the threads that were waiting do not exist in the child. The flag is kept.
    ///
    /// ```
    /// let ev = threadkit::Event::new();
    /// ev.set();
    /// ev.reinit_after_fork();
    /// assert!(ev.is_set());
    /// ```
    pub fn reinit_after_fork(&self) {
        {
            let mut waiters = self.waiters.lock_after_fork();
            waiters.count = 0;
        }
        self.state.fetch_and(!WAITERS, Ordering::Relaxed);
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}
