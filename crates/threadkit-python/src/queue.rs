//! `threadkit.queue.Queue`, `LifoQueue`, `PriorityQueue` and `SimpleQueue` over
//! [`threadkit::Queue`] and [`threadkit::SimpleQueue`], holding the items in Rust.
//!
//! `PriorityQueue`'s heap is here (`PriorityStore`, `heap.rs`): it is ordered with the items'
//! `<`, called while attached with no internal lock held (ARCHITECTURE.md rules 1 and 2); its
//! core queue holds one unit per item. A subclass that overrides the storage hooks (`_init`,
//! `_qsize`, `_put`, `_get`) runs CPython's algorithm in Python frames instead
//! (`threadkit/queue.py`): Rust never calls those hooks. So does an instance whose internals
//! (`mutex`, `queue`...) code touches: `_to_python_storage` hands its items over and every
//! method here then calls the Python one (`moved`).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString, PyType};
use threadkit::raw::{QueueExt, QueueWaitExt};
use threadkit::{
    Deadline, GetError, Interrupt, Interrupted, Lifo, NoInterrupt, Order, PutError, SpinWait,
    TaskDoneError,
};

use crate::blocking::{block as block_fn, seconds_of, timeout_max, Truthy};
use crate::heap;
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

use crate::heap::Item;

enum Store {
    Fifo(threadkit::Queue<Item>),
    Lifo(threadkit::Queue<Item, Lifo>),
    Priority(Box<PriorityStore>),
}

