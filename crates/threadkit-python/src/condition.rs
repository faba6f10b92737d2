//! `threadkit.Condition`: `threading.Condition`, with the waiting in [`threadkit::raw::WaitQueue`].
//!
//! Over threadkit's own `Lock` and `RLock` everything runs here, in Rust. Over any other lock
//! the Python class in `threadkit/threading.py` runs CPython's algorithm in Python frames (the
//! lock's methods are Python code, which Rust never calls: ARCHITECTURE.md rule 1) and uses this
//! class only for its waiter queue (`_enqueue`, `_wait_ticket`, `_notify_waiters`).

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use threadkit::raw::{WaitQueue, WaitTicket};
use threadkit::{ConditionError, ConditionLock, Deadline, Interrupt, Interrupted, ReleaseError};

use crate::blocking::{block, block_uninterruptible, wait_deadline, LockBlocking, LockTimeout};
use crate::lock::PyLock;
use crate::rlock::PyRLock;
use crate::site::{self, PyLabel};

/// A plain `Lock` as CPython's Condition sees it: "owned" means "held by some thread".
struct HeldLock<'a>(&'a threadkit::Lock);

impl ConditionLock for HeldLock<'_> {
    type Saved = ();
    fn is_owned(&self) -> bool {
        self.0.locked()
    }
    fn release_save(&self) -> Result<(), ReleaseError> {
        self.0.release()
    }
    fn acquire_restore(&self, saved: ()) {
        ConditionLock::acquire_restore(self.0, saved);
    }
    /// The core Lock's re-acquire: a deadlock it closes is reported (through `interrupt`,
    /// Python's hook) and never raised, as the wait cannot give up.
    fn acquire_restore_reporting(&self, saved: (), interrupt: &mut dyn Interrupt) {
        ConditionLock::acquire_restore_reporting(self.0, saved, interrupt);
    }
    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        self.0.acquire_interruptible(deadline, interrupt)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        self.0.release()
    }
    fn reinit_after_fork(&self) {
        self.0.reinit_after_fork();
    }
}

enum LockRef {
    Lock(Py<PyLock>),
    RLock(Py<PyRLock>),
    /// Any other lock: driven from Python.
    Other(Py<PyAny>),
}

/// A condition variable, as `threading.Condition`.
#[pyclass(
    module = "threadkit._core",
    name = "Condition",
    frozen,
    weakref,
    subclass
)]
pub struct PyCondition {
    lock: LockRef,
    waiters: WaitQueue,
}

/// One waiter's place in a Condition's queue (for the Python-level algorithm).
#[pyclass(module = "threadkit._core", name = "_WaitTicket", frozen)]
pub struct PyWaitTicket {
    ticket: WaitTicket,
}

/// Separates an interruption (which `block` turns into the signal handler's exception) from
/// the other errors of a wait.
fn split_interrupt<T>(
    r: Result<T, ConditionError>,
) -> Result<Result<T, ConditionError>, Interrupted> {
    match r {
        Err(ConditionError::Interrupted) => Err(Interrupted),
        r => Ok(r),
    }
}

fn condition_error(e: ConditionError) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

impl PyCondition {
    fn other_lock() -> PyErr {
        PyTypeError::new_err("this Condition's lock is not a threadkit lock")
    }

    fn is_owned(&self, py: Python<'_>) -> PyResult<bool> {
        match &self.lock {
            LockRef::Lock(l) => Ok(l.get().inner.locked()),
            LockRef::RLock(l) => Ok(l.get().inner.is_owned()),
            LockRef::Other(_) => {
                let _ = py;
                Err(Self::other_lock())
            }
        }
    }
}

