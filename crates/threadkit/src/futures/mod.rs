//! [`ThreadPoolExecutor`] and [`Future`]: Python's `concurrent.futures.ThreadPoolExecutor` and
//! `concurrent.futures.Future`, plus the [`WorkQueue`] the pool's workers wait on.
//!
//! The pieces are usable on their own: a [`Future<T>`] is a result slot with CPython's state
//! machine (`PENDING`, `RUNNING`, `CANCELLED`, `CANCELLED_AND_NOTIFIED`, `FINISHED`), and a
//! [`WorkQueue<I>`] (in [`crate::raw`]) is a closable queue of opaque items with the pool's
//! idle-worker count. Neither calls user code except a future's done-callbacks, which a caller
//! that must not run foreign code here (the Python bindings) simply does not register.
//!
//! The module follows CPython's split of the same material: `future` and `wait` are
//! `concurrent.futures._base` (the future, `wait`, `as_completed`), `work_queue` and `pool` are
//! `concurrent.futures.thread`. The pool depends on the thread registry (its workers are
//! threadkit threads, its exit hook is registered there), never the other way round.
//!
//! ```
//! use threadkit::ThreadPoolExecutor;
//!
//! let pool = ThreadPoolExecutor::new(4);
//! let futures: Vec<_> = (0..8u64).map(|i| pool.submit(move || i * i).unwrap()).collect();
//! let total: u64 = futures.iter().map(|f| *f.result().unwrap()).sum();
//! assert_eq!(total, 140);
//! let squares: Vec<u64> = pool.map(|i: u64| i * i, 0..4).unwrap().map(Result::unwrap).collect();
//! assert_eq!(squares, [0, 1, 4, 9]);
//! ```

mod future;
mod pool;
mod wait;
mod work_queue;

pub use future::{Future, FutureError, FutureExt, FutureState, InvalidStateError};
pub use pool::{ExecutorBuilder, MapResults, SubmitError, ThreadPoolExecutor, BROKEN_INITIALIZER};
pub use wait::{as_completed, wait, wait_interruptible, AsCompleted, ReturnWhen, WaitResult};
pub use work_queue::{Pop, WorkQueue};
