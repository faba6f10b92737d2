//! `threadkit._core.Barrier` over [`threadkit::Barrier`]. The Python class `threadkit.Barrier`
//! (in `threadkit/threading.py`) runs the action, in a Python frame, between
//! [`PyBarrier::_arrive`] and [`PyBarrier::_complete_action`].

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use threadkit::raw::{Arrival, BarrierExt};
use threadkit::{BarrierError, Deadline, Interrupted};

use crate::blocking::{block, wait_deadline};
use crate::site::{self, PyLabel};

pyo3::import_exception!(threading, BrokenBarrierError);

/// The Rust half of `threadkit.Barrier`.
#[pyclass(
    module = "threadkit._core",
    name = "Barrier",
    frozen,
    weakref,
    subclass
)]
pub struct PyBarrier {
    inner: threadkit::Barrier,
}

fn barrier_error(r: Result<Arrival, BarrierError>) -> Result<PyResult<Arrival>, Interrupted> {
    match r {
        Ok(a) => Ok(Ok(a)),
        Err(BarrierError::Interrupted) => Err(Interrupted),
        Err(BarrierError::Broken) => Ok(Err(BrokenBarrierError::new_err(()))),
    }
}

#[pymethods]
impl PyBarrier {
    /// A barrier for `parties` threads, labelled with the caller's line and named by a `str`
    /// `name` keyword (the Python class's `__init__` checks its type: a subclass may mean
    /// something else by `name`).
    #[new]
    #[pyo3(signature = (parties, *_args, **kwargs))]
    fn new(
        py: Python<'_>,
        parties: i64,
        _args: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        if parties < 1 {
            return Err(PyValueError::new_err("parties must be > 0"));
        }
        let name = match kwargs {
            Some(k) => site::lenient_name(k.get_item("name")?.as_ref()),
            None => None,
        };
        Ok(PyBarrier {
            inner: threadkit::Barrier::new(parties as usize)
                .with_label(site::label(py, name, None)?),
        })
    }

    /// The barrier's name (or None) and creation site.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(self.inner.label())
    }

    /// `name='start'` or `site='app.py:12'`, for the Python class's repr.
    fn _repr_label(&self, py: Python<'_>) -> PyResult<String> {
        site::repr_label(py, self.inner.label())
    }

    /// Arrive and wait for the round: returns `(index, run_action)`; the thread told to run the
    /// action must call `_complete_action` afterwards. Raises `BrokenBarrierError`.
    #[pyo3(signature = (timeout=None))]
    fn _arrive(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(usize, bool)> {
        let deadline = match wait_deadline(timeout) {
            Ok(d) => d,
            // As CPython's, a timeout too large to wait for is an error only for a thread that
            // would wait: the last to arrive does not.
            Err(e) if self.inner.n_waiting() + 1 < self.inner.parties() => return Err(e),
            Err(_) => Deadline::never(),
        };
        let inner = &self.inner;
        let arrival = block(py, |i| {
            barrier_error(inner.arrive_interruptible(deadline, i))
        })??;
        Ok(match arrival {
            Arrival::Passed(index) => (index, false),
            Arrival::RunAction(index) => (index, true),
        })
    }

    /// Finish the round after the action ran (`ok`) or raised (not `ok`, which breaks it).
    fn _complete_action(&self, ok: bool) -> PyResult<usize> {
        self.inner
            .complete_action(ok)
            .map_err(|_| BrokenBarrierError::new_err(()))
    }

    /// Put the barrier back in its initial state; threads waiting on it get
    /// `BrokenBarrierError`.
    fn reset(&self) {
        self.inner.reset();
    }

    /// Break the barrier: current and future waiters get `BrokenBarrierError`.
    fn abort(&self) {
        self.inner.abort();
    }

    /// The number of threads required to pass the barrier.
    #[getter]
    fn parties(&self) -> usize {
        self.inner.parties()
    }

    /// The number of threads waiting now.
    #[getter]
    fn n_waiting(&self) -> usize {
        self.inner.n_waiting()
    }

    /// Whether the barrier is broken.
    #[getter]
    fn broken(&self) -> bool {
        self.inner.broken()
    }

    /// Reset in a child process after `fork()`.
    fn _at_fork_reinit(&self) {
        self.inner.reinit_after_fork();
    }
}
