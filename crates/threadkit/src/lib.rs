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
//! [`Interrupt`], which the Python bindings use to keep waits interruptible by Ctrl-C.
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

mod sync;

pub mod barrier;
pub mod condition;
pub mod deadline;
pub mod debug;
pub mod event;
pub mod executor;
pub mod ident;
pub mod lock;
pub mod queue;
pub mod rlock;
pub mod semaphore;
pub mod thread;
pub mod timer;

pub use barrier::*;
pub use condition::*;
pub use deadline::{Deadline, Interrupt, Interrupted, NoInterrupt};
pub use event::*;
pub use executor::*;
pub use ident::*;
pub use lock::*;
pub use queue::*;
pub use rlock::*;
pub use semaphore::*;
pub use thread::*;
pub use timer::*;
