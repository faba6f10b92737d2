//! `threadkit.queue.Queue`, `LifoQueue` and `SimpleQueue` over [`threadkit::Queue`] and
//! [`threadkit::SimpleQueue`], holding the items in Rust.
//!
//! A subclass that overrides the storage hooks (`_init`, `_qsize`, `_put`, `_get`), and
//! `PriorityQueue` (whose ordering calls the items' `__lt__`), run CPython's algorithm in Python
//! frames instead (`threadkit/queue.py`): Rust never calls user code (ARCHITECTURE.md rule 1).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::OnceLock;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString, PyType};
use threadkit::raw::QueueExt;
use threadkit::{Deadline, GetError, Interrupt, Interrupted, Lifo, PutError, TaskDoneError};

use crate::blocking::{block as block_fn, seconds_of, timeout_max, Truthy};
use crate::lock::type_path;
use crate::site::{self, PyLabel};

pyo3::import_exception!(queue, Empty);
pyo3::import_exception!(queue, Full);

/// The `ShutDown` exception class: the standard library's from 3.13, threadkit's own before.
static SHUTDOWN: OnceLock<Py<PyType>> = OnceLock::new();

pub fn init_shutdown(py: Python<'_>, m: &Bound<'_, PyModule>) -> PyResult<()> {
    let std_queue = py.import("queue")?;
    let class = match std_queue.getattr("ShutDown") {
        Ok(c) => c.cast_into::<PyType>()?,
        Err(_) => {
            let doc = c"Raised when put/get with shut-down queue.";
            let t = PyErr::new_type(
                py,
                c"threadkit.queue.ShutDown",
                Some(doc),
                Some(&py.get_type::<pyo3::exceptions::PyException>()),
                None,
            )?;
            t.into_bound(py)
        }
    };
    m.add("ShutDown", &class)?;
    let _ = SHUTDOWN.set(class.unbind());
    Ok(())
}

fn shut_down(py: Python<'_>) -> PyErr {
    let class = SHUTDOWN.get().expect("threadkit._core initialised");
    PyErr::from_type(class.bind(py).clone(), ())
}

/// A queue timeout as CPython's `queue.py` reads it: `None` is forever; a number compared with
/// 0 (so a non-number is the `TypeError` of `<`); negative is `ValueError`. `Ok(None)` forever.
fn queue_timeout(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
    let Some(t) = timeout else { return Ok(None) };
    if t.is_none() {
        return Ok(None);
    }
    let seconds = if let Ok(f) = t.cast::<PyFloat>() {
        f.value()
    } else if t.cast::<PyInt>().is_ok() {
        t.extract::<f64>()?
    } else {
        return Err(PyTypeError::new_err(format!(
            "'<' not supported between instances of '{}' and 'int'",
            t.get_type().name()?
        )));
    };
    if seconds < 0.0 {
        return Err(PyValueError::new_err(
            "'timeout' must be a non-negative number",
        ));
    }
    Ok(Some(seconds))
}

/// The deadline of a wait of `seconds` (None: forever). NaN never blocks (the standard library
/// would spin on it). Beyond `TIMEOUT_MAX`, the `OverflowError` the standard library's wait
/// raises.
fn deadline_of(seconds: Option<f64>) -> PyResult<Deadline> {
    match seconds {
        None => Ok(Deadline::never()),
        Some(s) if s.is_nan() || s <= 0.0 => Ok(Deadline::now()),
        Some(s) if s > timeout_max() => Err(pyo3::exceptions::PyOverflowError::new_err(
            "timestamp out of range for platform time_t",
        )),
        Some(s) => Ok(std::time::Duration::try_from_secs_f64(s)
            .map(Deadline::after)
            .unwrap_or(Deadline::never())),
    }
}

type Item = Py<PyAny>;

enum Store {
    Fifo(threadkit::Queue<Item>),
    Lifo(threadkit::Queue<Item, Lifo>),
}

