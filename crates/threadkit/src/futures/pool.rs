//! [`ThreadPoolExecutor`]: CPython's `concurrent.futures.thread`, over a [`WorkQueue`] of
//! boxed tasks and threadkit threads.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write};

use super::future::{Future, FutureError, FutureExt};
use super::work_queue::WorkQueue;
use crate::deadline::{Deadline, Interrupt, Interrupted, NoInterrupt};
use crate::debug::{DeadlockReport, Label, Site, WaitKind};
use crate::ident::get_ident;
use crate::panic::catch_panic;
use crate::sync::Mutex;
use crate::thread::{is_shutting_down, register_exit_hook, Builder, JoinError, Thread};

/// Why [`ThreadPoolExecutor::submit`] refused a task.
///
/// ```
/// use threadkit::{SubmitError, ThreadPoolExecutor};
/// let pool = ThreadPoolExecutor::new(1);
/// pool.shutdown(true, false);
/// let e = pool.submit(|| ()).unwrap_err();
/// assert!(matches!(e, SubmitError::Shutdown));
/// assert_eq!(e.to_string(), "cannot schedule new futures after shutdown");
/// ```
#[derive(Debug)]
pub enum SubmitError {
    /// The pool was shut down (Python: `RuntimeError`).
    Shutdown,
    /// [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads) has begun (Python:
    /// `RuntimeError('cannot schedule new futures after interpreter shutdown')`).
    InterpreterShutdown,
    /// An initializer failed (Python: `BrokenThreadPool`); the message says so.
    Broken(String),
    /// A worker thread could not be started. The task was queued and runs if a worker exists.
    Spawn(io::Error),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Shutdown => f.write_str("cannot schedule new futures after shutdown"),
            SubmitError::InterpreterShutdown => {
                f.write_str("cannot schedule new futures after interpreter shutdown")
            }
            SubmitError::Broken(m) => f.write_str(m),
            SubmitError::Spawn(e) => write!(f, "can't start new thread: {e}"),
        }
    }
}

impl std::error::Error for SubmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SubmitError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// The message of a pool whose initializer failed (CPython's).
///
/// ```
/// assert!(threadkit::BROKEN_INITIALIZER.starts_with("A thread initializer failed"));
/// ```
pub const BROKEN_INITIALIZER: &str =
    "A thread initializer failed, the thread pool is not usable anymore";

/// A queued task: runs, or completes its future without running.
trait Job: Send {
    /// Runs the task; calls `idle` as soon as the worker is free again (after the task body,
    /// before the future completes and its callbacks run).
    fn run(self: Box<Self>, idle: &dyn Fn());
    fn cancel(self: Box<Self>);
    fn fail(self: Box<Self>, error: FutureError);
}

struct Task<F, T> {
    future: Future<T>,
    f: F,
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send + Sync,
{
    fn run(self: Box<Self>, idle: &dyn Fn()) {
        let Task { future, f } = *self;
        if future.set_running_or_notify_cancel() != Ok(true) {
            idle();
            return;
        }
        let outcome = catch_panic(f);
        // Idle before completing: a caller that submits again as soon as it sees this result
        // finds this worker idle rather than starting another (CPython marks it idle after the
        // result, which can start a needless thread).
        idle();
        let _ = match outcome {
            Ok(v) => future.set_result(v),
            Err(p) => future.set_exception(FutureError::Panicked(p.message)),
        };
    }

    fn cancel(self: Box<Self>) {
        self.future.cancel();
    }

    fn fail(self: Box<Self>, error: FutureError) {
        let _ = self.future.set_exception(error);
    }
}

type Initializer = std::sync::Arc<dyn Fn() + Send + Sync>;

struct PoolState {
    threads: Vec<Thread>,
    shutdown: bool,
    broken: Option<String>,
}

struct PoolShared {
    queue: WorkQueue<Box<dyn Job>>,
    max_workers: usize,
    prefix: String,
    /// The prefix and where the pool was built: what a shutdown waits on, in wait records.
    label: Label,
    initializer: Option<Initializer>,
    /// CPython's `_shutdown_lock`.
    state: Mutex<PoolState>,
}

impl PoolShared {
    fn initializer_failed(&self) {
        let drained = {
            let mut st = self.state.lock();
            st.broken = Some(BROKEN_INITIALIZER.to_string());
            self.queue.drain()
        };
        for job in drained {
            job.fail(FutureError::BrokenThreadPool(
                BROKEN_INITIALIZER.to_string(),
            ));
        }
    }
}

/// Says the worker left its queue when dropped (also when the worker unwinds).
struct Serving<'a>(&'a WorkQueue<Box<dyn Job>>);

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.0.worker_exited();
    }
}

