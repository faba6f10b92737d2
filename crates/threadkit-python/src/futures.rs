//! The Rust halves of `threadkit.futures`: [`PyFuture`] (`_core.Future`, the state of a
//! `concurrent.futures.Future`, over [`threadkit::Future`]) and [`PyThreadPool`]
//! (`_core.ThreadPool`, the state of a `ThreadPoolExecutor`: its queue of work, over
//! [`threadkit::raw::WorkQueue`], and its worker count, shutdown and broken flags; the Python class
//! starts the workers and keeps this object as `_work_queue`, CPython's attribute name).
//!
//! The Python classes in `threadkit/futures.py` run everything that is Python code: the tasks,
//! the done-callbacks and the `_Waiter` objects that `concurrent.futures.wait` and
//! `as_completed` install (ARCHITECTURE.md rule 1). The methods that change a future's state
//! (`_cancel`, `_start`, `_finish`, `_fail`) return what Python must do next as an int made of
//! the [`LOCKED`], [`CALLBACKS`], [`CANCELLED`] and [`RUNNING`] bits, or [`INVALID`]; `_core`
//! exports each as `FUTURE_<NAME>` ([`add_protocol`]), and `futures.py` uses those names only.
//!
//! ## The standard library's protocol
//!
//! `concurrent.futures.wait` and `as_completed` read a future's `_state` and append to its
//! `_waiters` while holding `_condition`, and expect the future to call its waiters'
//! `add_result`/`add_exception`/`add_cancelled` under that same lock when it completes. Here the
//! condition is created on first access only (most futures never see `wait()`), and a
//! completion takes its lock only if it exists: the state change and the check for the
//! condition happen under the future's internal mutex, which the condition's creation also
//! takes, so a waiter either finds the future complete or is found by the completion. When the
//! lock is taken, the completion returns with it held ([`LOCKED`]): Python calls the waiters,
//! notifies the condition and releases it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{PyRuntimeError, PyTimeoutError};
use pyo3::gc::PyVisit;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::PyTraverseError;
use threadkit::raw::{FutureExt, Pop, WorkQueue};
use threadkit::{Deadline, FutureError, FutureState, SpinWait, SubmitError};

use crate::blocking::{block, wait_deadline};
use crate::rlock::PyRLock;

pyo3::import_exception!(concurrent.futures, CancelledError);
pyo3::import_exception!(concurrent.futures.thread, BrokenThreadPool);

/// Bit (`_core.FUTURE_LOCKED`): the future's `_condition` lock is held by the caller, who must
/// call the waiters, `notify_all()` and release it.
pub const LOCKED: i32 = 1;
/// Bit (`_core.FUTURE_CALLBACKS`): the future has done-callbacks to invoke.
pub const CALLBACKS: i32 = 2;
/// Bit (`_core.FUTURE_CANCELLED`) of `_cancel`: the future is cancelled (by this call, with the
/// bits above for what is left to do, or before it).
pub const CANCELLED: i32 = 4;
/// `_start`'s value (`_core.FUTURE_RUNNING`) when the future is now running: the caller runs
/// the call. Otherwise `_start` returns the bits above (0 or [`LOCKED`]: the future was
/// cancelled, its waiters are told `add_cancelled`) or [`INVALID`].
pub const RUNNING: i32 = 8;
/// Value (`_core.FUTURE_INVALID`) of `_finish`/`_fail` when the future was already done
/// (`InvalidStateError`), and of `_start` when it was running or done already.
pub const INVALID: i32 = -1;

/// Adds the protocol's values to the module `_core`, so that Python never copies them.
pub fn add_protocol(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("FUTURE_LOCKED", LOCKED)?;
    m.add("FUTURE_CALLBACKS", CALLBACKS)?;
    m.add("FUTURE_CANCELLED", CANCELLED)?;
    m.add("FUTURE_RUNNING", RUNNING)?;
    m.add("FUTURE_INVALID", INVALID)?;
    // The message of the `BrokenThreadPool` a failed initializer leaves (the core's).
    m.add("BROKEN_INITIALIZER", threadkit::BROKEN_INITIALIZER)?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An empty list, made *before* the caller takes the internal mutex (`ext`), to be stored
/// under it: making a Python object may start the garbage collector, which runs finalisers and
/// `gc.callbacks` (Python code, which may let another thread run); that thread then blocked on
/// the mutex with the GIL held, and the process hung (ARCHITECTURE.md rule 2; seen in
/// tests/test_futures_stress.py, with hypothesis' gc callback installed). Declared before the
/// guard, an unused one is dropped after the mutex is let go.
fn spare_list(py: Python<'_>) -> Py<PyList> {
    PyList::empty(py).unbind()
}

/// The error the core stores for a future that finished with a Python exception (the
/// exception object itself is kept beside it, in [`Ext`]).
#[derive(Debug)]
struct PythonException;

impl std::fmt::Display for PythonException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Python exception")
    }
}

