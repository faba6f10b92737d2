//! [`Thread`], [`Builder`] and the thread registry: Python's `threading.Thread`,
//! `current_thread`, `main_thread`, `enumerate`, `active_count` and `excepthook`.
//!
//! Every thread that threadkit knows about has a [`Thread`] handle: a cheap clonable reference to
//! its name, identifiers, daemon flag and life state. Threads started by [`Builder::spawn`] (or
//! [`spawn`]) are registered while they run; a thread threadkit did not start (the main thread,
//! a `std::thread`) gets an entry the first time it asks for [`current_thread`], as CPython's
//! `_MainThread` and `_DummyThread`.
//!
//! The registry can also be driven without [`Builder::spawn`]: a thread started by other means
//! (the Python bindings start theirs with `_thread.start_new_thread`) calls
//! [`Thread::mark_started`] first thing and [`Thread::mark_finished`] last, on a handle made
//! by [`Thread::new_unstarted`]; joins, `is_alive`, `enumerate` then work the same.
//!
//! Rust ends the process when `main` returns, daemon or not; call
//! [`wait_for_non_daemon_threads`] at the end of `main` to get Python's exit semantics.
//!
//! ```
//! use threadkit::{current_thread, Builder};
//!
//! let h = Builder::new()
//!     .name("worker")
//!     .spawn(|| current_thread().name())
//!     .unwrap();
//! let t = h.thread().clone();
//! assert_eq!(t.name(), "worker");
//! assert_eq!(h.join().unwrap(), "worker");
//! assert!(!t.is_alive());
//! ```

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Write};
use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicPtr;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::ident::{get_ident, get_native_id};
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};

// Life states of a thread.
/// Created, not started.
const NEW: usize = 0;
/// `Builder::spawn` claimed it and is starting the OS thread.
const STARTING: usize = 1;
/// Running: registered, alive.
const STARTED: usize = 2;
/// Done: unregistered; joins return.
const FINISHED: usize = 3;

// Kinds of thread.
const NORMAL: usize = 0;
const MAIN: usize = 1;
const DUMMY: usize = 2;

/// The global name counter behind `Thread-N` and `Dummy-N` (CPython's `_counter`, one for both).
/// Globals are plain std atomics: loom cannot model process-wide statics.
static NAME_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
/// Serial numbers of [`Thread`] handles.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The next `template-N` name, counting as CPython's `threading._newname` does.
fn new_name(template: &str) -> String {
    let n = NAME_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{template}-{n}")
}

/// Why joining a thread failed. The messages are CPython's.
///
/// ```
/// use threadkit::{current_thread, JoinError, Thread};
/// assert_eq!(current_thread().join(), Err(JoinError::CurrentThread));
/// let t = Thread::new_unstarted(None, None);
/// assert_eq!(t.join(), Err(JoinError::NotStarted));
/// assert_eq!(JoinError::NotStarted.to_string(), "cannot join thread before it is started");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinError {
    /// The thread joins itself (Python: `RuntimeError('cannot join current thread')`).
    CurrentThread,
    /// The thread was never started (Python: `RuntimeError('cannot join thread before it is started')`).
    NotStarted,
    /// The thread is a dummy entry for a thread threadkit did not start
    /// (Python: `RuntimeError('cannot join a dummy thread')`).
    Dummy,
    /// An [`Interrupt`] stopped the wait.
    Interrupted,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JoinError::CurrentThread => "cannot join current thread",
            JoinError::NotStarted => "cannot join thread before it is started",
            JoinError::Dummy => "cannot join a dummy thread",
            JoinError::Interrupted => "wait interrupted",
        })
    }
}

impl std::error::Error for JoinError {}

impl From<Interrupted> for JoinError {
    fn from(_: Interrupted) -> Self {
        JoinError::Interrupted
    }
}