fn worker(shared: std::sync::Arc<PoolShared>) {
    // First: a future queued from now on may count on this thread (deadlock detection).
    shared.queue.worker_started();
    let _serving = Serving(&shared.queue);
    if let Some(init) = &shared.initializer {
        if let Err(p) = catch_panic(|| init()) {
            let _ = writeln!(
                io::stderr().lock(),
                "Exception in initializer:\n{}",
                p.message
            );
            shared.initializer_failed();
            return;
        }
    }
    while let Some(job) = shared.queue.pop() {
        job.run(&|| shared.queue.release_idle());
    }
}

static POOL_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static POOLS: parking_lot::Mutex<Vec<std::sync::Weak<PoolShared>>> =
    parking_lot::Mutex::new(Vec::new());

/// The exit hook, registered with the thread registry when the first pool is built; runs at
/// program end ([`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads), which has
/// already set the registry's "shutting down" flag that `submit` checks): stops every pool
/// taking work, lets the workers finish what is queued, and joins them (CPython's
/// `concurrent.futures.thread._python_exit`).
fn shutdown_all_pools() {
    let pools: Vec<_> = POOLS.lock().iter().filter_map(|w| w.upgrade()).collect();
    let mut threads = Vec::new();
    for p in &pools {
        let st = p.state.lock();
        p.queue.close();
        threads.extend(st.threads.iter().cloned());
    }
    for t in threads {
        if t.ident() != Some(get_ident()) {
            let _ = t.join();
        }
    }
}

/// The default `max_workers`: `min(32, cpus + 4)`, as CPython.
fn default_max_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    32.min(cpus + 4)
}

/// Options of a [`ThreadPoolExecutor`]: `ThreadPoolExecutor(max_workers, thread_name_prefix,
/// initializer)`.
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("io")
///     .initializer(|| ())
///     .build();
/// let name = pool.submit(|| threadkit::current_thread().name()).unwrap();
/// assert_eq!(name.result().unwrap(), "io_0");
/// ```
#[derive(Default)]
pub struct ExecutorBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl ExecutorBuilder {
    /// The most worker threads (default `min(32, cpus + 4)`).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().max_workers(3).build();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Workers are named `<prefix>_N` (default prefix `ThreadPoolExecutor-K`, one K per pool).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().thread_name_prefix("db").build();
    /// assert_eq!(pool.thread_name_prefix(), "db");
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs in each worker before it takes work. If it panics, the pool is broken: queued and
    /// later tasks fail with [`FutureError::BrokenThreadPool`] / [`SubmitError::Broken`].
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().initializer(|| println!("hello")).build();
    /// pool.submit(|| ()).unwrap().result().unwrap();
    /// ```
    pub fn initializer(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.initializer = Some(std::sync::Arc::new(f));
        self
    }

