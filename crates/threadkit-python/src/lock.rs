//! `threadkit.Lock`: `threading.Lock` over [`threadkit::Lock`].

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};

use threadkit::debug::Label;
use threadkit::{Deadline, Interrupt, Interrupted};

use threadkit::raw::LockOrderExt;

use crate::blocking::{block, check_order, lock_deadline, LockBlocking, LockTimeout};
use crate::site::{self, PyLabel};

/// A primitive lock, as `threading.Lock`: not reentrant, released by any thread.
///
/// Differs from the standard library in one way only: it knows which thread acquired it
/// (`_owner()`), for diagnostics. As CPython 3.13's `_thread.lock` (and the factory function
/// `threading.Lock` is before 3.13), it takes no arguments and cannot be subclassed, on every
/// version.
#[pyclass(module = "threadkit", name = "Lock", frozen, weakref)]
pub struct PyLock {
    pub(crate) inner: threadkit::Lock,
}

impl PyLock {
    /// `Lock(...)` with arguments: `name` and `_label` (a `_core.Label`, from threadkit's own
    /// modules) are keywords; anything else is `TypeError` with CPython 3.13's messages.
    #[cold]
    fn new_with_arguments(
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let (mut name, mut given, mut checked) = (None, None, true);
        if let Some(kwargs) = kwargs.filter(|k| !k.is_empty()) {
            for (key, value) in kwargs.iter() {
                match key.cast::<PyString>().ok().and_then(|k| k.to_str().ok()) {
                    Some("name") => name = Some(value),
                    Some("_label") => given = Some(value),
                    Some("order_checked") => checked = value.is_truthy()?,
                    _ => return Err(PyTypeError::new_err("Lock() takes no keyword arguments")),
                }
            }
        }
        if !args.is_empty() {
            return Err(PyTypeError::new_err(format!(
                "Lock expected 0 arguments, got {}",
                args.len()
            )));
        }
        let name = site::name_arg("Lock", name.as_ref())?;
        let inner =
            threadkit::Lock::new().with_label(site::label(args.py(), name, given.as_ref())?);
        Ok(PyLock {
            inner: if checked {
                inner
            } else {
                inner.order_unchecked()
            },
        })
    }
}

#[pymethods]
impl PyLock {
    /// A new unlocked lock, named `name` if given, labelled with the caller's line. Other
    /// arguments are `TypeError`, with CPython 3.13's messages.
    #[new]
    #[pyo3(signature = (*args, **kwargs), text_signature = "(*, name=None, order_checked=True)")]
    // No `py` parameter: PyO3 hands a bare `(*args, **kwargs)` signature the tuple and dict as
    // they are, where any other parameter costs an argument-parsing pass (a tenth of `Lock()`).
    fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let py = args.py();
        if !args.is_empty() || kwargs.is_some_and(|k| !k.is_empty()) {
            return Self::new_with_arguments(args, kwargs);
        }
        Ok(PyLock {
            inner: threadkit::Lock::new().with_label(Label::new(None, site::caller_site(py))),
        })
    }

    /// Acquire the lock, blocking or non-blocking, with an optional timeout; return whether it
    /// was acquired.
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

    /// Alias of `acquire`.
    #[pyo3(
        signature = (blocking=LockBlocking(true), timeout=LockTimeout::FOREVER),
        text_signature = "($self, blocking=True, timeout=-1)"
    )]
    fn acquire_lock(
        &self,
        py: Python<'_>,
        blocking: LockBlocking,
        timeout: LockTimeout,
    ) -> PyResult<bool> {
        self.acquire(py, blocking, timeout)
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        self.acquire(py, LockBlocking(true), LockTimeout::FOREVER)
    }

    /// Release the lock; any thread may. Releasing an unlocked lock is `RuntimeError`.
    pub(crate) fn release(&self) -> PyResult<()> {
        self.inner
            .release()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Alias of `release`.
    fn release_lock(&self) -> PyResult<()> {
        self.release()
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

    /// Whether the lock is held.
    fn locked(&self) -> bool {
        self.inner.locked()
    }

    /// Alias of `locked`.
    fn locked_lock(&self) -> bool {
        self.inner.locked()
    }

    /// The ident of the thread that acquired the lock, or None when unlocked.
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

    /// `<locked threadkit.Lock object name='inventory' owner='Thread-1 (restock)' at 0x...>`,
    /// `<unlocked threadkit.Lock object site='app.py:12' at 0x...>`: CPython's shape, with the
    /// name (or the creation site) and, while locked, the owner thread's name.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let lock = &slf.get().inner;
        repr_lock(
            slf.as_any(),
            lock.locked(),
            lock.label(),
            lock.owner(),
            None,
        )
    }
}

