//! [`Thread`]: the handle to one thread, its identifiers and its life state, and the joins.

use std::fmt;
use std::time::Duration;

use super::registry::{current_thread, registry, CURRENT};
use super::{DaemonError, JoinError, StartError};
use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{wait_while_watched, HeldBy, Label, Site, WaitKind, WaitOn, Waitable, Waiting};
use crate::ident::{get_ident, get_native_id};
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};

// Life states of a thread.
/// Created, not started.
pub(super) const NEW: usize = 0;
/// `Builder::spawn` claimed it and is starting the OS thread.
pub(super) const STARTING: usize = 1;
/// Running: registered, alive.
pub(super) const STARTED: usize = 2;
/// Done: unregistered; joins return.
pub(super) const FINISHED: usize = 3;

// Kinds of thread.
pub(super) const NORMAL: usize = 0;
pub(super) const MAIN: usize = 1;
pub(super) const DUMMY: usize = 2;

/// The global name counter behind `Thread-N` and `Dummy-N` (CPython's `_counter`, one for both).
/// Globals are plain std atomics: loom cannot model process-wide statics.
static NAME_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
/// Serial numbers of [`Thread`] handles.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The next `template-N` name, counting as CPython's `threading._newname` does.
pub(super) fn new_name(template: &str) -> String {
    let n = NAME_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{template}-{n}")
}

pub(super) struct Inner {
    pub(super) serial: u64,
    pub(super) name: Mutex<String>,
    pub(super) ident: AtomicU64,
    pub(super) native_id: AtomicU64,
    pub(super) daemon: AtomicBool,
    pub(super) kind: AtomicUsize,
    pub(super) state: AtomicUsize,
    /// Where the thread was created (`#[track_caller]`, or a site the bindings give): with the
    /// name, the label of a join in wait records and deadlock reports.
    pub(super) site: Mutex<Site>,
    /// Guards state changes that waiters watch; `cv` wakes them.
    pub(super) lock: Mutex<()>,
    pub(super) cv: Condvar,
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
    pub(super) inner: Arc<Inner>,
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
    #[track_caller]
    pub(super) fn with(name: String, daemon: bool, kind: usize, state: usize) -> Thread {
        Thread {
            inner: Arc::new(Inner {
                serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                name: Mutex::new(name),
                ident: AtomicU64::new(0),
                native_id: AtomicU64::new(0),
                daemon: AtomicBool::new(daemon),
                kind: AtomicUsize::new(kind),
                state: AtomicUsize::new(state),
                site: Mutex::new(Site::caller()),
                lock: Mutex::new(()),
                cv: Condvar::new(),
            }),
        }
    }

    /// The thread's name.
    ///
    /// ```
    /// let h = threadkit::Builder::new().name("a").spawn(|| ()).unwrap();
    /// assert_eq!(h.thread().name(), "a");
    /// ```
    pub fn name(&self) -> String {
        self.inner.name.lock().clone()
    }

    /// What deadlock reports and thread dumps call the thread when another waits for it (a
    /// join): its name, and where it was created (the code that called
    /// [`Builder::spawn`](crate::Builder::spawn), [`spawn`](crate::spawn) or
    /// [`Timer::new`](crate::Timer::new); for a Python thread, the Python line that made it).
    ///
    /// ```
    /// let h = threadkit::Builder::new().name("loader").spawn(|| ()).unwrap();
    /// let label = h.thread().label();
    /// assert_eq!(label.name(), Some("loader"));
    /// assert_eq!(label.site().line(), line!() - 3);
    /// # h.join().unwrap();
    /// ```
    pub fn label(&self) -> Label {
        self.inner.label()
    }

