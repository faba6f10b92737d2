//! `threadkit.Event` over [`threadkit::Event`].

use pyo3::prelude::*;

use crate::blocking::{block, wait_deadline};
use crate::lock::type_path;
use crate::site::{self, PyLabel};

/// A flag that threads can wait for, as `threading.Event`.
#[pyclass(module = "threadkit", name = "Event", frozen, weakref, subclass)]
pub struct PyEvent {
    inner: threadkit::Event,
}

#[pymethods]
impl PyEvent {
    /// A new unset event, named `name` if given, labelled with the caller's line.
    #[new]
    #[pyo3(signature = (*, name=None))]
    fn new(py: Python<'_>, name: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let name = site::name_arg("Event", name)?;
        Ok(PyEvent {
            inner: threadkit::Event::new().with_label(site::label(py, name, None)?),
        })
    }

    /// The event's name (or None) and creation site.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(self.inner.label())
    }

    /// Whether the flag is set.
    fn is_set(&self) -> bool {
        self.inner.is_set()
    }

    /// Deprecated alias of `is_set`.
    #[pyo3(name = "isSet")]
    fn is_set_deprecated(&self, py: Python<'_>) -> PyResult<bool> {
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyDeprecationWarning>(),
            c"isSet() is deprecated, use is_set() instead",
            1,
        )?;
        Ok(self.inner.is_set())
    }

    /// Set the flag, waking every waiting thread.
    fn set(&self) {
        self.inner.set();
    }

    /// Reset the flag.
    fn clear(&self) {
        self.inner.clear();
    }

    /// Block until the flag is set or the timeout passes; return the flag (True unless the
    /// wait timed out).
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        if self.inner.is_set() {
            return Ok(true);
        }
        let deadline = wait_deadline(timeout)?;
        if deadline.has_passed() {
            return Ok(self.inner.is_set());
        }
        let inner = &self.inner;
        block(py, |i| inner.wait_interruptible(deadline, i))
    }

    /// Reset in a child process after `fork()`.
    fn _at_fork_reinit(&self) {
        self.inner.reinit_after_fork();
    }

    /// `<threadkit.Event at 0x... site='app.py:12': unset>` (`name='ready'` if named): the
    /// standard library's shape, as CPython's test.lock_tests match it (`<\w+\.Event at .*:
    /// unset>`), with the name or site before the state.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        Ok(format!(
            "<{} at {:#x} {}: {}>",
            type_path(&slf.get_type())?,
            slf.as_ptr() as usize,
            site::repr_label(slf.py(), slf.get().inner.label())?,
            if slf.get().inner.is_set() {
                "set"
            } else {
                "unset"
            }
        ))
    }
}
