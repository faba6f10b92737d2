//! [`Thread`], [`Builder`] and the thread registry: Python's `threading.Thread`,
//! `current_thread`, `main_thread`, `enumerate`, `active_count` and `excepthook`.
//!
//! Every thread that threadkit knows about has a [`Thread`] handle: a cheap clonable reference to
//! its name, identifiers, daemon flag and life state. Threads started by [`Builder::spawn`] (or
//! [`spawn`]) are registered while they run; a thread threadkit did not start (the main thread,
//! a `std::thread`) gets an entry the first time it asks for [`current_thread`], as CPython's
//! `_MainThread` and `_DummyThread`.
//!
//! The registry can also be driven without [`Builder::spawn`]: a thread started by other means
//! (the Python bindings start theirs with `_thread.start_new_thread`) goes through the steps of
//! [`raw::ThreadExt`](crate::raw::ThreadExt) itself; joins, `is_alive`, `enumerate` then work
//! the same.
//!
//! The module is in three parts: `handle` (the [`Thread`] handle and its life state),
//! `registry` (the alive threads, program exit and its "shutting down" flag, the reset after
//! `fork()`, the excepthook) and `builder` (starting a thread from Rust). It depends on no other
//! part of the crate above the primitives: what must happen at exit elsewhere (the thread pool's
//! shutdown) is a hook registered with the registry.
//!
//! Rust ends the process when `main` returns, daemon or not; call
//! [`wait_for_non_daemon_threads`] at the end of `main` to get Python's exit semantics.
//!
//! ```
//! use threadkit::{current_thread, Builder};
//!
//! let h = Builder::new()
//!     .name("worker")
//!     .spawn(|| current_thread().name())
//!     .unwrap();
//! let t = h.thread().clone();
//! assert_eq!(t.name(), "worker");
//! assert_eq!(h.join().unwrap(), "worker");
//! assert!(!t.is_alive());
//! ```

mod builder;
mod handle;
mod registry;

pub(crate) use builder::spawn_thread;
pub use builder::{spawn, Builder, JoinHandle};
pub use handle::{Thread, ThreadExt};
pub use registry::{
    active_count, current_thread, default_excepthook, enumerate, main_thread, register_atexit,
    reinit_after_fork, reset_excepthook, set_excepthook, wait_for_non_daemon_threads,
    ExceptHookArgs,
};
pub(crate) use registry::{begin_shutdown, is_shutting_down, register_exit_hook};

use std::fmt;
use std::io;

use crate::deadline::Interrupted;

/// Why joining a thread failed. The messages are CPython's.
///
/// ```
/// use threadkit::{current_thread, JoinError, Timer};
/// assert_eq!(current_thread().join(), Err(JoinError::CurrentThread));
/// let t = Timer::new(std::time::Duration::ZERO, || ()); // its thread is not started yet
/// assert_eq!(t.thread().join(), Err(JoinError::NotStarted));
/// assert_eq!(JoinError::NotStarted.to_string(), "cannot join thread before it is started");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinError {
    /// The thread joins itself (Python: `RuntimeError('cannot join current thread')`).
    CurrentThread,
    /// The thread was never started (Python: `RuntimeError('cannot join thread before it is started')`).
    NotStarted,
    /// The thread is a dummy entry for a thread threadkit did not start
    /// (Python: `RuntimeError('cannot join a dummy thread')`).
    Dummy,
    /// An [`Interrupt`](crate::Interrupt) stopped the wait.
    Interrupted,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JoinError::CurrentThread => "cannot join current thread",
            JoinError::NotStarted => "cannot join thread before it is started",
            JoinError::Dummy => "cannot join a dummy thread",
            JoinError::Interrupted => "wait interrupted",
        })
    }
}

impl std::error::Error for JoinError {}

impl From<Interrupted> for JoinError {
    fn from(_: Interrupted) -> Self {
        JoinError::Interrupted
    }
}

/// Why starting a thread failed.
///
/// ```
/// use threadkit::{StartError, Timer};
/// let t = Timer::new(std::time::Duration::ZERO, || ());
/// t.start().unwrap();
/// assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
/// assert_eq!(StartError::AlreadyStarted.to_string(), "threads can only be started once");
/// t.join().unwrap();
/// ```
#[derive(Debug)]
pub enum StartError {
    /// The thread was already started (Python: `RuntimeError('threads can only be started once')`).
    AlreadyStarted,
    /// The operating system refused to create the thread.
    Spawn(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::AlreadyStarted => f.write_str("threads can only be started once"),
            StartError::Spawn(e) => write!(f, "can't start new thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::AlreadyStarted => None,
            StartError::Spawn(e) => Some(e),
        }
    }
}

impl From<StartError> for io::Error {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Spawn(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Changing the daemon flag of a started thread (Python:
/// `RuntimeError('cannot set daemon status of active thread')`).
///
/// ```
/// let e = threadkit::current_thread().set_daemon(true).unwrap_err();
/// assert_eq!(e.to_string(), "cannot set daemon status of active thread");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DaemonError;

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot set daemon status of active thread")
    }
}

impl std::error::Error for DaemonError {}

/// Registering an exit callback after [`wait_for_non_daemon_threads`] began (Python:
/// `RuntimeError("can't register atexit after shutdown")`).
///
/// ```
/// assert_eq!(threadkit::AtexitError.to_string(), "can't register atexit after shutdown");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AtexitError;

impl fmt::Display for AtexitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("can't register atexit after shutdown")
    }
}

impl std::error::Error for AtexitError {}
