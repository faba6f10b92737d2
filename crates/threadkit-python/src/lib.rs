//! `threadkit._core`: the PyO3 bindings of the threadkit crate.
//!
//! Thin by design: argument parsing and validation as CPython's, GIL release around waits, and
//! Ctrl-C handling ([`blocking`]). The state and the waiting are the Rust core's; user Python
//! code is never called from here (ARCHITECTURE.md rule 1), except the object protocols rule 1
//! allows on a Python thread inside a method call: `PriorityQueue` compares its items with `<`
//! (`heap.rs`), attached and holding no internal lock.
//!
//! Names follow the core: a class is named after the core type it wraps (`_core.Thread` over
//! `threadkit::Thread`, `_core.Future` over `threadkit::Future`); `_core.ThreadPool` is the
//! state of a `ThreadPoolExecutor` whose workers Python starts. A class's `module`: a class
//! that a Python class subclasses says `threadkit._core` (`Condition`, `Barrier`, `Queue`,
//! `Future`), so that an MRO shows `threadkit.queue.Queue` then `threadkit._core.Queue`; a
//! class the package exports as it is says the public module its repr shows (`threadkit.Lock`,
//! `threadkit.queue.SimpleQueue`).

use pyo3::prelude::*;

mod barrier;
mod blocking;
mod condition;
mod debug;
mod event;
mod futures;
mod heap;
mod lock;
mod queue;
mod rlock;
mod semaphore;
mod site;
mod thread;

/// The extension module `threadkit._core`.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let thread = py.import("_thread")?;
    let timeout_max: f64 = thread.getattr("TIMEOUT_MAX")?.extract()?;
    let main_ident: u64 = py
        .import("threading")?
        .call_method0("main_thread")?
        .getattr("ident")?
        .extract()?;
    let py_minor: u64 = py
        .import("sys")?
        .getattr("version_info")?
        .get_item(1)?
        .extract()?;
    blocking::init(timeout_max, main_ident, py_minor);
    m.add_function(wrap_pyfunction!(blocking::_set_main_thread_ident, m)?)?;
    m.add_class::<site::PyLabel>()?;
    m.add_function(wrap_pyfunction!(site::_check_name, m)?)?;
    m.add_class::<lock::PyLock>()?;
    m.add_class::<rlock::PyRLock>()?;
    m.add_class::<condition::PyCondition>()?;
    m.add_class::<condition::PyWaitTicket>()?;
    m.add_class::<semaphore::PySemaphore>()?;
    m.add_class::<semaphore::PyBoundedSemaphore>()?;
    m.add_class::<event::PyEvent>()?;
    m.add_class::<barrier::PyBarrier>()?;
    m.add_class::<queue::PyQueue>()?;
    queue::install_queue_fast_paths(&py.get_type::<queue::PyQueue>())?;
    m.add_class::<queue::PySimpleQueue>()?;
    queue::install_simple_queue_fast_paths(&py.get_type::<queue::PySimpleQueue>())?;
    queue::init_shutdown(py, m)?;
    m.add_class::<thread::PyThread>()?;
    m.add_function(wrap_pyfunction!(thread::get_ident, m)?)?;
    m.add_function(wrap_pyfunction!(thread::get_native_id, m)?)?;
    m.add_function(wrap_pyfunction!(thread::_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(thread::_registry_count, m)?)?;
    m.add_function(wrap_pyfunction!(thread::_begin_interpreter_shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(thread::_interpreter_shutting_down, m)?)?;
    m.add_class::<futures::PyFuture>()?;
    m.add_class::<futures::PyThreadPool>()?;
    futures::add_protocol(m)?;
    m.add_function(wrap_pyfunction!(futures::_futures_before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(futures::_futures_after_fork, m)?)?;
    debug::register(m)?;
    Ok(())
}
