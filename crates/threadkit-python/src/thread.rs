//! The Rust state behind `threadkit.threading.Thread`: [`threadkit::Thread`] exposed as
//! `threadkit._core.Thread` (the same word as the core type it wraps), plus the thread-identity
//! functions and the fork hook.
//!
//! The Python class (`python/threadkit/threading.py`) owns the OS thread: it starts it with
//! `_thread`'s own functions and runs a Python-level bootstrap that calls `mark_started` first
//! and `mark_finished` last, so no Rust frame is ever below user code (ARCHITECTURE.md rule 1).
//! The life state, the registry entry and the join are here.
//!
//! Daemon threads at exit: a daemon thread blocked in a threadkit wait sits in `py.detach`
//! with Rust frames on its stack. If its wait ends while the interpreter finalizes, re-attaching
//! (`PyEval_RestoreThread`) would, on CPython up to 3.13, end the thread with `pthread_exit`,
//! whose forced unwind through the Rust frames aborts the process. PyO3 0.30.1 wraps
//! `PyEval_RestoreThread` (PyO3 #6084/#6085) so that such a thread hangs forever instead, as
//! CPython 3.14 does itself; the process then exits normally. Do not go below that PyO3
//! version; `tests/test_process_life.py` checks this case on every CPython present.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use threadkit::raw::ThreadExt;

use crate::blocking::{block, wait_deadline};

/// One threadkit thread's state: name, daemon flag, identifiers, life state, joiners.
#[pyclass(module = "threadkit._core", name = "Thread", frozen)]
pub struct PyThread {
    inner: threadkit::Thread,
}

fn runtime_error(e: impl ToString) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

#[pymethods]
impl PyThread {
    #[new]
    fn new(py: Python<'_>, name: String, daemon: bool) -> Self {
        let inner = threadkit::Thread::new_unstarted(Some(name), Some(daemon));
        // Reports name the Python line that made the `threading.Thread`.
        inner.set_site(crate::site::caller_site(py));
        PyThread { inner }
    }

    /// Claims the thread for starting (`RuntimeError` if it was claimed or started before).
    fn claim_start(&self) -> PyResult<()> {
        self.inner.claim_start().map_err(runtime_error)
    }

    /// Gives a claim back after the OS thread could not be created.
    fn release_claim(&self) {
        self.inner.release_claim();
    }

    /// Called first thing in the new thread: records its identifiers, registers it, wakes
    /// `wait_started`.
    fn mark_started(&self) -> PyResult<()> {
        self.inner.mark_started().map_err(runtime_error)
    }

    /// Called last thing in the thread: unregisters it and wakes its joiners.
    fn mark_finished(&self) {
        self.inner.mark_finished();
    }

    /// Blocks until `mark_started` (interruptible on the main thread).
    fn wait_started(&self, py: Python<'_>) -> PyResult<()> {
        if self.inner.is_started() {
            return Ok(());
        }
        let inner = &self.inner;
        block(py, |i| {
            inner
                .wait_started_interruptible(threadkit::Deadline::never(), i)
                .map(|_| ())
        })
    }

    /// Waits for the thread to finish, at most `timeout` seconds (`None`: forever). The errors
    /// are `Thread.join`'s.
    #[pyo3(signature = (timeout=None))]
    fn join(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        if self.inner.is_started() && !self.inner.is_alive() {
            return Ok(());
        }
        let deadline = wait_deadline(timeout)?;
        let inner = &self.inner;
        let r = block(py, |i| match inner.join_interruptible(deadline, i) {
            Err(threadkit::JoinError::Interrupted) => Err(threadkit::Interrupted),
            other => Ok(other),
        })?;
        r.map(|_| ()).map_err(runtime_error)
    }

    /// Started and not finished.
    fn is_alive(&self) -> bool {
        self.inner.is_alive()
    }

    /// Started (and perhaps finished since).
    fn is_started(&self) -> bool {
        self.inner.is_started()
    }

    /// `"initial"`, `"started"` or `"stopped"`, as in `Thread.__repr__`.
    fn status(&self) -> &'static str {
        if !self.inner.is_started() {
            "initial"
        } else if self.inner.is_alive() {
            "started"
        } else {
            "stopped"
        }
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name()
    }

    #[setter]
    fn set_name(&self, name: String) {
        self.inner.set_name(name);
    }

    #[getter]
    fn daemon(&self) -> bool {
        self.inner.is_daemon()
    }

    /// `RuntimeError('cannot set daemon status of active thread')` once claimed.
    #[setter]
    fn set_daemon(&self, daemon: bool) -> PyResult<()> {
        self.inner.set_daemon(daemon).map_err(runtime_error)
    }

    #[getter]
    fn ident(&self) -> Option<u64> {
        self.inner.ident()
    }

    #[getter]
    fn native_id(&self) -> Option<u64> {
        self.inner.native_id()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// The calling thread's identifier: `threading.get_ident()`'s value.
#[pyfunction]
pub fn get_ident() -> u64 {
    threadkit::get_ident()
}

/// The calling thread's native (kernel) id: `threading.get_native_id()`'s value.
#[pyfunction]
pub fn get_native_id() -> u64 {
    threadkit::get_native_id()
}

/// In a child process after `fork()`: the registry keeps only the calling thread, which becomes
/// the main thread (also for signal handling in waits).
#[pyfunction]
pub fn _after_fork_in_child() {
    threadkit::raw::reinit_after_fork();
    crate::blocking::_set_main_thread_ident(threadkit::get_ident());
}

/// Records that the interpreter is shutting down; called by `threadkit.futures`'s exit hook,
/// which runs before the interpreter joins its non-daemon threads. From then on thread pools
/// refuse new work (`RuntimeError`, as CPython's). The flag is the core registry's, the one
/// source of truth (ARCHITECTURE.md, "Shutdown").
#[pyfunction]
pub fn _begin_interpreter_shutdown() {
    threadkit::raw::begin_shutdown();
}

/// Whether [`_begin_interpreter_shutdown`] was called.
#[pyfunction]
pub fn _interpreter_shutting_down() -> bool {
    interpreter_shutting_down()
}

/// Whether the interpreter is shutting down, for the bindings' Rust code.
pub fn interpreter_shutting_down() -> bool {
    threadkit::raw::is_shutting_down()
}

/// The number of alive threads in the Rust registry (threadkit threads, and entries for other
/// threads that asked the Rust core who they are).
#[pyfunction]
pub fn _registry_count() -> usize {
    threadkit::active_count()
}
