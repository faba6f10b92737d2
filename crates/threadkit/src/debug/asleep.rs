//! Debug mode: every thread asleep (Go's "all goroutines are asleep").
//!
//! A watchdog thread, started with debug mode, looks every [`TICK`]: if every thread of the
//! process (counted by the operating system: `/proc/self/task` on Linux, so threads threadkit
//! never saw count too) except itself is parked in an untimed threadkit wait, and each is still
//! in the same wait a tick later, nothing can wake any of them: the program hangs. It is
//! reported once per such state, within two ticks.
//!
//! What keeps it from false reports: a thread running code, sleeping (`time.sleep`), blocked
//! in a socket or a wait with a timeout, or blocked in anything but threadkit has no untimed
//! record, so the counts differ; a thread that was woken between two ticks has a new wait
//! generation. Where the OS cannot count threads (not Linux) the detector stays off.
//!
//! The report is handed to one of the sleeping threads (the first one whose wait can act on it),
//! which runs [`Interrupt::on_all_asleep`](crate::Interrupt::on_all_asleep) in its own context
//! (Python's hook runs on a Python thread, ARCHITECTURE.md rule 1) and goes on waiting.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::slot::{self, Delivery};
use super::snapshot::Snapshot;

/// How often the watchdog looks.
pub(crate) const TICK: Duration = Duration::from_millis(40);

static STARTED: AtomicBool = AtomicBool::new(false);

/// Starts the watchdog once per process (again in a fork() child: see [`after_fork`]).
pub(crate) fn start_watchdog() {
    if cfg!(loom) || !cfg!(target_os = "linux") || STARTED.swap(true, Ordering::Relaxed) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("threadkit-watchdog".into())
        .spawn(watch);
    if spawned.is_err() {
        STARTED.store(false, Ordering::Relaxed);
    }
}

/// In a fork() child the watchdog thread does not exist: start it again if debug mode is on.
pub(super) fn after_fork() {
    super::unlock_after_fork(&MAILBOX);
    super::unlock_after_fork(&HOOK);
    STARTED.store(false, Ordering::Relaxed);
    if super::order::is_enabled() {
        start_watchdog();
    }
}

fn os_threads() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/task").ok()?.count())
}

/// `(ident, generation)` of every thread in an untimed wait, sorted.
type State = Vec<(u64, u64)>;

fn asleep_now() -> Option<State> {
    let threads = os_threads()?;
    let mut asleep: State = Vec::new();
    for s in slot::all_slots() {
        if let Some(seen) = s.read(false) {
            if !seen.timed {
                asleep.push((s.ident, seen.generation));
            }
        }
    }
    // Every thread but the watchdog.
    if asleep.is_empty() || asleep.len() + 1 != threads {
        return None;
    }
    asleep.sort_unstable();
    Some(asleep)
}

fn watch() {
    let mut previous: Option<State> = None;
    let mut reported: Option<State> = None;
    let mut unclaimed = 0;
    loop {
        std::thread::sleep(TICK);
        if MAILBOX.lock().is_some() {
            unclaimed += 1;
            if unclaimed >= CLAIM_TICKS {
                // No wait woke to take it: no user code to run, so the watchdog writes it.
                if let Some(report) = MAILBOX.lock().take() {
                    default_on_all_asleep(&report);
                }
            }
        } else {
            unclaimed = 0;
        }
        if !super::order::is_enabled() {
            previous = None;
            continue;
        }
        let now = asleep_now();
        if now.is_some() && now == previous && now != reported {
            let state = now.clone().expect("some");
            report(&state);
            reported = now.clone();
        }
        previous = now;
    }
}

/// How many ticks a report waits in the mailbox for a wait to take it.
const CLAIM_TICKS: u32 = 5;

/// A report no poked wait took: the next wait that wakes for its interrupt (Python's main
/// thread, every 20 ms) takes it.
static MAILBOX: parking_lot::Mutex<Option<AllAsleepReport>> = parking_lot::Mutex::new(None);