/// `$e` with `$q` the core queue: the items' queue, or a `PriorityQueue`'s units (its count,
/// tasks and shutdown).
macro_rules! each {
    ($store:expr, $q:ident => $e:expr) => {
        match $store {
            Store::Fifo($q) => $e,
            Store::Lifo($q) => $e,
            Store::Priority(p) => {
                let $q = &p.units;
                $e
            }
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
        match self {
            Store::Fifo(q) => q.put_interruptible(item, deadline, interrupt),
            Store::Lifo(q) => q.put_interruptible(item, deadline, interrupt),
            Store::Priority(_) => unreachable!("PriorityStore::put"),
        }
    }

    /// A get that had to block: the item stays counted in `qsize()` until [`Store::landed`].
    fn get_in_flight(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<Item, GetError> {
        match self {
            Store::Fifo(q) => q.get_in_flight(deadline, interrupt),
            Store::Lifo(q) => q.get_in_flight(deadline, interrupt),
            Store::Priority(_) => unreachable!("PriorityStore::get"),
        }
    }

    fn landed(&self) {
        match self {
            Store::Fifo(q) => q.landed(),
            Store::Lifo(q) => q.landed(),
            Store::Priority(_) => unreachable!("PriorityStore::get"),
        }
    }

    fn try_put(&self, item: Item) -> Result<(), PutError<Item>> {
        match self {
            Store::Fifo(q) => q.try_put(item),
            Store::Lifo(q) => q.try_put(item),
            Store::Priority(_) => unreachable!("PriorityStore::put"),
        }
    }

    fn try_get(&self) -> Result<Item, GetError> {
        match self {
            Store::Fifo(q) => q.try_get(),
            Store::Lifo(q) => q.try_get(),
            Store::Priority(_) => unreachable!("PriorityStore::get"),
        }
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
    #[pyo3(signature = (*args, _lifo=false, _priority=false, **kwargs))]
    fn new(
        py: Python<'_>,
        args: &Bound<'_, pyo3::types::PyTuple>,
        _lifo: bool,
        _priority: bool,
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
            store: if _priority {
                Store::Priority(Box::new(PriorityStore::new(bound, label)))
            } else if _lifo {
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
        if let Store::Priority(p) = &this.store {
            return match p.put(py, item, block.0, timeout, &this.moved)? {
                Ok(()) => Ok(()),
                // The items moved to Python meanwhile: put there, in the time left.
                Err((item, deadline)) => slf
                    .call_method1("put", (item, block.0, timeout_left(deadline)))
                    .map(|_| ()),
            };
        }
        let bounded = each!(&this.store, q => q.maxsize()) > 0;
        let deadline = if !block.0 {
            Deadline::now()
        } else if bounded && timeout.is_some() {
            // Shutdown first, then the timeout, checked even when there is room, as CPython
            // does. Without a timeout, the put reports a shutdown itself (one lock less).
            if each!(&this.store, q => q.is_shutdown()) {
                return Err(shut_down(py));
            }
            deadline_of(queue_timeout(timeout)?)?
        } else {
            Deadline::never()
        };
        let item = match this.store.try_put(item) {
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
        match block_put(py, |i| {
            if spins_within(deadline) {
                each!(store, q => q.spin_for_room(SpinWait::QUEUE));
            }
            store.put_interruptible(item, deadline, i)
        })? {
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
        if let Store::Priority(p) = &this.store {
            return match p.get(py, block.0, timeout, &this.moved)? {
                Ok(item) => Ok(item),
                // The items moved to Python meanwhile: get there, in the time left.
                Err(deadline) => slf
                    .call_method1("get", (block.0, timeout_left(deadline)))
                    .map(Bound::unbind),
            };
        }
        let deadline = if block.0 {
            if timeout.is_some() && each!(&this.store, q => q.is_shutdown() && q.empty()) {
                return Err(shut_down(py));
            }
            deadline_of(queue_timeout(timeout)?)?
        } else {
            Deadline::now()
        };
        match this.store.try_get() {
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
        let r = block_fn(py, |i| {
            if spins_within(deadline) {
                each!(store, q => q.spin_for_item(SpinWait::QUEUE));
            }
            match store.get_in_flight(deadline, i) {
                Err(GetError::Interrupted) => Err(Interrupted),
                r => Ok(r),
            }
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
        let (this, py) = (slf.get(), slf.py());
        if let Store::Priority(p) = &this.store {
            p.shutdown(py, immediate, &this.moved)?;
        } else {
            let store = &this.store;
            // Items dropped here are released when the GIL is next held.
            py.detach(|| each!(store, q => q.shutdown(immediate)));
        }
        if this.moved.load(Ordering::Relaxed) {
            // The items moved to Python while this shut the Rust side down: shut that down.
            slf.call_method1("shutdown", (immediate,))?;
        }
        Ok(())
    }

    /// For a `PriorityQueue` about to switch to the Python algorithm (threadkit/queue.py
    /// `_use_python_storage`): waits (detached) until no other thread orders its heap, and
    /// holds the heap until `_release_storage`, so that `_to_python_storage` finds it whole.
    /// Taken before any Python-side lock of the switch, as a get takes it: a comparison, run
    /// with the heap held, may read another queue's internals. Nothing for other queues.
    fn _hold_storage(&self, py: Python<'_>) -> PyResult<()> {
        match &self.store {
            Store::Priority(p) => p.hold(py),
            _ => Ok(()),
        }
    }

    /// Lets go of what `_hold_storage` held.
    fn _release_storage(&self) {
        if let Store::Priority(p) = &self.store {
            p.release_hold();
        }
    }

    /// Gives up the Rust storage, for an instance that switches to the Python algorithm
    /// (threadkit/queue.py `_use_python_storage`, when code touches `mutex`, `queue`...):
    /// from now on every method here calls the instance's Python method of the same name,
    /// and every call blocked here wakes up and goes there. Returns the items (oldest put
    /// first; a `PriorityQueue`'s heap as a valid `heapq` list), the items still to push onto
    /// that heap (a `PriorityQueue`'s pending puts; none for other queues), the unfinished task
    /// count and whether `shutdown()` was called. Called once, with the Python side's `mutex`
    /// held (and a `PriorityQueue`'s heap held, `_hold_storage`), so that nothing runs there
    /// before the items are in.
    #[allow(clippy::type_complexity)]
    fn _to_python_storage(&self) -> (Vec<Item>, Vec<Item>, usize, bool) {
        self.moved.store(true, Ordering::Relaxed);
        if let Store::Priority(p) = &self.store {
            return p.to_python_storage();
        }
        let was_shut_down = each!(&self.store, q => q.is_shutdown());
        // Shut down: blocked gets and puts wake with `ShutDown` and see `moved`; a put racing
        // with this (free-threaded) either lands before the drain or fails after it.
        each!(&self.store, q => q.shutdown(false));
        let mut items = Vec::new();
        while let Ok(item) = self.store.try_get() {
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
        (items, Vec::new(), unfinished, was_shut_down)
    }

    /// Reset the queue's internal lock in a child process after `fork()`.
    fn _at_fork_reinit(&self) {
        match &self.store {
            Store::Priority(p) => p.reinit_after_fork(),
            store => each!(store, q => q.reinit_after_fork()),
        }
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

/// Whether a blocking get or put spins first: not if the spin could outlast its timeout.
fn spins_within(deadline: Deadline) -> bool {
    deadline
        .remaining()
        .map_or(true, |left| left > SpinWait::QUEUE.limit())
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
        // in Python, the order the standard library's C SimpleQueue shows up to 3.12 (3.13's
        // hands the item over inside put()).
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

// ---------------------------------------------------------------------------------------------
// PriorityQueue
// ---------------------------------------------------------------------------------------------

/// The storage of a `PriorityQueue`'s core queue: one unit per item, the count. The items are
/// in [`PriorityStore`]'s heap, ordered by Python's `<`, which the core cannot call.
#[derive(Clone, Copy, Debug, Default)]
struct Units;

impl Order<()> for Units {
    type Store = usize;
    #[inline]
    fn push(store: &mut usize, _: ()) {
        *store += 1;
    }
    #[inline]
    fn pop(store: &mut usize) -> Option<()> {
        store.checked_sub(1).map(|n| *store = n)
    }
    #[inline]
    fn len(store: &usize) -> usize {
        *store
    }
}

/// A `PriorityQueue`: the heap in Rust, compared with Python's `<` while attached.
///
/// - `units`, a core queue of one unit per item, does everything but the order: `maxsize`,
///   the waits for room and for items (detached, through [`QueueExt`]), tasks, shutdown.
/// - `heap` is touched only by the thread that holds `busy`, and only while it holds it; the
///   comparisons run with `busy` held and no Rust mutex held (ARCHITECTURE.md rule 2), so
///   `__lt__` may release the GIL, block, or re-enter the queue. A thread that needs the heap
///   while another orders it waits for `busy` detached, like any other wait.
/// - A put that finds `busy` held (by another thread, or by its own thread: a put from an
///   item's `__lt__` or `__del__`) never waits for it: it takes its unit and appends the item
///   to `pending`, under one short lock, and the holder of `busy` pushes pending items onto
///   the heap, in the order they came, before its own operation and before it lets go.
///
/// The invariant, whenever `busy` is free: `units` counts exactly the items of `heap` and
/// `pending`. A put pushes onto the heap first and takes its unit after; a get pops first and
/// takes the unit after; either undoes its heap change if the unit cannot be had.
struct PriorityStore {
    units: threadkit::Queue<(), Units>,
    busy: threadkit::Lock,
    heap: UnsafeCell<Vec<Item>>,
    pending: Mutex<Vec<Item>>,
    /// `pending.len()`, read without the lock to skip it when empty.
    pending_len: AtomicUsize,
    /// Set by a `shutdown(immediate=True)` made while its own thread holds `busy` (from an
    /// item's `__lt__`): the holder empties the heap when it lets go.
    clear: AtomicBool,
}

// SAFETY: `heap` is read and written only by the thread that holds `busy` (a lock whose
// acquire and release order those accesses), and each access takes the `Vec` out or puts it
// back without running Python code in between; every other field is `Sync`.
unsafe impl Sync for PriorityStore {}

/// What a put made of the heap while holding `busy`.
enum Pushed {
    Done,
    Full(Item),
    ShutDown(Item),
}

impl PriorityStore {
    fn new(maxsize: usize, label: threadkit::debug::Label) -> Self {
        PriorityStore {
            units: threadkit::Queue::with_maxsize(maxsize).with_label(label.clone()),
            busy: threadkit::Lock::new().with_label(label),
            heap: UnsafeCell::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            pending_len: AtomicUsize::new(0),
            clear: AtomicBool::new(false),
        }
    }

    fn held_here(&self) -> bool {
        self.busy.owner() == Some(threadkit::get_ident())
    }

    /// Takes the heap out, for the holder of `busy`.
    fn take_heap(&self) -> Vec<Item> {
        // SAFETY: called only while this thread holds `busy` (see `unsafe impl Sync`).
        std::mem::take(unsafe { &mut *self.heap.get() })
    }

    /// Puts the heap back and lets go of `busy`; what a re-entrant immediate shutdown asked
    /// to drop is returned, to be dropped after (an item's `__del__` may use the queue).
    fn put_back(&self, heap: Vec<Item>) -> Vec<Item> {
        let dropped = if self.clear.swap(false, Ordering::Relaxed) {
            heap
        } else {
            // SAFETY: this thread holds `busy`; the slot holds the empty `Vec` `take_heap`
            // left, so no item is dropped here.
            unsafe { *self.heap.get() = heap };
            Vec::new()
        };
        let _ = self.busy.release();
        dropped
    }

    /// Pushes the pending items onto the heap, oldest first. If a comparison raises, that item
    /// and the later ones stay pending (still counted) and the error is returned.
    fn merge_pending(&self, py: Python<'_>, heap: &mut Vec<Item>) -> PyResult<()> {
        if self.pending_len.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        loop {
            let items = {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                self.pending_len.store(0, Ordering::Relaxed);
                std::mem::take(&mut *pending)
            };
            if items.is_empty() {
                return Ok(());
            }
            let mut items = items.into_iter();
            while let Some(item) = items.next() {
                if let Err((item, e)) = heap::push(py, heap, item) {
                    let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                    let mut rest: Vec<Item> = std::iter::once(item).chain(items).collect();
                    rest.append(&mut pending);
                    *pending = rest;
                    self.pending_len.store(pending.len(), Ordering::Release);
                    return Err(e);
                }
            }
        }
    }

    /// After letting go of `busy`: pending items that came in meanwhile are merged by this
    /// thread if `busy` is free (else its holder does it). A comparison error here stays with
    /// the items (they remain pending, and the next operation raises it).
    fn settle(&self, py: Python<'_>) {
        while self.pending_len.load(Ordering::Acquire) > 0 && self.busy.try_acquire() {
            let mut heap = self.take_heap();
            let r = self.merge_pending(py, &mut heap);
            drop(self.put_back(heap));
            if r.is_err() {
                return;
            }
        }
    }

    /// A put by the holder of `busy` (this thread). The pending items go first.
    fn push_holding(&self, py: Python<'_>, item: Item) -> PyResult<Pushed> {
        let mut heap = self.take_heap();
        if let Err(e) = self.merge_pending(py, &mut heap) {
            drop(self.put_back(heap));
            return Err(e);
        }
        let swaps = match heap::push(py, &mut heap, item) {
            Ok(swaps) => swaps,
            Err((_item, e)) => {
                drop(self.put_back(heap));
                return Err(e);
            }
        };
        match self.units.try_put(()) {
            Ok(()) => {
                // Items a comparison put meanwhile; an error stays with them.
                let _ = self.merge_pending(py, &mut heap);
                drop(self.put_back(heap));
                self.settle(py);
                Ok(Pushed::Done)
            }
            Err(e) => {
                let item = heap::unpush(&mut heap, swaps);
                drop(self.put_back(heap));
                match e {
                    PutError::Full(()) => Ok(Pushed::Full(item)),
                    _ => Ok(Pushed::ShutDown(item)),
                }
            }
        }
    }

    /// A put while another operation holds `busy`: the unit now, the item pending.
    fn push_pending(&self, item: Item) -> Result<(), PutError<Item>> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match self.units.try_put(()) {
            Ok(()) => {
                pending.push(item);
                self.pending_len.store(pending.len(), Ordering::Release);
                Ok(())
            }
            Err(e) => Err(match e {
                PutError::Full(()) => PutError::Full(item),
                _ => PutError::ShutDown(item),
            }),
        }
    }

    /// A put. `Ok(Err((item, deadline)))`: the queue's items moved to Python (`moved`) meanwhile;
    /// the caller puts `item` there, waiting until `deadline` at most.
    fn put(
        &self,
        py: Python<'_>,
        mut item: Item,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
        moved: &AtomicBool,
    ) -> PyResult<Result<(), (Item, Deadline)>> {
        if self.units.is_shutdown() && !moved.load(Ordering::Relaxed) {
            return Err(shut_down(py));
        }
        let deadline = if !block {
            Deadline::now()
        } else if self.units.maxsize() > 0 {
            deadline_of(queue_timeout(timeout)?)?
        } else {
            Deadline::never()
        };
        loop {
            if self.busy.try_acquire() {
                match self.push_holding(py, item)? {
                    Pushed::Done => return Ok(Ok(())),
                    Pushed::Full(it) => item = it,
                    Pushed::ShutDown(it) if moved.load(Ordering::Relaxed) => {
                        return Ok(Err((it, deadline)))
                    }
                    Pushed::ShutDown(_) => return Err(shut_down(py)),
                }
            } else {
                match self.push_pending(item) {
                    Ok(()) => return Ok(Ok(())),
                    Err(PutError::Full(it)) => item = it,
                    Err(PutError::ShutDown(it)) if moved.load(Ordering::Relaxed) => {
                        return Ok(Err((it, deadline)))
                    }
                    Err(_) => return Err(shut_down(py)),
                }
            }
            // Full: wait for room, then try again.
            if deadline.has_passed() {
                return Err(Full::new_err(()));
            }
            if self.held_here() {
                // Rooms comes from gets, and they need the heap this thread holds.
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "PriorityQueue.put() would wait forever: the queue is full and this \
                     thread is ordering its heap (a put from an item's __lt__)",
                ));
            }
            let units = &self.units;
            let r = block_fn(py, |i| match units.wait_for_room(deadline, i) {
                Err(PutError::Interrupted(())) => Err(Interrupted),
                r => Ok(r),
            })?;
            match r {
                Ok(()) => {}
                Err(PutError::Full(())) => return Err(Full::new_err(())),
                // Shut down by the move to Python: put there.
                Err(_) if moved.load(Ordering::Relaxed) => return Ok(Err((item, deadline))),
                Err(_) => return Err(shut_down(py)),
            }
        }
    }

    /// A get by the holder of `busy`: `Ok(None)` if the heap is empty.
    fn pop_holding(&self, py: Python<'_>) -> PyResult<Option<Item>> {
        let mut heap = self.take_heap();
        if let Err(e) = self.merge_pending(py, &mut heap) {
            drop(self.put_back(heap));
            return Err(e);
        }
        let item = match heap::pop(py, &mut heap) {
            Ok(Some(item)) => item,
            Ok(None) => {
                drop(self.put_back(heap));
                return Ok(None);
            }
            Err(e) => {
                drop(self.put_back(heap));
                return Err(e);
            }
        };
        let taken = self.units.try_get();
        let _ = self.merge_pending(py, &mut heap);
        let dropped = self.put_back(heap);
        drop(dropped);
        match taken {
            Ok(()) => {
                self.settle(py);
                Ok(Some(item))
            }
            // Only an immediate shutdown from this thread's own `__lt__` takes the units of
            // items still in the heap: that shutdown empties the heap, the item with it.
            Err(_) => Err(shut_down(py)),
        }
    }

    /// A get. `Ok(Err(deadline))`: the queue's items moved to Python (`moved`) meanwhile; the
    /// caller gets from there, waiting until `deadline` at most.
    ///
    /// A getter that had to wait takes its item once it is attached again (`busy`, then the
    /// heap): until then the item is counted by `qsize()` and `empty()`, the order the
    /// standard library's getter shows (it takes the item itself, in Python, once it runs).
    fn get(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
        moved: &AtomicBool,
    ) -> PyResult<Result<Item, Deadline>> {
        if self.held_here() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "PriorityQueue.get() cannot run while this thread orders the queue's heap \
                 (a get from an item's __lt__ or __del__)",
            ));
        }
        let deadline = if block {
            if timeout.is_some()
                && self.units.is_shutdown()
                && self.units.empty()
                && !moved.load(Ordering::Relaxed)
            {
                return Err(shut_down(py));
            }
            deadline_of(queue_timeout(timeout)?)?
        } else {
            Deadline::now()
        };
        loop {
            if !self.busy.try_acquire() {
                let busy = &self.busy;
                block_fn(py, |i| {
                    busy.acquire_interruptible(Deadline::never(), i).map(|_| ())
                })?;
            }
            if let Some(item) = self.pop_holding(py)? {
                return Ok(Ok(item));
            }
            let r = if deadline.has_passed() {
                self.units.wait_for_item(deadline, &mut NoInterrupt)
            } else {
                let units = &self.units;
                block_fn(py, |i| match units.wait_for_item(deadline, i) {
                    Err(GetError::Interrupted) => Err(Interrupted),
                    r => Ok(r),
                })?
            };
            match r {
                Ok(()) => {}
                // Shut down by the move to Python: get there.
                Err(GetError::ShutDown) if moved.load(Ordering::Relaxed) => {
                    return Ok(Err(deadline))
                }
                Err(e) => return Err(get_error(py, e).unwrap_or_else(|_| unreachable!())),
            }
        }
    }

    /// A shutdown; does nothing if the items moved to Python (`moved`) before it had the heap
    /// (the caller then shuts the Python side down).
    fn shutdown(&self, py: Python<'_>, immediate: bool, moved: &AtomicBool) -> PyResult<()> {
        if !immediate {
            let units = &self.units;
            py.detach(|| units.shutdown(false));
            return Ok(());
        }
        let here = self.held_here();
        if !here && !self.busy.try_acquire() {
            let busy = &self.busy;
            block_fn(py, |i| {
                busy.acquire_interruptible(Deadline::never(), i).map(|_| ())
            })?;
        }
        if !here && moved.load(Ordering::Relaxed) {
            // The switch to Python held the heap meanwhile: the items are there now.
            let _ = self.busy.release();
            return Ok(());
        }
        let pending = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            self.units.shutdown(true);
            self.pending_len.store(0, Ordering::Relaxed);
            std::mem::take(&mut *pending)
        };
        let heap = if here {
            self.clear.store(true, Ordering::Relaxed);
            Vec::new()
        } else {
            let heap = self.take_heap();
            drop(self.put_back(Vec::new()));
            heap
        };
        // The items go last, with no lock held: their `__del__` may use the queue.
        drop(pending);
        drop(heap);
        Ok(())
    }

    /// `_hold_storage`: takes `busy` for the switch to the Python algorithm (waiting detached
    /// while another thread orders the heap).
    fn hold(&self, py: Python<'_>) -> PyResult<()> {
        if self.held_here() {
            // The heap is out of its cell, in the hands of this thread's operation under way.
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "a PriorityQueue's mutex, queue, conditions or storage hooks cannot be used \
                 while this thread orders its heap (from an item's __lt__ or __del__)",
            ));
        }
        if !self.busy.try_acquire() {
            let busy = &self.busy;
            block_fn(py, |i| {
                busy.acquire_interruptible(Deadline::never(), i).map(|_| ())
            })?;
        }
        Ok(())
    }

    /// `_release_storage`: lets go of `busy` if `hold` took it.
    fn release_hold(&self) {
        if self.held_here() {
            let _ = self.busy.release();
        }
    }

    /// `_to_python_storage`, by the holder of `busy` (`hold`), with `moved` set: shuts the
    /// units down (blocked puts and gets wake, see `moved` and go to Python), takes the heap
    /// (a valid `heapq` list, as it is), the pending items (puts not yet ordered into it), and
    /// the task count, marking the tasks done (blocked joins wake and go to Python).
    fn to_python_storage(&self) -> (Vec<Item>, Vec<Item>, usize, bool) {
        debug_assert!(self.held_here());
        let was_shut_down = self.units.is_shutdown();
        let pending = {
            // Under `pending`'s lock: a put racing with this either is pending already or
            // fails after (shut down) and sees `moved`.
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            self.units.shutdown(false);
            self.pending_len.store(0, Ordering::Relaxed);
            std::mem::take(&mut *pending)
        };
        let heap = self.take_heap();
        while self.units.try_get().is_ok() {}
        let unfinished = self.units.unfinished_tasks();
        for _ in 0..unfinished {
            let _ = self.units.task_done();
        }
        (heap, pending, unfinished, was_shut_down)
    }

    fn reinit_after_fork(&self) {
        self.units.reinit_after_fork();
        self.busy.reinit_after_fork();
    }
}

// ---------------------------------------------------------------------------------------------
// SimpleQueue's fast entry points
// ---------------------------------------------------------------------------------------------

/// `SimpleQueue.put`, `get`, `put_nowait` and `get_nowait` as plain C methods of the type
/// (`METH_FASTCALL | METH_KEYWORDS`, `METH_O`, `METH_NOARGS` method descriptors, made with
/// `PyDescr_NewMethod` and put over the PyO3 methods of the same names when the module is
/// initialised). A PyO3 method call pays for its trampoline (a thread-local count of the
/// interpreter attachment, read through `__tls_get_addr` in a shared library), its generic
/// argument parsing and its panic guard: on CPython 3.13 that alone was slower than the
/// standard library's whole C `put` + `get` (measured: ~95 ns for an empty PyO3 method pair
/// against 66 ns for `queue.SimpleQueue`'s put + get). These entry points do the common case
/// directly (a put with positional arguments only, a get that finds an item) and hand every
/// other call, unchanged, to the PyO3 method (kept aside when installing), which parses and checks
/// the arguments as CPython does and does the waiting. The queue's own consistency is the core
/// `SimpleQueue`'s lock, as in the PyO3 methods: nothing here relies on the GIL.
mod fast {
    use std::ffi::CStr;
    use std::sync::atomic::Ordering;
    use std::sync::OnceLock;

    use pyo3::ffi;
    use pyo3::prelude::*;
    use pyo3::types::{PyDict, PyTuple, PyType};
    use pyo3::Borrowed;

    use super::{Empty, PyQueue, PySimpleQueue, Store, Truthy};

    /// A method definition for `PyDescr_NewMethod`, which keeps a pointer to it for ever.
    struct Def(ffi::PyMethodDef);

    // SAFETY: the definition is never written after it is built (CPython only reads it), and
    // its pointers are to static C strings and functions.
    unsafe impl Sync for Def {}

    impl Def {
        /// A `METH_FASTCALL | METH_KEYWORDS` method; `doc` starts with its text signature.
        const fn fastcall(
            name: &'static CStr,
            function: ffi::PyCFunctionFastWithKeywords,
            doc: &'static CStr,
        ) -> Def {
            Def(ffi::PyMethodDef {
                ml_name: name.as_ptr(),
                ml_meth: ffi::PyMethodDefPointer {
                    PyCFunctionFastWithKeywords: function,
                },
                ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
                ml_doc: doc.as_ptr(),
            })
        }
    }

    static PUT: Def = Def::fastcall(
        c"put",
        put,
        c"put($self, item, block=True, timeout=None)\n--\n\nPut `item` into the queue; never blocks (`block` and `timeout` are ignored, as in the\nstandard library, whose signature shows `block=True`).",
    );
    static GET: Def = Def::fastcall(
        c"get",
        get,
        c"get($self, block=True, timeout=None)\n--\n\nRemove and return an item, blocking while the queue is empty (unless `block` is false),\nat most `timeout` seconds if given. Raises `queue.Empty`.",
    );
    static PUT_NOWAIT: Def = Def::fastcall(
        c"put_nowait",
        put_nowait,
        c"put_nowait($self, item)\n--\n\nPut `item` into the queue.",
    );
    static GET_NOWAIT: Def = Def(ffi::PyMethodDef {
        ml_name: c"get_nowait".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: get_nowait,
        },
        ml_flags: ffi::METH_NOARGS,
        ml_doc: c"get_nowait($self, /)\n--\n\nRemove and return an item if one is available, else raise `queue.Empty`.".as_ptr(),
    });

    static QUEUE_PUT: Def = Def::fastcall(
        c"put",
        queue_put,
        c"put($self, item, block=True, timeout=None)\n--\n\nPut `item` into the queue, blocking while it is full (unless `block` is false), at most\n`timeout` seconds if given. Raises `queue.Full`, or `ShutDown` after `shutdown()`.",
    );
    static QUEUE_GET: Def = Def::fastcall(
        c"get",
        queue_get,
        c"get($self, block=True, timeout=None)\n--\n\nRemove and return an item, blocking while the queue is empty (unless `block` is false),\nat most `timeout` seconds if given. Raises `queue.Empty`, or `ShutDown` once a shut-down\nqueue is empty.",
    );

    /// The PyO3 `put` and `get`, for every call the fast paths do not take.
    static SLOW_PUT: OnceLock<Py<PyAny>> = OnceLock::new();
    static SLOW_GET: OnceLock<Py<PyAny>> = OnceLock::new();
    static SLOW_PUT_NOWAIT: OnceLock<Py<PyAny>> = OnceLock::new();
    static SLOW_QUEUE_PUT: OnceLock<Py<PyAny>> = OnceLock::new();
    static SLOW_QUEUE_GET: OnceLock<Py<PyAny>> = OnceLock::new();

    /// Installs the fast methods on `SimpleQueue` (once, at module initialisation).
    pub fn install(class: &Bound<'_, PyType>) -> PyResult<()> {
        // The PyO3 methods, before the fast ones take their names.
        let _ = SLOW_PUT.set(class.getattr("put")?.unbind());
        let _ = SLOW_GET.set(class.getattr("get")?.unbind());
        let _ = SLOW_PUT_NOWAIT.set(class.getattr("put_nowait")?.unbind());
        set_methods(
            class,
            &[
                ("put", &PUT),
                ("get", &GET),
                ("put_nowait", &PUT_NOWAIT),
                ("get_nowait", &GET_NOWAIT),
            ],
        )
    }

    /// Installs the fast `put` and `get` on `_core.Queue` (once, at module initialisation):
    /// `put(item)` and `get()` run the PyO3 methods' bodies without PyO3's argument parsing
    /// (which costs as much as a whole uncontended put+get); calls with more arguments go to
    /// the PyO3 methods.
    pub fn install_queue(class: &Bound<'_, PyType>) -> PyResult<()> {
        let _ = SLOW_QUEUE_PUT.set(class.getattr("put")?.unbind());
        let _ = SLOW_QUEUE_GET.set(class.getattr("get")?.unbind());
        set_methods(class, &[("put", &QUEUE_PUT), ("get", &QUEUE_GET)])
    }

    /// `f()`, a panic becoming `pyo3_runtime.PanicException` as in PyO3's own methods (a panic
    /// must not unwind into CPython).
    #[inline]
    fn unwind_safe<R>(f: impl FnOnce() -> PyResult<R>) -> PyResult<R> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic in threadkit".to_string());
            Err(pyo3::panic::PanicException::new_err(what))
        })
    }

    fn set_methods(class: &Bound<'_, PyType>, defs: &[(&str, &'static Def)]) -> PyResult<()> {
        let py = class.py();
        for &(name, def) in defs {
            // SAFETY: `class` is a live type object; `def` is static and never written (see
            // `Def`); the result is a new reference or null with an exception set.
            let descr = unsafe {
                let ptr =
                    ffi::PyDescr_NewMethod(class.as_type_ptr(), (&raw const def.0).cast_mut());
                Bound::from_owned_ptr_or_err(py, ptr)?
            };
            class.setattr(name, descr)?;
        }
        Ok(())
    }

    /// `None`, as a new reference: from CPython 3.12 on, `None` is immortal and its count is
    /// not kept, so this is `Py_RETURN_NONE` without the call to `_Py_IncRef` (the C API's own
    /// `Py_RETURN_NONE` does the same there); before 3.12, an incref.
    #[inline]
    fn none(py: Python<'_>) -> *mut ffi::PyObject {
        if crate::blocking::py_minor() >= 12 {
            // SAFETY: attached; `Py_None` is a static object.
            unsafe { ffi::Py_None() }
        } else {
            py.None().into_ptr()
        }
    }

    /// The queue behind `slf`.
    ///
    /// # Safety
    /// Attached, and `slf` is an instance of `SimpleQueue` or a subclass: a method descriptor
    /// checks its `self` against its type before it calls the function.
    unsafe fn queue_of<'a>(py: Python<'a>, slf: &'a *mut ffi::PyObject) -> &'a PySimpleQueue {
        // SAFETY: as the function's contract says; `slf` is borrowed for the call.
        let any: Borrowed<'a, 'a, PyAny> = unsafe { Borrowed::from_ptr(py, *slf) };
        let q: Borrowed<'a, 'a, PySimpleQueue> = unsafe { any.cast_unchecked() };
        let q: &'a PySimpleQueue = q.get();
        q
    }

    unsafe extern "C" fn queue_put(
        slf: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls a method with the interpreter attached.
        let py = unsafe { Python::assume_attached() };
        if kwnames.is_null() && nargs == 1 {
            // SAFETY: `slf` was checked by the descriptor (a `_core.Queue`); `args[0]` is a
            // borrowed object.
            let (q, item) = unsafe {
                (
                    Borrowed::from_ptr(py, slf).cast_unchecked::<PyQueue>(),
                    Borrowed::from_ptr(py, *args).to_owned().unbind(),
                )
            };
            // The common case first: room in a FIFO or LIFO queue whose items are in Rust.
            let this = q.get();
            let item = if this.moved.load(Ordering::Relaxed) {
                item
            } else {
                match &this.store {
                    Store::Priority(_) => item,
                    store => match store.try_put(item) {
                        Ok(()) => return none(py),
                        Err(e) => e.into_inner(),
                    },
                }
            };
            // `put(item)`: the PyO3 method's body, without its argument parsing.
            return match unwind_safe(|| PyQueue::put(&q, item, Truthy(true), None)) {
                Ok(()) => none(py),
                Err(e) => {
                    e.restore(py);
                    std::ptr::null_mut()
                }
            };
        }
        // SAFETY: the arguments as CPython passed them.
        unsafe { call_slow(py, &SLOW_QUEUE_PUT, slf, args, nargs, kwnames) }
    }

    unsafe extern "C" fn queue_get(
        slf: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls a method with the interpreter attached.
        let py = unsafe { Python::assume_attached() };
        if kwnames.is_null() && nargs == 0 {
            // SAFETY: `slf` was checked by the descriptor (a `_core.Queue`).
            let q = unsafe { Borrowed::from_ptr(py, slf).cast_unchecked::<PyQueue>() };
            let this = q.get();
            if !this.moved.load(Ordering::Relaxed) && !matches!(this.store, Store::Priority(_)) {
                if let Ok(item) = this.store.try_get() {
                    return item.into_ptr();
                }
            }
            // `get()`: the PyO3 method's body, without its argument parsing.
            return match unwind_safe(|| PyQueue::get(&q, Truthy(true), None)) {
                Ok(item) => item.into_ptr(),
                Err(e) => {
                    e.restore(py);
                    std::ptr::null_mut()
                }
            };
        }
        // SAFETY: the arguments as CPython passed them.
        unsafe { call_slow(py, &SLOW_QUEUE_GET, slf, args, nargs, kwnames) }
    }

    /// Calls the PyO3 method `slow` with the same arguments (`self` first): the call CPython
    /// would have made had the fast method not been installed.
    ///
    /// # Safety
    /// The vectorcall arguments as CPython passes them to a `METH_FASTCALL | METH_KEYWORDS`
    /// function: `nargs` positional ones, then one per name of the `kwnames` tuple (or null).
    #[cold]
    #[inline(never)]
    unsafe fn call_slow(
        py: Python<'_>,
        slow: &OnceLock<Py<PyAny>>,
        slf: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        let result = (|| -> PyResult<Py<PyAny>> {
            let nargs = nargs as usize;
            // SAFETY: the caller's contract: `args` holds `nargs` + len(kwnames) objects,
            // borrowed for the call.
            let names = unsafe { Borrowed::from_ptr_or_opt(py, kwnames) };
            let nkw = names.as_ref().map_or(0, |n| n.len().unwrap_or(0));
            let all: &[*mut ffi::PyObject] = if args.is_null() {
                &[]
            } else {
                unsafe { std::slice::from_raw_parts(args, nargs + nkw) }
            };
            let positional: Vec<Borrowed<'_, '_, PyAny>> = std::iter::once(slf)
                .chain(all[..nargs].iter().copied())
                .map(|p| unsafe { Borrowed::from_ptr(py, p) })
                .collect();
            let positional = PyTuple::new(py, positional)?;
            let kwargs = match names {
                None => None,
                Some(names) => {
                    let names = unsafe { names.cast_unchecked::<PyTuple>() };
                    let d = PyDict::new(py);
                    for (name, value) in names.iter().zip(&all[nargs..]) {
                        d.set_item(name, unsafe { Borrowed::from_ptr(py, *value) })?;
                    }
                    Some(d)
                }
            };
            let slow = slow.get().expect("fast::install ran");
            Ok(slow.bind(py).call(positional, kwargs.as_ref())?.unbind())
        })();
        match result {
            Ok(r) => r.into_ptr(),
            Err(e) => {
                e.restore(py);
                std::ptr::null_mut()
            }
        }
    }

    unsafe extern "C" fn put(
        slf: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls a method with the interpreter attached.
        let py = unsafe { Python::assume_attached() };
        if kwnames.is_null() && (1..=3).contains(&nargs) {
            // SAFETY: `slf` was checked by the descriptor; `args[0]` is a borrowed object.
            let (q, item) = unsafe {
                (
                    queue_of(py, &slf),
                    Borrowed::from_ptr(py, *args).to_owned().unbind(),
                )
            };
            q.inner.put(item);
            return none(py);
        }
        // SAFETY: the arguments as CPython passed them.
        unsafe { call_slow(py, &SLOW_PUT, slf, args, nargs, kwnames) }
    }

    unsafe extern "C" fn get(
        slf: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls a method with the interpreter attached.
        let py = unsafe { Python::assume_attached() };
        // `get()`, `get(True)` and `get(False)` with an item there (any other `block` has its
        // truth asked first, which may raise, as in the standard library).
        // SAFETY: `args` holds `nargs` borrowed objects.
        let plain = kwnames.is_null()
            && (nargs == 0
                || (nargs == 1 && unsafe { *args == ffi::Py_True() || *args == ffi::Py_False() }));
        if plain {
            // SAFETY: `slf` was checked by the descriptor.
            let q = unsafe { queue_of(py, &slf) };
            if let Ok(item) = q.inner.try_get() {
                return item.into_ptr();
            }
        }
        // SAFETY: the arguments as CPython passed them.
        unsafe { call_slow(py, &SLOW_GET, slf, args, nargs, kwnames) }
    }

    unsafe extern "C" fn put_nowait(
        slf: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls a method with the interpreter attached.
        let py = unsafe { Python::assume_attached() };
        if kwnames.is_null() && nargs == 1 {
            // SAFETY: `slf` was checked by the descriptor; `args[0]` is a borrowed object.
            let (q, item) = unsafe {
                (
                    queue_of(py, &slf),
                    Borrowed::from_ptr(py, *args).to_owned().unbind(),
                )
            };
            q.inner.put(item);
            return none(py);
        }
        // SAFETY: the arguments as CPython passed them.
        unsafe { call_slow(py, &SLOW_PUT_NOWAIT, slf, args, nargs, kwnames) }
    }

    unsafe extern "C" fn get_nowait(
        slf: *mut ffi::PyObject,
        _: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject {
        // SAFETY: attached (a method call); `slf` checked by the descriptor.
        let py = unsafe { Python::assume_attached() };
        match unsafe { queue_of(py, &slf) }.inner.try_get() {
            Ok(item) => item.into_ptr(),
            Err(_) => {
                Empty::new_err(()).restore(py);
                std::ptr::null_mut()
            }
        }
    }
}

pub use fast::install as install_simple_queue_fast_paths;
pub use fast::install_queue as install_queue_fast_paths;
