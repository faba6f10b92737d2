//! The registry of alive threads: [`current_thread`], [`enumerate`], program exit
//! ([`wait_for_non_daemon_threads`]), the process's one "shutting down" flag, the reset after
//! `fork()`, and the excepthook.
//!
//! Other parts of the crate that must act at exit (the thread pool) register a hook here
//! ([`register_exit_hook`]) instead of being called by name: this module depends on nothing
//! above it.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, AtomicU8};

use super::handle::{new_name, DUMMY, FINISHED, MAIN, STARTED};
use super::{AtexitError, Thread};
use crate::ident::{get_ident, get_native_id};
use crate::panic::panic_message;
use crate::sync::Ordering;

type HookFn = dyn Fn(&ExceptHookArgs<'_>) + Send + Sync;

pub(super) struct Registry {
    /// Alive threads, in registration order.
    pub(super) threads: Vec<Thread>,
    main: Option<Thread>,
    excepthook: Option<std::sync::Arc<HookFn>>,
    atexit: Vec<Box<dyn FnOnce() + Send>>,
}

impl Registry {
    const fn new() -> Self {
        Registry {
            threads: Vec::new(),
            main: None,
            excepthook: None,
            atexit: Vec::new(),
        }
    }
}

/// The registry lives behind a pointer so that a child process after `fork()` can replace it
/// when another (now vanished) thread held its lock. A registry is never freed.
static REGISTRY: AtomicPtr<parking_lot::Mutex<Registry>> = AtomicPtr::new(std::ptr::null_mut());

pub(super) fn registry() -> &'static parking_lot::Mutex<Registry> {
    let mut p = REGISTRY.load(std::sync::atomic::Ordering::Acquire);
    if p.is_null() {
        let fresh = Box::into_raw(Box::new(parking_lot::Mutex::new(Registry::new())));
        p = match REGISTRY.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            std::sync::atomic::Ordering::AcqRel,
            std::sync::atomic::Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(existing) => {
                // SAFETY: `fresh` came from Box::into_raw above and was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                existing
            }
        };
    }
    // SAFETY: a non-null REGISTRY pointer comes from Box::into_raw and is never freed.
    unsafe { &*p }
}

/// The calling thread's entry. Dropped when the OS thread exits: a dummy entry (or a thread that
/// never called `mark_finished`) is then unregistered.
pub(super) struct CurrentSlot {
    pub(super) slot: RefCell<Option<Thread>>,
}

impl Drop for CurrentSlot {
    fn drop(&mut self) {
        if let Some(t) = self.slot.get_mut().take() {
            if !t.is_main() {
                t.finish();
            }
        }
    }
}

thread_local! {
    pub(super) static CURRENT: CurrentSlot = const { CurrentSlot { slot: RefCell::new(None) } };
}

/// Whether the calling thread is the process's main thread, where the platform can tell.
fn on_main_thread() -> Option<bool> {
    #[cfg(all(target_os = "linux", not(loom)))]
    {
        // SAFETY: getpid has no preconditions and always succeeds.
        let pid = unsafe { libc::getpid() } as u64;
        Some(pid == get_native_id())
    }
    #[cfg(all(target_vendor = "apple", not(loom)))]
    {
        // SAFETY: pthread_main_np has no preconditions.
        Some(unsafe { libc::pthread_main_np() } != 0)
    }
    #[cfg(any(loom, not(any(target_os = "linux", target_vendor = "apple"))))]
    {
        None
    }
}

/// Makes the entry of a thread threadkit did not start: the main thread, or a dummy.
fn register_foreign() -> Thread {
    let is_main = on_main_thread();
    let mut reg = registry().lock();
    let is_main = is_main.unwrap_or(reg.main.is_none());
    let t = if is_main {
        match &reg.main {
            // Adopt the placeholder made by `main_thread()` from another thread.
            Some(m) if m.ident().is_none() => m.clone(),
            _ => {
                let m = Thread::with("MainThread".into(), false, MAIN, STARTED);
                reg.main = Some(m.clone());
                reg.threads.push(m.clone());
                m
            }
        }
    } else {
        let d = Thread::with(new_name("Dummy"), true, DUMMY, STARTED);
        reg.threads.push(d.clone());
        d
    };
    t.inner.ident.store(get_ident(), Ordering::Release);
    t.inner.native_id.store(get_native_id(), Ordering::Release);
    t
}