    /// Renames the thread (any time, as in Python).
    ///
    /// ```
    /// let t = threadkit::current_thread();
    /// t.set_name("renamed");
    /// assert_eq!(threadkit::current_thread().name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        *self.inner.name.lock() = name.into();
    }

    /// The thread's [`get_ident`](crate::get_ident) value, once started (kept after it ends).
    ///
    /// ```
    /// let me = threadkit::current_thread();
    /// assert_eq!(me.ident(), Some(threadkit::get_ident()));
    /// let timer = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// assert_eq!(timer.thread().ident(), None); // not started
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
    /// let a = threadkit::current_thread();
    /// let b = threadkit::spawn(threadkit::current_thread).join().unwrap();
    /// assert_ne!(a.serial(), b.serial());
    /// assert_eq!(a.serial(), a.clone().serial());
    /// ```
    pub fn serial(&self) -> u64 {
        self.inner.serial
    }

    /// Whether this is a daemon thread: one that does not keep
    /// [`wait_for_non_daemon_threads`](crate::wait_for_non_daemon_threads) waiting.
    ///
    /// ```
    /// let h = threadkit::Builder::new().daemon(true).spawn(|| ()).unwrap();
    /// assert!(h.thread().is_daemon());
    /// assert!(!threadkit::main_thread().is_daemon());
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
    /// let timer = threadkit::Timer::new(std::time::Duration::ZERO, || ());
    /// let t = timer.thread(); // not started yet
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

    /// Whether this is the main thread's entry (see [`main_thread`](crate::main_thread)).
    ///
    /// ```
    /// assert!(threadkit::main_thread().is_main());
    /// ```
    pub fn is_main(&self) -> bool {
        self.inner.kind.load(Ordering::Relaxed) == MAIN
    }

    /// Whether this is a dummy entry: a thread threadkit did not start, registered by
    /// [`current_thread`](crate::current_thread) (CPython's `_DummyThread`).
    ///
    /// ```
    /// let t = std::thread::spawn(threadkit::current_thread).join().unwrap();
    /// assert!(t.is_dummy());
    /// assert!(t.name().starts_with("Dummy-"));
    /// ```
    pub fn is_dummy(&self) -> bool {
        self.inner.kind.load(Ordering::Relaxed) == DUMMY
    }

    pub(super) fn finish(&self) {
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
        self.join_as(deadline, interrupt, WaitKind::ThreadJoin, None)
    }

    /// [`Thread::join_interruptible`], recorded as a wait of `kind` on `label` (the thread's own
    /// label if `None`): a pool's shutdown joins each worker as a wait on the pool. The wait is
    /// held by the thread (only it can end its own life), so it is part of deadlocks: a thread
    /// joining one that waits for a lock the joiner holds, or two threads joining each other.
    pub(crate) fn join_as(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
        kind: WaitKind,
        label: Option<&Label>,
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
        let target = Joining {
            thread: &self.inner,
            label,
        };
        let waiting = Waiting::start(WaitOn::uncounted(kind, &target), deadline);
        if waiting.check_deadlock(interrupt).is_err() {
            return Err(JoinError::Interrupted);
        }
        let g = self.inner.lock.lock();
        let (g, outcome) = wait_while_watched(
            &waiting,
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

impl Inner {
    fn label(&self) -> Label {
        Label::new(Some(self.name.lock().as_str().into()), *self.site.lock())
    }
}

/// A join as wait records see it: the thread joined, under the label of what is waited for.
struct Joining<'a> {
    thread: &'a Inner,
    /// The label to show instead of the thread's (a pool's, for its shutdown).
    label: Option<&'a Label>,
}

impl Waitable for Joining<'_> {
    fn label(&self) -> Label {
        match self.label {
            Some(label) => label.clone(),
            None => self.thread.label(),
        }
    }

    /// The thread, for certain: a started thread finishes only by returning from its own code
    /// (`mark_finished` is its last step), so nobody else can end the wait. A thread that
    /// finished (its ident may be reused) or has no ident holds nothing.
    fn held_by(&self, waiter: u64) -> HeldBy {
        // Read-modify-writes read the latest values (crate::debug's detection notes); the ident
        // is stored before the state becomes STARTED and never changes after.
        if self.thread.state.fetch_add(0, Ordering::AcqRel) != STARTED {
            return HeldBy::Unknown;
        }
        match self.thread.ident.fetch_add(0, Ordering::AcqRel) {
            0 => HeldBy::Unknown,
            ident => HeldBy::Thread {
                ident,
                certain: ident != waiter,
            },
        }
    }

    fn wakes(&self) -> bool {
        true
    }

    fn wake(&self) {
        let _g = self.thread.lock.lock();
        self.thread.cv.notify_all();
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

/// The steps of a thread's life that the Python bindings drive themselves: they start the OS
/// thread with `_thread.start_new_thread` and run a Python bootstrap in it (so that no Rust frame
/// is below user code), which calls [`ThreadExt::mark_started`] first and
/// [`ThreadExt::mark_finished`] last, on a handle made by [`ThreadExt::new_unstarted`]. Joins,
/// `is_alive` and [`enumerate`](crate::enumerate) then work as for a thread of
/// [`Builder::spawn`](crate::Builder::spawn), which does these steps itself.
///
/// Implemented for [`Thread`].
///
/// ```
/// use threadkit::raw::ThreadExt;
/// use threadkit::Thread;
///
/// let t = Thread::new_unstarted(Some("low-level".into()), Some(false));
/// t.claim_start().unwrap();
/// let t2 = t.clone();
/// let os = std::thread::spawn(move || {
///     t2.mark_started().unwrap();
///     assert_eq!(threadkit::current_thread(), t2);
///     t2.mark_finished();
/// });
/// t.wait_started();
/// t.join().unwrap();
/// os.join().unwrap();
/// assert!(!t.is_alive());
/// ```
pub trait ThreadExt {
    /// A new, not yet started thread: Python's `Thread.__init__`. `name` defaults to `Thread-N`
    /// (one global counter, as CPython), `daemon` to the calling thread's flag.
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) to make the state behind a
    /// new `threading.Thread`.
    ///
    /// Start it with [`ThreadExt::mark_started`] from inside the new OS thread (the low-level
    /// way, used by the Python bindings), or let [`Builder::spawn`](crate::Builder::spawn) make
    /// one.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
    /// use threadkit::Thread;
    /// let t = Thread::new_unstarted(Some("job".into()), Some(true));
    /// assert_eq!(t.name(), "job");
    /// assert!(t.is_daemon());
    /// assert!(!t.is_started() && !t.is_alive());
    /// assert!(Thread::new_unstarted(None, None).name().starts_with("Thread-"));
    /// ```
    #[track_caller]
    fn new_unstarted(name: Option<String>, daemon: Option<bool>) -> Thread;

    /// Sets where the thread was created, as its [`label`](Thread::label) shows it (by default
    /// the Rust caller of [`ThreadExt::new_unstarted`]).
    ///
    /// For the Python bindings (`crates/threadkit-python`), to give a `threading.Thread` the
    /// Python line that made it, so that a deadlock report on a join names that line.
    ///
    /// ```
    /// use threadkit::debug::Site;
    /// use threadkit::raw::ThreadExt;
    /// let t = threadkit::Thread::new_unstarted(Some("job".into()), None);
    /// t.set_site(Site::intern("app.py", 7));
    /// assert_eq!(t.label().to_string(), "'job'");
    /// assert_eq!(t.label().site().to_string(), "app.py:7");
    /// ```
    fn set_site(&self, site: Site);

    /// Claims an unstarted thread for starting, before its OS thread exists: Python's `start()`
    /// does this first, so that a second `start()` fails and the daemon flag is fixed from now
    /// on. The new OS thread then calls [`ThreadExt::mark_started`]; if the OS thread cannot be
    /// created, [`ThreadExt::release_claim`] makes the thread startable again.
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) at the start of `Thread.start()`.
    ///
    /// # Errors
    /// [`StartError::AlreadyStarted`] if the thread was claimed or started before.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
    /// use threadkit::{StartError, Thread};
    /// let t = Thread::new_unstarted(None, Some(false));
    /// t.claim_start().unwrap();
    /// assert!(matches!(t.claim_start(), Err(StartError::AlreadyStarted)));
    /// assert!(t.set_daemon(true).is_err());
    /// assert!(!t.is_started());
    /// t.release_claim();
    /// t.claim_start().unwrap();
    /// ```
    fn claim_start(&self) -> Result<(), StartError>;

    /// Gives back a claim made by [`ThreadExt::claim_start`] whose OS thread could not be created:
    /// the thread is unstarted again. Does nothing if the thread is not claimed.
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) when `_thread.start_new_thread`
    /// failed.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
    /// let t = threadkit::Thread::new_unstarted(None, None);
    /// t.release_claim(); // not claimed: nothing happens
    /// t.claim_start().unwrap();
    /// t.release_claim();
    /// assert!(t.set_daemon(true).is_ok());
    /// ```
    fn release_claim(&self);

    /// Records the calling OS thread as this thread: its ident and native id, the registry
    /// entry (so [`enumerate`](crate::enumerate) lists it), and
    /// [`current_thread`](crate::current_thread). Call it first thing in the new thread; wakes
    /// [`ThreadExt::wait_started`].
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) first thing in the Python
    /// bootstrap of a new thread.
    ///
    /// # Errors
    /// [`StartError::AlreadyStarted`] if it was started before.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
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
    fn mark_started(&self) -> Result<(), StartError>;

    /// Ends the thread: unregisters it, makes it not alive, wakes its joiners. Call it last thing
    /// in the thread (it is idempotent; a thread started by
    /// [`Builder::spawn`](crate::Builder::spawn) does it itself).
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) last thing in the Python
    /// bootstrap of a thread.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
    /// let t = threadkit::Thread::new_unstarted(None, None);
    /// t.mark_finished();
    /// assert!(!t.is_alive());
    /// ```
    fn mark_finished(&self);

    /// Blocks until the thread has been started (by [`ThreadExt::mark_started`]).
    ///
    /// Called (in its interruptible form) by the Python bindings (`crates/threadkit-python`) in
    /// `Thread.start()`, which returns once the new thread runs.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
    /// let h = threadkit::spawn(|| ());
    /// h.thread().wait_started();
    /// assert!(h.thread().is_started());
    /// ```
    fn wait_started(&self);

    /// Waits until the thread has been started, or `deadline`, asking `interrupt` whether to
    /// give up. `Ok(false)` is a timeout.
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) in `Thread.start()`, so that
    /// Ctrl-C can stop the wait on the main thread.
    ///
    /// ```
    /// use threadkit::raw::ThreadExt;
    /// use threadkit::{Deadline, NoInterrupt, Thread};
    /// let t = Thread::new_unstarted(None, None);
    /// assert_eq!(t.wait_started_interruptible(Deadline::now(), &mut NoInterrupt), Ok(false));
    /// ```
    fn wait_started_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<bool, Interrupted>;
}