#[pymethods]
impl PyCondition {
    /// A condition over `lock` (a new RLock if None), named `name` if given, labelled with the
    /// caller's line (or with `_label`, a `_core.Label`, from threadkit's own modules). An
    /// RLock made here carries the Condition's label.
    #[new]
    #[pyo3(signature = (lock=None, *, name=None, _label=None))]
    fn new(
        py: Python<'_>,
        lock: Option<&Bound<'_, PyAny>>,
        name: Option<&Bound<'_, PyAny>>,
        _label: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let label = site::label(py, site::name_arg("Condition", name)?, _label)?;
        let own_lock = || -> PyResult<LockRef> {
            Ok(LockRef::RLock(Py::new(
                py,
                PyRLock {
                    inner: threadkit::RLock::new().with_label(label.clone()),
                },
            )?))
        };
        let lock = match lock {
            None => own_lock()?,
            Some(l) if l.is_none() => own_lock()?,
            Some(l) => {
                if let Ok(l) = l.cast::<PyLock>() {
                    LockRef::Lock(l.clone().unbind())
                } else if let Ok(l) = l.cast::<PyRLock>() {
                    LockRef::RLock(l.clone().unbind())
                } else {
                    LockRef::Other(l.clone().unbind())
                }
            }
        };
        Ok(PyCondition {
            lock,
            waiters: WaitQueue::new().with_label(label),
        })
    }

