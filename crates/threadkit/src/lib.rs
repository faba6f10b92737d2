//! # threadkit
//!
//! Python's threading model for Rust: the engine under the `threadkit` Python package, and a
//! first-class Rust API of its own.
//!
//! | Python | threadkit |
//! |---|---|
//! | `threading.Lock` | [`Lock`] |
//! | `threading.RLock` | [`RLock`] |
//! | `threading.Condition` | [`Condition`] |
//! | `threading.Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`] |
//! | `threading.Event` | [`Event`] |
//! | `threading.Barrier` | [`Barrier`] |
//! | `queue.Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue` | [`Queue`], [`SimpleQueue`] |
//! | `threading.Thread`, `current_thread`, `enumerate`... | [`Thread`], [`Builder`], [`current_thread`], [`enumerate`] |
//! | `threading.Timer` | [`Timer`] |
//! | `concurrent.futures.ThreadPoolExecutor`, `Future` | [`ThreadPoolExecutor`], [`Future`] |
//!
//! Names follow Python's (`acquire`, `release`, `wait`, `notify_all`, `task_done`...), with Rust
//! types: [`std::time::Duration`] timeouts, [`Result`] errors, guards where they fit. Every
//! blocking call has a variant that takes a [`Deadline`] and one that also takes an
//! [`Interrupt`] (`*_interruptible`, or `next_interruptible` on the iterators of
//! [`as_completed`] and [`ThreadPoolExecutor::map`]), which the Python bindings use to keep waits
//! interruptible by Ctrl-C. These block without an interruptible variant:
//!
//! - [`wait_for_non_daemon_threads`] (join the threads of [`enumerate`] with
//!   [`Thread::join_interruptible`] for an interruptible exit);
//! - [`JoinHandle::join`], which takes the thread's value (wait first with
//!   [`Thread::join_interruptible`] through the handle; the value follows promptly);
//! - [`Builder::spawn`], [`spawn`] and [`Timer::start`], which wait only until the new thread
//!   has registered;
//! - dropping a [`ThreadPoolExecutor`], which shuts it down and waits for its workers (once
//!   [`ThreadPoolExecutor::shutdown_interruptible`] returned `Ok(true)`, the drop has nothing
//!   to wait for);
//! - the guard methods ([`Lock::lock`], [`RLock::lock`], [`Semaphore::acquire_guard`]...): the
//!   plain `acquire_interruptible` is there for each;
//! - taking a lock back at the end of a condition wait ([`RLock::acquire_restore`],
//!   [`ConditionLock::acquire_restore`]), as in CPython: an interrupted
//!   [`Condition::wait_interruptible`] still returns holding the lock.
//!
//! [`SpinWait`] is the spin-then-sleep policy that the Python bindings' thread pool uses for its
//! hand-offs (a waiter that expects its condition within microseconds spins briefly before it
//! sleeps), with the measurements behind each of its numbers; it is usable on its own.
//!
//! Everything public is re-exported here, at the crate root, by one list. The exception is
//! [`raw`]: the low-level steps that the Python bindings drive themselves (starting a thread
//! from a Python bootstrap, a barrier's action run in Python, a condition over a Python lock,
//! a pool whose workers are Python loops). A Rust program does not need them.
//!
//! ```
//! use std::sync::Arc;
//! use threadkit::{Event, Lock};
//!
//! let ready = Arc::new(Event::new());
//! let lock = Arc::new(Lock::new());
//! let waiter = {
//!     let (ready, lock) = (ready.clone(), lock.clone());
//!     std::thread::spawn(move || {
//!         ready.wait();
//!         let _held = lock.lock();
//!     })
//! };
//! ready.set();
//! waiter.join().unwrap();
//! assert!(!lock.locked());
//! ```

mod barrier;
mod condition;
mod deadline;
pub mod debug;
mod event;
mod futures;
mod ident;
mod lock;
mod panic;
mod queue;
pub mod raw;
mod rlock;
mod semaphore;
mod spin;
mod sync;
mod thread;
mod timer;

pub use barrier::{Barrier, BarrierError, ZeroPartiesError};
pub use condition::{Condition, ConditionError, ConditionLock, ConditionOp};
pub use deadline::{Deadline, Interrupt, Interrupted, NoInterrupt};
pub use event::Event;
pub use futures::{
    as_completed, wait, wait_interruptible, AsCompleted, ExecutorBuilder, Future, FutureError,
    FutureState, InvalidStateError, MapResults, ReturnWhen, SubmitError, ThreadPoolExecutor,
    WaitResult, BROKEN_INITIALIZER,
};
pub use ident::{get_ident, get_native_id};
pub use lock::{Lock, LockGuard, ReleaseError};
pub use queue::{
    Fifo, GetError, Lifo, LifoQueue, Order, Priority, PriorityQueue, PutError, Queue, SimpleQueue,
    TaskDoneError,
};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreError, SemaphoreGuard};
pub use spin::SpinWait;
pub use thread::{
    active_count, current_thread, default_excepthook, enumerate, main_thread, register_atexit,
    reset_excepthook, set_excepthook, spawn, wait_for_non_daemon_threads, AtexitError, Builder,
    DaemonError, ExceptHookArgs, JoinError, JoinHandle, StartError, Thread,
};
pub use timer::Timer;