    /// Makes the pool. No thread starts until work is submitted.
    ///
    /// # Panics
    /// If `max_workers` is 0 (Python: `ValueError('max_workers must be greater than 0')`).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().build();
    /// assert_eq!(pool.num_threads(), 0);
    /// ```
    #[track_caller]
    pub fn build(self) -> ThreadPoolExecutor {
        let max_workers = self.max_workers.unwrap_or_else(default_max_workers);
        assert!(max_workers > 0, "max_workers must be greater than 0");
        let prefix = match self.prefix {
            Some(p) if !p.is_empty() => p,
            _ => format!(
                "ThreadPoolExecutor-{}",
                POOL_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
        };
        let shared = std::sync::Arc::new(PoolShared {
            queue: WorkQueue::with_max_workers(max_workers),
            max_workers,
            label: Label::new(Some(prefix.as_str().into()), Site::caller()),
            prefix,
            initializer: self.initializer,
            state: Mutex::new(PoolState {
                threads: Vec::new(),
                shutdown: false,
                broken: None,
            }),
        });
        static EXIT_HOOK: std::sync::Once = std::sync::Once::new();
        EXIT_HOOK.call_once(|| register_exit_hook(shutdown_all_pools));
        {
            let mut pools = POOLS.lock();
            pools.retain(|w| w.strong_count() > 0);
            pools.push(std::sync::Arc::downgrade(&shared));
        }
        ThreadPoolExecutor { shared }
    }
}

impl fmt::Debug for ExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

/// A pool of threads running submitted tasks: Python's
/// `concurrent.futures.ThreadPoolExecutor`.
///
/// Workers start lazily, one per submit while there are fewer than `max_workers` and no idle
/// worker, and are reused. A panicking task fails its own future
/// ([`FutureError::Panicked`]) and the worker goes on. Dropping the pool shuts it down and
/// waits for the queued tasks (`with ThreadPoolExecutor() as pool:`).
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::new(2);
/// let f = pool.submit(|| 40 + 2).unwrap();
/// assert_eq!(*f.result().unwrap(), 42);
/// pool.shutdown(true, false);
/// assert!(pool.submit(|| 0).is_err());
/// ```
pub struct ThreadPoolExecutor {
    shared: std::sync::Arc<PoolShared>,
}

impl Default for ThreadPoolExecutor {
    #[track_caller]
    fn default() -> Self {
        ThreadPoolExecutor::builder().build()
    }
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads, other options default.
    ///
    /// # Panics
    /// If `max_workers` is 0.
    ///
    /// ```
    /// assert_eq!(threadkit::ThreadPoolExecutor::new(4).max_workers(), 4);
    /// ```
    #[track_caller]
    pub fn new(max_workers: usize) -> Self {
        ThreadPoolExecutor::builder()
            .max_workers(max_workers)
            .build()
    }

    /// Options: max workers, thread name prefix, initializer.
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().max_workers(1).build();
    /// # drop(pool);
    /// ```
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// The most worker threads.
    ///
    /// ```
    /// assert_eq!(threadkit::ThreadPoolExecutor::new(2).max_workers(), 2);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// The workers' name prefix.
    ///
    /// ```
    /// let p = threadkit::ThreadPoolExecutor::new(1);
    /// assert!(p.thread_name_prefix().starts_with("ThreadPoolExecutor-"));
    /// ```
    pub fn thread_name_prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// How many workers were started (they are kept until shutdown).
    ///
    /// ```
    /// let p = threadkit::ThreadPoolExecutor::new(4);
    /// p.submit(|| ()).unwrap().result().unwrap();
    /// assert_eq!(p.num_threads(), 1);
    /// ```
    pub fn num_threads(&self) -> usize {
        self.shared.state.lock().threads.len()
    }

    /// The workers' threads.
    ///
    /// ```
    /// let p = threadkit::ThreadPoolExecutor::new(4);
    /// p.submit(|| ()).unwrap().result().unwrap();
    /// assert!(p.threads()[0].name().ends_with("_0"));
    /// ```
    pub fn threads(&self) -> Vec<Thread> {
        self.shared.state.lock().threads.clone()
    }

