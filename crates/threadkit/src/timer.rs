//! [`Timer`]: Python's `threading.Timer`, a thread that runs a function after an interval
//! unless cancelled first.

use std::fmt;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, NoInterrupt};
use crate::sync::{Arc, Condvar, Mutex};
use crate::thread::{spawn_thread, JoinError, StartError, Thread, ThreadExt};

type Task = Box<dyn FnOnce() + Send + 'static>;

struct Shared {
    /// Python's `Timer.finished` event: set by `cancel()`, or once the function has run.
    finished: Mutex<bool>,
    cv: Condvar,
}

impl Shared {
    fn set_finished(&self) {
        let mut g = self.finished.lock();
        *g = true;
        drop(g);
        self.cv.notify_all();
    }
}

/// Runs a function once, `interval` after [`Timer::start`], in its own threadkit thread,
/// unless [`Timer::cancel`] comes first: Python's `threading.Timer`.
///
/// The thread is named like any Python thread (`Thread-N`, counted when the timer is created)
/// and inherits the creating thread's daemon flag; change either through [`Timer::thread`]
/// before starting. The wait is a timed wait on an internal flag, so `cancel` wakes it at once.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threadkit::Timer;
///
/// let fired = Arc::new(AtomicBool::new(false));
/// let f = fired.clone();
/// let t = Timer::new(Duration::from_millis(10), move || f.store(true, Ordering::SeqCst));
/// t.start().unwrap();
/// t.join().unwrap();
/// assert!(fired.load(Ordering::SeqCst));
///
/// let never = Timer::new(Duration::from_secs(3600), || unreachable!());
/// never.start().unwrap();
/// never.cancel();
/// never.join().unwrap(); // returns at once: the wait was cut short
/// ```
pub struct Timer {
    interval: Duration,
    thread: Thread,
    shared: Arc<Shared>,
    task: Mutex<Option<Task>>,
}

impl Timer {
    /// A timer that will call `f` `interval` after it is started.
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_secs(1), || ());
    /// assert!(t.name().starts_with("Thread-"));
    /// assert!(!t.is_alive());
    /// ```
    #[track_caller]
    pub fn new(interval: Duration, f: impl FnOnce() + Send + 'static) -> Timer {
        Timer {
            interval,
            thread: Thread::new_unstarted(None, None),
            shared: Arc::new(Shared {
                finished: Mutex::new(false),
                cv: Condvar::new(),
            }),
            task: Mutex::new(Some(Box::new(f))),
        }
    }

    /// Starts the timer's thread; the interval counts from now.
    ///
    /// # Errors
    /// [`StartError::AlreadyStarted`] on a second call; [`StartError::Spawn`] if the OS cannot
    /// create the thread.
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// t.start().unwrap();
    /// assert!(t.start().is_err());
    /// t.join().unwrap();
    /// ```
    pub fn start(&self) -> Result<(), StartError> {
        let Some(task) = self.task.lock().take() else {
            return Err(StartError::AlreadyStarted);
        };
        let deadline = Deadline::after(self.interval);
        let shared = self.shared.clone();
        spawn_thread(self.thread.clone(), None, move || {
            let g = shared.finished.lock();
            let (g, _) = wait_while(
                &shared.finished,
                &shared.cv,
                g,
                deadline,
                &mut NoInterrupt,
                |finished| !*finished,
            );
            let cancelled = *g;
            drop(g);
            if !cancelled {
                // A panic goes to the excepthook; `finished` is set by the guard either way.
                let _set = SetOnDrop(&shared);
                task();
            } else {
                shared.set_finished();
            }
        })
        .map(drop)
    }

    /// Stops the timer if it is still waiting: the function will not run. Does nothing once
    /// the function has started.
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_secs(60), || panic!("never"));
    /// t.cancel();
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert!(t.is_finished());
    /// ```
    pub fn cancel(&self) {
        self.shared.set_finished();
    }

    /// Whether the timer's `finished` flag is set: cancelled, or the function has run
    /// (Python's `timer.finished.is_set()`).
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// assert!(!t.is_finished());
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert!(t.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        *self.shared.finished.lock()
    }

    /// The interval.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(threadkit::Timer::new(Duration::from_secs(2), || ()).interval(), Duration::from_secs(2));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The timer's thread (rename it or set its daemon flag before [`Timer::start`]).
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// t.thread().set_name("tick");
    /// t.thread().set_daemon(true).unwrap();
    /// assert_eq!(t.name(), "tick");
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// The thread's name.
    ///
    /// ```
    /// assert!(threadkit::Timer::new(std::time::Duration::ZERO, || ()).name().starts_with("Thread-"));
    /// ```
    pub fn name(&self) -> String {
        self.thread.name()
    }

    /// Whether the timer's thread is running (waiting, or calling the function).
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_secs(60), || ());
    /// t.start().unwrap();
    /// assert!(t.is_alive());
    /// t.cancel();
    /// t.join().unwrap();
    /// assert!(!t.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// Waits for the timer's thread to end.
    ///
    /// # Errors
    /// As [`Thread::join`] ([`JoinError::NotStarted`] before `start`).
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// assert!(t.join().is_err());
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// ```
    pub fn join(&self) -> Result<(), JoinError> {
        self.thread.join()
    }

    /// Waits at most `timeout` for the timer's thread to end; `Ok(false)` if it still runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threadkit::Timer::new(Duration::from_secs(60), || ());
    /// t.start().unwrap();
    /// assert_eq!(t.join_timeout(Duration::from_millis(5)), Ok(false));
    /// t.cancel();
    /// assert_eq!(t.join_timeout(Duration::from_secs(60)), Ok(true));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, JoinError> {
        self.thread.join_timeout(timeout)
    }

    /// Waits until `deadline` at most for the timer's thread to end.
    ///
    /// ```
    /// use threadkit::Deadline;
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// t.start().unwrap();
    /// assert_eq!(t.join_until(Deadline::never()), Ok(true));
    /// ```
    pub fn join_until(&self, deadline: Deadline) -> Result<bool, JoinError> {
        self.thread.join_until(deadline)
    }

    /// Waits until `deadline` at most for the timer's thread to end, asking `interrupt` at its
    /// interval whether to give up ([`JoinError::Interrupted`]). `Ok(false)` is a timeout.
    ///
    /// # Errors
    /// As [`Thread::join_interruptible`].
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Timer};
    /// let t = Timer::new(std::time::Duration::ZERO, || ());
    /// t.start().unwrap();
    /// assert_eq!(t.join_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn join_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, JoinError> {
        self.thread.join_interruptible(deadline, interrupt)
    }
}

/// Sets the `finished` flag when dropped, panic or not.
struct SetOnDrop<'a>(&'a Shared);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set_finished();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("interval", &self.interval)
            .field("thread", &self.thread)
            .field("finished", &self.is_finished())
            .finish()
    }
}