/// The repr of a `Lock` or (with a count) an `RLock`: `<locked TYPE object LABEL OWNER at
/// ADDR>`, as CPython's test.lock_tests match it (`<locked .* object (.*)?at .*>`).
pub(crate) fn repr_lock(
    slf: &Bound<'_, PyAny>,
    locked: bool,
    label: &Label,
    owner: Option<u64>,
    count: Option<u64>,
) -> PyResult<String> {
    let py = slf.py();
    let mut out = format!(
        "<{} {} object {} ",
        if locked { "locked" } else { "unlocked" },
        type_path(&slf.get_type())?,
        site::repr_label(py, label)?
    );
    match (owner, count) {
        (Some(ident), _) if locked => {
            out += &site::repr_owner(py, ident)?;
            out.push(' ');
        }
        // An unlocked RLock shows CPython's `owner=0`.
        (_, Some(_)) => out += "owner=0 ",
        _ => {}
    }
    if let Some(count) = count {
        out += &format!("count={count} ");
    }
    out += &format!("at {:#x}>", slf.as_ptr() as usize);
    Ok(out)
}

/// A lock of the core crate, as `acquire_like` drives it.
pub(crate) trait CoreLock: Sync + LockOrderExt {
    fn try_acquire(&self) -> bool;
    fn is_order_checked(&self) -> bool;
    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted>;
}

impl CoreLock for threadkit::Lock {
    #[inline]
    fn try_acquire(&self) -> bool {
        threadkit::Lock::try_acquire(self)
    }
    #[inline]
    fn is_order_checked(&self) -> bool {
        threadkit::Lock::is_order_checked(self)
    }
    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        threadkit::Lock::acquire_interruptible(self, deadline, interrupt)
    }
}

impl CoreLock for threadkit::RLock {
    #[inline]
    fn try_acquire(&self) -> bool {
        threadkit::RLock::try_acquire(self)
    }
    #[inline]
    fn is_order_checked(&self) -> bool {
        threadkit::RLock::is_order_checked(self)
    }
    fn acquire_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        threadkit::RLock::acquire_interruptible(self, deadline, interrupt)
    }
}

/// `acquire(blocking, timeout)` of `Lock` and `RLock`: the uncontended call is one atomic
/// operation; a wait releases the GIL and stays interruptible on the main thread.
#[inline]
pub(crate) fn acquire_like(
    py: Python<'_>,
    blocking: LockBlocking,
    timeout: LockTimeout,
    lock: &impl CoreLock,
) -> PyResult<bool> {
    if blocking.0 && timeout.0 == -1.0 {
        if lock.is_order_checked() {
            // Debug mode, while attached: the Python stack is at hand.
            check_order(py, lock)?;
        }
        if lock.try_acquire() {
            return Ok(true);
        }
    }
    let deadline = lock_deadline(blocking.0, timeout.0)?;
    if lock.try_acquire() {
        return Ok(true);
    }
    if deadline.has_passed() {
        return Ok(false);
    }
    block(py, |interrupt| {
        lock.acquire_interruptible(deadline, interrupt)
    })
}

/// `module.QualName` of a type, as the standard library's reprs show it.
pub fn type_path(t: &Bound<'_, PyType>) -> PyResult<String> {
    Ok(format!("{}.{}", t.module()?, t.qualname()?))
}