impl std::error::Error for PythonException {}

/// A future's Python objects; guarded by its mutex, which no one holds while blocking or
/// calling Python code.
#[derive(Default)]
struct Ext {
    result: Option<Py<PyAny>>,
    exception: Option<Py<PyAny>>,
    /// The `_condition`, once created, and its lock.
    condition: Option<(Py<PyAny>, Py<PyRLock>)>,
    waiters: Option<Py<PyList>>,
    callbacks: Option<Py<PyList>>,
}

/// The Rust half of `threadkit.futures.Future`: its state is a [`threadkit::Future`], its
/// result, exception, waiters and callbacks are kept here.
#[pyclass(module = "threadkit._core", name = "Future", frozen, subclass)]
pub struct PyFuture {
    core: threadkit::Future<()>,
    ext: Mutex<Ext>,
}

/// The `_condition` lock while a state change is made, if the condition exists.
struct Held(Option<Py<PyRLock>>);

impl Held {
    fn release(self) {
        if let Some(l) = self.0 {
            let _ = l.get().inner.release();
        }
    }

    fn is_held(&self) -> bool {
        self.0.is_some()
    }
}

impl PyFuture {
    fn new_pending() -> Self {
        PyFuture {
            core: threadkit::Future::new(),
            ext: Mutex::new(Ext::default()),
        }
    }

    /// Runs `change` under the internal mutex and, if the `_condition` exists, under its lock
    /// too (taken first, blocking if another thread holds it, as in `wait()`).
    fn locked<R>(&self, py: Python<'_>, change: impl FnOnce(&mut Ext) -> R) -> PyResult<(R, Held)> {
        let mut cond_lock = None;
        loop {
            if let Some(l) = &cond_lock {
                let l: &Py<PyRLock> = l;
                let rlock = &l.get().inner;
                if !rlock.try_acquire() {
                    block(py, |i| rlock.acquire_interruptible(Deadline::never(), i))?;
                }
            }
            let mut ext = lock(&self.ext);
            let current = ext.condition.as_ref().map(|(_, l)| l.clone_ref(py));
            match (&cond_lock, current) {
                (None, None) => return Ok((change(&mut ext), Held(None))),
                (Some(held), Some(now)) if held.is(&now) => {
                    return Ok((change(&mut ext), Held(cond_lock)));
                }
                (_, now) => {
                    // The condition appeared since we looked: start again with its lock.
                    drop(ext);
                    Held(cond_lock).release();
                    cond_lock = now;
                }
            }
        }
    }

    /// Completes the future with a result or an exception: the flags for Python, or
    /// [`INVALID`] if it was already done.
    fn complete(&self, py: Python<'_>, value: Py<PyAny>, is_exception: bool) -> PyResult<i32> {
        let core = &self.core;
        let (done, held) = self.locked(py, |ext| {
            if core.done() {
                return None;
            }
            if is_exception {
                ext.exception = Some(value);
                let _ = core.set_exception(FutureError::Exception(Arc::new(PythonException)));
            } else {
                ext.result = Some(value);
                let _ = core.set_result(());
            }
            Some(has_items(py, &ext.callbacks))
        })?;
        match done {
            None => {
                held.release();
                Ok(INVALID)
            }
            Some(callbacks) => Ok(flags(held, callbacks)),
        }
    }

    fn outcome(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let ext = lock(&self.ext);
        // As CPython's `if self._exception: raise`: `set_exception(None)` leaves a result of
        // None (an exception object is always true otherwise).
        if let Some(e) = ext.exception.as_ref().filter(|e| !e.is_none(py)) {
            return Err(PyErr::from_value(e.bind(py).clone()));
        }
        Ok(ext
            .result
            .as_ref()
            .map_or_else(|| py.None(), |r| r.clone_ref(py)))
    }