impl ThreadExt for Thread {
    #[track_caller]
    fn new_unstarted(name: Option<String>, daemon: Option<bool>) -> Thread {
        let name = name.unwrap_or_else(|| new_name("Thread"));
        let daemon = daemon.unwrap_or_else(|| current_thread().is_daemon());
        Thread::with(name, daemon, NORMAL, NEW)
    }

    fn set_site(&self, site: Site) {
        *self.inner.site.lock() = site;
    }

    fn claim_start(&self) -> Result<(), StartError> {
        self.inner
            .state
            .compare_exchange(NEW, STARTING, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| StartError::AlreadyStarted)
    }

    fn release_claim(&self) {
        let _ =
            self.inner
                .state
                .compare_exchange(STARTING, NEW, Ordering::AcqRel, Ordering::Acquire);
    }

    fn mark_started(&self) -> Result<(), StartError> {
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

    fn mark_finished(&self) {
        let _ = CURRENT.try_with(|c| {
            let mine = c.slot.borrow().as_ref() == Some(self);
            if mine {
                c.slot.replace(None);
            }
        });
        self.finish();
    }

    fn wait_started(&self) {
        let r = self.wait_started_interruptible(Deadline::never(), &mut NoInterrupt);
        debug_assert_eq!(r, Ok(true));
    }

    fn wait_started_interruptible(
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
}
