//! Blocking from Python: argument checks shared by every wait, GIL release, and Ctrl-C.
//!
//! A blocking wait runs detached from the interpreter (ARCHITECTURE.md rule 2). On the main
//! thread it wakes every [`SIGNAL_SLICE`] to run Python's signal handlers: a handler that raises
//! (Ctrl-C's `KeyboardInterrupt`) aborts the wait with that exception; one that returns lets it
//! go on. Other threads never run signal handlers in CPython, so they block without waking.
//!
//! Both interrupts act on a deadlock the wait finds as it is about to block
//! ([`Interrupt::on_deadlock`], see `debug.rs`): they attach (this is a Python thread inside a
//! method call, and the core holds no internal lock there, ARCHITECTURE.md rules 1 and 2), then
//! call `threadkit.deadlock_hook` and keep waiting, or keep `threadkit.DeadlockError` to raise
//! and give up the wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};
use threadkit::debug::{AllAsleepReport, DeadlockReport, PotentialDeadlockReport};
use threadkit::raw::LockOrderExt;
use threadkit::{get_ident, Deadline, Interrupt, Interrupted};

use crate::debug::{on_all_asleep, on_deadlock, on_potential_deadlock};

/// How often a blocked main thread checks for signals.
pub const SIGNAL_SLICE: Duration = Duration::from_millis(20);

/// `threading.TIMEOUT_MAX` on this platform, set at module init.
static TIMEOUT_MAX_BITS: AtomicU64 = AtomicU64::new(0);
/// The running interpreter's minor version (3.x), for version-dependent messages.
static PY_MINOR: AtomicU64 = AtomicU64::new(11);
/// The ident of the interpreter's main thread (the only one that runs signal handlers).
static MAIN_IDENT: AtomicU64 = AtomicU64::new(0);

pub fn init(timeout_max: f64, main_ident: u64, py_minor: u64) {
    PY_MINOR.store(py_minor, Ordering::Relaxed);
    TIMEOUT_MAX_BITS.store(timeout_max.to_bits(), Ordering::Relaxed);
    MAIN_IDENT.store(main_ident, Ordering::Relaxed);
}

/// Records a new main thread: the forking thread in a child process.
#[pyfunction]
pub fn _set_main_thread_ident(ident: u64) {
    MAIN_IDENT.store(ident, Ordering::Relaxed);
}

/// The running interpreter's minor version: 11 for CPython 3.11.
pub fn py_minor() -> u64 {
    PY_MINOR.load(Ordering::Relaxed)
}

pub fn timeout_max() -> f64 {
    f64::from_bits(TIMEOUT_MAX_BITS.load(Ordering::Relaxed))
}

/// The interrupt of a wait from Python: on the main thread it runs Python's signal handlers
/// between slices; on every thread it acts on deadlocks in Python. The exception that ends the
/// wait (a handler's, or `DeadlockError`) is kept in `error`.
struct PyInterrupt {
    signals: bool,
    error: Option<PyErr>,
}

impl Interrupt for PyInterrupt {
    fn interval(&self) -> Option<Duration> {
        self.signals.then_some(SIGNAL_SLICE)
    }

    fn check(&mut self) -> Result<(), Interrupted> {
        if !self.signals {
            return Ok(());
        }
        Python::attach(|py| py.check_signals()).map_err(|e| {
            self.error = Some(e);
            Interrupted
        })
    }

    fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
        on_deadlock(report).map_err(|e| {
            self.error = Some(e);
            Interrupted
        })
    }

    fn on_potential_deadlock(
        &mut self,
        report: &PotentialDeadlockReport,
    ) -> Result<(), Interrupted> {
        on_potential_deadlock(report).map_err(|e| {
            self.error = Some(e);
            Interrupted
        })
    }

    fn on_all_asleep(&mut self, report: &AllAsleepReport) {
        on_all_asleep(report);
    }
}

/// Debug mode's lock-order check before `acquire()` tries its fast path, attached.
#[inline]
pub fn check_order<L: LockOrderExt + ?Sized>(_py: Python<'_>, lock: &L) -> PyResult<()> {
    let mut interrupt = PyInterrupt {
        signals: false,
        error: None,
    };
    match lock.check_order(&mut interrupt) {
        Ok(()) => Ok(()),
        Err(Interrupted) => Err(interrupt.error.take().unwrap_or_else(unreachable_interrupt)),
    }
}

/// Runs the blocking `wait` detached from the interpreter, interruptible by signal handlers when
/// called on the main thread. An interruption becomes the exception the handler raised, or
/// `threadkit.DeadlockError` for a wait that would close a deadlock with the action `raise`.
pub fn block<R: Send>(
    py: Python<'_>,
    wait: impl FnOnce(&mut dyn Interrupt) -> Result<R, Interrupted> + Send,
) -> PyResult<R> {
    let signals = get_ident() == MAIN_IDENT.load(Ordering::Relaxed);
    run_detached(py, signals, wait)
}

/// Runs the blocking `wait` detached, not interruptible by signals even on the main thread
/// (a Condition's re-acquire of its lock, as CPython's `_acquire_restore`), but acting on the
/// deadlocks it finds in Python (reported through `threadkit.deadlock_hook`).
pub fn block_uninterruptible<R: Send>(
    py: Python<'_>,
    wait: impl FnOnce(&mut dyn Interrupt) -> Result<R, Interrupted> + Send,
) -> PyResult<R> {
    run_detached(py, false, wait)
}

