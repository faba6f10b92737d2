//! What a primitive is called and where it was created: the [`Label`] every constructor of
//! `threadkit._core` gives the core (issue 9, "Names").
//!
//! The site is the Python frame that called the constructor, `file.py:LINE` (the code
//! object's `co_filename`, as tracebacks show it). Frames of the threadkit package itself are
//! skipped, so that a primitive made inside `threadkit/queue.py` or `threadkit/threading.py`
//! (a `PriorityQueue`'s lock, a `Condition`'s own `RLock`) carries the user's line.
//!
//! Cost: a constructor must stay within 2x of the standard library's (`bench/bench.py`,
//! "Lock() construction"), so the capture is a cache lookup. `PyEval_GetFrame` and
//! `PyFrame_GetCode` (limited API) and the frame's instruction offset give the caller's code
//! object and instruction; a cache maps `(code object address, instruction)` to the interned
//! core [`Site`]. The line (`PyFrame_GetLineNumber`, which walks the code's line table from its
//! start) and the file are read only on a miss. The cache keeps every code object it has seen
//! alive, so an address in it is never reused by another code object. It is bounded
//! ([`MAX_ENTRIES`]): past the bound (programs that `exec` new code forever) a site is computed
//! each time and not remembered.
//!
//! Free-threading (ARCHITECTURE.md rule 8): the shared cache is behind a `RwLock`, taken only
//! with `try_read`/`try_write` (a busy or, in a child after `fork()`, orphaned lock means "not
//! cached": never block while attached, rule 2) and never held while Python code runs: a miss
//! computes the site unlocked, then inserts. In front of it, a direct-mapped array of pointers
//! to leaked records makes a hit one atomic load, with no lock and no thread-local lookup.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, OnceLock, RwLock, TryLockError};

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;
use threadkit::debug::{Label, Site};

/// How many `(code, instruction)` pairs the cache remembers at most.
const MAX_ENTRIES: usize = 1 << 14;

/// What a frame is to the site capture.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// User code: the site.
    User,
    /// Code of the threadkit package: look further out.
    Internal,
    /// The import system (`<frozen importlib._bootstrap...>`): no user code further out, so a
    /// primitive made at import time of a threadkit module keeps the threadkit line.
    Boundary,
}

#[derive(Clone, Copy)]
struct Entry {
    site: Site,
    frame: Frame,
}

/// One remembered `(code, instruction)`: leaked, so that the front cache can hand out
/// `&'static` references without locking. At most [`MAX_ENTRIES`] are ever made.
struct Record {
    code: usize,
    lasti: i32,
    entry: Entry,
}

/// FxHash's mixing step: the keys are addresses and line numbers, no adversary chooses them,
/// and SipHash would cost more than the rest of a constructor.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.write_u64(i as u32 as u64);
    }
}

type Fx = BuildHasherDefault<FxHasher>;

struct Cache {
    entries: HashMap<(usize, i32), &'static Record, Fx>,
    /// The code objects whose addresses key `entries`, kept alive (never dropped).
    codes: HashMap<usize, Py<PyAny>, Fx>,
}

fn cache() -> &'static RwLock<Cache> {
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| {
        RwLock::new(Cache {
            entries: HashMap::default(),
            codes: HashMap::default(),
        })
    })
}

/// Slots of the front cache.
const FRONT_SLOTS: usize = 256;

/// A direct-mapped front to `cache()`: a hit is one load and a compare, no lock, no
/// thread-local lookup. A slot holds null or a leaked [`Record`] of the shared cache (whose
/// code object the shared cache keeps alive); a later miss at the same slot replaces it.
static FRONT: [AtomicPtr<Record>; FRONT_SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; FRONT_SLOTS];

#[inline]
fn front_slot(key: (usize, i32)) -> &'static AtomicPtr<Record> {
    let mut h = FxHasher::default();
    h.write_usize(key.0);
    h.write_i32(key.1);
    &FRONT[(h.finish() >> 56) as usize % FRONT_SLOTS]
}

