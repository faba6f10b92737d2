//! What each thread waits for: one slot per thread that has ever taken a slow path, holding the
//! record of its current wait, set and cleared by the [`Waiting`] guard.
//!
//! # The record protocol (why reading another thread's record is sound)
//!
//! A record holds a raw pointer to the primitive the thread waits on (type-erased as
//! [`Waitable`]), so that a reader can ask that primitive who holds it. The rules:
//!
//! 1. [`Waiting::start`] stores the pointer, taken from a `&'a (dyn Waitable + 'a)`, under the
//!    slot's mutex; the guard borrows the primitive for `'a`, so the primitive (and whatever it
//!    borrows: the pointer's lifetime bound is erased) outlives the guard.
//! 2. The guard's `Drop` removes the pointer under the same mutex. Drop runs before `'a` ends
//!    (also when unwinding); the guard is crate-private and never leaked (`mem::forget`).
//! 3. A reader dereferences the pointer only while holding that slot's mutex and only if the
//!    record is present: the removal cannot have happened yet, so the primitive is alive.
//! 4. Every [`Waitable`] is `Sync` and its methods only read atomics or take leaf locks, so
//!    calling them from the reading thread, concurrently with the waiter, is fine.
//!
//! `tests/loom_debug.rs` model-checks rules 1-3 against a reader.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering as StdOrdering};
use std::sync::Arc;
use std::time::Instant;

use super::contention::Stats;
use super::label::{Label, Tag};
use super::order::{held_locks, HeldLock};
use super::report::DeadlockReport;
use super::WaitKind;
use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, WaitOutcome};
use crate::ident::get_ident;
use crate::sync::{AtomicBool, Condvar, Mutex, MutexGuard, Ordering};

/// A primitive a thread can wait on, as wait records see it.
pub(crate) trait Waitable: Sync {
    /// The primitive's label (cloned: reports and snapshots keep it).
    fn label(&self) -> Label;

    /// Who must act for a wait by thread `waiter` to end. Only atomics are read (with
    /// read-modify-writes where the value must be the latest) and leaf locks taken (a pool's
    /// list of workers), never a primitive's wait mutex.
    fn held_by(&self, waiter: u64) -> HeldBy {
        let _ = waiter;
        HeldBy::Unknown
    }

    /// Wakes the threads waiting on the primitive so that they look at [`Waiting::poked`].
    /// Called with the waiter's slot mutex held: take only the primitive's own wait mutex.
    fn wake(&self) {}

    /// Whether [`wake`](Waitable::wake) wakes its waiters (so a delivery reaches them).
    fn wakes(&self) -> bool {
        false
    }

    /// The address debug mode's held lists know the primitive by (a lock's), 0 for others.
    fn lock_addr(&self) -> usize {
        0
    }
}

impl Waitable for Tag {
    fn label(&self) -> Label {
        self.label.clone()
    }
}

/// Who holds what a thread waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeldBy {
    /// Nobody known: an Event, a queue, a free lock... Never part of a deadlock.
    Unknown,
    /// One thread. `certain` says that only that thread can end the wait (an RLock's owner,
    /// a plain Lock's owner if no other thread ever released it and the owner is not the
    /// waiter itself): only certain edges make deadlocks.
    Thread { ident: u64, certain: bool },
    /// Any of these threads can end the wait, and each of them for certain (the workers of a
    /// pool that cannot grow, for a future queued in it): a deadlock needs all of them stuck.
    AllOf(Vec<u64>),
}

impl HeldBy {
    /// The threads that hold it, certain or not.
    pub(crate) fn idents(&self) -> &[u64] {
        match self {
            HeldBy::Unknown => &[],
            HeldBy::Thread { ident, .. } => std::slice::from_ref(ident),
            HeldBy::AllOf(v) => v,
        }
    }
}