fn run_detached<R: Send>(
    py: Python<'_>,
    signals: bool,
    wait: impl FnOnce(&mut dyn Interrupt) -> Result<R, Interrupted> + Send,
) -> PyResult<R> {
    let mut interrupt = PyInterrupt {
        signals,
        error: None,
    };
    match py.detach(|| wait(&mut interrupt)) {
        Ok(r) => Ok(r),
        Err(Interrupted) => Err(interrupt.error.take().unwrap_or_else(unreachable_interrupt)),
    }
}

fn unreachable_interrupt() -> PyErr {
    pyo3::exceptions::PySystemError::new_err("threadkit: wait interrupted without an exception")
}

/// The `blocking` argument of `threading`'s C-level acquires (`Lock`, `RLock`): an int on
/// 3.11, any object's truth from 3.12, as CPython parses it.
pub struct LockBlocking(pub bool);

impl<'a, 'py> FromPyObject<'a, 'py> for LockBlocking {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if py_minor() <= 11 {
            Ok(LockBlocking(index_of(&obj)? != 0.0))
        } else {
            Ok(LockBlocking(obj.is_truthy()?))
        }
    }
}

/// A `blocking` argument of `threading`'s Python-level acquires (`Semaphore`): any object's
/// truth, `None` included.
pub struct Truthy(pub bool);

impl<'a, 'py> FromPyObject<'a, 'py> for Truthy {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Truthy(obj.is_truthy()?))
    }
}

/// The `timeout` argument of `threading`'s C-level acquires, in seconds: `-1` (the default)
/// means forever; `None` is `TypeError`, as in CPython.
pub struct LockTimeout(pub f64);

impl LockTimeout {
    /// The default: wait forever.
    pub const FOREVER: LockTimeout = LockTimeout(-1.0);
}

impl<'a, 'py> FromPyObject<'a, 'py> for LockTimeout {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(LockTimeout(seconds_of(&obj)?))
    }
}

/// The deadline of a C-level acquire: other negative timeouts than `-1` are `ValueError`;
/// above `TIMEOUT_MAX` is `OverflowError`; `blocking=False` with a timeout is `ValueError`.
pub fn lock_deadline(blocking: bool, seconds: f64) -> PyResult<Deadline> {
    if !blocking {
        if seconds != -1.0 {
            return Err(PyValueError::new_err(
                "can't specify a timeout for a non-blocking call",
            ));
        }
        return Ok(Deadline::now());
    }
    if seconds == -1.0 {
        return Ok(Deadline::never());
    }
    if seconds < 0.0 {
        return Err(PyValueError::new_err(if py_minor() >= 13 {
            "timeout value must be a non-negative number"
        } else {
            "timeout value must be positive"
        }));
    }
    deadline_after(seconds)
}

/// The `timeout` of `threading`'s Python-level waits (`Event.wait`, `Condition.wait`,
/// `Semaphore.acquire`, `Barrier.wait`, `Queue.get`...): `None` means forever; a number is a
/// relative time, a negative one acting as zero, as those waits end up in `Lock.acquire(False)`.
pub fn wait_deadline(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Deadline> {
    match timeout {
        None => Ok(Deadline::never()),
        Some(t) if t.is_none() => Ok(Deadline::never()),
        Some(t) => {
            // `timeout > 0` is false for NaN: the stdlib then polls once without blocking.
            if t.cast::<PyFloat>().is_ok_and(|f| f.value().is_nan()) {
                return Ok(Deadline::now());
            }
            let seconds = seconds_of(t)?;
            if seconds <= 0.0 {
                Ok(Deadline::now())
            } else {
                deadline_after(seconds)
            }
        }
    }
}

/// A number of seconds: a float, or an integer (`__index__`), as CPython's
/// `_PyTime_FromSecondsObject`; the same errors.
pub fn seconds_of(t: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(f) = t.cast::<PyFloat>() {
        let seconds = f.value();
        if seconds.is_nan() {
            return Err(PyValueError::new_err("Invalid value NaN (not a number)"));
        }
        return Ok(seconds);
    }
    index_of(t)
}

/// An integer argument as CPython's `__index__`-based parsers take it, as f64.
fn index_of(t: &Bound<'_, PyAny>) -> PyResult<f64> {
    if t.cast::<PyInt>().is_err() && !t.hasattr(intern!(t.py(), "__index__"))? {
        return Err(PyTypeError::new_err(format!(
            "'{}' object cannot be interpreted as an integer",
            t.get_type().name()?
        )));
    }
    let i = t.call_method0(intern!(t.py(), "__index__"))?;
    i.extract::<f64>()
}

fn deadline_after(seconds: f64) -> PyResult<Deadline> {
    if seconds > timeout_max() {
        return Err(PyOverflowError::new_err(
            "timestamp out of range for platform time_t",
        ));
    }
    Ok(Duration::try_from_secs_f64(seconds)
        .map(Deadline::after)
        .unwrap_or(Deadline::never()))
}