/// The directory of the threadkit package, with a trailing separator (`.../threadkit/`).
fn package_dir(py: Python<'_>) -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    if let Some(dir) = DIR.get() {
        return dir;
    }
    let dir = (|| -> PyResult<String> {
        let path = py
            .import("threadkit")?
            .getattr(intern!(py, "__path__"))?
            .get_item(0)?;
        let sep: String = py.import("os")?.getattr("sep")?.extract()?;
        let path: String = path.extract()?;
        Ok(if path.ends_with(&sep) {
            path
        } else {
            path + &sep
        })
    })()
    // No package (the extension module imported alone): nothing is skipped.
    .unwrap_or_else(|_| "\0".to_owned());
    DIR.get_or_init(|| dir)
}

/// The site of code in `file` at `line`, and what kind of frame it is.
fn classify(py: Python<'_>, file: &str, line: i32) -> Entry {
    let frame = if file.starts_with(package_dir(py)) {
        Frame::Internal
    } else if file.starts_with("<frozen importlib") {
        Frame::Boundary
    } else {
        Frame::User
    };
    Entry {
        site: Site::intern(file, line.max(0) as u32),
        frame,
    }
}

/// `int PyFrame_GetLasti(PyFrameObject *)`: public C API since CPython 3.11 but not in the
/// limited API, so an abi3 module may not link to it. It is looked up at run time instead and
/// used where the interpreter exports it (Linux and macOS builds of every CPython 3.11+).
/// Elsewhere the frame's `f_lasti` attribute gives the same number for about 200 more
/// instructions a call (an attribute lookup and, past offset 256, an int allocation): enough on
/// its own to put `Lock()` past 2x the standard library's on 3.11.
type GetLasti = unsafe extern "C" fn(*mut ffi::PyFrameObject) -> std::ffi::c_int;

fn get_lasti() -> Option<GetLasti> {
    static GET_LASTI: OnceLock<Option<GetLasti>> = OnceLock::new();
    *GET_LASTI.get_or_init(|| {
        #[cfg(unix)]
        {
            // SAFETY: dlsym with a NUL-terminated name; a non-null result is the address of
            // the exported function of that name, whose signature is `GetLasti`.
            let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"PyFrame_GetLasti".as_ptr()) };
            (!p.is_null())
                .then(|| unsafe { std::mem::transmute::<*mut std::ffi::c_void, GetLasti>(p) })
        }
        #[cfg(not(unix))]
        {
            None
        }
    })
}

