//! Debug mode: lock-order checking, the way the Linux kernel's lockdep does it.
//!
//! # The model
//!
//! Locks ([`Lock`](crate::Lock), [`RLock`](crate::RLock), and through them a Condition's lock)
//! are grouped into *classes*: by name when they have one, else by the [`Site`] that created
//! them, so a lock made in a loop or once per object is one class. Each thread keeps the list
//! of locks it holds. A blocking acquisition without a timeout of a lock of class B while the
//! thread holds a lock of class A records the edge A -> B in one process-wide graph; an edge that
//! closes a cycle in that graph is a *potential deadlock*: threads taking those locks in those
//! orders at the same time would wait for each other forever, even if this run never did.
//!
//! What keeps it cheap: a lock created while debug mode is off has no class and never enters
//! this module (its fast path reads one more field of the lock); with it on, an acquisition
//! pushes onto a thread-local list and a release pops from it; edges go to the graph (one
//! mutex) only the first time a thread sees them (a per-thread cache of known edges), and
//! stacks are captured only then, or when a thread takes a lock class for the first time.
//!
//! What keeps it honest (no false reports):
//! - try-acquisitions and timed ones add no edge (they cannot wait forever), though the lock
//!   they take then counts as held;
//! - RLock re-entry adds nothing; two locks of one class nested add nothing (their order by
//!   class is unknown: give them different names);
//! - a plain `Lock` released by another thread than the one that took it (hand-off) stops
//!   counting as held by the taker; so does a lock freed while held;
//! - `allow(a, b)` exempts an order the program makes safe some other way, and a lock created
//!   with [`Lock::order_unchecked`](crate::Lock::order_unchecked) is never checked.
//!
//! Memory: classes by site live as long as the process (they are bounded by the program's
//! source lines); a class by name leaves the graph, with its edges, when its last lock is
//! freed, so a program that names millions of short-lived locks uniquely stays bounded.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use super::label::{Label, Site};
use super::WaitKind;
use crate::deadline::{Interrupt, Interrupted};
use crate::ident::get_ident;

// ---------------------------------------------------------------------------------------------
// The mode

/// 0: not read from the environment yet; 1: off; 2: on.
static MODE: AtomicU8 = AtomicU8::new(0);

/// Whether debug mode is on. The first call reads `THREADKIT_DEBUG` (on unless unset, empty,
/// `0`, `false`, `no` or `off`).
///
/// ```
/// threadkit::debug::enable();
/// assert!(threadkit::debug::is_enabled());
/// ```
pub fn is_enabled() -> bool {
    match MODE.load(Ordering::Relaxed) {
        2 => true,
        1 => false,
        _ => read_mode(),
    }
}

#[cold]
fn read_mode() -> bool {
    let on = std::env::var("THREADKIT_DEBUG").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "false" | "no" | "off")
    });
    let _ = MODE.compare_exchange(
        0,
        if on { 2 } else { 1 },
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    if MODE.load(Ordering::Relaxed) == 2 {
        super::asleep::start_watchdog();
        true
    } else {
        false
    }
}

/// Turns debug mode on: locks created from now on are order-checked, and the all-asleep
/// watchdog runs. Locks created before stay unchecked: call it before creating the locks of
/// interest (or set `THREADKIT_DEBUG=1` in the environment).
///
/// ```
/// threadkit::debug::enable();
/// let lock = threadkit::Lock::new();
/// assert!(lock.is_order_checked());
/// ```
pub fn enable() {
    MODE.store(2, Ordering::Relaxed);
    super::asleep::start_watchdog();
}

/// Turns debug mode off: no more edges are recorded and no more reports made, and locks
/// created from now on are unchecked.
///
/// ```
/// threadkit::debug::disable();
/// assert!(!threadkit::Lock::new().is_order_checked());
/// threadkit::debug::enable();
/// ```
pub fn disable() {
    MODE.store(1, Ordering::Relaxed);
}

// ---------------------------------------------------------------------------------------------
// Classes

/// A lock's class id as stored in its tag: [`UNCHECKED`], [`PENDING`] (checked, class not looked
/// up yet: the label may still change before the lock is shared) or an id.
pub(crate) const UNCHECKED: u32 = 0;
pub(crate) const PENDING: u32 = u32::MAX;
/// Set in the ids of classes by name, which are counted and freed with their last lock.
const NAMED: u32 = 1 << 31;

