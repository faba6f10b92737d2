//! `threadkit.RLock`: `threading.RLock` over [`threadkit::RLock`].

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::blocking::{block_uninterruptible, LockBlocking, LockTimeout};
use crate::lock::{acquire_like, repr_lock};
use crate::site::{self, PyLabel};

/// A reentrant lock, as `threading.RLock`: the owning thread may acquire it again; each
/// acquire needs its release.
#[pyclass(module = "threadkit", name = "RLock", frozen, weakref, subclass)]
pub struct PyRLock {
    pub(crate) inner: threadkit::RLock,
}

fn not_owner() -> PyErr {
    PyRuntimeError::new_err("cannot release un-acquired lock")
}

#[pymethods]
impl PyRLock {
    /// A new unlocked RLock, named `name` if given (a `str` or None), labelled with the
    /// caller's line. Other arguments are ignored, as CPython's `_thread.RLock` ignores them.
    #[new]
    #[pyo3(signature = (*_args, **kwargs), text_signature = "(*, name=None, order_checked=True)")]
    // No `py` parameter: see `PyLock::new` (a bare `(*args, **kwargs)` is not parsed).
    fn new(_args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let py = _args.py();
        let (name, given, checked) = match kwargs {
            Some(k) if !k.is_empty() => (
                k.get_item("name")?,
                k.get_item("_label")?,
                match k.get_item("order_checked")? {
                    Some(v) => v.is_truthy()?,
                    None => true,
                },
            ),
            _ => (None, None, true),
        };
        let name = site::name_arg("RLock", name.as_ref())?;
        let inner = threadkit::RLock::new().with_label(site::label(py, name, given.as_ref())?);
        Ok(PyRLock {
            inner: if checked {
                inner
            } else {
                inner.order_unchecked()
            },
        })
    }

    /// Acquire the lock (again, if the caller owns it), blocking or non-blocking, with an
    /// optional timeout; return whether it was acquired.
    #[pyo3(
        signature = (blocking=LockBlocking(true), timeout=LockTimeout::FOREVER),
        text_signature = "($self, blocking=True, timeout=-1)"
    )]
    pub(crate) fn acquire(
        &self,
        py: Python<'_>,
        blocking: LockBlocking,
        timeout: LockTimeout,
    ) -> PyResult<bool> {
        acquire_like(py, blocking, timeout, &self.inner)
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        self.acquire(py, LockBlocking(true), LockTimeout::FOREVER)
    }

    /// Release one level; the lock is free once every acquire is released. Releasing a lock
    /// the caller does not own is `RuntimeError`.
    pub(crate) fn release(&self) -> PyResult<()> {
        self.inner.release().map_err(|_| not_owner())
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.release()
    }

    /// Whether any thread holds the lock (`RLock.locked()` of CPython 3.14).
    fn locked(&self) -> bool {
        self.inner.locked()
    }

    /// Whether the calling thread holds the lock.
    fn _is_owned(&self) -> bool {
        self.inner.is_owned()
    }

    /// How many times the calling thread holds the lock (0 if it does not).
    fn _recursion_count(&self) -> u64 {
        self.inner.recursion_count()
    }

    /// Release completely, returning the state for `_acquire_restore` (the Condition protocol).
    pub(crate) fn _release_save(&self) -> PyResult<(u64, u64)> {
        self.inner.release_save().map_err(|_| not_owner())
    }

    /// Re-acquire with the state `_release_save` returned (the Condition protocol).
    /// Not interruptible; a deadlock it closes goes to Python (`threadkit.deadlock_hook`).
    pub(crate) fn _acquire_restore(&self, py: Python<'_>, state: (u64, u64)) -> PyResult<()> {
        let lock = &self.inner;
        block_uninterruptible(py, |i| {
            threadkit::ConditionLock::acquire_restore_reporting(lock, state, i);
            Ok(())
        })
    }

    /// The ident of the owning thread, or None when unlocked.
    fn _owner(&self) -> Option<u64> {
        self.inner.owner()
    }

    /// Reset to unlocked in a child process after `fork()`.
    pub(crate) fn _at_fork_reinit(&self) {
        self.inner.reinit_after_fork();
    }

    /// The lock's name (or None) and creation site.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(self.inner.label())
    }

    /// CPython's shape with the name or site, and the owner thread's name while locked:
    /// `<locked threadkit.RLock object name='cache' owner='MainThread' count=2 at 0x...>`,
    /// `<unlocked threadkit.RLock object site='app.py:3' owner=0 count=0 at 0x...>`.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let lock = &slf.get().inner;
        let owner = lock.owner();
        let count = if owner.is_some() {
            lock.held_count()
        } else {
            0
        };
        repr_lock(
            slf.as_any(),
            owner.is_some(),
            lock.label(),
            owner,
            Some(count),
        )
    }
}