/// The entry of `frame` (a live frame, borrowed), from a cache if it is there.
///
/// The hit path is raw FFI on borrowed pointers: under abi3 every reference count change is a
/// call into libpython, and this runs in every constructor.
fn frame_entry(py: Python<'_>, frame: *mut ffi::PyFrameObject) -> PyResult<Entry> {
    // SAFETY: `frame` is a live frame object and the thread is attached. `PyFrame_GetCode`
    // returns a new reference, never NULL, owned by `code` (released on every path).
    let code = unsafe { Bound::from_owned_ptr(py, ffi::PyFrame_GetCode(frame).cast()) };
    // Keyed by the instruction, not the line: `PyFrame_GetLineNumber` walks the code's line
    // table from its start, a cost that grows with the function; the instruction is one load.
    let lasti = match get_lasti() {
        // SAFETY: `frame` is a live frame; the function has this signature on every CPython
        // that exports it (3.11+).
        Some(get) => unsafe { get(frame) },
        // SAFETY: as above; `PyObject_GetAttr` returns a new reference or NULL with an error.
        None => unsafe {
            let obj = ffi::PyObject_GetAttr(frame.cast(), intern!(py, "f_lasti").as_ptr());
            if obj.is_null() {
                return Err(PyErr::fetch(py));
            }
            let lasti = ffi::PyLong_AsLong(obj);
            ffi::Py_DecRef(obj);
            lasti as i32
        },
    };
    let key = (code.as_ptr() as usize, lasti);
    let front = front_slot(key);
    let hit = front.load(Ordering::Acquire);
    // SAFETY: a non-null slot points to a leaked, never mutated `Record`.
    if let Some(r) = unsafe { hit.as_ref() } {
        if (r.code, r.lasti) == key {
            return Ok(r.entry);
        }
    }
    let shared = match cache().try_read() {
        Ok(cache) => cache.entries.get(&key).copied(),
        Err(TryLockError::Poisoned(cache)) => cache.into_inner().entries.get(&key).copied(),
        Err(TryLockError::WouldBlock) => None,
    };
    let record = match shared {
        Some(record) => record,
        None => {
            // A miss: Python calls, with the cache unlocked.
            // SAFETY: as above.
            let line = unsafe { ffi::PyFrame_GetLineNumber(frame) };
            let file = code.getattr(intern!(py, "co_filename"))?;
            let file = file.cast::<PyString>()?.to_string_lossy();
            let entry = classify(py, &file, line);
            let mut cache = match cache().try_write() {
                Ok(cache) => cache,
                Err(TryLockError::Poisoned(cache)) => cache.into_inner(),
                Err(TryLockError::WouldBlock) => return Ok(entry),
            };
            if let Some(&record) = cache.entries.get(&key) {
                // Another thread got here first.
                record
            } else if cache.entries.len() >= MAX_ENTRIES {
                // Not kept alive: not remembered either.
                return Ok(entry);
            } else {
                let record: &'static Record = Box::leak(Box::new(Record {
                    code: key.0,
                    lasti: key.1,
                    entry,
                }));
                cache.entries.insert(key, record);
                cache
                    .codes
                    .entry(key.0)
                    .or_insert_with(|| code.clone().unbind());
                record
            }
        }
    };
    front.store(record as *const Record as *mut Record, Ordering::Release);
    Ok(record.entry)
}

/// The site of whatever has no Python frame.
fn unknown_site() -> Site {
    static UNKNOWN: OnceLock<Site> = OnceLock::new();
    *UNKNOWN.get_or_init(|| Site::intern("<unknown>", 0))
}

fn caller_site_or_err(py: Python<'_>) -> PyResult<Site> {
    // SAFETY: attached; the result is a borrowed reference (or NULL: no Python frame).
    let top = unsafe { ffi::PyEval_GetFrame() };
    if top.is_null() {
        return Ok(unknown_site());
    }
    let first = frame_entry(py, top)?;
    if first.frame != Frame::Internal {
        return Ok(first.site);
    }
    // Made inside threadkit: the first frame further out that is not threadkit's.
    // SAFETY: `top` is a live frame (borrowed, the thread is attached).
    let mut frame = unsafe { Bound::from_borrowed_ptr(py, top.cast::<ffi::PyObject>()) };
    loop {
        let back = frame.getattr(intern!(py, "f_back"))?;
        if back.is_none() {
            return Ok(first.site);
        }
        let entry = frame_entry(py, back.as_ptr().cast::<ffi::PyFrameObject>())?;
        match entry.frame {
            Frame::User => return Ok(entry.site),
            Frame::Boundary => return Ok(first.site),
            Frame::Internal => frame = back,
        }
    }
}

/// The site of the Python code that called the constructor running now.
pub(crate) fn caller_site(py: Python<'_>) -> Site {
    // A failure to read a frame never fails a constructor.
    caller_site_or_err(py).unwrap_or_else(|_| unknown_site())
}

