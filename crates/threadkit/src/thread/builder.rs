//! [`Builder`], [`spawn`] and [`JoinHandle`]: starting a thread from Rust.

use std::fmt;
use std::io;
use std::ops::Deref;
use std::panic;

use super::registry::{call_excepthook, ExceptHookArgs};
use super::{StartError, Thread, ThreadExt};
use crate::panic::catch_panic;

/// Configures and starts a threadkit thread: Python's `Thread(name=..., daemon=...).start()`.
///
/// ```
/// use threadkit::Builder;
/// let h = Builder::new().name("calc").daemon(true).stack_size(256 * 1024)
///     .spawn(|| 6 * 7)
///     .unwrap();
/// assert!(h.is_daemon());
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with every option unset: name `Thread-N`, daemon flag of the calling thread,
    /// the platform's stack size.
    ///
    /// ```
    /// let h = threadkit::Builder::new().spawn(|| ()).unwrap();
    /// assert!(h.name().starts_with("Thread-"));
    /// ```
    pub fn new() -> Self {
        Builder::default()
    }

    /// The thread's name.
    ///
    /// ```
    /// let h = threadkit::Builder::new().name("n").spawn(|| ()).unwrap();
    /// assert_eq!(h.name(), "n");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The daemon flag (default: the creating thread's).
    ///
    /// ```
    /// let h = threadkit::Builder::new().daemon(true).spawn(|| ()).unwrap();
    /// assert!(h.is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// The stack size in bytes.
    ///
    /// ```
    /// let h = threadkit::Builder::new().stack_size(1 << 20).spawn(|| 1).unwrap();
    /// assert_eq!(h.join().unwrap(), 1);
    /// ```
    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    /// Starts a thread running `f` and returns once it is registered (as Python's `start()`
    /// waits for the thread to have started). A panic in `f` goes to the excepthook, then to
    /// [`JoinHandle::join`] as `Err`.
    ///
    /// # Errors
    /// The operating system's error if it cannot create the thread.
    ///
    /// ```
    /// let h = threadkit::Builder::new().spawn(|| "done").unwrap();
    /// assert_eq!(h.join().unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let thread = Thread::new_unstarted(self.name, self.daemon);
        Ok(spawn_thread(thread, self.stack_size, f)?)
    }
}

/// Starts `thread` (made by [`ThreadExt::new_unstarted`]) running `f`; returns once it is
/// registered.
pub(crate) fn spawn_thread<F, T>(
    thread: Thread,
    stack_size: Option<usize>,
    f: F,
) -> Result<JoinHandle<T>, StartError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    thread.claim_start()?;
    let mut b = std::thread::Builder::new().name(thread.name().replace('\0', ""));
    if let Some(size) = stack_size {
        b = b.stack_size(size);
    }
    let t = thread.clone();
    let spawned = b.spawn(move || {
        t.mark_started()
            .expect("a thread claimed by spawn starts once");
        match catch_panic(f) {
            Ok(v) => {
                t.mark_finished();
                v
            }
            Err(p) => {
                call_excepthook(&ExceptHookArgs {
                    thread: &t,
                    message: &p.message,
                    location: p.location.as_deref(),
                    payload: &*p.payload,
                });
                t.mark_finished();
                panic::resume_unwind(p.payload)
            }
        }
    });
    match spawned {
        Ok(inner) => {
            thread.wait_started();
            Ok(JoinHandle { thread, inner })
        }
        Err(e) => {
            thread.release_claim();
            Err(StartError::Spawn(e))
        }
    }
}

/// Starts a thread with default options running `f` (panics if the OS cannot create one, as
/// `std::thread::spawn`).
///
/// ```
/// assert_eq!(threadkit::spawn(|| 1 + 1).join().unwrap(), 2);
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Owns a threadkit thread's return value; derefs to its [`Thread`] (so `join_timeout`,
/// `is_alive`, `name`... work on it). Dropping it detaches the thread.
///
/// ```
/// use std::time::Duration;
/// let h = threadkit::spawn(|| 5);
/// assert_eq!(h.join_timeout(Duration::from_secs(60)), Ok(true)); // Thread::join_timeout
/// assert_eq!(h.join().unwrap(), 5); // JoinHandle::join: the value
/// ```
pub struct JoinHandle<T> {
    thread: Thread,
    inner: std::thread::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    /// The thread.
    ///
    /// ```
    /// let h = threadkit::spawn(|| ());
    /// let t: threadkit::Thread = h.thread().clone();
    /// h.join().unwrap();
    /// assert!(!t.is_alive());
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Waits for the thread and returns its value, or the panic payload if it panicked (the
    /// excepthook has already reported it).
    ///
    /// The wait is a [`Thread::join`] first (recorded, and part of deadlocks found at block
    /// time: with [`DeadlockAction::Raise`](crate::debug::DeadlockAction::Raise) a join that
    /// closes a deadlock panics with [`DeadlockError`](crate::debug::DeadlockError)), then the
    /// operating system's join, which only waits for the thread's last cleanup.
    ///
    /// ```
    /// assert!(threadkit::Builder::new().spawn(|| 3).unwrap().join().is_ok());
    /// ```
    pub fn join(self) -> std::thread::Result<T> {
        // Errors (joining the current thread) are the OS join's to report, as before.
        let _ = self.thread.join();
        self.inner.join()
    }

    /// Whether the OS thread has ended (so [`JoinHandle::join`] will not block).
    ///
    /// ```
    /// let h = threadkit::spawn(|| ());
    /// let _ = h.is_finished();
    /// h.join().unwrap();
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> Deref for JoinHandle<T> {
    type Target = Thread;
    fn deref(&self) -> &Thread {
        &self.thread
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}