    /// Schedules `f` and returns its future.
    ///
    /// The future is the pool's: a thread waiting for it waits for the worker that runs it, or,
    /// while it is queued and the pool has all its `max_workers` workers, for all of them. So
    /// a deadlock through the pool (a one-worker pool whose task waits for another task it
    /// submitted to the same pool) is found when it forms (see
    /// [`Future::wait_interruptible`]). Its [`label`](Future::label) is the caller's location.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after [`ThreadPoolExecutor::shutdown`],
    /// [`SubmitError::Broken`] if an initializer failed, [`SubmitError::InterpreterShutdown`]
    /// once [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads) began,
    /// [`SubmitError::Spawn`] if a needed worker could not be started.
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| "ok").unwrap();
    /// assert_eq!(*f.result().unwrap(), "ok");
    /// ```
    #[track_caller]
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let future = Future::new();
        future.set_pool(&self.shared.queue);
        let job: Box<dyn Job> = Box::new(Task {
            future: future.clone(),
            f,
        });
        let mut st = self.shared.state.lock();
        if let Some(b) = &st.broken {
            return Err(SubmitError::Broken(b.clone()));
        }
        if st.shutdown {
            return Err(SubmitError::Shutdown);
        }
        if is_shutting_down() {
            return Err(SubmitError::InterpreterShutdown);
        }
        if self.shared.queue.push(job).is_err() {
            return Err(SubmitError::Shutdown);
        }
        self.adjust_thread_count(&mut st)?;
        Ok(future)
    }

    /// CPython's `_adjust_thread_count`: start a worker unless an idle one will take the item.
    fn adjust_thread_count(&self, st: &mut PoolState) -> Result<(), SubmitError> {
        if self.shared.queue.try_acquire_idle() {
            return Ok(());
        }
        if st.threads.len() < self.shared.max_workers {
            let name = format!("{}_{}", self.shared.prefix, st.threads.len());
            let shared = self.shared.clone();
            let h = Builder::new()
                .name(name)
                .spawn(move || worker(shared))
                .map_err(SubmitError::Spawn)?;
            st.threads.push(h.thread().clone());
        }
        Ok(())
    }

    /// Runs `f` on every item of `iter` in the pool; the results come back in input order
    /// (Python's `executor.map`). Everything is submitted before this returns. Dropping the
    /// iterator early cancels the tasks not yet started.
    ///
    /// # Errors
    /// As [`ThreadPoolExecutor::submit`].
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(3);
    /// let out: Vec<String> = pool.map(|n: u32| n.to_string(), [3, 1, 2]).unwrap()
    ///     .map(Result::unwrap).collect();
    /// assert_eq!(out, ["3", "1", "2"]);
    /// ```
    #[track_caller]
    pub fn map<A, T, F, I>(&self, f: F, iter: I) -> Result<MapResults<T>, SubmitError>
    where
        I: IntoIterator<Item = A>,
        A: Send + 'static,
        F: Fn(A) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.map_until(f, iter, Deadline::never())
    }

    /// As [`ThreadPoolExecutor::map`], but each result is waited for until `deadline` at most
    /// (one deadline for all, as Python's `timeout`); a late one is `Err(FutureError::Timeout)`.
    ///
    /// ```
    /// use threadkit::Deadline;
    /// let pool = threadkit::ThreadPoolExecutor::new(1);
    /// let out: Vec<_> = pool.map_until(|x: i32| x, [1], Deadline::never()).unwrap().collect();
    /// assert_eq!(*out[0].as_ref().unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn map_until<A, T, F, I>(
        &self,
        f: F,
        iter: I,
        deadline: Deadline,
    ) -> Result<MapResults<T>, SubmitError>
    where
        I: IntoIterator<Item = A>,
        A: Send + 'static,
        F: Fn(A) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let site = Site::caller();
        let f = std::sync::Arc::new(f);
        let futures = iter
            .into_iter()
            .map(|a| {
                let f = f.clone();
                let future = self.submit(move || std::sync::Mutex::new(Some(f(a))))?;
                future.set_site(site);
                Ok(future)
            })
            .collect::<Result<VecDeque<_>, _>>()?;
        Ok(MapResults { futures, deadline })
    }

    /// Stops taking work: Python's `shutdown(wait, cancel_futures)`. With `cancel_futures`, the
    /// queued tasks that have not started are cancelled; the rest still run. With `wait`, blocks
    /// until every worker has exited. Idempotent.
    ///
    /// Waiting for a worker is recorded as a wait of kind
    /// [`PoolShutdown`](crate::debug::WaitKind::PoolShutdown) on the pool, held by that worker:
    /// a shutdown that waits for a worker stuck on a lock the caller holds is a deadlock found
    /// when it forms (with [`DeadlockAction::Raise`](crate::debug::DeadlockAction::Raise),
    /// this panics with [`DeadlockError`](crate::debug::DeadlockError)).
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| 1).unwrap();
    /// pool.shutdown(true, false);
    /// assert!(f.done());
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        if wait {
            let _ =
                self.shutdown_interruptible(cancel_futures, Deadline::never(), &mut NoInterrupt);
        } else {
            self.stop(cancel_futures);
        }
    }

    /// As `shutdown(wait=true, cancel_futures)`, waiting until `deadline` at most for the
    /// workers to exit and asking `interrupt` at its interval whether to give up. `Ok(true)`
    /// once every worker has exited, `Ok(false)` if the deadline passed first. Either way, and
    /// when interrupted, the pool takes no more work and its workers finish what is queued.
    ///
    /// # Errors
    /// [`Interrupted`] if `interrupt` stopped the wait.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, ThreadPoolExecutor};
    /// let pool = ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| 1).unwrap();
    /// let all_exited = pool.shutdown_interruptible(false, Deadline::never(), &mut NoInterrupt);
    /// assert_eq!(all_exited, Ok(true));
    /// assert!(f.done());
    /// ```
    pub fn shutdown_interruptible(
        &self,
        cancel_futures: bool,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        for t in self.stop(cancel_futures) {
            if t.ident() == Some(get_ident()) {
                continue;
            }
            let label = Some(&self.shared.label);
            match t.join_as(deadline, interrupt, WaitKind::PoolShutdown, label) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(JoinError::Interrupted) => return Err(Interrupted),
                Err(_) => {}
            }
        }
        Ok(true)
    }

    /// The first half of a shutdown: no more work, the queued tasks cancelled if asked; returns
    /// the workers to wait for.
    fn stop(&self, cancel_futures: bool) -> Vec<Thread> {
        let (drained, threads) = {
            let mut st = self.shared.state.lock();
            st.shutdown = true;
            let drained = if cancel_futures {
                self.shared.queue.drain()
            } else {
                Vec::new()
            };
            self.shared.queue.close();
            (drained, st.threads.clone())
        };
        for job in drained {
            job.cancel();
        }
        threads
    }

    /// Whether an initializer failed.
    ///
    /// ```
    /// assert!(!threadkit::ThreadPoolExecutor::new(1).is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.shared.state.lock().broken.is_some()
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A deadlock found now can only be reported: a second panic would abort.
            let _ = self.shutdown_interruptible(false, Deadline::never(), &mut Unwinding);
        } else {
            self.shutdown(true, false);
        }
    }
}