/// The report waiting in the mailbox, if any (called by waits that wake for their interrupt).
pub(crate) fn take_all_asleep() -> Option<AllAsleepReport> {
    if !super::order::is_enabled() {
        return None;
    }
    MAILBOX.lock().take()
}

fn report(state: &State) {
    let report = AllAsleepReport {
        snapshot: super::snapshot(),
    };
    // A lock, join or future wait can be woken to act on it (main thread first).
    let main = crate::main_thread().ident();
    let mut order: Vec<&(u64, u64)> = state.iter().collect();
    order.sort_by_key(|(ident, _)| Some(*ident) != main);
    for &(ident, generation) in order {
        if let Some(s) = slot::slot_of(ident) {
            if s.deliver_to(generation, Delivery::AllAsleep(report.clone())) {
                return;
            }
        }
    }
    *MAILBOX.lock() = Some(report);
}

/// Every thread of the process waits in an untimed threadkit wait: none can wake another.
/// Found by the debug-mode watchdog ([`crate::debug::enable`]).
///
/// Displays as a header, then the [`Snapshot`] (a thread dump: each thread, what it waits for
/// and who holds that).
///
/// ```
/// # fn f(r: &threadkit::debug::AllAsleepReport) {
/// assert!(!r.snapshot().threads.is_empty());
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllAsleepReport {
    snapshot: Snapshot,
}

impl AllAsleepReport {
    /// The threads and their waits when it was found.
    ///
    /// ```
    /// # fn f(r: &threadkit::debug::AllAsleepReport) {
    /// for t in &r.snapshot().threads { println!("{:?}", t.waiting); }
    /// # }
    /// ```
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl fmt::Display for AllAsleepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let asleep = self
            .snapshot
            .threads
            .iter()
            .filter(|t| t.waiting.is_some())
            .count();
        writeln!(
            f,
            "All threads are asleep: {asleep} threads wait without a timeout and none can wake another."
        )?;
        write!(f, "{}", self.snapshot)
    }
}

type AsleepHook = dyn Fn(&AllAsleepReport) + Send + Sync;

static HOOK: parking_lot::Mutex<Option<std::sync::Arc<AsleepHook>>> = parking_lot::Mutex::new(None);

/// Replaces what an all-asleep report does (the default writes it to stderr). It runs on one
/// of the sleeping threads, inside its wait, with no internal lock held (or, if no wait can be
/// woken for it, on the watchdog thread). Python's `threadkit.deadlock_hook` receives these
/// reports too.
///
/// ```
/// use threadkit::debug::{reset_all_asleep_hook, set_all_asleep_hook};
/// set_all_asleep_hook(Box::new(|report| eprintln!("{report}")));
/// reset_all_asleep_hook();
/// ```
pub fn set_all_asleep_hook(hook: Box<dyn Fn(&AllAsleepReport) + Send + Sync>) {
    *HOOK.lock() = Some(std::sync::Arc::from(hook));
}

/// Puts back the default all-asleep hook (stderr).
///
/// ```
/// threadkit::debug::reset_all_asleep_hook();
/// ```
pub fn reset_all_asleep_hook() {
    *HOOK.lock() = None;
}

/// What [`Interrupt::on_all_asleep`](crate::Interrupt::on_all_asleep) does unless overridden:
/// calls the hook ([`set_all_asleep_hook`]; stderr by default), unless the deadlock action is
/// `ignore`.
///
/// ```
/// # fn f(r: &threadkit::debug::AllAsleepReport) {
/// threadkit::debug::default_on_all_asleep(r);
/// # }
/// ```
pub fn default_on_all_asleep(report: &AllAsleepReport) {
    if super::deadlock_action() == super::DeadlockAction::Ignore {
        return;
    }
    let hook = HOOK.lock().clone();
    match hook {
        Some(hook) => hook(report),
        None => super::write_report(report),
    }
}
