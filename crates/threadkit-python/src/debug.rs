//! The Python face of [`threadkit::debug`]: the deadlock action, deadlocks acted on in Python,
//! snapshots and contention counters as plain Python data.
//!
//! What Python builds from this data (thread names from the standard library's registry,
//! Python stacks, the report's text, the dump) is in `python/threadkit/debug.py`; the bindings
//! only convert the core's values and call that module.
//!
//! A deadlock found by a wait from Python reaches [`on_deadlock`] through the interrupt of
//! `blocking.rs`, in the thread whose wait found it, detached and with no internal lock held.
//! It attaches, asks `threadkit.debug._deadlock_found` for the Python report, then:
//!
//! - for a report that does not raise, calls the hook `threadkit.debug._current_hook()` names
//!   (`threadkit.deadlock_hook`, settable like `threading.excepthook`); an exception from the
//!   hook is printed as `sys.unraisablehook` prints them and the wait goes on, except a
//!   `BaseException` that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`), which
//!   ends the wait as a signal handler's would;
//! - for a report that raises, returns the `threadkit.DeadlockError` to raise: the wait gives
//!   up, having changed nothing.
//!
//! If threadkit's own Python code fails (it should not), the failure is printed as unraisable
//! and the core's text is used: written to stderr, or raised as `DeadlockError` (or
//! `RuntimeError` if even that class cannot be found).

use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use threadkit::debug::{
    self, AllAsleepReport, Captured, ContentionRow, CycleThread, DeadlockAction, DeadlockReport,
    Label, PotentialDeadlockReport, Stack, StackFrame, ThreadSnapshot, WaitKind, WaitSnapshot,
};

/// Acts on `report` in Python (see the module documentation). `Err` is the exception that ends
/// the wait: `DeadlockError`, or a `KeyboardInterrupt` the hook let through.
pub fn on_deadlock(report: &DeadlockReport) -> Result<(), PyErr> {
    Python::attach(|py| {
        act_in_python(
            py,
            report.raises(),
            "_deadlock_found",
            |py| report_data(py, report),
            ("DeadlockError", report),
            || debug::default_deadlock_hook(report),
        )
    })
}

/// A lock-order cycle found by an `acquire()` from Python (debug mode): like [`on_deadlock`],
/// through `threadkit.debug._potential_deadlock_found` and the same hook; `Err` is
/// `PotentialDeadlockError` (the acquisition gives up) or what the hook let through.
pub fn on_potential_deadlock(report: &PotentialDeadlockReport) -> Result<(), PyErr> {
    Python::attach(|py| {
        act_in_python(
            py,
            report.raises(),
            "_potential_deadlock_found",
            |py| order_data(py, report),
            ("PotentialDeadlockError", report),
            || {
                let _ = debug::default_on_potential_deadlock(report);
            },
        )
    })
}

/// What both kinds of report do in Python: `threadkit.debug.<found>(data)` makes the Python
/// report, or the error to raise if `raises`; a report goes to the hook ([`call_hook`]). If
/// threadkit's own Python code fails, the failure is printed as unraisable and the core's text
/// is used: raised as `threadkit.debug.<class>` (`RuntimeError` if even that fails), or written
/// to stderr by `fallback`.
fn act_in_python<'py>(
    py: Python<'py>,
    raises: bool,
    found: &str,
    data: impl FnOnce(Python<'py>) -> PyResult<Bound<'py, PyDict>>,
    (error_class, text): (&str, &dyn std::fmt::Display),
    fallback: impl FnOnce(),
) -> Result<(), PyErr> {
    let delivered = (|| -> PyResult<Option<PyErr>> {
        let module = py.import("threadkit.debug")?;
        let made = module.getattr(found)?.call1((data(py)?,))?;
        if raises {
            return Ok(Some(PyErr::from_value(made)));
        }
        call_hook(py, &module, made)
    })();
    match delivered {
        Ok(None) => Ok(()),
        Ok(Some(err)) => Err(err),
        Err(e) if !e.is_instance_of::<PyException>(py) => Err(e),
        Err(e) => {
            e.write_unraisable(py, None);
            if raises {
                Err(fallback_error(py, error_class, text.to_string()))
            } else {
                fallback();
                Ok(())
            }
        }
    }
}