/// What a [`Waiting`] guard is about.
#[derive(Clone, Copy)]
pub(crate) struct WaitOn<'a> {
    pub(crate) kind: WaitKind,
    /// The primitive, for readers of the record: the primitive itself, or a view of it made
    /// for the wait (a future's, whose type has a parameter), borrowed for as long as the
    /// guard lives.
    pub(crate) target: &'a (dyn Waitable + 'a),
    /// Whose contention counters the wait goes to (none for thread joins, future results and
    /// pool shutdowns: they wait for a thread's work, not for a primitive others contend for).
    pub(crate) tag: Option<&'a Tag>,
    /// A Condition re-acquiring its lock: the wait cannot be given up (the lock must be held
    /// when the condition wait returns), so it never raises and is never picked as the victim.
    pub(crate) reacquire: bool,
}

impl<'a> WaitOn<'a> {
    /// A wait on `target`, counted in `tag`'s contention counters.
    pub(crate) fn new(kind: WaitKind, target: &'a (dyn Waitable + 'a), tag: &'a Tag) -> Self {
        WaitOn {
            kind,
            target,
            tag: Some(tag),
            reacquire: false,
        }
    }

    /// A wait on `target` that is counted in no contention counters.
    pub(crate) fn uncounted(kind: WaitKind, target: &'a (dyn Waitable + 'a)) -> Self {
        WaitOn {
            kind,
            target,
            tag: None,
            reacquire: false,
        }
    }
}

/// The record of one wait. See the module documentation for the pointer's protocol.
struct Record {
    kind: WaitKind,
    target: *const (dyn Waitable + 'static),
    since: Instant,
    timed: bool,
    reacquire: bool,
    generation: u64,
    /// The locks the thread holds (debug mode), published when the wait starts so that reports
    /// and snapshots can say where a holder acquired what others wait for.
    holds: Vec<HeldLock>,
}

// SAFETY: the pointer is only dereferenced by readers holding the slot's mutex while the
// record is present (module documentation, rule 3), and the pointee is `Sync`; moving the
// record between threads moves only the address.
unsafe impl Send for Record {}

#[derive(Default)]
struct SlotState {
    record: Option<Record>,
    /// The generation of the last record set: each record gets the next one, so
    /// `(serial, generation)` names one wait of one thread for the life of the process.
    generation: u64,
    /// A deadlock report another thread handed to this one (see [`Slot::poke`]).
    delivery: Option<Delivery>,
}

/// What another thread hands a waiting one to act on in its own context.
pub(crate) enum Delivery {
    /// A deadlock it is part of.
    Deadlock(DeadlockReport),
    /// Every thread is asleep (debug mode).
    AllAsleep(super::asleep::AllAsleepReport),
}

/// One thread's wait record, shared with readers.
pub(crate) struct Slot {
    pub(crate) ident: u64,
    /// Unique among all slots ever made (idents are reused once a thread is gone).
    pub(crate) serial: u64,
    /// The std thread's name, captured when the slot was made (the threadkit registry's name,
    /// if any, wins in reports).
    pub(crate) std_name: Option<String>,
    state: Mutex<SlotState>,
    /// Set with a delivery; read without the mutex by the waiting thread's wait loop.
    poked: AtomicBool,
}

/// A record as a reader saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) kind: WaitKind,
    pub(crate) label: Option<Label>,
    pub(crate) held_by: HeldBy,
    pub(crate) since: Instant,
    pub(crate) timed: bool,
    pub(crate) reacquire: bool,
    pub(crate) generation: u64,
    /// The target's [`Waitable::lock_addr`].
    pub(crate) lock_addr: usize,
    /// The locks the thread holds (debug mode; read with the label only).
    pub(crate) holds: Vec<HeldLock>,
}

/// The next slot's serial.
static SERIAL: StdAtomicU64 = StdAtomicU64::new(1);

impl SlotState {
    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }
}

impl Slot {
    pub(crate) fn new(ident: u64, std_name: Option<String>) -> Slot {
        Slot {
            ident,
            serial: SERIAL.fetch_add(1, StdOrdering::Relaxed),
            std_name,
            state: Mutex::new(SlotState::default()),
            poked: AtomicBool::new(false),
        }
    }

