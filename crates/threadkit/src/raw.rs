//! Core items that exist for the Python bindings (`crates/threadkit-python`): the low-level
//! steps that the bindings drive themselves because user Python code must run between them, in
//! a Python frame (Rust never calls user Python code from a thread it owns: ARCHITECTURE.md
//! rule 1). A Rust program does not need them: the types at the crate root do each of these
//! steps for it. See ARCHITECTURE.md, "Bindings-only core items (threadkit::raw)".
//!
//! | Item | What the bindings do with it |
//! |---|---|
//! | [`ThreadExt`] | start a `threading.Thread` with `_thread.start_new_thread` and a Python bootstrap |
//! | [`BarrierExt`], [`Arrival`] | run a `Barrier`'s action in Python between the two halves of a wait |
//! | [`WaitQueue`], [`WaitTicket`] | wait on a `Condition` over a lock written in Python |
//! | [`QueueWaitExt`] | wait for room or an item of a `PriorityQueue` whose heap the bindings keep (its order runs `__lt__`) |
//! | [`WorkQueue`], [`Pop`] | the queue of a Python `ThreadPoolExecutor`, whose workers are Python loops |
//! | [`QueueExt`] | keep an item a blocked `Queue.get()` or `SimpleQueue.get()` took counted in `qsize()` until the getter runs Python again |
//! | [`FutureExt`] | link a Python pool's future to the pool's workers (deadlock detection), give it a Python site |
//! | [`reinit_after_fork`] | reset the thread registry in a child process (`os.register_at_fork`) |
//! | [`begin_shutdown`], [`is_shutting_down`] | the interpreter-exit flag that pools check |
//! | [`LockOrderExt`] | debug mode's lock-order check before a Python `acquire()` tries its fast path (attached, so the Python stack is cheap to take) |

pub use crate::barrier::{Arrival, BarrierExt};
pub use crate::condition::{WaitQueue, WaitTicket};
pub use crate::futures::{FutureExt, Pop, WorkQueue};
pub use crate::lock::LockOrderExt;
pub use crate::queue::{QueueExt, QueueWaitExt};
pub use crate::thread::{reinit_after_fork, ThreadExt};

/// Called by the Python bindings (`crates/threadkit-python`) to mark the process as shutting
/// down when the interpreter exits: from then on thread pools refuse new work
/// ([`SubmitError::InterpreterShutdown`](crate::SubmitError::InterpreterShutdown)) and
/// [`register_atexit`](crate::register_atexit) fails. Runs nothing and waits for nothing; a Rust
/// program gets the same (and the waiting) from
/// [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads).
///
/// ```
/// use threadkit::{SubmitError, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(1);
/// threadkit::raw::begin_shutdown();
/// assert!(threadkit::raw::is_shutting_down());
/// assert!(matches!(pool.submit(|| ()), Err(SubmitError::InterpreterShutdown)));
/// assert!(threadkit::register_atexit(|| ()).is_err());
/// ```
pub fn begin_shutdown() {
    crate::thread::begin_shutdown();
}

/// Called by the Python bindings (`crates/threadkit-python`) to ask whether the process is
/// shutting down (pools refuse new work): after [`begin_shutdown`], or once
/// [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads) has run its
/// [`register_atexit`](crate::register_atexit) callbacks; false again in a child process after
/// `fork()` ([`reinit_after_fork`]). This is the one "shutting down" state of the process.
///
/// ```
/// assert!(!threadkit::raw::is_shutting_down());
/// ```
pub fn is_shutting_down() -> bool {
    crate::thread::is_shutting_down()
}