/// Every thread asleep (debug mode), delivered to this waiting thread: the Python report goes
/// to the hook; the wait goes on whatever happens.
pub fn on_all_asleep(report: &AllAsleepReport) {
    if debug::deadlock_action() == DeadlockAction::Ignore {
        return;
    }
    Python::attach(|py| {
        let delivered = (|| -> PyResult<Option<PyErr>> {
            let module = py.import("threadkit.debug")?;
            let found = module
                .getattr("_all_asleep_found")?
                .call1((report.to_string(),))?;
            call_hook(py, &module, found)
        })();
        if let Err(e) | Ok(Some(e)) = delivered {
            e.write_unraisable(py, None);
        }
    })
}

/// Calls `threadkit.debug._current_hook()(found)`: an `Exception` from it is printed as
/// unraisable, a `BaseException` returned to end the wait.
fn call_hook(
    py: Python<'_>,
    module: &Bound<'_, PyModule>,
    found: Bound<'_, PyAny>,
) -> PyResult<Option<PyErr>> {
    let hook = module.getattr("_current_hook")?.call0()?;
    if let Err(e) = hook.call1((found,)) {
        if !e.is_instance_of::<PyException>(py) {
            return Ok(Some(e));
        }
        e.write_unraisable(py, Some(&hook));
    }
    Ok(None)
}

fn stack_data<'py>(py: Python<'py>, stack: Option<&Stack>) -> PyResult<Bound<'py, PyAny>> {
    let Some(stack) = stack else {
        return Ok(py.None().into_bound(py));
    };
    let frames = PyList::empty(py);
    for f in stack.frames() {
        let d = PyDict::new(py);
        d.set_item("file", &*f.file)?;
        d.set_item("line", f.line)?;
        d.set_item("function", &*f.function)?;
        frames.append(d)?;
    }
    Ok(frames.into_any())
}

fn order_data<'py>(
    py: Python<'py>,
    report: &PotentialDeadlockReport,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let edges = PyList::empty(py);
    for e in report.edges() {
        let ed = PyDict::new(py);
        ed.set_item("thread", e.thread)?;
        ed.set_item("thread_name", e.thread_name.as_deref())?;
        let held = PyDict::new(py);
        label_into(&held, e.held_kind, &e.held)?;
        ed.set_item("held", held)?;
        let acquired = PyDict::new(py);
        label_into(&acquired, e.acquired_kind, &e.acquired)?;
        ed.set_item("acquired", acquired)?;
        ed.set_item("held_stack", stack_data(py, e.held_stack.as_ref())?)?;
        ed.set_item("acquired_stack", stack_data(py, e.acquired_stack.as_ref())?)?;
        edges.append(ed)?;
    }
    d.set_item("edges", edges)?;
    d.set_item("scenario", report.scenario())?;
    d.set_item("raises", report.raises())?;
    d.set_item("text", report.to_string())?;
    Ok(d)
}

/// Debug mode's stack capture: the Python stack and `threading.current_thread().name`, from
/// `threadkit.debug._capture` (the thread is a Python thread inside an `acquire()`).
fn capture_python() -> Option<Captured> {
    if threadkit::raw::is_shutting_down() {
        return None;
    }
    Python::attach(|py| {
        let got = (|| -> PyResult<Captured> {
            let (name, frames): (Option<String>, Vec<(String, u32, String)>) = py
                .import("threadkit.debug")?
                .getattr("_capture")?
                .call0()?
                .extract()?;
            Ok(Captured {
                thread_name: name,
                stack: Stack::new(
                    frames
                        .into_iter()
                        .map(|(file, line, function)| StackFrame::new(file, line, function))
                        .collect(),
                ),
            })
        })();
        got.ok()
    })
}

/// `threadkit.debug.enable()`.
#[pyfunction]
pub fn _enable_debug(py: Python<'_>) {
    py.detach(debug::enable);
}

/// `threadkit.debug.disable()`.
#[pyfunction]
pub fn _disable_debug() {
    debug::disable();
}

/// `threadkit.debug.is_enabled()`.
#[pyfunction]
pub fn _debug_enabled() -> bool {
    debug::is_enabled()
}