/// The calling thread's [`Thread`]: Python's `threading.current_thread()`.
///
/// A thread threadkit did not start gets an entry on first call: the main thread is
/// `MainThread` (non-daemon), any other a daemon `Dummy-N`, alive until it exits.
///
/// ```
/// // doc tests run on the main thread
/// let me = threadkit::current_thread();
/// assert_eq!(me.name(), "MainThread");
/// assert_eq!(me, threadkit::main_thread());
/// assert!(!me.is_daemon());
/// ```
pub fn current_thread() -> Thread {
    CURRENT
        .try_with(|c| {
            if let Some(t) = c.slot.borrow().as_ref() {
                return t.clone();
            }
            let t = register_foreign();
            *c.slot.borrow_mut() = Some(t.clone());
            t
        })
        // The thread is exiting (its thread-locals are gone): an unregistered stand-in.
        .unwrap_or_else(|_| Thread::with(new_name("Dummy"), true, DUMMY, STARTED))
}

/// The main thread's [`Thread`] (`MainThread`): Python's `threading.main_thread()`.
///
/// ```
/// let m = std::thread::spawn(threadkit::main_thread).join().unwrap();
/// assert_eq!(m.name(), "MainThread");
/// assert!(m.is_main());
/// ```
pub fn main_thread() -> Thread {
    if on_main_thread() == Some(true) {
        return current_thread();
    }
    let mut reg = registry().lock();
    if let Some(m) = &reg.main {
        return m.clone();
    }
    // Made from another thread: the main thread fills in its idents when it asks.
    let m = Thread::with("MainThread".into(), false, MAIN, STARTED);
    reg.main = Some(m.clone());
    reg.threads.push(m.clone());
    m
}

/// The alive threads (including the main thread and dummy entries): Python's
/// `threading.enumerate()`.
///
/// ```
/// let me = threadkit::current_thread();
/// assert!(threadkit::enumerate().contains(&me));
/// ```
pub fn enumerate() -> Vec<Thread> {
    registry().lock().threads.clone()
}

/// The number of alive threads, `enumerate().len()`: Python's `threading.active_count()`.
///
/// ```
/// let _ = threadkit::current_thread();
/// assert!(threadkit::active_count() >= 1);
/// ```
pub fn active_count() -> usize {
    registry().lock().threads.len()
}

/// Registers `f` to run when [`wait_for_non_daemon_threads`] starts, before it waits (Python's
/// `threading._register_atexit`; callbacks run in reverse order of registration). The thread
/// pool uses it to let its workers go.
///
/// # Errors
/// [`AtexitError`] once shutdown has begun.
///
/// ```
/// threadkit::register_atexit(|| println!("bye")).unwrap();
/// ```
pub fn register_atexit(f: impl FnOnce() + Send + 'static) -> Result<(), AtexitError> {
    let mut reg = registry().lock();
    if SHUTDOWN_PHASE.load(std::sync::atomic::Ordering::SeqCst) >= EXITING {
        return Err(AtexitError);
    }
    reg.atexit.push(Box::new(f));
    Ok(())
}

/// Waits for every non-daemon thread to finish: what Python does when the main program ends.
/// Call it at the end of `main`.
///
/// First the callbacks of [`register_atexit`] run (registering more fails from the start),
/// then the process is marked as shutting down (pools refuse new work from then on) and every
/// thread pool stops taking work and its workers finish what is queued and exit (as CPython's
/// `concurrent.futures` exit hook), then, called from the main thread, the main thread is
/// marked finished (so `main_thread().is_alive()` turns false for threads watching it, as in
/// CPython), then every alive non-daemon thread is joined, again until none is left (threads
/// started meanwhile count too). Daemon threads are not waited for; they die with the process.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let done = Arc::new(AtomicBool::new(false));
/// let d = done.clone();
/// threadkit::Builder::new()
///     .daemon(false)
///     .spawn(move || d.store(true, Ordering::SeqCst))
///     .unwrap();
/// threadkit::wait_for_non_daemon_threads();
/// assert!(done.load(Ordering::SeqCst));
/// ```
pub fn wait_for_non_daemon_threads() {
    let me = current_thread();
    let callbacks = {
        let mut reg = registry().lock();
        SHUTDOWN_PHASE.fetch_max(EXITING, std::sync::atomic::Ordering::SeqCst);
        std::mem::take(&mut reg.atexit)
    };
    for f in callbacks.into_iter().rev() {
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(f)) {
            let _ = writeln!(
                io::stderr().lock(),
                "Exception in threading atexit callback:\n{}",
                panic_message(&*p)
            );
        }
    }
    advance_shutdown(SHUT_DOWN);
    run_exit_hooks();
    if me.is_main() {
        me.finish();
    }
    loop {
        let pending: Vec<Thread> = registry()
            .lock()
            .threads
            .iter()
            .filter(|t| !t.is_daemon() && *t != &me && !t.is_main() && !t.is_dummy())
            .cloned()
            .collect();
        if pending.is_empty() {
            break;
        }
        for t in pending {
            let _ = t.join();
        }
    }
}