    /// The condition's name (or None) and creation site.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(self.waiters.label())
    }

    /// `name='items'` or `site='app.py:12'`: what the Python class's repr shows after the
    /// standard library's `<Condition(lock, waiters)`.
    fn _repr_label(&self, py: Python<'_>) -> PyResult<String> {
        site::repr_label(py, self.waiters.label())
    }

    /// The underlying lock.
    #[getter]
    fn _lock(&self, py: Python<'_>) -> Py<PyAny> {
        match &self.lock {
            LockRef::Lock(l) => l.clone_ref(py).into_any(),
            LockRef::RLock(l) => l.clone_ref(py).into_any(),
            LockRef::Other(l) => l.clone_ref(py),
        }
    }

    /// Acquire the underlying lock (its `acquire`, same arguments and result).
    #[pyo3(
        signature = (blocking=LockBlocking(true), timeout=LockTimeout::FOREVER),
        text_signature = "($self, blocking=True, timeout=-1)"
    )]
    fn acquire(
        &self,
        py: Python<'_>,
        blocking: LockBlocking,
        timeout: LockTimeout,
    ) -> PyResult<bool> {
        match &self.lock {
            LockRef::Lock(l) => l.get().acquire(py, blocking, timeout),
            LockRef::RLock(l) => l.get().acquire(py, blocking, timeout),
            LockRef::Other(_) => Err(Self::other_lock()),
        }
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        self.acquire(py, LockBlocking(true), LockTimeout::FOREVER)
    }

    /// Release the underlying lock.
    fn release(&self) -> PyResult<()> {
        match &self.lock {
            LockRef::Lock(l) => l.get().release(),
            LockRef::RLock(l) => l.get().release(),
            LockRef::Other(_) => Err(Self::other_lock()),
        }
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

    /// Release the lock, wait until notified or until the timeout, re-acquire the lock.
    /// Returns False if the timeout passed. Waiting without holding the lock is `RuntimeError`.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        if !self.is_owned(py)? {
            return Err(PyRuntimeError::new_err("cannot wait on un-acquired lock"));
        }
        let deadline = wait_deadline(timeout)?;
        let waiters = &self.waiters;
        let r = match &self.lock {
            LockRef::Lock(l) => {
                let lock = HeldLock(&l.get().inner);
                block(py, |i| {
                    split_interrupt(waiters.wait_with(&lock, deadline, i))
                })?
            }
            LockRef::RLock(l) => {
                let lock = &l.get().inner;
                block(py, |i| {
                    split_interrupt(waiters.wait_with(lock, deadline, i))
                })?
            }
            LockRef::Other(_) => return Err(Self::other_lock()),
        };
        r.map_err(condition_error)
    }

    /// Wake up at most `n` threads waiting on this condition. Notifying without holding the
    /// lock is `RuntimeError`.
    #[pyo3(signature = (n=1))]
    fn notify(&self, py: Python<'_>, n: i64) -> PyResult<()> {
        if !self.is_owned(py)? {
            return Err(PyRuntimeError::new_err("cannot notify on un-acquired lock"));
        }
        self.waiters.notify(n.max(0) as usize);
        Ok(())
    }

    /// Wake up every thread waiting on this condition.
    fn notify_all(&self, py: Python<'_>) -> PyResult<()> {
        if !self.is_owned(py)? {
            return Err(PyRuntimeError::new_err("cannot notify on un-acquired lock"));
        }
        self.waiters.notify_all();
        Ok(())
    }

    /// Whether the calling thread holds the lock (as CPython's Condition decides it).
    fn _is_owned(&self, py: Python<'_>) -> PyResult<bool> {
        self.is_owned(py)
    }

    /// The Condition protocol of the underlying lock.
    fn _release_save(&self) -> PyResult<Option<(u64, u64)>> {
        match &self.lock {
            LockRef::Lock(l) => l.get().release().map(|()| None),
            LockRef::RLock(l) => l.get()._release_save().map(Some),
            LockRef::Other(_) => Err(Self::other_lock()),
        }
    }

    /// The Condition protocol of the underlying lock.
    fn _acquire_restore(&self, py: Python<'_>, state: Option<(u64, u64)>) -> PyResult<()> {
        match (&self.lock, state) {
            (LockRef::Lock(l), _) => {
                let lock = &l.get().inner;
                // Not interruptible, as a re-acquire; a deadlock it closes goes to Python.
                block_uninterruptible(py, |i| {
                    ConditionLock::acquire_restore_reporting(lock, (), i);
                    Ok(())
                })
            }
            (LockRef::RLock(l), Some(state)) => l.get()._acquire_restore(py, state),
            (LockRef::RLock(_), None) => Err(PyTypeError::new_err("RLock state expected")),
            (LockRef::Other(_), _) => Err(Self::other_lock()),
        }
    }

    /// How many threads wait (CPython exposes the deque `_waiters`; this is its length).
    fn _waiter_count(&self) -> usize {
        self.waiters.waiter_count()
    }

    /// Join the waiter queue (step one of a Python-level wait).
    fn _enqueue(&self) -> PyWaitTicket {
        PyWaitTicket {
            ticket: self.waiters.enqueue(),
        }
    }

    /// Block until `ticket` is notified or the timeout passes (the lock must be released).
    #[pyo3(signature = (ticket, timeout=None))]
    fn _wait_ticket(
        &self,
        py: Python<'_>,
        ticket: &Bound<'_, PyWaitTicket>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let ticket = &ticket.get().ticket;
        let deadline = match wait_deadline(timeout) {
            Ok(d) => d,
            Err(e) => {
                self.waiters.cancel(ticket);
                return Err(e);
            }
        };
        let waiters = &self.waiters;
        block(py, |i| waiters.wait(ticket, deadline, i))
    }

    /// Leave the queue without waiting; returns whether the ticket had been notified.
    fn _cancel_ticket(&self, ticket: &Bound<'_, PyWaitTicket>) -> bool {
        self.waiters.cancel(&ticket.get().ticket)
    }

    /// Wake up to `n` waiters without checking the lock (the Python level checked it).
    fn _notify_waiters(&self, n: usize) -> usize {
        self.waiters.notify(n)
    }

    /// Reset the lock and forget the waiters in a child process after `fork()`.
    fn _at_fork_reinit(&self) -> PyResult<()> {
        self.waiters.reinit_after_fork();
        match &self.lock {
            LockRef::Lock(l) => l.get()._at_fork_reinit(),
            LockRef::RLock(l) => l.get()._at_fork_reinit(),
            // The Python level resets a lock of another kind.
            LockRef::Other(_) => {}
        }
        Ok(())
    }
}