/// Why starting a thread failed.
///
/// ```
/// use threadkit::{StartError, Thread};
/// let t = Thread::new_unstarted(None, None);
/// let h = threadkit::Builder::new().spawn(|| ()).unwrap();
/// assert!(matches!(h.thread().mark_started(), Err(StartError::AlreadyStarted)));
/// assert_eq!(StartError::AlreadyStarted.to_string(), "threads can only be started once");
/// # drop(t);
/// ```
#[derive(Debug)]
pub enum StartError {
    /// The thread was already started (Python: `RuntimeError('threads can only be started once')`).
    AlreadyStarted,
    /// The operating system refused to create the thread.
    Spawn(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::AlreadyStarted => f.write_str("threads can only be started once"),
            StartError::Spawn(e) => write!(f, "can't start new thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::AlreadyStarted => None,
            StartError::Spawn(e) => Some(e),
        }
    }
}

impl From<StartError> for io::Error {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Spawn(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Changing the daemon flag of a started thread (Python:
/// `RuntimeError('cannot set daemon status of active thread')`).
///
/// ```
/// let e = threadkit::current_thread().set_daemon(true).unwrap_err();
/// assert_eq!(e.to_string(), "cannot set daemon status of active thread");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DaemonError;

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot set daemon status of active thread")
    }
}

impl std::error::Error for DaemonError {}

/// Registering an exit callback after [`wait_for_non_daemon_threads`] began (Python:
/// `RuntimeError("can't register atexit after shutdown")`).
///
/// ```
/// assert_eq!(threadkit::AtexitError.to_string(), "can't register atexit after shutdown");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AtexitError;

impl fmt::Display for AtexitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("can't register atexit after shutdown")
    }
}

impl std::error::Error for AtexitError {}

struct Inner {
    serial: u64,
    name: Mutex<String>,
    ident: AtomicU64,
    native_id: AtomicU64,
    daemon: AtomicBool,
    kind: AtomicUsize,
    state: AtomicUsize,
    /// Guards state changes that waiters watch; `cv` wakes them.
    lock: Mutex<()>,
    cv: Condvar,
}

/// A handle to a thread known to threadkit: Python's `threading.Thread` object without the
/// `run` method. Cheap to clone; all clones are the same thread (equality is identity).
///
/// ```
/// use threadkit::{current_thread, spawn};
///
/// let h = spawn(|| current_thread());
/// let t = h.thread().clone();
/// let seen_inside = h.join().unwrap();
/// assert_eq!(seen_inside, t);
/// assert!(t.ident().is_some());
/// assert!(!t.is_alive());
/// ```
#[derive(Clone)]
pub struct Thread {
    inner: Arc<Inner>,
}

impl PartialEq for Thread {
    fn eq(&self, other: &Self) -> bool {
        self.inner.serial == other.inner.serial
    }
}

impl Eq for Thread {}

impl std::hash::Hash for Thread {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.serial.hash(state);
    }
}

impl Thread {
    fn with(name: String, daemon: bool, kind: usize, state: usize) -> Thread {
        Thread {
            inner: Arc::new(Inner {
                serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                name: Mutex::new(name),
                ident: AtomicU64::new(0),
                native_id: AtomicU64::new(0),
                daemon: AtomicBool::new(daemon),
                kind: AtomicUsize::new(kind),
                state: AtomicUsize::new(state),
                lock: Mutex::new(()),
                cv: Condvar::new(),
            }),
        }
    }

    /// A new, not yet started thread: Python's `Thread.__init__`. `name` defaults to `Thread-N`
    /// (one global counter, as CPython), `daemon` to the calling thread's flag.
    ///
    /// Start it with [`Thread::mark_started`] from inside the new OS thread (the low-level way,
    /// used by the Python bindings), or let [`Builder::spawn`] make one.
    ///
    /// ```
    /// use threadkit::Thread;
    /// let t = Thread::new_unstarted(Some("job".into()), Some(true));
    /// assert_eq!(t.name(), "job");
    /// assert!(t.is_daemon());
    /// assert!(!t.is_started() && !t.is_alive());
    /// assert!(Thread::new_unstarted(None, None).name().starts_with("Thread-"));
    /// ```
    pub fn new_unstarted(name: Option<String>, daemon: Option<bool>) -> Thread {
        let name = name.unwrap_or_else(|| new_name("Thread"));
        let daemon = daemon.unwrap_or_else(|| current_thread().is_daemon());
        Thread::with(name, daemon, NORMAL, NEW)
    }