/// Resets the registry in a child process after `fork()`: only the calling thread survives, and
/// it becomes the main thread (CPython's `threading._after_fork`). Other threads' handles read
/// as finished; exit callbacks and the shutdown flag are cleared.
///
/// Called by the Python bindings (`crates/threadkit-python`) in a child process, from
/// `os.register_at_fork(after_in_child=...)`.
///
/// ```
/// // Without a fork this still makes the caller the only registered thread.
/// let h = std::thread::spawn(|| {
///     threadkit::raw::reinit_after_fork();
///     let me = threadkit::current_thread();
///     (me.is_main(), threadkit::active_count(), me == threadkit::main_thread())
/// });
/// assert_eq!(h.join().unwrap(), (true, 1, true));
/// ```
pub fn reinit_after_fork() {
    let me = current_thread();
    let reg_lock = registry();
    let mut reg = match reg_lock.try_lock() {
        Some(g) => g,
        None => {
            // A thread that does not exist in the child held the lock: start a new registry.
            let fresh = Box::into_raw(Box::new(parking_lot::Mutex::new(Registry::new())));
            REGISTRY.store(fresh, std::sync::atomic::Ordering::Release);
            registry().lock()
        }
    };
    for t in reg.threads.drain(..) {
        if t != me {
            // No lock: its holder may be gone. Joins check the state before locking.
            t.inner.state.store(FINISHED, Ordering::Release);
        }
    }
    if let Some(old) = reg.main.take() {
        if old != me {
            old.inner.state.store(FINISHED, Ordering::Release);
        }
    }
    me.inner.kind.store(MAIN, Ordering::Relaxed);
    me.inner.state.store(STARTED, Ordering::Release);
    me.inner.ident.store(get_ident(), Ordering::Release);
    me.inner.native_id.store(get_native_id(), Ordering::Release);
    reg.threads.push(me.clone());
    reg.main = Some(me);
    reg.atexit.clear();
    SHUTDOWN_PHASE.store(RUNNING, std::sync::atomic::Ordering::SeqCst);
    drop(reg);
    // The diagnostics' tables too: a thread gone in the child may have held their mutexes.
    crate::debug::reinit_after_fork();
}

// ---------------------------------------------------------------------------------------------
// Shutting down

/// How far the process is into shutting down: the one shutdown state every part of threadkit
/// asks (ARCHITECTURE.md, "Shutdown"). It only moves forward, [`RUNNING`] to [`EXITING`] to
/// [`SHUT_DOWN`], except in a child process after `fork()`, which starts again at
/// [`RUNNING`]. Written under the registry's lock, read without it.
///
/// The two steps are CPython's: `threading._shutdown` first closes `_register_atexit` and runs
/// its callbacks, and one of those (`concurrent.futures`' exit hook) then makes the pools
/// refuse work; a callback that runs before it may still submit.
static SHUTDOWN_PHASE: AtomicU8 = AtomicU8::new(RUNNING);
/// Not shutting down.
const RUNNING: u8 = 0;
/// [`wait_for_non_daemon_threads`] began: [`register_atexit`] refuses new callbacks while the
/// registered ones run (CPython's `threading._SHUTTING_DOWN`).
const EXITING: u8 = 1;
/// Shutting down: pools refuse new work (CPython's `concurrent.futures.thread._shutdown`).
/// Reached after the [`register_atexit`] callbacks, or at once by [`begin_shutdown`].
const SHUT_DOWN: u8 = 2;

/// Moves the shutdown state forward to `phase` (never back).
fn advance_shutdown(phase: u8) {
    let _reg = registry().lock();
    SHUTDOWN_PHASE.fetch_max(phase, std::sync::atomic::Ordering::SeqCst);
}

/// Marks the process as shut down (pools refuse work, [`register_atexit`] refuses callbacks),
/// as [`wait_for_non_daemon_threads`] does once its callbacks have run, without running
/// anything or waiting.
pub(crate) fn begin_shutdown() {
    advance_shutdown(SHUT_DOWN);
}

/// Whether the process is shut down: [`begin_shutdown`] ran, or [`wait_for_non_daemon_threads`]
/// got past its [`register_atexit`] callbacks.
pub(crate) fn is_shutting_down() -> bool {
    SHUTDOWN_PHASE.load(std::sync::atomic::Ordering::SeqCst) >= SHUT_DOWN
}

/// One registered exit hook; a list that only grows, linked through `next`, never freed, so
/// that reading it needs no lock (a lock could be left held by a thread gone at `fork()`).
struct ExitHook {
    run: fn(),
    next: *mut ExitHook,
}

