//! `threadkit.Semaphore` and `threadkit.BoundedSemaphore` over [`threadkit::Semaphore`] and
//! [`threadkit::BoundedSemaphore`].

use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use threadkit::{Deadline, Interrupt, Interrupted, SemaphoreError};

use crate::blocking::{block, wait_deadline, Truthy};
use crate::lock::type_path;
use crate::site::{self, PyLabel};

enum Kind {
    Plain(threadkit::Semaphore),
    Bounded(threadkit::BoundedSemaphore),
}

impl Kind {
    #[inline]
    fn try_acquire(&self) -> bool {
        match self {
            Kind::Plain(s) => s.try_acquire(),
            Kind::Bounded(s) => s.try_acquire(),
        }
    }

    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        match self {
            Kind::Plain(s) => s.acquire_interruptible(deadline, interrupt),
            Kind::Bounded(s) => s.acquire_interruptible(deadline, interrupt),
        }
    }

    #[inline]
    fn release(&self, n: usize) -> Result<(), SemaphoreError> {
        match self {
            Kind::Plain(s) => s.release(n),
            Kind::Bounded(s) => s.release(n),
        }
    }

    fn value(&self) -> usize {
        match self {
            Kind::Plain(s) => s.value(),
            Kind::Bounded(s) => s.value(),
        }
    }
}

/// A counting semaphore, as `threading.Semaphore`.
#[pyclass(module = "threadkit", name = "Semaphore", frozen, weakref, subclass)]
pub struct PySemaphore {
    kind: Kind,
}

fn initial_value(value: i64) -> PyResult<usize> {
    if value < 0 {
        return Err(PyValueError::new_err(
            "semaphore initial value must be >= 0",
        ));
    }
    let value = value as usize;
    if value > threadkit::Semaphore::MAX_VALUE {
        return Err(PyOverflowError::new_err("semaphore value too large"));
    }
    Ok(value)
}

fn semaphore_error(e: SemaphoreError) -> PyErr {
    match e {
        SemaphoreError::Overflow => PyOverflowError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

#[pymethods]
impl PySemaphore {
    /// A semaphore with `value` permits, named `name` if given, labelled with the caller's
    /// line.
    #[new]
    #[pyo3(signature = (value=1, *, name=None))]
    fn new(py: Python<'_>, value: i64, name: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let value = initial_value(value)?;
        let label = site::label(py, site::name_arg("Semaphore", name)?, None)?;
        Ok(PySemaphore {
            kind: Kind::Plain(threadkit::Semaphore::new(value).with_label(label)),
        })
    }

    /// The semaphore's name (or None) and creation site.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(match &self.kind {
            Kind::Plain(s) => s.label(),
            Kind::Bounded(s) => s.label(),
        })
    }

    /// Accepts `Semaphore.__init__(value)` again from a subclass's `super().__init__(...)`.
    #[pyo3(signature = (*_args, **_kwargs))]
    fn __init__(&self, _args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) {}

    /// Take one permit, blocking while there is none (unless `blocking` is false), at most
    /// `timeout` seconds if given. Returns whether a permit was taken.
    #[pyo3(
        signature = (blocking=Truthy(true), timeout=None),
        text_signature = "($self, blocking=True, timeout=None)"
    )]
    fn acquire(
        &self,
        py: Python<'_>,
        blocking: Truthy,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let blocking = blocking.0;
        if blocking && timeout.is_none() && self.kind.try_acquire() {
            return Ok(true);
        }
        if !blocking && timeout.is_some() {
            return Err(PyValueError::new_err(
                "can't specify timeout for non-blocking acquire",
            ));
        }
        if self.kind.try_acquire() {
            return Ok(true);
        }
        if !blocking {
            return Ok(false);
        }
        let deadline = wait_deadline(timeout)?;
        if deadline.has_passed() {
            return Ok(false);
        }
        let kind = &self.kind;
        block(py, |i| kind.acquire_interruptible(deadline, i))
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        self.acquire(py, Truthy(true), None)
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.release(1)
    }

    /// Give back `n` permits, waking up to `n` waiting threads.
    #[pyo3(signature = (n=1))]
    fn release(&self, n: i64) -> PyResult<()> {
        if n < 1 {
            return Err(semaphore_error(SemaphoreError::ZeroRelease));
        }
        self.kind.release(n as usize).map_err(semaphore_error)
    }

    /// The number of permits available now.
    #[getter]
    fn _value(&self) -> usize {
        self.kind.value()
    }

    /// The bound of a BoundedSemaphore (its initial value).
    #[getter]
    fn _initial_value(&self) -> Option<usize> {
        match &self.kind {
            Kind::Plain(_) => None,
            Kind::Bounded(s) => Some(s.initial_value()),
        }
    }

    /// Reset in a child process after `fork()`.
    fn _at_fork_reinit(&self) {
        match &self.kind {
            Kind::Plain(s) => s.reinit_after_fork(),
            Kind::Bounded(s) => s.reinit_after_fork(),
        }
    }

    /// `<threadkit.Semaphore at 0x... name='pool': value=2>` (`site='app.py:12'` if unnamed;
    /// `value=N/M` bounded): the standard library's shape, as CPython's test.lock_tests match it,
    /// with the name or site before the state.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let me = slf.get();
        let value = match &me.kind {
            Kind::Plain(s) => s.value().to_string(),
            Kind::Bounded(s) => format!("{}/{}", s.value(), s.initial_value()),
        };
        let label = match &me.kind {
            Kind::Plain(s) => s.label(),
            Kind::Bounded(s) => s.label(),
        };
        Ok(format!(
            "<{} at {:#x} {}: value={}>",
            type_path(&slf.get_type())?,
            slf.as_ptr() as usize,
            site::repr_label(slf.py(), label)?,
            value
        ))
    }
}

/// A semaphore that may not be released above its initial value, as
/// `threading.BoundedSemaphore`.
#[pyclass(module = "threadkit", name = "BoundedSemaphore", extends = PySemaphore, frozen, subclass)]
pub struct PyBoundedSemaphore;

#[pymethods]
impl PyBoundedSemaphore {
    /// A bounded semaphore with `value` permits, named `name` if given, labelled with the
    /// caller's line.
    #[new]
    #[pyo3(signature = (value=1, *, name=None))]
    fn new(
        py: Python<'_>,
        value: i64,
        name: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let value = initial_value(value)?;
        let label = site::label(py, site::name_arg("BoundedSemaphore", name)?, None)?;
        let base = PySemaphore {
            kind: Kind::Bounded(threadkit::BoundedSemaphore::new(value).with_label(label)),
        };
        Ok(PyClassInitializer::from(base).add_subclass(PyBoundedSemaphore))
    }
}