/// `threadkit.debug.allow(first, second)` with two labels or names.
#[pyfunction]
pub fn _allow(first: &Bound<'_, PyAny>, second: &Bound<'_, PyAny>) -> PyResult<()> {
    let (a, b) = (class_label(first)?, class_label(second)?);
    debug::allow(&a, &b);
    Ok(())
}

fn class_label(obj: &Bound<'_, PyAny>) -> PyResult<Label> {
    if let Ok(name) = obj.extract::<String>() {
        return Ok(Label::new(
            Some(name.into()),
            debug::Site::intern("<name>", 0),
        ));
    }
    if let Ok(lock) = obj.cast::<crate::lock::PyLock>() {
        return Ok(lock.get().inner.label().clone());
    }
    if let Ok(rlock) = obj.cast::<crate::rlock::PyRLock>() {
        return Ok(rlock.get().inner.label().clone());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "allow() takes threadkit Locks, RLocks or lock names (str), not '{}'",
        obj.get_type().name()?
    )))
}

/// `threadkit.debug.reset_lock_order()`: forget recorded orders (for tests).
#[pyfunction]
pub fn reset_lock_order() {
    debug::reset_lock_order();
}

/// `threadkit.debug.<class>(text)`, when the Python report could not be built.
fn fallback_error(py: Python<'_>, class: &str, text: String) -> PyErr {
    let made = py
        .import("threadkit.debug")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1((text.clone(),)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(_) => PyRuntimeError::new_err(text),
    }
}

fn label_into(d: &Bound<'_, PyDict>, kind: WaitKind, label: &Label) -> PyResult<()> {
    d.set_item("kind", kind.to_string())?;
    d.set_item("primitive", kind.primitive())?;
    d.set_item("operation", kind.operation())?;
    d.set_item("name", label.name())?;
    d.set_item("site", label.site().to_string())?;
    Ok(())
}

fn cycle_thread<'py>(py: Python<'py>, t: &CycleThread) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("ident", t.ident)?;
    d.set_item("name", t.name.as_deref())?;
    let target = PyDict::new(py);
    label_into(&target, t.kind, &t.label)?;
    d.set_item("waits_for", target)?;
    d.set_item("held_by", PyList::new(py, &t.held_by)?)?;
    d.set_item("waited", t.waited.as_secs_f64())?;
    d.set_item("reacquire", t.reacquire)?;
    d.set_item("acquired_at", t.acquired_at.as_ref().map(frame_site))?;
    Ok(d)
}

/// `file:line` of a frame, as reports show where a lock was acquired.
fn frame_site(f: &StackFrame) -> String {
    format!("{}:{}", f.file, f.line)
}

/// A report as a dict: `threads` (each `ident`, `name`, `waits_for` (`kind`, `primitive`,
/// `operation`, `name`, `site`), `held_by`, `waited` seconds, `reacquire`, `acquired_at`
/// (`file:line` or `None`); the closer first, then the rest of the cycle in order, then
/// threads stuck behind it), `cycle` (how many of them form the cycle), `raises`, `text` (the
/// core's text, without Python names and stacks).
fn report_data<'py>(py: Python<'py>, report: &DeadlockReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let threads = PyList::empty(py);
    for t in report.threads() {
        threads.append(cycle_thread(py, t)?)?;
    }
    d.set_item("threads", threads)?;
    d.set_item("cycle", report.cycle().len())?;
    d.set_item("raises", report.raises())?;
    d.set_item("text", report.to_string())?;
    Ok(d)
}

fn wait_data<'py>(py: Python<'py>, w: &WaitSnapshot) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    label_into(&d, w.kind, &w.label)?;
    d.set_item("held_by", PyList::new(py, &w.held_by)?)?;
    d.set_item("waited", w.waited.as_secs_f64())?;
    d.set_item("timed", w.timed)?;
    d.set_item("reacquire", w.reacquire)?;
    Ok(d)
}

fn thread_data<'py>(py: Python<'py>, t: &ThreadSnapshot) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("ident", t.ident)?;
    d.set_item("name", t.name.as_deref())?;
    d.set_item("daemon", t.daemon)?;
    match &t.waiting {
        Some(w) => d.set_item("waiting", wait_data(py, w)?)?,
        None => d.set_item("waiting", py.None())?,
    }
    let holds = PyList::empty(py);
    for h in &t.holds {
        let hd = PyDict::new(py);
        label_into(&hd, h.kind, &h.label)?;
        hd.set_item("acquired_at", h.acquired_at.as_ref().map(frame_site))?;
        holds.append(hd)?;
    }
    d.set_item("holds", holds)?;
    Ok(d)
}