/// The initial class field of a new tag.
pub(crate) fn initial_class() -> u32 {
    if cfg!(loom) || !is_enabled() {
        UNCHECKED
    } else {
        PENDING
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum ClassKey {
    Name(Arc<str>),
    Site(Site),
}

struct Class {
    label: Label,
    kind: WaitKind,
    /// Locks of a class by name alive now.
    live: usize,
}

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdSet<T> = HashSet<T, BuildHasherDefault<IdHasher>>;

/// One edge of the order graph: a thread took `to` while holding `from`, first seen here.
#[derive(Clone)]
struct Edge {
    thread: u64,
    thread_name: Option<String>,
    from_stack: Option<Stack>,
    to_stack: Option<Stack>,
}

#[derive(Default)]
struct State {
    keys: HashMap<ClassKey, u32>,
    classes: HashMap<u32, Class>,
    next_id: u32,
    out: HashMap<u32, Vec<u32>>,
    edges: HashMap<(u32, u32), Edge>,
    /// Cycles reported, as their sorted edge lists.
    reported: HashSet<Vec<(u32, u32)>>,
    allowed: HashSet<(u32, u32)>,
    /// Allowed orders named before their classes existed.
    allowed_keys: Vec<(ClassKey, ClassKey)>,
}

static STATE: parking_lot::Mutex<Option<State>> = parking_lot::Mutex::new(None);

/// Bumped when a class leaves the graph: threads then drop their caches of known edges.
static EPOCH: AtomicU64 = AtomicU64::new(0);

fn key_of(label: &Label) -> ClassKey {
    match label.name() {
        Some(name) => ClassKey::Name(name.into()),
        None => ClassKey::Site(label.site()),
    }
}

/// The class of a lock with `label` (called once per lock, from [`OrderClass::resolve`]).
fn class_for(label: &Label, kind: WaitKind) -> u32 {
    super::note_pid();
    let key = key_of(label);
    let mut guard = STATE.lock();
    let state = guard.get_or_insert_with(State::default);
    let id = match state.keys.get(&key) {
        Some(&id) => id,
        None => {
            state.next_id += 1;
            let named = matches!(key, ClassKey::Name(_));
            // Ids never repeat (a freed class's stale cache entries then match nothing); 2^31
            // classes of either sort outlast any process.
            let id = (state.next_id & !NAMED) | if named { NAMED } else { 0 };
            state.keys.insert(key.clone(), id);
            state.classes.insert(
                id,
                Class {
                    label: label.clone(),
                    kind,
                    live: 0,
                },
            );
            let pending: Vec<(ClassKey, ClassKey)> = state.allowed_keys.clone();
            for (a, b) in pending {
                if let (Some(&a), Some(&b)) = (state.keys.get(&a), state.keys.get(&b)) {
                    state.allowed.insert((a, b));
                }
            }
            id
        }
    };
    if id & NAMED != 0 {
        if let Some(c) = state.classes.get_mut(&id) {
            c.live += 1;
        }
    }
    id
}

/// A named class's lock was freed: the class leaves with its last lock.
#[cold]
fn class_dropped(id: u32) {
    let mut guard = STATE.lock();
    let Some(state) = guard.as_mut() else { return };
    let Some(class) = state.classes.get_mut(&id) else {
        return;
    };
    class.live = class.live.saturating_sub(1);
    if class.live > 0 {
        return;
    }
    let class = state.classes.remove(&id).expect("present");
    state.keys.remove(&key_of(&class.label));
    state.out.remove(&id);
    for targets in state.out.values_mut() {
        targets.retain(|&t| t != id);
    }
    state.edges.retain(|&(a, b), _| a != id && b != id);
    state.allowed.retain(|&(a, b)| a != id && b != id);
    state
        .reported
        .retain(|c| !c.iter().any(|&(a, b)| a == id || b == id));
    EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// The class field every lock's tag carries.
pub(crate) struct OrderClass(AtomicU32);

impl OrderClass {
    pub(crate) fn new() -> Self {
        OrderClass(AtomicU32::new(initial_class()))
    }

    #[inline]
    pub(crate) fn is_checked(&self) -> bool {
        self.0.load(Ordering::Relaxed) != UNCHECKED
    }

    /// Never checked (before the lock is shared).
    pub(crate) fn uncheck(&mut self) {
        *self.0.get_mut() = UNCHECKED;
    }

    /// The class id, looked up the first time; `UNCHECKED` when debug mode is off.
    #[inline]
    fn resolve(&self, label: &Label, kind: WaitKind) -> u32 {
        match self.0.load(Ordering::Relaxed) {
            PENDING => self.look_up(label, kind),
            id => id,
        }
    }

    #[cold]
    fn look_up(&self, label: &Label, kind: WaitKind) -> u32 {
        match self.0.load(Ordering::Relaxed) {
            UNCHECKED => UNCHECKED,
            PENDING => {
                let id = class_for(label, kind);
                match self
                    .0
                    .compare_exchange(PENDING, id, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => id,
                    Err(other) => {
                        // Another thread looked it up first: give back this count.
                        if id & NAMED != 0 {
                            class_dropped(id);
                        }
                        other
                    }
                }
            }
            id => id,
        }
    }
}

impl Drop for OrderClass {
    fn drop(&mut self) {
        let id = *self.0.get_mut();
        if id != UNCHECKED && id != PENDING && id & NAMED != 0 {
            class_dropped(id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stacks

/// One frame of a [`Stack`]: a Python frame (the bindings capture those) or a Rust one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StackFrame {
    /// The source file.
    pub file: Arc<str>,
    /// The line, from 1 (0 if unknown).
    pub line: u32,
    /// The function.
    pub function: Arc<str>,
}

impl StackFrame {
    /// A frame.
    ///
    /// ```
    /// let f = threadkit::debug::StackFrame::new("app.py", 12, "restock");
    /// assert_eq!((f.line, &*f.function), (12, "restock"));
    /// ```
    pub fn new(file: impl Into<Arc<str>>, line: u32, function: impl Into<Arc<str>>) -> Self {
        StackFrame {
            file: file.into(),
            line,
            function: function.into(),
        }
    }
}

/// A call stack, outermost call first, captured where a lock was acquired.
///
/// Displays as a Python traceback does (without source lines):
///
/// ```
/// use threadkit::debug::{Stack, StackFrame};
/// let s = Stack::new(vec![StackFrame::new("app.py", 3, "<module>"), StackFrame::new("app.py", 9, "work")]);
/// assert_eq!(s.to_string(), "  File \"app.py\", line 3, in <module>\n  File \"app.py\", line 9, in work\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack(Arc<[StackFrame]>);

impl Stack {
    /// A stack of `frames`, outermost first.
    ///
    /// ```
    /// assert!(threadkit::debug::Stack::new(vec![]).frames().is_empty());
    /// ```
    pub fn new(frames: Vec<StackFrame>) -> Self {
        Stack(frames.into())
    }

    /// The frames, outermost first.
    ///
    /// ```
    /// # use threadkit::debug::{Stack, StackFrame};
    /// let s = Stack::new(vec![StackFrame::new("a.rs", 1, "main")]);
    /// assert_eq!(s.frames().len(), 1);
    /// ```
    pub fn frames(&self) -> &[StackFrame] {
        &self.0
    }

    /// The innermost frame: where the acquisition happened.
    ///
    /// ```
    /// # use threadkit::debug::{Stack, StackFrame};
    /// let s = Stack::new(vec![StackFrame::new("a.py", 1, "<module>"), StackFrame::new("a.py", 5, "f")]);
    /// assert_eq!(s.innermost().unwrap().line, 5);
    /// ```
    pub fn innermost(&self) -> Option<&StackFrame> {
        self.0.last()
    }

    /// The stack of the calling Rust code, from [`std::backtrace::Backtrace`] (frames of
    /// threadkit and the standard library left out; empty without debug symbols).
    ///
    /// ```
    /// let _ = threadkit::debug::Stack::capture_rust();
    /// ```
    pub fn capture_rust() -> Stack {
        let text = std::backtrace::Backtrace::force_capture().to_string();
        let mut frames = Vec::new();
        let mut function: Option<String> = None;
        for line in text.lines() {
            let t = line.trim_start();
            if let Some(at) = t.strip_prefix("at ") {
                if let Some(f) = function.take() {
                    let mut parts = at.rsplitn(3, ':');
                    let _col = parts.next();
                    let line_no = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
                    let file = parts.next().unwrap_or(at);
                    frames.push(StackFrame::new(file, line_no, f));
                }
            } else if let Some((_, name)) = t.split_once(": ") {
                function = Some(name.to_string());
            }
        }
        frames.retain(|f| {
            !(f.function.starts_with("std::")
                || f.function.starts_with("core::")
                || f.function.starts_with("alloc::")
                || f.function.starts_with("threadkit::")
                || f.function.starts_with("<threadkit::")
                || f.function.starts_with("__")
                || f.function.contains("rust_begin_unwind")
                || matches!(&*f.function, "clone3" | "start_thread" | "_start" | "main")
                || f.function.starts_with("__libc_start")
                || f.file.contains("/rustc/"))
        });
        frames.reverse();
        Stack::new(frames)
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for frame in self.0.iter() {
            writeln!(
                f,
                "  File \"{}\", line {}, in {}",
                frame.file, frame.line, frame.function
            )?;
        }
        Ok(())
    }
}

/// What a capture hook returns: the current thread's name (if it knows it) and stack.
///
/// ```
/// use threadkit::debug::{Captured, Stack};
/// let c = Captured { thread_name: Some("worker".into()), stack: Stack::new(vec![]) };
/// assert_eq!(c.thread_name.as_deref(), Some("worker"));
/// ```
#[derive(Clone, Debug)]
pub struct Captured {
    /// The thread's name in the caller's language (Python's `threading.current_thread().name`).
    pub thread_name: Option<String>,
    /// Its stack.
    pub stack: Stack,
}

type Capture = fn() -> Option<Captured>;

static CAPTURE: parking_lot::RwLock<Option<Capture>> = parking_lot::RwLock::new(None);

/// Replaces how debug mode captures the current thread's stack and name (the default: a Rust
/// backtrace and the std thread's name). The Python bindings install one that returns the
/// Python stack. It is called with no internal lock held, on the thread that acquires, and
/// locks it takes itself are not checked.
///
/// ```
/// use threadkit::debug::{set_stack_capture, Captured, Stack, StackFrame};
/// fn fixed() -> Option<Captured> {
///     Some(Captured { thread_name: None, stack: Stack::new(vec![StackFrame::new("x.py", 1, "f")]) })
/// }
/// set_stack_capture(Some(fixed));
/// set_stack_capture(None); // back to the default
/// ```
pub fn set_stack_capture(capture: Option<fn() -> Option<Captured>>) {
    *CAPTURE.write() = capture;
}

fn capture() -> (Option<String>, Option<Stack>) {
    let hook = *CAPTURE.read();
    set_in_hook(true);
    let captured = match hook {
        Some(hook) => hook(),
        None => Some(Captured {
            thread_name: current_name(),
            stack: Stack::capture_rust(),
        }),
    };
    set_in_hook(false);
    match captured {
        Some(c) => (c.thread_name.or_else(current_name), Some(c.stack)),
        None => (current_name(), None),
    }
}

fn current_name() -> Option<String> {
    let me = get_ident();
    super::report::registry_names()
        .remove(&me)
        .map(|(n, _)| n)
        .or_else(|| std::thread::current().name().map(String::from))
}

// ---------------------------------------------------------------------------------------------
// What each thread holds

struct Held {
    lock: usize,
    class: u32,
    stack: Option<Stack>,
}

struct PerThread {
    held: Vec<Held>,
    /// Classes this thread has taken (their first acquisition captured a stack): a bit per
    /// class for the first [`SEEN_BITS`] ids, a set beyond.
    seen_bits: Vec<u64>,
    seen_more: Option<IdSet<u32>>,
    /// A hook of this module runs on this thread: locks it takes are not checked.
    in_hook: bool,
    /// Edges this thread knows the graph has.
    known: Option<IdSet<u64>>,
    epoch: u64,
    /// A stack the edge check just captured, for the acquisition that follows.
    last_lock: usize,
    last_stack: Option<Stack>,
}

const SEEN_BITS: u32 = 1 << 16;

impl PerThread {
    #[inline]
    fn knows(&self, edge: u64) -> bool {
        self.known.as_ref().is_some_and(|k| k.contains(&edge))
    }

    #[inline]
    fn push(&mut self, held: Held) {
        self.held.push(held);
    }

    /// `lock` is no longer held (the last entry for it, usually the top).
    #[inline]
    fn remove_lock(&mut self, lock: usize) {
        if self.held.last().is_some_and(|h| h.lock == lock) {
            self.held.pop();
        } else if let Some(i) = self.held.iter().rposition(|h| h.lock == lock) {
            self.held.remove(i);
        }
    }

    /// Marks `class` seen; whether it was not before.
    #[inline]
    fn first_sight(&mut self, class: u32) -> bool {
        let n = class & !NAMED;
        if n < SEEN_BITS {
            let (word, bit) = ((n / 64) as usize, 1u64 << (n % 64));
            if word >= self.seen_bits.len() {
                self.seen_bits.resize(word + 1, 0);
            }
            let first = self.seen_bits[word] & bit == 0;
            self.seen_bits[word] |= bit;
            first
        } else {
            self.seen_more
                .get_or_insert_with(IdSet::default)
                .insert(class)
        }
    }
}

/// This thread's state, behind one thread-local (in a shared library every thread-local
/// access is a call).
struct Mine {
    /// How many checked locks this thread holds: a blocking acquisition with none held has no
    /// order to record and skips everything else.
    held: Cell<usize>,
    state: RefCell<PerThread>,
}

std::thread_local! {
    static MINE: Mine = const {
        Mine {
            held: Cell::new(0),
            state: RefCell::new(PerThread {
                held: Vec::new(),
                seen_bits: Vec::new(),
                seen_more: None,
                in_hook: false,
                known: None,
                epoch: 0,
                last_lock: 0,
                last_stack: None,
            }),
        }
    };
}

/// A lock a thread holds, as its waits publish it for readers on other threads (debug mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeldLock {
    /// The lock's address (a `Lock`'s; an RLock's inner lock's).
    pub(crate) lock: usize,
    pub(crate) class: u32,
    /// Where this acquisition happened, when debug mode captured its stack (the thread's first
    /// lock of this class, or a new order): the innermost frame.
    pub(crate) acquired_at: Option<StackFrame>,
}

/// The checked locks this thread holds, outermost first (empty with debug mode off). Called
/// on the slow path only, where a wait is about to be recorded.
pub(crate) fn held_locks() -> Vec<HeldLock> {
    if !holds_any() {
        return Vec::new();
    }
    with_mine(|m| {
        m.held
            .iter()
            .map(|h| HeldLock {
                lock: h.lock,
                class: h.class,
                acquired_at: h.stack.as_ref().and_then(|s| s.innermost().cloned()),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The label and kind of a class still in the graph.
pub(crate) fn class_label(id: u32) -> Option<(Label, WaitKind)> {
    let state = STATE.lock();
    let class = state.as_ref()?.classes.get(&id)?;
    Some((class.label.clone(), class.kind))
}

/// Whether this thread holds a checked lock.
#[inline]
pub(crate) fn holds_any() -> bool {
    MINE.try_with(|m| m.held.get()).unwrap_or(0) != 0
}

fn set_in_hook(on: bool) {
    let _ = MINE.try_with(|m| {
        if let Ok(mut m) = m.state.try_borrow_mut() {
            m.in_hook = on;
        }
    });
}

/// Locks released by another thread than their taker (or freed while held), to leave the
/// taker's list: `(taker, lock)`. `STALE_COUNT` lets every thread skip the mutex when empty.
static STALE: parking_lot::Mutex<Vec<(u64, usize)>> = parking_lot::Mutex::new(Vec::new());
static STALE_COUNT: AtomicUsize = AtomicUsize::new(0);

fn edge_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

/// Runs `f` on this thread's state, unless a hook of this module runs on this thread (or the
/// thread is exiting).
#[inline]
fn with_mine<R>(f: impl FnOnce(&mut PerThread) -> R) -> Option<R> {
    MINE.try_with(|mine| {
        let mut m = mine.state.try_borrow_mut().ok()?;
        if m.in_hook {
            return None;
        }
        if STALE_COUNT.load(Ordering::Relaxed) != 0 {
            drop_stale(&mut m);
        }
        let r = f(&mut m);
        mine.held.set(m.held.len());
        Some(r)
    })
    .ok()
    .flatten()
}

#[cold]
fn drop_stale(m: &mut PerThread) {
    let me = get_ident();
    let mut stale = STALE.lock();
    stale.retain(|&(taker, lock)| {
        if taker != me {
            return true;
        }
        m.remove_lock(lock);
        false
    });
    STALE_COUNT.store(stale.len(), Ordering::Relaxed);
}

/// A lock of `taker` stops counting as held (released by another thread, or freed).
#[cold]
pub(crate) fn forget_held(taker: u64, lock: usize) {
    if taker == 0 || !is_enabled() {
        return;
    }
    if taker == get_ident() {
        let _ = with_mine(|m| {
            m.remove_lock(lock);
        });
        return;
    }
    let mut stale = STALE.lock();
    stale.push((taker, lock));
    STALE_COUNT.store(stale.len(), Ordering::Relaxed);
}

/// The lock `lock` (address), with `label`, was just taken by this thread.
#[cold]
pub(crate) fn acquired(class: &OrderClass, lock: usize, label: &Label, kind: WaitKind) {
    if !is_enabled() {
        return;
    }
    let id = class.resolve(label, kind);
    if id == UNCHECKED {
        return;
    }
    // The common case: a class this thread has taken before, no stack to keep.
    let pushed = with_mine(|m| {
        if m.last_lock != lock && !m.first_sight(id) {
            m.push(Held {
                lock,
                class: id,
                stack: None,
            });
            true
        } else {
            false
        }
    });
    if pushed == Some(false) {
        acquired_with_stack(lock, id);
    }
}

/// The slow half of [`acquired`]: the acquisition's stack is kept (the one the order check
/// just took, or one taken now for a class this thread takes for the first time).
#[cold]
#[inline(never)]
fn acquired_with_stack(lock: usize, id: u32) {
    let reused = with_mine(|m| {
        if m.last_lock == lock {
            m.last_lock = 0;
            m.first_sight(id);
            let stack = m.last_stack.take();
            m.push(Held {
                lock,
                class: id,
                stack,
            });
            true
        } else {
            false
        }
    });
    if reused == Some(false) {
        let (_, stack) = capture();
        let _ = with_mine(|m| {
            m.push(Held {
                lock,
                class: id,
                stack,
            })
        });
    }
}

/// This thread released `lock`, which it took.
#[cold]
pub(crate) fn released(lock: usize) {
    let _ = with_mine(|m| {
        m.remove_lock(lock);
    });
}

/// Before a blocking acquisition without a timeout of `lock`: records the edges from every lock
/// this thread holds to it, and acts on a cycle one of them closes (through `interrupt`, which
/// may make the acquisition give up: only if `can_raise`).
#[cold]
pub(crate) fn before_blocking(
    class: &OrderClass,
    lock: usize,
    label: &Label,
    kind: WaitKind,
    can_raise: bool,
    interrupt: &mut dyn Interrupt,
) -> Result<(), Interrupted> {
    if !is_enabled() {
        return Ok(());
    }
    let id = class.resolve(label, kind);
    if id == UNCHECKED {
        return Ok(());
    }
    // The common case: every order from what this thread holds is known to it.
    let all_known = with_mine(|m| {
        let epoch = EPOCH.load(Ordering::Relaxed);
        if m.epoch != epoch {
            m.known = None;
            m.epoch = epoch;
        }
        m.held
            .iter()
            .all(|h| h.lock == lock || h.class == id || m.knows(edge_key(h.class, id)))
    });
    if all_known != Some(false) {
        return Ok(());
    }
    record_orders(lock, id, can_raise, interrupt)
}

/// The slow half of [`before_blocking`]: new orders go to the graph.
#[cold]
#[inline(never)]
fn record_orders(
    lock: usize,
    id: u32,
    can_raise: bool,
    interrupt: &mut dyn Interrupt,
) -> Result<(), Interrupted> {
    // The edges this thread has not seen yet, with the stack of the lock each comes from.
    let new = with_mine(|m| {
        let mut new: Vec<(u32, Option<Stack>)> = Vec::new();
        for h in &m.held {
            if h.lock == lock || h.class == id || new.iter().any(|(c, _)| *c == h.class) {
                continue;
            }
            if !m.knows(edge_key(h.class, id)) {
                new.push((h.class, h.stack.clone()));
            }
        }
        new
    })
    .unwrap_or_default();
    if new.is_empty() {
        return Ok(());
    }
    let (thread_name, stack) = capture();
    let me = get_ident();
    let action = super::deadlock_action();
    let raises = can_raise && action == super::DeadlockAction::Raise;
    let report = {
        let mut guard = STATE.lock();
        let state = guard.get_or_insert_with(State::default);
        let mut report = None;
        for (from, from_stack) in &new {
            let from = *from;
            if state.allowed.contains(&(from, id)) || state.edges.contains_key(&(from, id)) {
                continue;
            }
            state.edges.insert(
                (from, id),
                Edge {
                    thread: me,
                    thread_name: thread_name.clone(),
                    from_stack: from_stack.clone(),
                    to_stack: stack.clone(),
                },
            );
            state.out.entry(from).or_default().push(id);
            if report.is_none() && action != super::DeadlockAction::Ignore {
                report = state.cycle_through(from, id, raises);
            }
        }
        report
    };
    let _ = with_mine(|m| {
        for (from, _) in &new {
            m.known
                .get_or_insert_with(IdSet::default)
                .insert(edge_key(*from, id));
        }
        m.last_lock = lock;
        m.last_stack = stack;
    });
    match report {
        Some(report) => {
            set_in_hook(true);
            let r = interrupt.on_potential_deadlock(&report);
            set_in_hook(false);
            r
        }
        None => Ok(()),
    }
}

impl State {
    /// The shortest cycle the new edge `from -> to` closes, if not reported before.
    fn cycle_through(
        &mut self,
        from: u32,
        to: u32,
        raises: bool,
    ) -> Option<PotentialDeadlockReport> {
        // Breadth-first from `to` back to `from`.
        let mut parent: HashMap<u32, u32> = HashMap::new();
        let mut queue = VecDeque::from([to]);
        let mut found = to == from;
        while let Some(c) = queue.pop_front() {
            if c == from {
                found = true;
                break;
            }
            for &n in self.out.get(&c).map(Vec::as_slice).unwrap_or(&[]) {
                if n != to && !parent.contains_key(&n) && !self.allowed.contains(&(c, n)) {
                    parent.insert(n, c);
                    queue.push_back(n);
                }
            }
        }
        if !found {
            return None;
        }
        // The path to -> ... -> from, then the closing edge from -> to.
        let mut path = vec![from];
        let mut c = from;
        while c != to {
            c = parent[&c];
            path.push(c);
        }
        path.reverse();
        let mut pairs: Vec<(u32, u32)> = path.windows(2).map(|w| (w[0], w[1])).collect();
        pairs.insert(0, (from, to));
        let mut key = pairs.clone();
        key.sort_unstable();
        if !self.reported.insert(key) {
            return None;
        }
        let edges = pairs
            .iter()
            .map(|&(a, b)| {
                let e = &self.edges[&(a, b)];
                let (ca, cb) = (&self.classes[&a], &self.classes[&b]);
                OrderEdge {
                    held: ca.label.clone(),
                    held_kind: ca.kind,
                    acquired: cb.label.clone(),
                    acquired_kind: cb.kind,
                    thread: e.thread,
                    thread_name: e.thread_name.clone(),
                    held_stack: e.from_stack.clone(),
                    acquired_stack: e.to_stack.clone(),
                }
            })
            .collect();
        Some(PotentialDeadlockReport { edges, raises })
    }
}

/// Declares that taking `second` while holding `first` is safe even where the reverse order
/// also occurs: the program keeps them from running at once some other way (phases separated
/// by an Event or a Barrier, say). Edges `first -> second` are not recorded from then on.
/// Classes are named by a label: a lock's [`label`](crate::Lock::label), or a
/// [`Label`] with the name of a class by name.
///
/// ```
/// use threadkit::debug::{allow, Label, Site};
/// use threadkit::Lock;
/// let (a, b) = (Lock::named("setup"), Lock::named("run"));
/// allow(a.label(), b.label());
/// ```
pub fn allow(first: &Label, second: &Label) {
    super::note_pid();
    let (a, b) = (key_of(first), key_of(second));
    let mut guard = STATE.lock();
    let state = guard.get_or_insert_with(State::default);
    if let (Some(&x), Some(&y)) = (state.keys.get(&a), state.keys.get(&b)) {
        state.allowed.insert((x, y));
        // An edge already recorded stops counting.
        if state.edges.remove(&(x, y)).is_some() {
            if let Some(v) = state.out.get_mut(&x) {
                v.retain(|&t| t != y);
            }
        }
    }
    state.allowed_keys.push((a, b));
}

/// Forgets every recorded edge and report (classes and `allow`s stay); each thread's cache of
/// known edges is dropped on its next check. For tests.
///
/// ```
/// threadkit::debug::reset_lock_order();
/// ```
pub fn reset_lock_order() {
    let mut guard = STATE.lock();
    if let Some(state) = guard.as_mut() {
        state.out.clear();
        state.edges.clear();
        state.reported.clear();
    }
    EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// How many lock classes and orders (edges) the graph holds now: for tests and tools that
/// watch its memory (classes by name leave with their last lock).
///
/// ```
/// let (classes, orders) = threadkit::debug::lock_order_size();
/// assert!(orders <= classes * classes);
/// ```
pub fn lock_order_size() -> (usize, usize) {
    let guard = STATE.lock();
    guard
        .as_ref()
        .map_or((0, 0), |s| (s.classes.len(), s.edges.len()))
}

pub(super) fn unlock_after_fork() {
    super::unlock_after_fork(&STATE);
    super::unlock_after_fork(&STALE);
}

// ---------------------------------------------------------------------------------------------
// The report

/// One edge of a potential deadlock: `thread` took `acquired` while holding `held`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderEdge {
    /// The lock held.
    pub held: Label,
    /// Its kind (`Lock` or `RLock`).
    pub held_kind: WaitKind,
    /// The lock taken while holding it.
    pub acquired: Label,
    /// Its kind.
    pub acquired_kind: WaitKind,
    /// The thread that took them in this order first (its ident).
    pub thread: u64,
    /// Its name, if known.
    pub thread_name: Option<String>,
    /// Where that thread took `held` (captured the first time it took a lock of that class:
    /// `None` if it had taken one before).
    pub held_stack: Option<Stack>,
    /// Where it took `acquired`.
    pub acquired_stack: Option<Stack>,
}

impl OrderEdge {
    /// `'name'`, or `thread IDENT`.
    ///
    /// ```
    /// # fn f(e: &threadkit::debug::OrderEdge) -> String {
    /// e.display_thread()
    /// # }
    /// ```
    pub fn display_thread(&self) -> String {
        match &self.thread_name {
            Some(n) => format!("'{n}'"),
            None => format!("thread {}", self.thread),
        }
    }
}

/// A lock-order inversion: a cycle of edges "took B while holding A" that threads running at
/// the same time would turn into a deadlock. The first edge is the one that closed the cycle.
///
/// Displays as:
///
/// ```text
/// Potential deadlock (lock order inversion): 2 locks taken in opposite orders.
///
///   'write_log' took Lock 'inventory' while holding Lock 'log'
///     Lock 'log' taken at:
///       File "shop.py", line 20, in write_log
///     Lock 'inventory' taken at:
///       File "shop.py", line 21, in write_log
///   'restock' took Lock 'log' while holding Lock 'inventory'
///     ...
///
///   Scenario (each thread holds its first lock and waits for its second):
///     'write_log'  acquire Lock 'log', then Lock 'inventory'
///     'restock'    acquire Lock 'inventory', then Lock 'log'
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PotentialDeadlockReport {
    edges: Vec<OrderEdge>,
    raises: bool,
}

impl PotentialDeadlockReport {
    /// The edges of the cycle, the closing one first.
    ///
    /// ```
    /// # fn f(r: &threadkit::debug::PotentialDeadlockReport) {
    /// assert!(r.edges().len() >= 2);
    /// # }
    /// ```
    pub fn edges(&self) -> &[OrderEdge] {
        &self.edges
    }

    /// Whether the acquisition that found it gives up ([`DeadlockAction::Raise`](super::DeadlockAction::Raise)
    /// and an acquisition that can: not a Condition taking its lock back).
    ///
    /// ```
    /// # fn f(r: &threadkit::debug::PotentialDeadlockReport) -> bool {
    /// r.raises()
    /// # }
    /// ```
    pub fn raises(&self) -> bool {
        self.raises
    }

    /// The scenario lines: `'restock'  acquire Lock 'inventory', then Lock 'log'`.
    ///
    /// ```
    /// # fn f(r: &threadkit::debug::PotentialDeadlockReport) {
    /// assert_eq!(r.scenario().len(), r.edges().len());
    /// # }
    /// ```
    pub fn scenario(&self) -> Vec<String> {
        let width = self
            .edges
            .iter()
            .map(|e| e.display_thread().len())
            .max()
            .unwrap_or(0);
        self.edges
            .iter()
            .map(|e| {
                format!(
                    "{:width$}  acquire {} {}, then {} {}",
                    e.display_thread(),
                    e.held_kind.primitive(),
                    e.held,
                    e.acquired_kind.primitive(),
                    e.acquired
                )
            })
            .collect()
    }
}

impl fmt::Display for PotentialDeadlockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Potential deadlock (lock order inversion): {} locks taken in a cycle of orders.",
            self.edges.len()
        )?;
        for e in &self.edges {
            writeln!(
                f,
                "\n  {} took {} {} while holding {} {}",
                e.display_thread(),
                e.acquired_kind.primitive(),
                e.acquired,
                e.held_kind.primitive(),
                e.held
            )?;
            for (kind, label, stack) in [
                (e.held_kind, &e.held, &e.held_stack),
                (e.acquired_kind, &e.acquired, &e.acquired_stack),
            ] {
                writeln!(f, "    {} {} taken at:", kind.primitive(), label)?;
                match stack {
                    Some(s) if !s.frames().is_empty() => {
                        for line in s.to_string().lines() {
                            writeln!(f, "    {line}")?;
                        }
                    }
                    Some(_) => writeln!(f, "      (no stack)")?,
                    None => writeln!(
                        f,
                        "      (earlier in this thread; its first acquisition of this lock was elsewhere)"
                    )?,
                }
            }
        }
        writeln!(
            f,
            "\n  Scenario (each thread holds its first lock and waits for its second):"
        )?;
        for line in self.scenario() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// The error an acquisition gives up with when it closes a lock-order cycle and the action is
/// [`DeadlockAction::Raise`](super::DeadlockAction::Raise): a panic payload in Rust, Python's
/// `threadkit.PotentialDeadlockError`. The lock was not taken.
///
/// ```
/// # fn f(e: threadkit::debug::PotentialDeadlockError) {
/// eprintln!("{}", e.report());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PotentialDeadlockError {
    report: PotentialDeadlockReport,
}

impl PotentialDeadlockError {
    /// The error for `report`.
    ///
    /// ```
    /// # fn f(r: threadkit::debug::PotentialDeadlockReport) {
    /// let e = threadkit::debug::PotentialDeadlockError::new(r);
    /// # }
    /// ```
    pub fn new(report: PotentialDeadlockReport) -> Self {
        PotentialDeadlockError { report }
    }

    /// What was found.
    ///
    /// ```
    /// # fn f(e: &threadkit::debug::PotentialDeadlockError) {
    /// let _ = e.report().edges();
    /// # }
    /// ```
    pub fn report(&self) -> &PotentialDeadlockReport {
        &self.report
    }
}

impl fmt::Display for PotentialDeadlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report.fmt(f)
    }
}

impl std::error::Error for PotentialDeadlockError {}

type OrderHook = dyn Fn(&PotentialDeadlockReport) + Send + Sync;

static HOOK: parking_lot::Mutex<Option<Arc<OrderHook>>> = parking_lot::Mutex::new(None);

/// Replaces what a reported potential deadlock does (the default writes it to stderr). Runs
/// on the thread whose acquisition found it, with no internal lock held; locks it takes are
/// not checked. Python's `threadkit.deadlock_hook` receives both kinds of report.
///
/// ```
/// use threadkit::debug::{reset_potential_deadlock_hook, set_potential_deadlock_hook};
/// set_potential_deadlock_hook(Box::new(|report| eprintln!("{report}")));
/// reset_potential_deadlock_hook();
/// ```
pub fn set_potential_deadlock_hook(hook: Box<dyn Fn(&PotentialDeadlockReport) + Send + Sync>) {
    super::note_pid();
    *HOOK.lock() = Some(Arc::from(hook));
}

/// Puts back the default potential-deadlock hook (stderr).
///
/// ```
/// threadkit::debug::reset_potential_deadlock_hook();
/// ```
pub fn reset_potential_deadlock_hook() {
    *HOOK.lock() = None;
}

/// What [`Interrupt::on_potential_deadlock`](crate::Interrupt::on_potential_deadlock) does
/// unless overridden: if the report [`raises`](PotentialDeadlockReport::raises) (the action
/// is [`DeadlockAction::Raise`](super::DeadlockAction::Raise)), panics with
/// [`PotentialDeadlockError`] (the lock is not taken); otherwise calls the hook
/// ([`set_potential_deadlock_hook`]). With `Ignore` no report is made.
///
/// ```
/// # fn f(r: &threadkit::debug::PotentialDeadlockReport) {
/// let _ = threadkit::debug::default_on_potential_deadlock(r);
/// # }
/// ```
pub fn default_on_potential_deadlock(report: &PotentialDeadlockReport) -> Result<(), Interrupted> {
    if report.raises() {
        std::panic::panic_any(PotentialDeadlockError::new(report.clone()));
    }
    let hook = HOOK.lock().clone();
    match hook {
        Some(hook) => hook(report),
        None => super::write_report(report),
    }
    Ok(())
}