/// The `name=` argument of a constructor: a `str` or None, else `TypeError` as CPython's
/// argument parser words it (`Lock() argument 'name' must be str or None, not int`).
pub(crate) fn name_arg(owner: &str, name: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<str>>> {
    match name {
        None => Ok(None),
        Some(n) if n.is_none() => Ok(None),
        Some(n) => match n.cast::<PyString>() {
            Ok(s) => Ok(Some(Arc::from(&*s.to_string_lossy()))),
            Err(_) => Err(PyTypeError::new_err(format!(
                "{owner}() argument 'name' must be str or None, not {}",
                n.get_type().name()?
            ))),
        },
    }
}

/// A name given where a subclass may mean something else by `name`: a `str` names the
/// primitive; anything else is the subclass's business (its `__init__` checks).
pub(crate) fn lenient_name(name: Option<&Bound<'_, PyAny>>) -> Option<Arc<str>> {
    name.and_then(|n| n.cast::<PyString>().ok())
        .map(|s| Arc::from(&*s.to_string_lossy()))
}

/// The label of a primitive being constructed: `name` (already checked) and the caller's site,
/// or the `_label` a threadkit module passed (a `_core.Label`, e.g. a `PriorityQueue`'s for its
/// lock), whose name `name` replaces if given.
#[inline]
pub(crate) fn label(
    py: Python<'_>,
    name: Option<Arc<str>>,
    given: Option<&Bound<'_, PyAny>>,
) -> PyResult<Label> {
    if name.is_none() && given.is_none() {
        return Ok(Label::new(None, caller_site(py)));
    }
    let label = match given.filter(|g| !g.is_none()) {
        Some(g) => g.cast::<PyLabel>()?.get().label.clone(),
        None => Label::new(None, caller_site(py)),
    };
    Ok(match name {
        Some(name) => label.with_name(name),
        None => label,
    })
}

/// A primitive's label, as Python sees it (`primitive._label`): its `name` (or None) and
/// `site` (`"file.py:LINE"`), `file` and `line`.
#[pyclass(module = "threadkit._core", name = "Label", frozen)]
pub struct PyLabel {
    pub(crate) label: Label,
}

impl PyLabel {
    pub(crate) fn new(label: &Label) -> PyLabel {
        PyLabel {
            label: label.clone(),
        }
    }
}

#[pymethods]
impl PyLabel {
    /// The name given at construction, or None.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.label.name()
    }

    /// Where the primitive was created: `"file.py:LINE"`.
    #[getter]
    fn site(&self) -> String {
        self.label.site().to_string()
    }

    /// The file of the site.
    #[getter]
    fn file(&self) -> &'static str {
        self.label.site().file()
    }

    /// The line of the site.
    #[getter]
    fn line(&self) -> u32 {
        self.label.site().line()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<threadkit._core.Label {}>",
            repr_label(py, &self.label)?
        ))
    }
}

/// `name='inventory'` if the label has a name, else `site='app.py:12'`, each quoted as
/// Python's `repr` of a `str` quotes it: what every primitive's repr shows.
pub(crate) fn repr_label(py: Python<'_>, label: &Label) -> PyResult<String> {
    Ok(match label.name() {
        Some(name) => format!("name={}", PyString::new(py, name).repr()?),
        None => format!(
            "site={}",
            PyString::new(py, &label.site().to_string()).repr()?
        ),
    })
}

/// `owner='Thread-1 (restock)'`: the name of the thread with ident `ident` as the standard
/// library's `threading.enumerate()` knows it, or `owner=IDENT` for a thread it does not know.
pub(crate) fn repr_owner(py: Python<'_>, ident: u64) -> PyResult<String> {
    let threads = py.import("threading")?.call_method0("enumerate")?;
    for t in threads.try_iter()? {
        let t = t?;
        if t.getattr(intern!(py, "ident"))?.extract::<Option<u64>>()? == Some(ident) {
            let name = t.getattr(intern!(py, "name"))?;
            return Ok(format!("owner={}", name.repr()?));
        }
    }
    Ok(format!("owner={ident}"))
}

/// `_check_name(owner, name)`: `TypeError` unless `name` is a `str` or None, worded as a
/// constructor's (for the Python classes, whose `__new__` is lenient: see [`lenient_name`]).
#[pyfunction]
pub fn _check_name(owner: &str, name: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    name_arg(owner, name).map(|_| ())
}
