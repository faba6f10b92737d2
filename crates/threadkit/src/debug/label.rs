//! [`Site`] and [`Label`]: where a primitive was created and what it is called, and the
//! crate-private [`Tag`] every primitive stores (its label plus its contention counters).

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use super::contention::Stats;
use super::order::OrderClass;
use super::WaitKind;

/// Where a primitive was created: a Rust call site (`#[track_caller]`), or a site another
/// language gave (the Python bindings pass `file.py:LINE` through [`Site::intern`]).
///
/// `Copy` and two words. Sites compare by file, line and column.
///
/// ```
/// use threadkit::debug::Site;
///
/// let here = Site::caller();
/// assert!(here.file().ends_with(".rs"));
/// let py = Site::intern("app.py", 12);
/// assert_eq!(py.to_string(), "app.py:12");
/// assert_eq!(py, Site::intern("app.py", 12));
/// ```
#[derive(Clone, Copy)]
pub struct Site(Repr);

#[derive(Clone, Copy)]
enum Repr {
    Rust(&'static Location<'static>),
    Interned(&'static Interned),
}

/// An interned foreign site: leaked once per distinct `(file, line)`.
struct Interned {
    file: &'static str,
    line: u32,
}

/// Distinct interned sites and file names. Bounded by the distinct source lines that create
/// primitives, not by how many primitives they create.
pub(super) struct SiteTable {
    sites: HashMap<(&'static str, u32), &'static Interned>,
    files: HashMap<&'static str, ()>,
}

pub(super) static SITES: parking_lot::Mutex<Option<SiteTable>> = parking_lot::Mutex::new(None);

impl Site {
    /// The location of the caller (of the first function up the stack that is not
    /// `#[track_caller]`): what every primitive's constructor records.
    ///
    /// ```
    /// let site = threadkit::debug::Site::caller();
    /// assert_eq!(site.line(), line!() - 1);
    /// ```
    #[track_caller]
    pub fn caller() -> Site {
        Site(Repr::Rust(Location::caller()))
    }

    /// The site `file:line` of code in another language. Interned: the first call for a given
    /// `(file, line)` stores it for the life of the process, later calls find it (one hash
    /// lookup under a mutex), so keep it out of hot loops.
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) to give every primitive the
    /// Python frame that created it.
    ///
    /// ```
    /// let site = threadkit::debug::Site::intern("worker.py", 40);
    /// assert_eq!((site.file(), site.line(), site.column()), ("worker.py", 40, None));
    /// ```
    pub fn intern(file: &str, line: u32) -> Site {
        super::note_pid();
        let mut table = SITES.lock();
        let table = table.get_or_insert_with(|| SiteTable {
            sites: HashMap::new(),
            files: HashMap::new(),
        });
        if let Some((&file, _)) = table.files.get_key_value(file) {
            if let Some(&site) = table.sites.get(&(file, line)) {
                return Site(Repr::Interned(site));
            }
        }
        let file: &'static str = match table.files.get_key_value(file) {
            Some((&f, _)) => f,
            None => {
                let f: &'static str = Box::leak(file.into());
                table.files.insert(f, ());
                f
            }
        };
        let site: &'static Interned = Box::leak(Box::new(Interned { file, line }));
        table.sites.insert((file, line), site);
        Site(Repr::Interned(site))
    }

    /// The source file.
    ///
    /// ```
    /// assert_eq!(threadkit::debug::Site::intern("a.py", 1).file(), "a.py");
    /// ```
    pub fn file(&self) -> &'static str {
        match self.0 {
            Repr::Rust(l) => l.file(),
            Repr::Interned(i) => i.file,
        }
    }

    /// The line, from 1.
    ///
    /// ```
    /// assert_eq!(threadkit::debug::Site::intern("a.py", 7).line(), 7);
    /// ```
    pub fn line(&self) -> u32 {
        match self.0 {
            Repr::Rust(l) => l.line(),
            Repr::Interned(i) => i.line,
        }
    }

    /// The column of a Rust site; `None` for an interned one.
    ///
    /// ```
    /// assert!(threadkit::debug::Site::caller().column().is_some());
    /// ```
    pub fn column(&self) -> Option<u32> {
        match self.0 {
            Repr::Rust(l) => Some(l.column()),
            Repr::Interned(_) => None,
        }
    }
}

impl PartialEq for Site {
    fn eq(&self, other: &Self) -> bool {
        (self.file(), self.line(), self.column()) == (other.file(), other.line(), other.column())
    }
}