    /// Reads the thread's current wait, asking its target who holds it (and its label and the
    /// locks the thread holds if `with_label`) while the record cannot be removed.
    pub(crate) fn read(&self, with_label: bool) -> Option<Seen> {
        let state = self.state.lock();
        let record = state.record.as_ref()?;
        // SAFETY: the record is present and this thread holds the slot's mutex, which the
        // waiter must take to remove it: the guard that set it has not been dropped, so the
        // primitive it borrows is alive (module documentation, rules 1-3).
        let target = unsafe { &*record.target };
        Some(Seen {
            kind: record.kind,
            label: with_label.then(|| target.label()),
            held_by: target.held_by(self.ident),
            since: record.since,
            timed: record.timed,
            reacquire: record.reacquire,
            generation: record.generation,
            lock_addr: target.lock_addr(),
            holds: if with_label {
                record.holds.clone()
            } else {
                Vec::new()
            },
        })
    }

    /// Hands `report` to the thread if it still waits in `generation`, and wakes it so that
    /// its wait loop sees [`Waiting::poked`]. Returns whether it did.
    pub(crate) fn poke(&self, generation: u64, report: DeadlockReport) -> bool {
        self.deliver_to(generation, Delivery::Deadlock(report))
    }

    /// Hands `delivery` to this thread if it still waits in the wait of `generation` (and that
    /// wait can act on it: not a Condition taking its lock back), waking it.
    pub(crate) fn deliver_to(&self, generation: u64, delivery: Delivery) -> bool {
        let mut state = self.state.lock();
        let target = match &state.record {
            Some(r) if r.generation == generation && !r.reacquire => r.target,
            _ => return false,
        };
        // SAFETY: as in `read`: the record holding `target` is present and the mutex is held.
        if matches!(delivery, Delivery::AllAsleep(_)) && !unsafe { &*target }.wakes() {
            return false;
        }
        state.delivery = Some(delivery);
        self.poked.store(true, Ordering::Release);
        // SAFETY: as in `read`: the record holding `target` is present and the mutex is held.
        unsafe { &*target }.wake();
        true
    }
}

// ---------------------------------------------------------------------------------------------
// The slots of all threads

pub(super) static SLOTS: parking_lot::Mutex<BTreeMap<u64, Arc<Slot>>> =
    parking_lot::Mutex::new(BTreeMap::new());

/// The calling thread's slot; unregistered when the thread exits.
struct Mine(OnceCell<Arc<Slot>>);

impl Drop for Mine {
    fn drop(&mut self) {
        if let Some(slot) = self.0.get() {
            let mut slots = SLOTS.lock();
            if slots.get(&slot.ident).is_some_and(|s| Arc::ptr_eq(s, slot)) {
                slots.remove(&slot.ident);
            }
        }
    }
}

std::thread_local! {
    static MINE: Mine = const { Mine(OnceCell::new()) };
}

/// The calling thread's slot, made on its first slow-path wait; `None` while the thread's
/// thread-locals are being destroyed.
fn my_slot() -> Option<Arc<Slot>> {
    MINE.try_with(|mine| {
        mine.0
            .get_or_init(|| {
                let name = std::thread::current().name().map(String::from);
                let slot = Arc::new(Slot::new(get_ident(), name));
                super::note_pid();
                SLOTS.lock().insert(slot.ident, slot.clone());
                slot
            })
            .clone()
    })
    .ok()
}

/// The slot of thread `ident`, if it ever waited.
pub(crate) fn slot_of(ident: u64) -> Option<Arc<Slot>> {
    SLOTS.lock().get(&ident).cloned()
}

/// What thread `ident` waits for now, if it waits (without cloning its slot: for walks that
/// usually stop at the first thread, which is running).
pub(crate) fn read_slot_of(ident: u64) -> Option<Seen> {
    // Lock order: SLOTS, then a slot's mutex (nothing takes them the other way round).
    SLOTS.lock().get(&ident)?.read(false)
}

/// Every slot.
pub(crate) fn all_slots() -> Vec<Arc<Slot>> {
    SLOTS.lock().values().cloned().collect()
}