/// The core's snapshot as plain data: `{"threads": [...], "deadlocks": [...]}`. Each thread:
/// `ident`, `name` (the core's: its registry's or the OS thread's), `daemon` (`None` if the
/// core's registry does not know the thread), `waiting` (`None`, or `kind`, `primitive`,
/// `operation`, `name`, `site`, `held_by`, `waited` seconds, `timed`, `reacquire`), `holds`
/// (what others wait for and it holds, and in debug mode every lock its wait published:
/// `kind`, `primitive`, `operation`, `name`, `site`, `acquired_at`).
/// Deadlocks are dicts as handed to `_deadlock_found`.
#[pyfunction]
pub fn _snapshot(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let snap = py.detach(debug::snapshot);
    let d = PyDict::new(py);
    let threads = PyList::empty(py);
    for t in &snap.threads {
        threads.append(thread_data(py, t)?)?;
    }
    d.set_item("threads", threads)?;
    let deadlocks = PyList::empty(py);
    for r in &snap.deadlocks {
        deadlocks.append(report_data(py, r)?)?;
    }
    d.set_item("deadlocks", deadlocks)?;
    Ok(d)
}

fn row_data<'py>(py: Python<'py>, r: &ContentionRow) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kind", r.kind)?;
    d.set_item("name", r.label.name())?;
    d.set_item("site", r.label.site().to_string())?;
    d.set_item("contended", r.contended)?;
    d.set_item("total_wait", r.total_wait.as_secs_f64())?;
    d.set_item("max_wait", r.max_wait.as_secs_f64())?;
    d.set_item("waiters", r.waiters)?;
    Ok(d)
}

/// Contention counters, longest total wait first: dicts `kind`, `name`, `site`, `contended`,
/// `total_wait` and `max_wait` (seconds), `waiters`.
#[pyfunction]
pub fn _contention(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let rows = py.detach(debug::contention);
    let list = PyList::empty(py);
    for r in &rows {
        list.append(row_data(py, r)?)?;
    }
    Ok(list)
}

/// Sets every contention counter back to zero.
#[pyfunction]
pub fn reset_contention(py: Python<'_>) {
    py.detach(debug::reset_contention);
}

/// Sets the process's deadlock action: `"report"`, `"raise"` or `"ignore"` (ASCII case and
/// surrounding blanks ignored); anything else is `ValueError`.
#[pyfunction]
pub fn set_deadlock_action(action: &Bound<'_, PyAny>) -> PyResult<()> {
    let text: String = action.extract().map_err(|_| {
        PyValueError::new_err(format!(
            "deadlock action must be 'report', 'raise' or 'ignore', not {}",
            action
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_else(|_| "?".into())
        ))
    })?;
    let parsed: DeadlockAction = text
        .parse()
        .map_err(|e: debug::ParseDeadlockActionError| PyValueError::new_err(e.to_string()))?;
    debug::set_deadlock_action(parsed);
    Ok(())
}

/// The process's deadlock action: `"report"`, `"raise"` or `"ignore"` (at first the value of
/// the environment variable `THREADKIT_DEADLOCK`, else `"report"`).
#[pyfunction]
pub fn get_deadlock_action() -> &'static str {
    debug::deadlock_action().as_str()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(_contention, m)?)?;
    m.add_function(wrap_pyfunction!(reset_contention, m)?)?;
    m.add_function(wrap_pyfunction!(set_deadlock_action, m)?)?;
    m.add_function(wrap_pyfunction!(get_deadlock_action, m)?)?;
    m.add_function(wrap_pyfunction!(_enable_debug, m)?)?;
    m.add_function(wrap_pyfunction!(_disable_debug, m)?)?;
    m.add_function(wrap_pyfunction!(_debug_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_allow, m)?)?;
    m.add_function(wrap_pyfunction!(reset_lock_order, m)?)?;
    m.add("ACQUIRED_AT_UNKNOWN", debug::ACQUIRED_AT_UNKNOWN)?;
    m.add(
        "ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE",
        debug::ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE,
    )?;
    debug::set_stack_capture(Some(capture_python));
    Ok(())
}