impl Eq for Site {}

impl Hash for Site {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.file(), self.line(), self.column()).hash(state);
    }
}

/// `file:line`, as Python tracebacks and the reports show it.
impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file(), self.line())
    }
}

impl fmt::Debug for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column() {
            Some(c) => write!(f, "{}:{}:{}", self.file(), self.line(), c),
            None => write!(f, "{}:{}", self.file(), self.line()),
        }
    }
}

/// What a primitive is called in reports, dumps and contention rows: an optional name and the
/// [`Site`] that created it. Every threadkit primitive has one (`Lock::label()`...).
///
/// Displays as `'name'` when named, `created at file:line` otherwise, so that a kind before it
/// reads `Lock 'inventory'` or `Lock created at app.py:12`.
///
/// ```
/// use threadkit::debug::{Label, Site};
/// use threadkit::Lock;
///
/// let lock = Lock::named("inventory");
/// assert_eq!(lock.label().name(), Some("inventory"));
/// assert_eq!(lock.label().to_string(), "'inventory'");
///
/// let anonymous = Label::new(None, Site::intern("app.py", 12));
/// assert_eq!(format!("Lock {anonymous}"), "Lock created at app.py:12");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Label {
    name: Option<Arc<str>>,
    site: Site,
}

impl Label {
    /// A label with `name` (if any) and `site`.
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let l = Label::new(Some("jobs".into()), Site::intern("q.py", 3));
    /// assert_eq!((l.name(), l.site().line()), (Some("jobs"), 3));
    /// ```
    pub fn new(name: Option<Arc<str>>, site: Site) -> Label {
        Label { name, site }
    }

    /// An unnamed label for the caller's location.
    ///
    /// ```
    /// let l = threadkit::debug::Label::here();
    /// assert_eq!((l.name(), l.site().line()), (None, line!() - 1));
    /// ```
    #[track_caller]
    pub fn here() -> Label {
        Label::new(None, Site::caller())
    }

    /// The same label with `name`.
    ///
    /// ```
    /// let l = threadkit::debug::Label::here().with_name("log");
    /// assert_eq!(l.name(), Some("log"));
    /// ```
    #[must_use]
    pub fn with_name(self, name: impl Into<Arc<str>>) -> Label {
        Label {
            name: Some(name.into()),
            ..self
        }
    }

    /// The name, if one was given.
    ///
    /// ```
    /// assert_eq!(threadkit::Lock::new().label().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the primitive was created.
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert_eq!(lock.label().site().line(), line!() - 1);
    /// ```
    pub fn site(&self) -> Site {
        self.site
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "'{name}'"),
            None => write!(f, "created at {}", self.site),
        }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Label")
            .field("name", &self.name())
            .field("site", &self.site)
            .finish()
    }
}

/// What every primitive stores: its [`Label`] and, once it has been contended, a pointer to the
/// contention counters of that label (so the slow path finds them without a global lookup).
pub(crate) struct Tag {
    pub(crate) label: Label,
    /// Null until the first contended wait; then a counter block that lives forever.
    stats: AtomicPtr<Stats>,
    /// The lock-order class (debug mode; unchecked otherwise).
    pub(crate) order: OrderClass,
}

impl Tag {
    /// A tag for the caller's location.
    #[track_caller]
    pub(crate) fn here() -> Tag {
        Tag::new(Label::here())
    }

    pub(crate) fn new(label: Label) -> Tag {
        Tag {
            label,
            stats: AtomicPtr::new(std::ptr::null_mut()),
            order: OrderClass::new(),
        }
    }

    /// Renames (builder-style constructors, before the primitive is shared).
    pub(crate) fn set_name(&mut self, name: Arc<str>) {
        self.label.name = Some(name);
    }

    /// Relabels (before the primitive is shared).
    pub(crate) fn set_label(&mut self, label: Label) {
        self.label = label;
    }

    /// The contention counters of this label for `kind` (slow path only).
    pub(crate) fn stats(&self, kind: WaitKind) -> &'static Stats {
        let p = self.stats.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: a non-null pointer here was stored below from a `&'static Stats`.
            return unsafe { &*p };
        }
        let stats = super::contention::stats_for(kind.primitive(), &self.label);
        self.stats
            .store(stats as *const Stats as *mut Stats, Ordering::Release);
        stats
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.label.fmt(f)
    }
}