static EXIT_HOOKS: AtomicPtr<ExitHook> = AtomicPtr::new(std::ptr::null_mut());

/// Registers `run` to be called by [`wait_for_non_daemon_threads`] after the
/// [`register_atexit`] callbacks and before the non-daemon threads are joined. For parts of the
/// crate that depend on this module (the thread pool shuts its pools down here): the registry
/// calls them without knowing them. Hooks run newest first; register each one once.
pub(crate) fn register_exit_hook(run: fn()) {
    let node = Box::into_raw(Box::new(ExitHook {
        run,
        next: std::ptr::null_mut(),
    }));
    let mut head = EXIT_HOOKS.load(std::sync::atomic::Ordering::Acquire);
    loop {
        // SAFETY: `node` came from Box::into_raw above and is not shared until the exchange.
        unsafe { (*node).next = head };
        match EXIT_HOOKS.compare_exchange_weak(
            head,
            node,
            std::sync::atomic::Ordering::AcqRel,
            std::sync::atomic::Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(actual) => head = actual,
        }
    }
}

fn run_exit_hooks() {
    let mut p = EXIT_HOOKS.load(std::sync::atomic::Ordering::Acquire);
    while !p.is_null() {
        // SAFETY: every node comes from Box::into_raw in register_exit_hook, is fully written
        // before it is published, and is never freed or changed afterwards.
        let hook = unsafe { &*p };
        (hook.run)();
        p = hook.next;
    }
}

// ---------------------------------------------------------------------------------------------
// The excepthook

/// What the excepthook receives about a panic that ended a threadkit thread: Python's
/// `threading.ExceptHookArgs`.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let seen = Arc::new(Mutex::new(String::new()));
/// let s = seen.clone();
/// threadkit::set_excepthook(Box::new(move |args: &threadkit::ExceptHookArgs<'_>| {
///     *s.lock().unwrap() = format!("{}: {}", args.thread.name(), args.message);
/// }));
/// let h = threadkit::Builder::new().name("boom").spawn(|| panic!("oops")).unwrap();
/// assert!(h.join().is_err());
/// assert_eq!(*seen.lock().unwrap(), "boom: oops");
/// threadkit::reset_excepthook();
/// ```
#[non_exhaustive]
pub struct ExceptHookArgs<'a> {
    /// The thread that panicked.
    pub thread: &'a Thread,
    /// The panic message (`"Box<dyn Any>"` if the payload was not a string).
    pub message: &'a str,
    /// Where the panic happened (`file:line:column`), when known.
    pub location: Option<&'a str>,
    /// The panic payload.
    pub payload: &'a (dyn Any + Send),
}

impl fmt::Debug for ExceptHookArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptHookArgs")
            .field("thread", self.thread)
            .field("message", &self.message)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Sets the function called when a panic ends a threadkit thread: Python's
/// `threading.excepthook = hook`. The hook runs in the panicking thread, before it is marked
/// finished.
///
/// ```
/// threadkit::set_excepthook(Box::new(|_args: &threadkit::ExceptHookArgs<'_>| {}));
/// assert!(threadkit::spawn(|| panic!("quiet")).join().is_err());
/// threadkit::reset_excepthook();
/// ```
pub fn set_excepthook(hook: Box<dyn Fn(&ExceptHookArgs<'_>) + Send + Sync>) {
    registry().lock().excepthook = Some(std::sync::Arc::from(hook));
}

/// Restores [`default_excepthook`].
///
/// ```
/// threadkit::reset_excepthook();
/// ```
pub fn reset_excepthook() {
    registry().lock().excepthook = None;
}

/// The default excepthook (Python's `threading.__excepthook__`): prints
/// `Exception in thread NAME:` and the panic to stderr.
///
/// ```
/// threadkit::set_excepthook(Box::new(threadkit::default_excepthook));
/// threadkit::reset_excepthook();
/// ```
pub fn default_excepthook(args: &ExceptHookArgs<'_>) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "Exception in thread {}:", args.thread.name());
    let _ = match args.location {
        Some(loc) => writeln!(err, "panicked at {loc}:\n{}", args.message),
        None => writeln!(err, "{}", args.message),
    };
}

pub(super) fn call_excepthook(args: &ExceptHookArgs<'_>) {
    let hook = registry().lock().excepthook.clone();
    let r = panic::catch_unwind(AssertUnwindSafe(|| match hook {
        Some(h) => h(args),
        None => default_excepthook(args),
    }));
    if let Err(p) = r {
        let _ = writeln!(
            io::stderr().lock(),
            "Exception in threading.excepthook:\n{}",
            panic_message(&*p)
        );
        default_excepthook(args);
    }
}