/// In a child after `fork()`: forgets every other thread's slot (those threads do not exist
/// here, and their records may point at primitives the forking thread frees), and takes the
/// calling thread's back if the fork caught it mid-update.
pub(crate) fn slots_after_fork() {
    super::unlock_after_fork(&SLOTS);
    let me = get_ident();
    let mut slots = SLOTS.lock();
    slots.retain(|&ident, _| ident == me);
    if let Some(slot) = slots.get(&me) {
        drop(slot.state.lock_after_fork());
    }
}

// ---------------------------------------------------------------------------------------------
// The guard

/// Records, for the duration of one slow-path wait, what the calling thread waits for; counts
/// the wait in its label's contention counters. Made at the start of every slow path that may
/// park, dropped when it ends (also when unwinding).
///
/// A wait whose target can have holders (locks; thread joins and futures once hooked) must
/// look at [`Waiting::poked`] in its wait loop and call [`Waiting::deliver`] when it is set
/// ([`wait_while_watched`] does both): that is how a deadlock found by another thread reaches
/// this one.
#[must_use]
pub(crate) struct Waiting<'a> {
    /// `None`: diagnostics are off for this wait (loom builds, or a thread being destroyed).
    recorded: Option<Recorded<'a>>,
    stats: Option<&'static Stats>,
    start: Instant,
    timed: bool,
    reacquire: bool,
}

/// A record set in a slot, for as long as the target is borrowed; dropping it removes the
/// record (rule 2 of the module documentation), putting back the record of an outer wait of the
/// same thread if there was one (a wait in an interrupt check or a deadlock handler).
pub(crate) struct Recorded<'a> {
    slot: Arc<Slot>,
    outer: Option<Record>,
    _target: PhantomData<&'a ()>,
}

impl<'a> Recorded<'a> {
    /// Sets the record of a wait on `on.target` (rule 1: the target is borrowed for `'a`, and
    /// this guard lives no longer).
    pub(crate) fn new(slot: Arc<Slot>, on: &WaitOn<'a>, since: Instant, timed: bool) -> Self {
        // SAFETY: only the trait object's lifetime bound is erased (the fat pointer is the
        // same): the record protocol (rules 1-3) lets a reader dereference it only while the
        // record is present, that is while this guard, which borrows the target for `'a`,
        // lives.
        let target = unsafe {
            std::mem::transmute::<*const (dyn Waitable + 'a), *const (dyn Waitable + 'static)>(
                on.target,
            )
        };
        let holds = held_locks();
        let mut state = slot.state.lock();
        let record = Record {
            kind: on.kind,
            target,
            since,
            timed,
            reacquire: on.reacquire,
            generation: state.next_generation(),
            holds,
        };
        let outer = state.record.replace(record);
        drop(state);
        Recorded {
            slot,
            outer,
            _target: PhantomData,
        }
    }

    pub(crate) fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }
}

impl Drop for Recorded<'_> {
    fn drop(&mut self) {
        let mut state = self.slot.state.lock();
        state.record = self.outer.take().map(|mut outer| {
            // The outer wait went on after something else ran on this thread.
            outer.generation = state.next_generation();
            outer
        });
        state.delivery = None;
        self.slot.poked.store(false, Ordering::Relaxed);
    }
}