    /// Waits until done or until `timeout` (the `result()`/`exception()` argument).
    fn wait_done(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<FutureState> {
        let s = self.core.state();
        if s.is_done() {
            return Ok(s);
        }
        let deadline = wait_deadline(timeout)?;
        let core = &self.core;
        block(py, |i| {
            if !deadline.has_passed() && SpinWait::RESULT.until(|| core.done()) {
                return Ok(true);
            }
            core.wait_interruptible(deadline, i)
        })?;
        Ok(self.core.state())
    }
}

/// Before `fork()`: stop the spinning threads (a spin holds the queue's mutex for short moments,
/// and a mutex held at fork time stays locked in the child). See [`SpinWait::before_fork`].
#[pyfunction]
pub fn _futures_before_fork(py: Python<'_>) {
    py.detach(SpinWait::before_fork);
}

/// After `fork()`, in the parent and in the child: spinning may resume.
#[pyfunction]
pub fn _futures_after_fork(in_child: bool) {
    SpinWait::after_fork(in_child);
}

fn has_items(py: Python<'_>, list: &Option<Py<PyList>>) -> bool {
    list.as_ref().is_some_and(|l| l.bind(py).len() > 0)
}

fn flags(held: Held, callbacks: bool) -> i32 {
    let mut f = 0;
    if held.is_held() {
        // Released by Python, after calling the waiters.
        f |= LOCKED;
    }
    if callbacks {
        f |= CALLBACKS;
    }
    f
}

fn state_name(py: Python<'_>, s: FutureState) -> &Bound<'_, PyString> {
    match s {
        FutureState::Pending => intern!(py, "PENDING"),
        FutureState::Running => intern!(py, "RUNNING"),
        FutureState::Cancelled => intern!(py, "CANCELLED"),
        FutureState::CancelledAndNotified => intern!(py, "CANCELLED_AND_NOTIFIED"),
        FutureState::Finished => intern!(py, "FINISHED"),
    }
}

#[pymethods]
impl PyFuture {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        let future = PyFuture::new_pending();
        // Reports name the Python line that made it (for a pool's, the line that submitted).
        future.core.set_site(crate::site::caller_site(_args.py()));
        future
    }

    /// Return the result, waiting at most `timeout` seconds (None: forever). Raises
    /// `CancelledError` if cancelled, `TimeoutError` on timeout, or the call's exception.
    #[pyo3(signature = (timeout=None))]
    fn result(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        match self.wait_done(py, timeout)? {
            FutureState::Finished => self.outcome(py),
            FutureState::Cancelled | FutureState::CancelledAndNotified => {
                Err(CancelledError::new_err(()))
            }
            _ => Err(PyTimeoutError::new_err(())),
        }
    }

    /// Return the call's exception (None if it returned), waiting at most `timeout` seconds.
    /// Raises `CancelledError` if cancelled, `TimeoutError` on timeout.
    #[pyo3(signature = (timeout=None))]
    fn exception(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        match self.wait_done(py, timeout)? {
            FutureState::Finished => Ok(lock(&self.ext)
                .exception
                .as_ref()
                .map_or_else(|| py.None(), |e| e.clone_ref(py))),
            FutureState::Cancelled | FutureState::CancelledAndNotified => {
                Err(CancelledError::new_err(()))
            }
            _ => Err(PyTimeoutError::new_err(())),
        }
    }

    /// Return True if the future was cancelled.
    fn cancelled(&self) -> bool {
        self.core.cancelled()
    }

    /// Return True if the future is currently executing.
    fn running(&self) -> bool {
        self.core.running()
    }

    /// Return True if the future was cancelled or finished executing.
    fn done(&self) -> bool {
        self.core.done()
    }

    /// Cancel if pending: 0 (running or finished: not cancelled), or [`CANCELLED`] plus the
    /// bits Python must act on if this call cancelled it.
    fn _cancel(&self, py: Python<'_>) -> PyResult<i32> {
        let core = &self.core;
        let (r, held) = self.locked(py, |ext| match core.state() {
            FutureState::Running | FutureState::Finished => None,
            FutureState::Cancelled | FutureState::CancelledAndNotified => Some(None),
            FutureState::Pending => {
                core.cancel();
                Some(Some(has_items(py, &ext.callbacks)))
            }
        })?;
        Ok(match r {
            None => {
                held.release();
                0
            }
            Some(None) => {
                held.release();
                CANCELLED
            }
            Some(Some(callbacks)) => CANCELLED | flags(held, callbacks),
        })
    }

    /// `set_running_or_notify_cancel`: [`RUNNING`] (now running), 0 (cancelled), [`LOCKED`]
    /// (cancelled, and the `_condition` lock is held for Python to call the waiters'
    /// `add_cancelled`), or [`INVALID`] (running or finished already).
    fn _start(&self, py: Python<'_>) -> PyResult<i32> {
        let core = &self.core;
        let (r, held) = self.locked(py, |_| core.set_running_or_notify_cancel())?;
        Ok(match r {
            Ok(false) => flags(held, false),
            Ok(true) => {
                held.release();
                RUNNING
            }
            Err(_) => {
                held.release();
                INVALID
            }
        })
    }

    /// Complete with `result`: the flags Python must act on, or [`INVALID`].
    fn _finish(&self, py: Python<'_>, result: Py<PyAny>) -> PyResult<i32> {
        self.complete(py, result, false)
    }

    /// Complete with `exception`: the flags Python must act on, or [`INVALID`].
    fn _fail(&self, py: Python<'_>, exception: Py<PyAny>) -> PyResult<i32> {
        self.complete(py, exception, true)
    }

    /// Append `fn` to the done-callbacks if the future is not done; return whether it did
    /// (if not, the caller calls it now).
    fn _add_callback(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<bool> {
        // Made before the mutex is taken (and dropped after it, if unused): see `spare_list`.
        let mut spare = Some(spare_list(py));
        let mut ext = lock(&self.ext);
        if self.core.done() {
            return Ok(false);
        }
        if ext.callbacks.is_none() {
            ext.callbacks = spare.take();
        }
        if let Some(l) = &ext.callbacks {
            // Appending to a list allocates no Python object (no collection can start).
            l.bind(py).append(callback)?;
        }
        Ok(true)
    }

    /// The `_condition`, if created.
    fn _get_condition(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        lock(&self.ext)
            .condition
            .as_ref()
            .map(|(c, _)| c.clone_ref(py))
    }

    /// Install `condition` (over `rlock`) as the `_condition` unless one exists (or in place
    /// of it, with `replace`: a subclass assigning `self._condition`); return the one in place.
    #[pyo3(signature = (condition, rlock, replace=false))]
    fn _set_condition(
        &self,
        py: Python<'_>,
        condition: Py<PyAny>,
        rlock: Py<PyRLock>,
        replace: bool,
    ) -> Py<PyAny> {
        let mut ext = lock(&self.ext);
        if replace {
            // The old one is dropped outside the internal mutex (its lock may be the last
            // reference to a Python object whose finaliser runs Python code).
            let old = ext.condition.replace((condition.clone_ref(py), rlock));
            drop(ext);
            drop(old);
            return condition;
        }
        ext.condition
            .get_or_insert((condition, rlock))
            .0
            .clone_ref(py)
    }

    /// CPython's state name: `PENDING`, `RUNNING`, `CANCELLED`, `CANCELLED_AND_NOTIFIED` or
    /// `FINISHED`.
    #[getter]
    fn _state<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        state_name(py, self.core.state()).clone()
    }

    /// The result once finished (None before, or if it raised).
    #[getter]
    fn _result(&self, py: Python<'_>) -> Py<PyAny> {
        lock(&self.ext)
            .result
            .as_ref()
            .map_or_else(|| py.None(), |r| r.clone_ref(py))
    }

    /// The exception once finished with one (None otherwise).
    #[getter]
    fn _exception(&self, py: Python<'_>) -> Py<PyAny> {
        lock(&self.ext)
            .exception
            .as_ref()
            .map_or_else(|| py.None(), |r| r.clone_ref(py))
    }

    /// The `_Waiter` objects of `wait()`/`as_completed()` (a list, modified under
    /// `_condition`).
    #[getter]
    fn _waiters(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let mut spare = Some(spare_list(py));
        let mut ext = lock(&self.ext);
        if ext.waiters.is_none() {
            ext.waiters = spare.take();
        }
        Ok(ext
            .waiters
            .as_ref()
            .map(|l| l.clone_ref(py))
            .unwrap_or_else(|| PyList::empty(py).unbind()))
    }

    /// The done-callbacks, in the order added.
    #[getter]
    fn _done_callbacks(&self, py: Python<'_>) -> Py<PyList> {
        let mut spare = Some(spare_list(py));
        let mut ext = lock(&self.ext);
        if ext.callbacks.is_none() {
            ext.callbacks = spare.take();
        }
        ext.callbacks
            .as_ref()
            .map_or_else(|| PyList::empty(py).unbind(), |l| l.clone_ref(py))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never block in the collector: a future being changed right now is skipped (it is
        // reachable from the thread changing it anyway).
        let Ok(ext) = self.ext.try_lock() else {
            return Ok(());
        };
        visit.call(&ext.result)?;
        visit.call(&ext.exception)?;
        if let Some((c, l)) = &ext.condition {
            visit.call(c)?;
            visit.call(l)?;
        }
        visit.call(&ext.waiters)?;
        visit.call(&ext.callbacks)?;
        Ok(())
    }

    fn __clear__(&self) {
        let taken = match self.ext.try_lock() {
            Ok(mut ext) => std::mem::take(&mut *ext),
            Err(_) => return,
        };
        drop(taken);
    }
}

// ---------------------------------------------------------------------------------------------
// ThreadPool

/// `RuntimeError` with the core's message (the same words as CPython's).
fn submit_error(e: SubmitError) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

/// The pool's state besides the queue; guarded by [`PyThreadPool::pool`].
struct Pool {
    shutdown: bool,
    broken: Option<String>,
    /// Workers started or about to be (a `submit` reserved them), not yet exited.
    workers: usize,
    /// Workers ever reserved: the next worker's number (`<prefix>_N`).
    spawned: usize,
}

/// A thread pool's state, its work queue included: the Rust half of
/// `threadkit.futures.ThreadPoolExecutor` (which starts the worker threads itself, as Python
/// threads running a Python loop).
///
/// Items are tuples `(future, fn, args, kwargs)`. `submit` decides, as CPython's
/// `_adjust_thread_count`, whether a new worker is needed: not if an idle one takes the item,
/// nor beyond `max_workers`.
#[pyclass(module = "threadkit._core", name = "ThreadPool", frozen)]
pub struct PyThreadPool {
    queue: WorkQueue<Py<PyTuple>>,
    future_type: Py<PyType>,
    max_workers: usize,
    pool: Mutex<Pool>,
    /// Set while no worker is alive or reserved.
    no_workers: threadkit::Event,
    /// Idle workers spinning for the next item (at most one spins).
    spinning: AtomicUsize,
}

impl PyThreadPool {
    fn pool(&self) -> MutexGuard<'_, Pool> {
        lock(&self.pool)
    }

    fn futures_of(py: Python<'_>, items: Vec<Py<PyTuple>>) -> PyResult<Bound<'_, PyList>> {
        let list = PyList::empty(py);
        for item in items {
            list.append(item.bind(py).get_item(0)?)?;
        }
        Ok(list)
    }
}

#[pymethods]
impl PyThreadPool {
    #[new]
    fn new(future_type: Py<PyType>, max_workers: usize) -> Self {
        let no_workers = threadkit::Event::new();
        no_workers.set();
        PyThreadPool {
            // The core knows the limit: a future queued behind `max_workers` stuck workers
            // never runs, which deadlock detection reports.
            queue: WorkQueue::with_max_workers(max_workers),
            future_type,
            max_workers,
            pool: Mutex::new(Pool {
                shutdown: false,
                broken: None,
                workers: 0,
                spawned: 0,
            }),
            no_workers,
            spinning: AtomicUsize::new(0),
        }
    }

    /// Queue `fn(*args, **kwargs)`: returns `(future, n)` where `n` is the number of the worker
    /// the caller must start, or None. Raises as CPython's `submit` does after shutdown or
    /// once the pool is broken.
    fn submit<'py>(
        &self,
        py: Python<'py>,
        r#fn: Py<PyAny>,
        args: Py<PyTuple>,
        kwargs: Py<PyDict>,
    ) -> PyResult<(Bound<'py, PyAny>, Option<usize>)> {
        let future = self.future_type.bind(py).call0()?;
        if let Ok(f) = future.cast::<PyFuture>() {
            // The future is this pool's: a thread waiting for it waits for the workers.
            f.get().core.set_pool(&self.queue);
        }
        let item = PyTuple::new(
            py,
            [
                future.clone().unbind(),
                r#fn,
                args.into_any(),
                kwargs.into_any(),
            ],
        )?;
        let mut pool = self.pool();
        if let Some(msg) = &pool.broken {
            return Err(BrokenThreadPool::new_err(msg.clone()));
        }
        if pool.shutdown {
            return Err(submit_error(SubmitError::Shutdown));
        }
        if crate::thread::interpreter_shutting_down() {
            return Err(submit_error(SubmitError::InterpreterShutdown));
        }
        if self.queue.push(item.unbind()).is_err() {
            return Err(submit_error(SubmitError::Shutdown));
        }
        let spawn = if !self.queue.try_acquire_idle() && pool.workers < self.max_workers {
            pool.workers += 1;
            pool.spawned += 1;
            self.no_workers.clear();
            Some(pool.spawned - 1)
        } else {
            None
        };
        drop(pool);
        Ok((future, spawn))
    }

    /// The next item for a worker, blocking while the queue is empty (the worker counts as
    /// idle then); None once the queue is closed and empty: the worker should exit.
    fn pop(&self, py: Python<'_>) -> PyResult<Option<Py<PyTuple>>> {
        if let Some(item) = self.queue.try_pop() {
            return Ok(Some(item));
        }
        self.queue.release_idle();
        let queue = &self.queue;
        Ok(
            match block(py, |i| {
                // One idle worker spins for the next item, the others sleep at once.
                if self.spinning.fetch_add(1, Ordering::Relaxed) == 0 {
                    let mut got = None;
                    let found = SpinWait::IDLE_WORKER.until(|| {
                        got = queue.try_pop();
                        got.is_some()
                    });
                    self.spinning.fetch_sub(1, Ordering::Relaxed);
                    if let (true, Some(item)) = (found, got) {
                        return Ok(Pop::Item(item));
                    }
                } else {
                    self.spinning.fetch_sub(1, Ordering::Relaxed);
                }
                queue.pop_interruptible(Deadline::never(), i)
            })? {
                Pop::Item(item) => Some(item),
                Pop::Closed | Pop::TimedOut => None,
            },
        )
    }

    /// Called first thing by a worker thread: it serves this pool from now on (deadlock
    /// detection counts it among those who would run a queued future).
    fn worker_started(&self) {
        self.queue.worker_started();
    }

    /// A worker exited (or a reserved one could not start).
    fn worker_exited(&self) {
        // The calling thread stops counting as a worker. For a start that failed, the caller
        // is not this pool's worker (nothing happens) or, if it is, it is no longer counted:
        // a deadlock through this pool may then be missed, never made up.
        self.queue.worker_exited();
        let mut pool = self.pool();
        pool.workers = pool.workers.saturating_sub(1);
        if pool.workers == 0 {
            self.no_workers.set();
        }
    }

    /// Shut down: no more submits; with `cancel_futures`, remove the queued items and return
    /// their futures (for the caller to cancel). Workers finish what remains, then exit.
    fn shutdown<'py>(&self, py: Python<'py>, cancel_futures: bool) -> PyResult<Bound<'py, PyList>> {
        let mut pool = self.pool();
        pool.shutdown = true;
        let items = if cancel_futures {
            self.queue.drain()
        } else {
            Vec::new()
        };
        self.queue.close();
        drop(pool);
        Self::futures_of(py, items)
    }

    /// Close the queue (the pool was garbage-collected, or the interpreter exits): workers
    /// finish what it holds, then exit.
    fn close(&self) {
        self.queue.close();
    }

    /// Mark the pool broken with `message`; return the futures of the queued items, removed
    /// (for the caller to fail with `BrokenThreadPool`).
    fn set_broken<'py>(&self, py: Python<'py>, message: String) -> PyResult<Bound<'py, PyList>> {
        let mut pool = self.pool();
        pool.broken = Some(message);
        let items = self.queue.drain();
        drop(pool);
        Self::futures_of(py, items)
    }

    /// Block until every worker has exited (interruptible by Ctrl-C on the main thread).
    fn wait_workers(&self, py: Python<'_>) -> PyResult<()> {
        let ev = &self.no_workers;
        block(py, |i| ev.wait_interruptible(Deadline::never(), i))?;
        Ok(())
    }

    /// Whether `shutdown` was called.
    #[getter]
    fn is_shutdown(&self) -> bool {
        self.pool().shutdown
    }

    /// The broken pool's message, or None.
    #[getter]
    fn broken(&self) -> Option<String> {
        self.pool().broken.clone()
    }

    /// How many items are queued.
    fn qsize(&self) -> usize {
        self.queue.len()
    }

    /// Whether no item is queued.
    fn empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Reset in a child process after `fork()`: empty, open, no workers.
    fn _at_fork_reinit(&self) {
        self.queue.reinit_after_fork();
        self.spinning.store(0, Ordering::Relaxed);
        let mut pool = self.pool();
        pool.workers = 0;
        self.no_workers.reinit_after_fork();
        self.no_workers.set();
    }
}