macro_rules! each {
    ($store:expr, $q:ident => $e:expr) => {
        match $store {
            Store::Fifo($q) => $e,
            Store::Lifo($q) => $e,
        }
    };
}

impl Store {
    fn put_interruptible(
        &self,
        item: Item,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<(), PutError<Item>> {
        each!(self, q => q.put_interruptible(item, deadline, interrupt))
    }

    /// A get that had to block: the item stays counted in `qsize()` until [`Store::landed`].
    fn get_in_flight(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<Item, GetError> {
        each!(self, q => q.get_in_flight(deadline, interrupt))
    }

    fn landed(&self) {
        each!(self, q => q.landed())
    }
}

/// A FIFO or LIFO queue of Python objects with task tracking and shutdown, as `queue.Queue`.
#[pyclass(module = "threadkit._core", name = "Queue", frozen, weakref, subclass)]
pub struct PyQueue {
    store: Store,
    /// `maxsize` as given (the standard library keeps a negative one as it is).
    maxsize: AtomicI64,
    /// The instance now keeps its items in Python (`_to_python_storage`): every method here
    /// hands the call to the instance's Python method of the same name.
    moved: AtomicBool,
}

/// What a method of a queue whose items moved to Python does: the call made again by name,
/// which now finds the Python algorithm (threadkit/queue.py `_use_python_storage`). A bound
/// method taken before the move, or a call blocked in Rust at the move, ends up there.
macro_rules! if_moved {
    // A method returning None.
    ($slf:expr, $name:literal, $args:expr, ()) => {
        if $slf.get().moved.load(Ordering::Relaxed) {
            return $slf.call_method1($name, $args).map(|_| ());
        }
    };
    // A method returning an item.
    ($slf:expr, $name:literal, $args:expr, item) => {
        if $slf.get().moved.load(Ordering::Relaxed) {
            return $slf.call_method1($name, $args).map(Bound::unbind);
        }
    };
    ($slf:expr, $name:literal, $args:expr) => {
        if $slf.get().moved.load(Ordering::Relaxed) {
            return $slf.call_method1($name, $args)?.extract();
        }
    };
}

/// The time left before `deadline` as the `timeout` argument of a call made again: None for
/// never (or for a call that did not block).
fn timeout_left(deadline: Deadline) -> Option<f64> {
    deadline.remaining().map(|d| d.as_secs_f64())
}

fn put_error(py: Python<'_>, e: PutError<Item>) -> Result<PyErr, Interrupted> {
    match e {
        PutError::Full(_) => Ok(Full::new_err(())),
        PutError::ShutDown(_) => Ok(shut_down(py)),
        PutError::Interrupted(_) => Err(Interrupted),
    }
}

fn get_error(py: Python<'_>, e: GetError) -> Result<PyErr, Interrupted> {
    match e {
        GetError::Empty => Ok(Empty::new_err(())),
        GetError::ShutDown => Ok(shut_down(py)),
        GetError::Interrupted => Err(Interrupted),
    }
}

#[pymethods]
impl PyQueue {
    #[new]
    #[pyo3(signature = (*args, _lifo=false, **kwargs))]
    fn new(
        py: Python<'_>,
        args: &Bound<'_, pyo3::types::PyTuple>,
        _lifo: bool,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Self> {
        // A `str` name names the queue; the Python classes' `__init__` checks the type (a
        // subclass may mean something else by `name`).
        let name = match kwargs {
            Some(k) => site::lenient_name(k.get_item("name")?.as_ref()),
            None => None,
        };
        let label = site::label(py, name, None)?;
        // A subclass's constructor may take other arguments: only an int `maxsize` counts here.
        let maxsize = match args.get_item(0) {
            Ok(m) => m.extract::<i64>().unwrap_or(0),
            Err(_) => match kwargs.map(|k| k.get_item("maxsize")).transpose()?.flatten() {
                Some(m) => m.extract::<i64>().unwrap_or(0),
                None => 0,
            },
        };
        let bound = maxsize.max(0) as usize;
        Ok(PyQueue {
            store: if _lifo {
                Store::Lifo(threadkit::Queue::lifo(bound).with_label(label))
            } else {
                Store::Fifo(threadkit::Queue::new(bound).with_label(label))
            },
            maxsize: AtomicI64::new(maxsize),
            moved: AtomicBool::new(false),
        })
    }

    /// Accepts `Queue.__init__(maxsize)` again from a subclass's `super().__init__(...)`.
    #[pyo3(signature = (*_args, **_kwargs))]
    fn __init__(&self, _args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) {}

    /// Put `item` into the queue, blocking while it is full (unless `block` is false), at most
    /// `timeout` seconds if given. Raises `queue.Full`, or `ShutDown` after `shutdown()`.
    #[pyo3(
        signature = (item, block=Truthy(true), timeout=None),
        text_signature = "($self, item, block=True, timeout=None)"
    )]
    fn put(
        slf: &Bound<'_, Self>,
        item: Item,
        block: Truthy,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if_moved!(slf, "put", (item, block.0, timeout), ());
        let (this, py) = (slf.get(), slf.py());
        let bounded = each!(&this.store, q => q.maxsize()) > 0;
        if each!(&this.store, q => q.is_shutdown()) {
            return Err(shut_down(py));
        }
        let deadline = if !block.0 {
            Deadline::now()
        } else if bounded {
            // Checked even when there is room, as CPython does.
            deadline_of(queue_timeout(timeout)?)?
        } else {
            Deadline::never()
        };
        let item = match each!(&this.store, q => q.try_put(item)) {
            Ok(()) => return Ok(()),
            Err(PutError::Full(item)) if !deadline.has_passed() => item,
            Err(PutError::ShutDown(item)) if this.moved.load(Ordering::Relaxed) => {
                return slf
                    .call_method1("put", (item, block.0, timeout))
                    .map(|_| ());
            }
            Err(e) => return Err(put_error(py, e).unwrap_or_else(|_| unreachable!())),
        };
        let store = &this.store;
        match block_put(py, |i| store.put_interruptible(item, deadline, i))? {
            Ok(()) => Ok(()),
            // Blocked while the items moved to Python: put there, in the time left.
            Err(PutError::ShutDown(item)) if this.moved.load(Ordering::Relaxed) => slf
                .call_method1("put", (item, true, timeout_left(deadline)))
                .map(|_| ()),
            Err(e) => Err(put_error(py, e).unwrap_or_else(|_| unreachable!())),
        }
    }

    /// Remove and return an item, blocking while the queue is empty (unless `block` is
    /// false), at most `timeout` seconds if given. Raises `queue.Empty`, or `ShutDown` once a
    /// shut-down queue is empty.
    #[pyo3(
        signature = (block=Truthy(true), timeout=None),
        text_signature = "($self, block=True, timeout=None)"
    )]
    fn get(
        slf: &Bound<'_, Self>,
        block: Truthy,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item> {
        if_moved!(slf, "get", (block.0, timeout), item);
        let (this, py) = (slf.get(), slf.py());
        let deadline = if block.0 {
            if timeout.is_some() && each!(&this.store, q => q.is_shutdown() && q.empty()) {
                return Err(shut_down(py));
            }
            deadline_of(queue_timeout(timeout)?)?
        } else {
            Deadline::now()
        };
        match each!(&this.store, q => q.try_get()) {
            Ok(item) => return Ok(item),
            Err(GetError::Empty) if !deadline.has_passed() => {}
            Err(GetError::ShutDown) if this.moved.load(Ordering::Relaxed) => {
                return slf
                    .call_method1("get", (block.0, timeout))
                    .map(Bound::unbind);
            }
            Err(e) => return Err(get_error(py, e).unwrap_or_else(|_| unreachable!())),
        }
        // The item a blocked get takes stays counted in qsize()/empty() until this thread is
        // back in Python, as in the standard library, where the getter takes it itself once it
        // runs again (code that samples qsize() next to its workers' state relies on it).
        let store = &this.store;
        let r = block_fn(py, |i| match store.get_in_flight(deadline, i) {
            Err(GetError::Interrupted) => Err(Interrupted),
            r => Ok(r),
        })?;
        match r {
            Ok(item) => {
                store.landed();
                Ok(item)
            }
            // Blocked while the items moved to Python: get there, in the time left.
            Err(GetError::ShutDown) if this.moved.load(Ordering::Relaxed) => slf
                .call_method1("get", (true, timeout_left(deadline)))
                .map(Bound::unbind),
            Err(e) => Err(get_error(py, e).unwrap_or_else(|_| unreachable!())),
        }
    }

    /// The approximate number of items.
    fn qsize(slf: &Bound<'_, Self>) -> PyResult<usize> {
        if_moved!(slf, "qsize", ());
        Ok(each!(&slf.get().store, q => q.qsize()))
    }

    /// Whether the queue is empty (approximately, as in the standard library).
    fn empty(slf: &Bound<'_, Self>) -> PyResult<bool> {
        if_moved!(slf, "empty", ());
        Ok(each!(&slf.get().store, q => q.empty()))
    }

    /// Whether the queue is full (approximately, as in the standard library).
    fn full(slf: &Bound<'_, Self>) -> PyResult<bool> {
        if_moved!(slf, "full", ());
        Ok(each!(&slf.get().store, q => q.full()))
    }

    /// The bound given at construction (0: unbounded).
    #[getter]
    fn maxsize(&self) -> i64 {
        self.maxsize.load(Ordering::Relaxed)
    }

    /// Change the bound, as assigning `queue.maxsize` does; blocked putters re-check for room.
    #[setter]
    fn set_maxsize(&self, maxsize: i64) {
        self.maxsize.store(maxsize, Ordering::Relaxed);
        each!(&self.store, q => q.set_maxsize(maxsize.max(0) as usize));
    }

    /// Items put and not yet marked done with `task_done()`.
    #[getter]
    fn unfinished_tasks(&self) -> usize {
        each!(&self.store, q => q.unfinished_tasks())
    }

    /// Whether `shutdown()` was called.
    #[getter]
    fn is_shutdown(&self) -> bool {
        each!(&self.store, q => q.is_shutdown())
    }

    /// Mark one item taken with `get()` as processed. Raises `ValueError` if called more
    /// times than items were put.
    fn task_done(slf: &Bound<'_, Self>) -> PyResult<()> {
        if_moved!(slf, "task_done", (), ());
        each!(&slf.get().store, q => q.task_done())
            .map_err(|e: TaskDoneError| PyValueError::new_err(e.to_string()))
    }

    /// Block until every item put has been marked done.
    fn join(slf: &Bound<'_, Self>) -> PyResult<()> {
        if_moved!(slf, "join", (), ());
        let this = slf.get();
        let store = &this.store;
        block_fn(slf.py(), |i| {
            each!(store, q => q.join_interruptible(Deadline::never(), i)).map(|_| ())
        })?;
        if this.moved.load(Ordering::Relaxed) {
            // Woken by the move to Python (it marks the Rust side's tasks done): wait there.
            slf.call_method0("join")?;
        }
        Ok(())
    }

    /// Shut the queue down: puts raise `ShutDown`; gets raise it once the queue is empty.
    /// With `immediate`, the queue is emptied at once (each removed item counts as done) and
    /// every blocked caller is woken.
    #[pyo3(signature = (immediate=false))]
    fn shutdown(slf: &Bound<'_, Self>, immediate: bool) -> PyResult<()> {
        if_moved!(slf, "shutdown", (immediate,), ());
        let store = &slf.get().store;
        // Items dropped here are released when the GIL is next held.
        slf.py().detach(|| each!(store, q => q.shutdown(immediate)));
        Ok(())
    }

    /// Gives up the Rust storage, for an instance that switches to the Python algorithm
    /// (threadkit/queue.py `_use_python_storage`, when code touches `mutex`, `queue`...):
    /// from now on every method here calls the instance's Python method of the same name,
    /// and every call blocked here wakes up and goes there. Returns the items (oldest put
    /// first), the unfinished task count and whether `shutdown()` was called. Called once,
    /// with the Python side's `mutex` held, so that nothing runs there before the items are in.
    fn _to_python_storage(&self) -> (Vec<Item>, usize, bool) {
        self.moved.store(true, Ordering::Relaxed);
        let was_shut_down = each!(&self.store, q => q.is_shutdown());
        // Shut down: blocked gets and puts wake with `ShutDown` and see `moved`; a put racing
        // with this (free-threaded) either lands before the drain or fails after it.
        each!(&self.store, q => q.shutdown(false));
        let mut items = Vec::new();
        while let Ok(item) = each!(&self.store, q => q.try_get()) {
            items.push(item);
        }
        if matches!(self.store, Store::Lifo(_)) {
            items.reverse(); // taken newest first
        }
        // Marking the tasks done wakes blocked joins, which see `moved` too.
        let unfinished = each!(&self.store, q => q.unfinished_tasks());
        for _ in 0..unfinished {
            let _ = each!(&self.store, q => q.task_done());
        }
        (items, unfinished, was_shut_down)
    }

    /// Reset the queue's internal lock in a child process after `fork()`.
    fn _at_fork_reinit(&self) {
        each!(&self.store, q => q.reinit_after_fork());
    }

    /// The queue's name (or None) and creation site; a queue that runs the Python-level
    /// algorithm gives it to its lock and conditions.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(each!(&self.store, q => q.label()))
    }

    /// `<threadkit.queue.Queue object name='jobs' at 0x...>` (`site='app.py:12'` if unnamed):
    /// the standard library's default repr, with the name or site.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_object(slf.as_any(), each!(&slf.get().store, q => q.label()))
    }
}