impl<'a> Waiting<'a> {
    /// Starts recording a wait that ends no later than `deadline`.
    pub(crate) fn start(on: WaitOn<'a>, deadline: Deadline) -> Waiting<'a> {
        let start = Instant::now();
        let timed = !deadline.is_never();
        // loom models only the record protocol itself (tests/loom_debug.rs): the primitives'
        // models run with diagnostics off, since the slot table outlives loom's executions.
        let slot = if cfg!(loom) { None } else { my_slot() };
        let stats = if cfg!(loom) {
            None
        } else {
            on.tag.map(|t| t.stats(on.kind))
        };
        if let Some(stats) = stats {
            stats.enter();
        }
        Waiting {
            recorded: slot.map(|slot| Recorded::new(slot, &on, start, timed)),
            stats,
            start,
            timed,
            reacquire: on.reacquire,
        }
    }

    fn slot(&self) -> Option<&Arc<Slot>> {
        self.recorded.as_ref().map(Recorded::slot)
    }

    /// Whether another thread handed this one a deadlock report to act on: the wait loop must
    /// stop waiting and call [`Waiting::deliver`] with no internal lock held.
    #[inline]
    pub(crate) fn poked(&self) -> bool {
        self.slot().is_some_and(|s| s.poked.load(Ordering::Acquire))
    }

    /// Acts on the report another thread handed over: `interrupt.on_deadlock(report)`. Call it
    /// with no internal lock held; `Err` ends the wait.
    pub(crate) fn deliver(&self, interrupt: &mut dyn Interrupt) -> Result<(), Interrupted> {
        let Some(slot) = self.slot() else {
            return Ok(());
        };
        let report = {
            let mut state = slot.state.lock();
            slot.poked.store(false, Ordering::Relaxed);
            state.delivery.take()
        };
        match report {
            Some(Delivery::Deadlock(report)) => interrupt.on_deadlock(&report),
            Some(Delivery::AllAsleep(report)) => {
                interrupt.on_all_asleep(&report);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Looks for a deadlock this wait closes, before it parks (untimed waits only; nothing when
    /// the action is [`Ignore`](super::DeadlockAction::Ignore)), and acts on it through
    /// `interrupt` (see [`Interrupt::on_deadlock`]). Call it with no internal lock held; `Err`
    /// ends the wait (never for a re-acquire, which cannot be given up).
    pub(crate) fn check_deadlock(&self, interrupt: &mut dyn Interrupt) -> Result<(), Interrupted> {
        if self.timed {
            return Ok(());
        }
        let Some(slot) = self.slot() else {
            return Ok(());
        };
        super::detect::on_block(slot, self.reacquire, interrupt)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        drop(self.recorded.take());
        if let Some(stats) = self.stats {
            stats.leave(self.start.elapsed());
        }
    }
}

/// The interrupt of a wait that cannot be interrupted but reports deadlocks: a Condition's
/// re-acquire.
pub(crate) struct ReportOnly<'a>(pub(crate) &'a mut dyn Interrupt);

impl Interrupt for ReportOnly<'_> {
    fn interval(&self) -> Option<std::time::Duration> {
        None
    }

    fn check(&mut self) -> Result<(), Interrupted> {
        Ok(())
    }

    fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
        self.0.on_deadlock(report)
    }

    fn on_potential_deadlock(
        &mut self,
        report: &super::order::PotentialDeadlockReport,
    ) -> Result<(), Interrupted> {
        self.0.on_potential_deadlock(report)
    }

    fn on_all_asleep(&mut self, report: &super::asleep::AllAsleepReport) {
        self.0.on_all_asleep(report)
    }
}

/// [`wait_while`] that also stops when another thread hands this one a deadlock report
/// ([`Waiting::poked`]): it then calls [`Waiting::deliver`] with `mutex` released, and goes on
/// waiting if that returns `Ok`. For waits without bookkeeping of their own under `mutex` (a
/// panicking deliver leaves nothing half-done): thread joins, future results.
pub(crate) fn wait_while_watched<'a, T>(
    waiting: &Waiting<'_>,
    mutex: &'a Mutex<T>,
    cv: &Condvar,
    mut guard: MutexGuard<'a, T>,
    deadline: Deadline,
    interrupt: &mut dyn Interrupt,
    mut blocked: impl FnMut(&mut T) -> bool,
) -> (MutexGuard<'a, T>, WaitOutcome) {
    loop {
        let mut still_blocked = false;
        let (g, outcome) = wait_while(mutex, cv, guard, deadline, interrupt, |state| {
            still_blocked = blocked(state);
            still_blocked && !waiting.poked()
        });
        guard = g;
        if outcome != WaitOutcome::Ready || !still_blocked {
            return (guard, outcome);
        }
        let (g, r) = mutex.unlocked(guard, || waiting.deliver(interrupt));
        guard = g;
        if r.is_err() {
            return (guard, WaitOutcome::Interrupted);
        }
    }
}