    /// The thread's name.
    ///
    /// ```
    /// let t = threadkit::Thread::new_unstarted(Some("a".into()), None);
    /// assert_eq!(t.name(), "a");
    /// ```
    pub fn name(&self) -> String {
        self.inner.name.lock().clone()
    }

    /// Renames the thread (any time, as in Python).
    ///
    /// ```
    /// let t = threadkit::Thread::new_unstarted(None, None);
    /// t.set_name("renamed");
    /// assert_eq!(t.name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        *self.inner.name.lock() = name.into();
    }

    /// The thread's [`get_ident`](crate::get_ident) value, once started (kept after it ends).
    ///
    /// ```
    /// let me = threadkit::current_thread();
    /// assert_eq!(me.ident(), Some(threadkit::get_ident()));
    /// assert_eq!(threadkit::Thread::new_unstarted(None, None).ident(), None);
    /// ```
    pub fn ident(&self) -> Option<u64> {
        match self.inner.ident.load(Ordering::Acquire) {
            0 => None,
            i => Some(i),
        }
    }

    /// The thread's native (kernel) id, once started.
    ///
    /// ```
    /// let me = threadkit::current_thread();
    /// assert_eq!(me.native_id(), Some(threadkit::get_native_id()));
    /// ```
    pub fn native_id(&self) -> Option<u64> {
        match self.inner.native_id.load(Ordering::Acquire) {
            0 => None,
            i => Some(i),
        }
    }

    /// A number unique to this thread handle in this process (never reused), for maps keyed by
    /// thread.
    ///
    /// ```
    /// let a = threadkit::Thread::new_unstarted(None, None);
    /// assert_ne!(a.serial(), threadkit::Thread::new_unstarted(None, None).serial());
    /// assert_eq!(a.serial(), a.clone().serial());
    /// ```
    pub fn serial(&self) -> u64 {
        self.inner.serial
    }

    /// Whether this is a daemon thread: one that does not keep
    /// [`wait_for_non_daemon_threads`] waiting.
    ///
    /// ```
    /// let t = threadkit::Thread::new_unstarted(None, Some(true));
    /// assert!(t.is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon.load(Ordering::Relaxed)
    }

    /// Sets the daemon flag; only before the thread starts.
    ///
    /// # Errors
    /// [`DaemonError`] if the thread was started.
    ///
    /// ```
    /// let t = threadkit::Thread::new_unstarted(None, Some(false));
    /// t.set_daemon(true).unwrap();
    /// assert!(t.is_daemon());
    /// ```
    pub fn set_daemon(&self, daemon: bool) -> Result<(), DaemonError> {
        if self.inner.state.load(Ordering::Acquire) != NEW {
            return Err(DaemonError);
        }
        self.inner.daemon.store(daemon, Ordering::Relaxed);
        Ok(())
    }

    /// Whether the thread has been started (it may have finished since): Python's
    /// `_started.is_set()`.
    ///
    /// ```
    /// assert!(threadkit::current_thread().is_started());
    /// ```
    pub fn is_started(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) >= STARTED
    }

    /// Whether the thread is running: started and not finished.
    ///
    /// ```
    /// let h = threadkit::spawn(|| ());
    /// let t = h.thread().clone();
    /// h.join().unwrap();
    /// assert!(!t.is_alive());
    /// assert!(threadkit::current_thread().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == STARTED
    }

    /// Whether this is the main thread's entry (see [`main_thread`]).
    ///
    /// ```
    /// assert!(threadkit::main_thread().is_main());
    /// ```
    pub fn is_main(&self) -> bool {
        self.inner.kind.load(Ordering::Relaxed) == MAIN
    }

    /// Whether this is a dummy entry: a thread threadkit did not start, registered by
    /// [`current_thread`] (CPython's `_DummyThread`).
    ///
    /// ```
    /// let t = std::thread::spawn(threadkit::current_thread).join().unwrap();
    /// assert!(t.is_dummy());
    /// assert!(t.name().starts_with("Dummy-"));
    /// ```
    pub fn is_dummy(&self) -> bool {
        self.inner.kind.load(Ordering::Relaxed) == DUMMY
    }

    /// Claims an unstarted thread for starting, before its OS thread exists: Python's `start()`
    /// does this first, so that a second `start()` fails and the daemon flag is fixed from now
    /// on. The new OS thread then calls [`Thread::mark_started`]; if the OS thread cannot be
    /// created, [`Thread::release_claim`] makes the thread startable again.
    ///
    /// # Errors
    /// [`StartError::AlreadyStarted`] if the thread was claimed or started before.
    ///
    /// ```
    /// use threadkit::{StartError, Thread};
    /// let t = Thread::new_unstarted(None, Some(false));
    /// t.claim_start().unwrap();
    /// assert!(matches!(t.claim_start(), Err(StartError::AlreadyStarted)));
    /// assert!(t.set_daemon(true).is_err());
    /// assert!(!t.is_started());
    /// t.release_claim();
    /// t.claim_start().unwrap();
    /// ```
    pub fn claim_start(&self) -> Result<(), StartError> {
        self.inner
            .state
            .compare_exchange(NEW, STARTING, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| StartError::AlreadyStarted)
    }

    /// Gives back a claim made by [`Thread::claim_start`] whose OS thread could not be created:
    /// the thread is unstarted again. Does nothing if the thread is not claimed.
    ///
    /// ```
    /// let t = threadkit::Thread::new_unstarted(None, None);
    /// t.release_claim(); // not claimed: nothing happens
    /// t.claim_start().unwrap();
    /// t.release_claim();
    /// assert!(t.set_daemon(true).is_ok());
    /// ```
    pub fn release_claim(&self) {
        let _ =
            self.inner
                .state
                .compare_exchange(STARTING, NEW, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Records the calling OS thread as this thread: its ident and native id, the registry
    /// entry (so [`enumerate`] lists it), and [`current_thread`]. Call it first thing in the new
    /// thread; wakes [`Thread::wait_started`].
    ///
    /// # Errors
    /// [`StartError::AlreadyStarted`] if it was started before.
    ///
    /// ```
    /// use threadkit::Thread;
    /// let t = Thread::new_unstarted(Some("low-level".into()), Some(false));
    /// let t2 = t.clone();
    /// let os = std::thread::spawn(move || {
    ///     t2.mark_started().unwrap();
    ///     assert_eq!(threadkit::current_thread(), t2);
    ///     t2.mark_finished();
    /// });
    /// t.wait_started();
    /// t.join().unwrap();
    /// assert!(!t.is_alive());
    /// os.join().unwrap();
    /// ```
    pub fn mark_started(&self) -> Result<(), StartError> {
        {
            let _g = self.inner.lock.lock();
            let s = self.inner.state.load(Ordering::Acquire);
            if s != NEW && s != STARTING {
                return Err(StartError::AlreadyStarted);
            }
            self.inner.ident.store(get_ident(), Ordering::Release);
            self.inner
                .native_id
                .store(get_native_id(), Ordering::Release);
            {
                let mut reg = registry().lock();
                reg.threads.push(self.clone());
                self.inner.state.store(STARTED, Ordering::Release);
            }
            self.inner.cv.notify_all();
        }
        let _ = CURRENT.try_with(|c| {
            let old = c.slot.replace(Some(self.clone()));
            if let Some(old) = old {
                if old != *self {
                    old.finish();
                }
            }
        });
        Ok(())
    }

    /// Ends the thread: unregisters it, makes it not alive, wakes its joiners. Call it last thing
    /// in the thread (it is idempotent; a thread started by [`Builder::spawn`] does it itself).
    ///
    /// ```
    /// let t = threadkit::Thread::new_unstarted(None, None);
    /// t.mark_finished();
    /// assert!(!t.is_alive());
    /// ```
    pub fn mark_finished(&self) {
        let _ = CURRENT.try_with(|c| {
            let mine = c.slot.borrow().as_ref() == Some(self);
            if mine {
                c.slot.replace(None);
            }
        });
        self.finish();
    }

    fn finish(&self) {
        let _g = self.inner.lock.lock();
        if self.inner.state.load(Ordering::Acquire) == FINISHED {
            return;
        }
        {
            let mut reg = registry().lock();
            reg.threads.retain(|t| t != self);
            self.inner.state.store(FINISHED, Ordering::Release);
        }
        self.inner.cv.notify_all();
    }

    /// Blocks until the thread has been started (by [`Thread::mark_started`]).
    ///
    /// ```
    /// let h = threadkit::spawn(|| ());
    /// h.thread().wait_started();
    /// assert!(h.thread().is_started());
    /// ```
    pub fn wait_started(&self) {
        let r = self.wait_started_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    /// Waits until the thread has been started, or `deadline`, asking `interrupt` whether to
    /// give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt, Thread};
    /// let t = Thread::new_unstarted(None, None);
    /// assert_eq!(t.wait_started_interruptible(Deadline::now(), &mut NoInterrupt), Ok(false));
    /// ```
    pub fn wait_started_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted> {
        if self.is_started() {
            return Ok(true);
        }
        let g = self.inner.lock.lock();
        let (g, outcome) = wait_while(
            &self.inner.lock,
            &self.inner.cv,
            g,
            deadline,
            interrupt,
            |_| self.inner.state.load(Ordering::Acquire) < STARTED,
        );
        drop(g);
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    /// Waits for the thread to finish.
    ///
    /// # Errors
    /// [`JoinError::CurrentThread`], [`JoinError::NotStarted`] or [`JoinError::Dummy`], as in Python.
    ///
    /// ```
    /// let h = threadkit::spawn(|| 7);
    /// h.thread().join().unwrap();
    /// assert!(!h.thread().is_alive());
    /// assert_eq!(h.join().unwrap(), 7);
    /// ```
    pub fn join(&self) -> Result<(), JoinError> {
        self.join_interruptible(Deadline::never(), &mut NoInterrupt)
            .map(|_| ())
    }

    /// Waits at most `timeout` for the thread to finish; `Ok(false)` if it is still running.
    ///
    /// ```
    /// use std::time::Duration;
    /// let me = threadkit::current_thread();
    /// assert!(me.join_timeout(Duration::from_millis(1)).is_err()); // cannot join itself
    /// let h = threadkit::spawn(|| ());
    /// assert_eq!(h.join_timeout(Duration::from_secs(60)), Ok(true));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, JoinError> {
        self.join_until(Deadline::after(timeout))
    }

    /// Waits until `deadline` at most for the thread to finish; `Ok(false)` if it is still
    /// running.
    ///
    /// ```
    /// use threadkit::Deadline;
    /// let h = threadkit::spawn(|| ());
    /// assert_eq!(h.join_until(Deadline::never()), Ok(true));
    /// ```
    pub fn join_until(&self, deadline: Deadline) -> Result<bool, JoinError> {
        self.join_interruptible(deadline, &mut NoInterrupt)
    }

    /// Waits until `deadline` at most for the thread to finish, asking `interrupt` at its
    /// interval whether to give up. `Ok(false)` is a timeout.
    ///
    /// ```
    /// use threadkit::{Deadline, NoInterrupt};
    /// let h = threadkit::spawn(|| ());
    /// assert_eq!(h.join_interruptible(Deadline::never(), &mut NoInterrupt), Ok(true));
    /// ```
    pub fn join_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, JoinError> {
        let state = self.inner.state.load(Ordering::Acquire);
        if state == FINISHED {
            return Ok(true);
        }
        if self.is_dummy() {
            return Err(JoinError::Dummy);
        }
        if state < STARTED {
            return Err(JoinError::NotStarted);
        }
        if self.ident() == Some(get_ident()) {
            return Err(JoinError::CurrentThread);
        }
        let g = self.inner.lock.lock();
        let (g, outcome) = wait_while(
            &self.inner.lock,
            &self.inner.cv,
            g,
            deadline,
            interrupt,
            |_| self.inner.state.load(Ordering::Acquire) != FINISHED,
        );
        drop(g);
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(JoinError::Interrupted),
        }
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.inner.state.load(Ordering::Acquire) {
            NEW | STARTING => "initial",
            STARTED => "started",
            _ => "stopped",
        };
        let mut d = f.debug_struct("Thread");
        d.field("name", &self.name())
            .field("status", &status)
            .field("daemon", &self.is_daemon());
        if let Some(ident) = self.ident() {
            d.field("ident", &ident);
        }
        d.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// The registry

type HookFn = dyn Fn(&ExceptHookArgs<'_>) + Send + Sync;

struct Registry {
    /// Alive threads, in registration order.
    threads: Vec<Thread>,
    main: Option<Thread>,
    excepthook: Option<std::sync::Arc<HookFn>>,
    atexit: Vec<Box<dyn FnOnce() + Send>>,
    shutting_down: bool,
}

impl Registry {
    const fn new() -> Self {
        Registry {
            threads: Vec::new(),
            main: None,
            excepthook: None,
            atexit: Vec::new(),
            shutting_down: false,
        }
    }
}

/// The registry lives behind a pointer so that a child process after `fork()` can replace it
/// when another (now vanished) thread held its lock. A registry is never freed.
static REGISTRY: AtomicPtr<parking_lot::Mutex<Registry>> = AtomicPtr::new(std::ptr::null_mut());

fn registry() -> &'static parking_lot::Mutex<Registry> {
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
struct CurrentSlot {
    slot: RefCell<Option<Thread>>,
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
    static CURRENT: CurrentSlot = const { CurrentSlot { slot: RefCell::new(None) } };
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
    if reg.shutting_down {
        return Err(AtexitError);
    }
    reg.atexit.push(Box::new(f));
    Ok(())
}

/// Waits for every non-daemon thread to finish: what Python does when the main program ends.
/// Call it at the end of `main`.
///
/// First the callbacks of [`register_atexit`] run, then every thread pool stops taking work
/// and its workers finish what is queued and exit (as CPython's `concurrent.futures` exit hook),
/// then, called from the main thread, the main thread is marked finished (so
/// `main_thread().is_alive()` turns false for threads watching it, as in CPython), then every
/// alive non-daemon thread is joined, again until none is left (threads started meanwhile
/// count too). Daemon threads are not waited for; they die with the process.
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
        reg.shutting_down = true;
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
    crate::executor::shutdown_all_pools();
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
/// ```
/// // Without a fork this still makes the caller the only registered thread.
/// let h = std::thread::spawn(|| {
///     threadkit::reinit_after_fork();
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
    reg.shutting_down = false;
    drop(reg);
    crate::executor::pools_after_fork();
}

// ---------------------------------------------------------------------------------------------
// Panics and the excepthook

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

fn call_excepthook(args: &ExceptHookArgs<'_>) {
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

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// A panic caught by [`catch_panic`].
pub(crate) struct CaughtPanic {
    pub(crate) payload: Box<dyn Any + Send>,
    pub(crate) message: String,
    pub(crate) location: Option<String>,
}

thread_local! {
    /// Set while running code whose panics threadkit reports itself: the panic hook then
    /// records the location instead of printing.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK_INSTALLED: std::sync::Once = std::sync::Once::new();

/// Chains a panic hook that stays quiet for panics threadkit catches and reports (thread
/// targets go to the excepthook, tasks to their future), and calls the previous hook otherwise.
fn install_panic_hook() {
    HOOK_INSTALLED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let capturing = CAPTURING.try_with(|c| c.get()).unwrap_or(false);
            if capturing {
                let loc = info.location().map(|l| l.to_string());
                let _ = LAST_LOCATION.try_with(|l| *l.borrow_mut() = loc);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic quietly (no panic-hook output) with its message and location.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, CaughtPanic> {
    install_panic_hook();
    let was = CAPTURING.with(|c| c.replace(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(was));
    r.map_err(|payload| {
        let message = panic_message(&*payload);
        let location = LAST_LOCATION.with(|l| l.borrow_mut().take());
        CaughtPanic {
            payload,
            message,
            location,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Builder and JoinHandle

/// Configures and starts a threadkit thread: Python's `Thread(name=..., daemon=...).start()`.
///
/// ```
/// use threadkit::Builder;
/// let h = Builder::new().name("calc").daemon(true).stack_size(256 * 1024)
///     .spawn(|| 6 * 7)
///     .unwrap();
/// assert!(h.is_daemon());
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with every option unset: name `Thread-N`, daemon flag of the calling thread,
    /// the platform's stack size.
    ///
    /// ```
    /// let h = threadkit::Builder::new().spawn(|| ()).unwrap();
    /// assert!(h.name().starts_with("Thread-"));
    /// ```
    pub fn new() -> Self {
        Builder::default()
    }

    /// The thread's name.
    ///
    /// ```
    /// let h = threadkit::Builder::new().name("n").spawn(|| ()).unwrap();
    /// assert_eq!(h.name(), "n");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The daemon flag (default: the creating thread's).
    ///
    /// ```
    /// let h = threadkit::Builder::new().daemon(true).spawn(|| ()).unwrap();
    /// assert!(h.is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// The stack size in bytes.
    ///
    /// ```
    /// let h = threadkit::Builder::new().stack_size(1 << 20).spawn(|| 1).unwrap();
    /// assert_eq!(h.join().unwrap(), 1);
    /// ```
    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    /// Starts a thread running `f` and returns once it is registered (as Python's `start()`
    /// waits for the thread to have started). A panic in `f` goes to the excepthook, then to
    /// [`JoinHandle::join`] as `Err`.
    ///
    /// # Errors
    /// The operating system's error if it cannot create the thread.
    ///
    /// ```
    /// let h = threadkit::Builder::new().spawn(|| "done").unwrap();
    /// assert_eq!(h.join().unwrap(), "done");
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let thread = Thread::new_unstarted(self.name, self.daemon);
        Ok(spawn_thread(thread, self.stack_size, f)?)
    }
}

/// Starts `thread` (made by [`Thread::new_unstarted`]) running `f`; returns once it is
/// registered.
pub(crate) fn spawn_thread<F, T>(
    thread: Thread,
    stack_size: Option<usize>,
    f: F,
) -> Result<JoinHandle<T>, StartError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    thread.claim_start()?;
    let mut b = std::thread::Builder::new().name(thread.name().replace('\0', ""));
    if let Some(size) = stack_size {
        b = b.stack_size(size);
    }
    let t = thread.clone();
    let spawned = b.spawn(move || {
        t.mark_started()
            .expect("a thread claimed by spawn starts once");
        match catch_panic(f) {
            Ok(v) => {
                t.mark_finished();
                v
            }
            Err(p) => {
                call_excepthook(&ExceptHookArgs {
                    thread: &t,
                    message: &p.message,
                    location: p.location.as_deref(),
                    payload: &*p.payload,
                });
                t.mark_finished();
                panic::resume_unwind(p.payload)
            }
        }
    });
    match spawned {
        Ok(inner) => {
            thread.wait_started();
            Ok(JoinHandle { thread, inner })
        }
        Err(e) => {
            thread.release_claim();
            Err(StartError::Spawn(e))
        }
    }
}

/// Starts a thread with default options running `f` (panics if the OS cannot create one, as
/// `std::thread::spawn`).
///
/// ```
/// assert_eq!(threadkit::spawn(|| 1 + 1).join().unwrap(), 2);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Owns a threadkit thread's return value; derefs to its [`Thread`] (so `join_timeout`,
/// `is_alive`, `name`... work on it). Dropping it detaches the thread.
///
/// ```
/// use std::time::Duration;
/// let h = threadkit::spawn(|| 5);
/// assert_eq!(h.join_timeout(Duration::from_secs(60)), Ok(true)); // Thread::join_timeout
/// assert_eq!(h.join().unwrap(), 5); // JoinHandle::join: the value
/// ```
pub struct JoinHandle<T> {
    thread: Thread,
    inner: std::thread::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    /// The thread.
    ///
    /// ```
    /// let h = threadkit::spawn(|| ());
    /// let t: threadkit::Thread = h.thread().clone();
    /// h.join().unwrap();
    /// assert!(!t.is_alive());
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Waits for the thread and returns its value, or the panic payload if it panicked (the
    /// excepthook has already reported it).
    ///
    /// ```
    /// assert!(threadkit::Builder::new().spawn(|| 3).unwrap().join().is_ok());
    /// ```
    pub fn join(self) -> std::thread::Result<T> {
        self.inner.join()
    }

    /// Whether the OS thread has ended (so [`JoinHandle::join`] will not block).
    ///
    /// ```
    /// let h = threadkit::spawn(|| ());
    /// let _ = h.is_finished();
    /// h.join().unwrap();
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> Deref for JoinHandle<T> {
    type Target = Thread;
    fn deref(&self) -> &Thread {
        &self.thread
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}