/// `<TYPE object LABEL at ADDR>`: the default object repr with the name or site.
fn repr_object(slf: &Bound<'_, PyAny>, label: &threadkit::debug::Label) -> PyResult<String> {
    Ok(format!(
        "<{} object {} at {:#x}>",
        type_path(&slf.get_type())?,
        site::repr_label(slf.py(), label)?,
        slf.as_ptr() as usize
    ))
}

/// Runs a blocking put whose error hands the item back: an interruption is taken out of the
/// error so that `block` turns it into the signal handler's exception.
fn block_put(
    py: Python<'_>,
    put: impl FnOnce(&mut dyn Interrupt) -> Result<(), PutError<Item>> + Send,
) -> PyResult<Result<(), PutError<Item>>> {
    block_fn(py, |i| match put(i) {
        Err(PutError::Interrupted(_item)) => Err(Interrupted),
        r => Ok(r),
    })
}

/// An unbounded FIFO queue, as `queue.SimpleQueue`.
#[pyclass(
    module = "threadkit.queue",
    name = "SimpleQueue",
    frozen,
    weakref,
    subclass
)]
pub struct PySimpleQueue {
    inner: threadkit::SimpleQueue<Item>,
}

#[pymethods]
impl PySimpleQueue {
    /// A new empty queue, named `name` if given, labelled with the caller's line. Other
    /// arguments are `TypeError`, as the standard library's.
    #[new]
    #[pyo3(signature = (*args, **kwargs), text_signature = "(*, name=None)")]
    // No `py` parameter: see `PyLock::new` (a bare `(*args, **kwargs)` is not parsed).
    fn new(
        args: &Bound<'_, pyo3::types::PyTuple>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Self> {
        let py = args.py();
        if !args.is_empty() {
            return Err(PyTypeError::new_err(
                "SimpleQueue() takes no positional arguments",
            ));
        }
        let mut name = None;
        if let Some(kwargs) = kwargs.filter(|k| !k.is_empty()) {
            for (key, value) in kwargs.iter() {
                if key.cast::<PyString>().is_ok_and(|k| k == "name") {
                    name = Some(value);
                } else {
                    return Err(PyTypeError::new_err(
                        "SimpleQueue() takes no keyword arguments",
                    ));
                }
            }
        }
        let name = site::name_arg("SimpleQueue", name.as_ref())?;
        Ok(PySimpleQueue {
            inner: threadkit::SimpleQueue::new().with_label(site::label(py, name, None)?),
        })
    }