/// The interrupt of a shutdown in a thread that is unwinding: a deadlock goes to the deadlock
/// hook, and the wait goes on.
struct Unwinding;

impl Interrupt for Unwinding {
    fn interval(&self) -> Option<std::time::Duration> {
        None
    }

    fn check(&mut self) -> Result<(), Interrupted> {
        Ok(())
    }

    fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
        crate::debug::call_hook(report);
        Ok(())
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.shared.max_workers)
            .field("thread_name_prefix", &self.shared.prefix)
            .field("threads", &st.threads.len())
            .field("shutdown", &st.shutdown)
            .field("broken", &st.broken.is_some())
            .field("queued", &self.shared.queue.len())
            .finish()
    }
}

/// The results of [`ThreadPoolExecutor::map`], in input order.
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::new(2);
/// let results = pool.map(|x: u32| x * 10, vec![1, 2, 3]).unwrap();
/// let values: Vec<u32> = results.map(|r| r.unwrap()).collect();
/// assert_eq!(values, vec![10, 20, 30]);
/// ```
pub struct MapResults<T> {
    futures: VecDeque<Future<std::sync::Mutex<Option<T>>>>,
    deadline: Deadline,
}

impl<T> MapResults<T> {
    /// The next result, as [`Iterator::next`], asking `interrupt` at its interval whether to
    /// give up while it waits: an interrupted wait yields `Err(FutureError::Interrupted)` and
    /// leaves that result in place for the next call.
    ///
    /// ```
    /// use threadkit::{NoInterrupt, ThreadPoolExecutor};
    /// let pool = ThreadPoolExecutor::new(1);
    /// let mut results = pool.map(|x: u8| x + 1, [1]).unwrap();
    /// assert_eq!(results.next_interruptible(&mut NoInterrupt).map(|r| r.ok()), Some(Some(2)));
    /// assert!(results.next_interruptible(&mut NoInterrupt).is_none());
    /// ```
    pub fn next_interruptible(
        &mut self,
        interrupt: &mut dyn Interrupt,
    ) -> Option<Result<T, FutureError>> {
        let f = self.futures.front()?;
        let r = match f.result_interruptible(self.deadline, interrupt) {
            Err(FutureError::Interrupted) => return Some(Err(FutureError::Interrupted)),
            r => r.map(|slot| {
                slot.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .expect("each map result is taken once")
            }),
        };
        self.futures.pop_front();
        Some(r)
    }
}

impl<T> Iterator for MapResults<T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_interruptible(&mut NoInterrupt)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.futures.len(), Some(self.futures.len()))
    }
}

impl<T> ExactSizeIterator for MapResults<T> {}

impl<T> Drop for MapResults<T> {
    fn drop(&mut self) {
        for f in &self.futures {
            f.cancel();
        }
    }
}

impl<T> fmt::Debug for MapResults<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapResults")
            .field("remaining", &self.futures.len())
            .finish_non_exhaustive()
    }
}