    /// The queue's name (or None) and creation site.
    #[getter]
    fn _label(&self) -> PyLabel {
        PyLabel::new(self.inner.label())
    }

    /// `<threadkit.queue.SimpleQueue object site='app.py:12' at 0x...>`.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_object(slf.as_any(), slf.get().inner.label())
    }

    /// Put `item` into the queue; never blocks (`block` and `timeout` are ignored, as in the
    /// standard library, whose signature shows `block=True`).
    #[pyo3(
        signature = (item, block=None, timeout=None),
        text_signature = "($self, item, block=True, timeout=None)"
    )]
    fn put(
        &self,
        item: Item,
        block: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) {
        let _ = (block, timeout);
        self.inner.put(item);
    }

    /// Put `item` into the queue.
    fn put_nowait(&self, item: Item) {
        self.inner.put(item);
    }

    /// Remove and return an item, blocking while the queue is empty (unless `block` is false),
    /// at most `timeout` seconds if given. Raises `queue.Empty`.
    #[pyo3(
        signature = (block=Truthy(true), timeout=None),
        text_signature = "($self, block=True, timeout=None)"
    )]
    fn get(
        &self,
        py: Python<'_>,
        block: Truthy,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item> {
        if timeout.is_none() {
            if let Ok(item) = self.inner.try_get() {
                return Ok(item);
            }
        }
        let deadline = match (block.0, timeout) {
            (false, _) => Deadline::now(),
            (true, None) => Deadline::never(),
            (true, Some(t)) if t.is_none() => Deadline::never(),
            (true, Some(t)) => {
                let s = seconds_of(t)?;
                if s < 0.0 {
                    return Err(PyValueError::new_err(
                        "'timeout' must be a non-negative number",
                    ));
                }
                deadline_of(Some(s))?
            }
        };
        if let Ok(item) = self.inner.try_get() {
            return Ok(item);
        }
        if deadline.has_passed() {
            return Err(Empty::new_err(()));
        }
        // As Queue.get: the item stays counted in qsize()/empty() until this thread is back
        // in Python, the order the standard library's C SimpleQueue shows.
        let inner = &self.inner;
        let r = block_fn(py, |i| match inner.get_in_flight(deadline, i) {
            Err(GetError::Interrupted) => Err(Interrupted),
            r => Ok(r),
        })?;
        let item = r.map_err(|_| Empty::new_err(()))?;
        inner.landed();
        Ok(item)
    }

    /// Remove and return an item if one is available, else raise `queue.Empty`.
    fn get_nowait(&self) -> PyResult<Item> {
        self.inner.try_get().map_err(|_| Empty::new_err(()))
    }

    /// The approximate number of items.
    fn qsize(&self) -> usize {
        self.inner.qsize()
    }

    /// Whether the queue is empty (approximately).
    fn empty(&self) -> bool {
        self.inner.empty()
    }

    /// `SimpleQueue[int]`, a generic alias.
    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, PyType>, item: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        generic_alias(cls, item)
    }
}

/// `types.GenericAlias(cls, item)`.
pub fn generic_alias(cls: &Bound<'_, PyType>, item: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let py = cls.py();
    Ok(py
        .import("types")?
        .getattr("GenericAlias")?
        .call1((cls, item))?
        .unbind())
}
