//! Deadlocks found at block time (`threadkit::debug`): the cases that must be found, with the
//! raise and report actions, and the cases that must not be reported.
//!
//! The action and the hook are process-wide: every test takes `SERIAL` first. Threads are
//! sequenced with barriers, events and observable wait records, never with sleeps.
#![cfg(not(loom))]

mod common;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::{spin_until, Escape, GUARD};
use threadkit::debug::{self, DeadlockAction, DeadlockError, DeadlockReport, WaitKind};
use threadkit::{
    Builder, Condition, Deadline, Interrupt, Interrupted, JoinHandle, Lock, NoInterrupt, Queue,
    RLock,
};

static SERIAL: Mutex<()> = Mutex::new(());

/// The reports the hook received.
type Reports = Arc<Mutex<Vec<DeadlockReport>>>;

/// Takes the test lock, sets `action` and a hook that records reports.
fn setup(action: DeadlockAction) -> (MutexGuard<'static, ()>, Reports) {
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    debug::set_deadlock_action(action);
    let reports: Reports = Arc::default();
    let sink = reports.clone();
    debug::set_deadlock_hook(Box::new(move |r| sink.lock().unwrap().push(r.clone())));
    (serial, reports)
}

fn reports_of(reports: &Reports) -> Vec<DeadlockReport> {
    reports.lock().unwrap().clone()
}

/// A lock the tests run with: [`Lock`] and [`RLock`].
trait TestLock: Send + Sync + 'static {
    const KIND: &'static str;
    fn named(name: &str) -> Self;
    fn acquire_with(&self, interrupt: &mut dyn Interrupt) -> Result<bool, Interrupted>;
    fn release(&self);
}

impl TestLock for Lock {
    const KIND: &'static str = "Lock";
    fn named(name: &str) -> Self {
        Lock::named(name)
    }
    fn acquire_with(&self, interrupt: &mut dyn Interrupt) -> Result<bool, Interrupted> {
        self.acquire_interruptible(Deadline::never(), interrupt)
    }
    fn release(&self) {
        Lock::release(self).unwrap();
    }
}

impl TestLock for RLock {
    const KIND: &'static str = "RLock";
    fn named(name: &str) -> Self {
        RLock::named(name)
    }
    fn acquire_with(&self, interrupt: &mut dyn Interrupt) -> Result<bool, Interrupted> {
        self.acquire_interruptible(Deadline::never(), interrupt)
    }
    fn release(&self) {
        RLock::release(self).unwrap();
    }
}

/// Holds a lock until dropped (also when unwinding).
struct Held<'a, L: TestLock>(&'a L);

impl<L: TestLock> Held<'_, L> {
    fn take(lock: &L) -> Held<'_, L> {
        assert_eq!(lock.acquire_with(&mut NoInterrupt), Ok(true));
        Held(lock)
    }
}

impl<L: TestLock> Drop for Held<'_, L> {
    fn drop(&mut self) {
        self.0.release();
    }
}

fn spawn_named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    Builder::new().name(name).spawn(f).unwrap()
}

/// Joins within [`GUARD`], returning the panic payload if the thread panicked.
fn join<T>(h: JoinHandle<T>) -> Result<T, Box<dyn Any + Send>> {
    assert_eq!(h.join_timeout(GUARD), Ok(true), "{} hung", h.name());
    h.join()
}

fn deadlock_error(payload: Box<dyn Any + Send>) -> DeadlockError {
    match payload.downcast::<DeadlockError>() {
        Ok(e) => *e,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Waits until thread `ident` is recorded as waiting in a wait of `kind` with a holder.
fn until_waiting_held(ident: u64, kind: WaitKind) {
    spin_until(|| {
        debug::snapshot().threads.iter().any(|t| {
            t.ident == ident
                && t.waiting
                    .as_ref()
                    .is_some_and(|w| w.kind == kind && !w.held_by.is_empty())
        })
    });
}

/// The two lines a cycle of two threads `x`, `y` over locks `a` (held by `x`), `b` (held by `y`)
/// can have, depending on which wait closed it.
fn ab_ba_lines(kind: &str) -> [String; 2] {
    [
        format!("'t1' -> {kind} 'b' -> 't2' -> {kind} 'a' -> 't1'"),
        format!("'t2' -> {kind} 'a' -> 't1' -> {kind} 'b' -> 't2'"),
    ]
}

/// AB/BA: t1 holds a and wants b, t2 holds b and wants a. The wait that closes the cycle
/// raises; the other thread then gets its lock and completes.
fn ab_ba_raise<L: TestLock>() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let (a, b) = (Arc::new(L::named("a")), Arc::new(L::named("b")));
    let both = Arc::new(std::sync::Barrier::new(2));
    let side = |name: &str, first: &Arc<L>, second: &Arc<L>| {
        let (first, second, both) = (first.clone(), second.clone(), both.clone());
        spawn_named(name, move || {
            let _first = Held::take(&*first);
            both.wait();
            let _second = Held::take(&*second);
        })
    };
    let t1 = side("t1", &a, &b);
    let t2 = side("t2", &b, &a);
    let (r1, r2) = (join(t1), join(t2));
    let (error, closer) = match (r1, r2) {
        (Err(p), Ok(())) => (deadlock_error(p), "t1"),
        (Ok(()), Err(p)) => (deadlock_error(p), "t2"),
        _ => panic!("exactly one of the two waits must give up"),
    };
    let report = error.report();
    assert!(report.raises());
    assert_eq!(report.threads().len(), 2);
    assert_eq!(report.threads()[0].name.as_deref(), Some(closer));
    assert!(
        ab_ba_lines(L::KIND).contains(&report.cycle_line()),
        "{}",
        report.cycle_line()
    );
    let text = error.to_string();
    for needle in ["'t1'", "'t2'", "'a'", "'b'", "Cycle: "] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    assert!(reports_of(&reports).is_empty(), "raise does not report");
    assert!(!a.as_ref_locked() && !b.as_ref_locked());
}

/// Whether a test lock is held (through the public API of each).
trait Locked {
    fn as_ref_locked(&self) -> bool;
}

impl<L: TestLock> Locked for L {
    fn as_ref_locked(&self) -> bool {
        // Free iff acquiring without waiting succeeds; give it back at once.
        match self.acquire_with(&mut NoInterrupt) {
            Ok(true) => {
                self.release();
                false
            }
            _ => true,
        }
    }
}

#[test]
fn ab_ba_with_locks_raises_in_the_wait_that_closes_the_cycle() {
    ab_ba_raise::<Lock>();
}

#[test]
fn ab_ba_with_rlocks_raises_in_the_wait_that_closes_the_cycle() {
    ab_ba_raise::<RLock>();
}

/// AB/BA with the report action: one report reaches the hook, both threads go on waiting, and
/// the test breaks the deadlock by making t2's wait give up.
fn ab_ba_report<L: TestLock>() {
    let (_serial, reports) = setup(DeadlockAction::Report);
    let (a, b) = (Arc::new(L::named("a")), Arc::new(L::named("b")));
    let both = Arc::new(std::sync::Barrier::new(2));
    let escape = Escape::default();
    let t1 = {
        let (a, b, both) = (a.clone(), b.clone(), both.clone());
        spawn_named("t1", move || {
            let _a = Held::take(&*a);
            both.wait();
            let _b = Held::take(&*b);
        })
    };
    let t2 = {
        let (a, b, both, mut escape) = (a.clone(), b.clone(), both.clone(), escape.clone());
        spawn_named("t2", move || {
            let _b = Held::take(&*b);
            both.wait();
            let r = a.acquire_with(&mut escape);
            if r == Ok(true) {
                a.release();
            }
            r
        })
    };
    spin_until(|| !reports_of(&reports).is_empty());
    let report = reports_of(&reports).remove(0);
    assert!(!report.raises());
    assert!(
        ab_ba_lines(L::KIND).contains(&report.cycle_line()),
        "{}",
        report.cycle_line()
    );
    let text = report.to_string();
    for needle in [
        "Deadlock found",
        "'t1'",
        "'t2'",
        "'a'",
        "'b'",
        "held by",
        "Cycle: ",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    // Still blocked: the report does not change what the program does.
    assert!(t1.is_alive() && t2.is_alive());
    escape.trip();
    assert_eq!(join(t2).unwrap(), Err(Interrupted));
    join(t1).unwrap();
    assert_eq!(reports_of(&reports).len(), 1, "reported once");
}

#[test]
fn ab_ba_with_locks_is_reported_once_and_keeps_waiting() {
    ab_ba_report::<Lock>();
}

#[test]
fn ab_ba_with_rlocks_is_reported_once_and_keeps_waiting() {
    ab_ba_report::<RLock>();
}

/// t1 waits on a Condition while holding m; t2 takes the condition's lock, notifies, and asks
/// for m: t1 cannot take the condition's lock back. Whichever wait closes the cycle, t2's
/// acquire of m is the one that gives up (t1's re-acquire cannot), and t1 then completes.
#[test]
fn a_condition_waiter_that_cannot_reacquire_makes_the_other_thread_raise() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let cond = Arc::new(Condition::named("c"));
    let m = Arc::new(RLock::named("m"));
    let t1 = {
        let (cond, m) = (cond.clone(), m.clone());
        spawn_named("t1", move || {
            let _m = m.lock();
            let _c = cond.lock().lock();
            cond.wait().unwrap();
        })
    };
    let t1_ident = t1.thread().ident().unwrap();
    until_waiting(t1_ident, WaitKind::Condition);
    let t2 = {
        let (cond, m) = (cond.clone(), m.clone());
        spawn_named("t2", move || {
            let _c = cond.lock().lock();
            cond.notify(1).unwrap();
            let _m = m.lock();
        })
    };
    let error = deadlock_error(join(t2).unwrap_err());
    join(t1).unwrap();
    let report = error.report();
    assert!(report.raises());
    let lines = [
        "'t2' -> RLock 'm' -> 't1' -> RLock 'c' -> 't2'",
        "'t1' -> RLock 'c' -> 't2' -> RLock 'm' -> 't1'",
    ];
    assert!(
        lines.contains(&report.cycle_line().as_str()),
        "{}",
        report.cycle_line()
    );
    let t1_entry = report
        .threads()
        .iter()
        .find(|t| t.ident == t1_ident)
        .unwrap();
    assert!(t1_entry.reacquire);
    assert!(report
        .to_string()
        .contains("taking it back after Condition.wait"));
    assert!(reports_of(&reports).is_empty());
}

/// The same with the report action: reported once; t2's escape breaks it.
#[test]
fn a_condition_waiter_that_cannot_reacquire_is_reported() {
    let (_serial, reports) = setup(DeadlockAction::Report);
    let cond = Arc::new(Condition::named("c"));
    let m = Arc::new(RLock::named("m"));
    let t1 = {
        let (cond, m) = (cond.clone(), m.clone());
        spawn_named("t1", move || {
            let _m = m.lock();
            let _c = cond.lock().lock();
            cond.wait().unwrap();
        })
    };
    until_waiting(t1.thread().ident().unwrap(), WaitKind::Condition);
    let escape = Escape::default();
    let t2 = {
        let (cond, m, mut escape) = (cond.clone(), m.clone(), escape.clone());
        spawn_named("t2", move || {
            let _c = cond.lock().lock();
            cond.notify(1).unwrap();
            let r = m.acquire_interruptible(Deadline::never(), &mut escape);
            if r == Ok(true) {
                m.release().unwrap();
            }
            r
        })
    };
    spin_until(|| !reports_of(&reports).is_empty());
    assert!(reports_of(&reports)[0].cycle_line().contains("RLock 'c'"));
    escape.trip();
    assert_eq!(join(t2).unwrap(), Err(Interrupted));
    join(t1).unwrap();
    assert_eq!(reports_of(&reports).len(), 1);
}

/// Waits until thread `ident` is recorded as waiting in a wait of `kind`.
fn until_waiting(ident: u64, kind: WaitKind) {
    spin_until(|| {
        debug::snapshot()
            .threads
            .iter()
            .any(|t| t.ident == ident && t.waiting.as_ref().is_some_and(|w| w.kind == kind))
    });
}

/// Python's hand-off idiom: acquire, start a thread that releases, acquire again. The second
/// acquire waits for a lock this thread holds: never a deadlock.
#[test]
fn the_hand_off_idiom_is_not_a_deadlock() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    for _ in 0..20 {
        let lock = Arc::new(Lock::named("hand-off"));
        lock.acquire();
        let releaser = {
            let lock = lock.clone();
            spawn_named("releaser", move || lock.release().unwrap())
        };
        lock.acquire();
        join(releaser).unwrap();
        lock.release().unwrap();
    }
    assert!(reports_of(&reports).is_empty());
}

/// A cycle through a plain Lock that another thread once released for its owner is not
/// claimed: that lock's owner is only a guess (any thread may release a Lock).
#[test]
fn a_cycle_through_a_lock_once_handed_off_is_not_claimed() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let (a, b) = (Arc::new(Lock::named("a")), Arc::new(Lock::named("b")));
    a.acquire();
    {
        let a = a.clone();
        join(spawn_named("releaser", move || a.release().unwrap())).unwrap();
    }
    let both = Arc::new(std::sync::Barrier::new(2));
    let (e1, e2) = (Escape::default(), Escape::default());
    let side = |name: &str, first: &Arc<Lock>, second: &Arc<Lock>, escape: &Escape| {
        let (first, second, both, mut escape) =
            (first.clone(), second.clone(), both.clone(), escape.clone());
        spawn_named(name, move || {
            first.acquire();
            both.wait();
            let r = second.acquire_interruptible(Deadline::never(), &mut escape);
            first.release().unwrap();
            r
        })
    };
    let t1 = side("t1", &a, &b, &e1);
    let t2 = side("t2", &b, &a, &e2);
    until_waiting_held(t1.thread().ident().unwrap(), WaitKind::Lock);
    until_waiting_held(t2.thread().ident().unwrap(), WaitKind::Lock);
    assert!(debug::snapshot().deadlocks.is_empty());
    e1.trip();
    assert_eq!(join(t1).unwrap(), Err(Interrupted));
    assert_eq!(join(t2).unwrap(), Ok(true));
    a.release().unwrap(); // t2 kept its second lock
    assert!(reports_of(&reports).is_empty());
}

/// AB/BA with timeouts: not a deadlock (each wait ends by itself). The test ends it sooner by
/// releasing a for t1 (a plain Lock may be released by any thread).
#[test]
fn timed_waits_are_not_deadlocks() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let (a, b) = (Arc::new(Lock::named("a")), Arc::new(Lock::named("b")));
    let both = Arc::new(std::sync::Barrier::new(2));
    let side = |name: &str, first: &Arc<Lock>, second: &Arc<Lock>| {
        let (first, second, both) = (first.clone(), second.clone(), both.clone());
        spawn_named(name, move || {
            first.acquire();
            both.wait();
            let got = second.acquire_timeout(GUARD);
            if got {
                second.release().unwrap();
            }
            let _ = first.release();
            got
        })
    };
    let t1 = side("t1", &a, &b);
    let t2 = side("t2", &b, &a);
    for t in [&t1, &t2] {
        let ident = t.thread().ident().unwrap();
        spin_until(|| {
            debug::snapshot().threads.iter().any(|s| {
                s.ident == ident
                    && s.waiting
                        .as_ref()
                        .is_some_and(|w| w.timed && w.kind == WaitKind::Lock)
            })
        });
    }
    assert!(debug::snapshot().deadlocks.is_empty());
    a.release().unwrap(); // t1's: t2 gets it
    assert!(join(t2).unwrap());
    assert!(join(t1).unwrap());
    assert!(reports_of(&reports).is_empty());
}

/// Two threads taking turns through a Condition: many waits and re-acquires, no deadlock.
#[test]
fn condition_ping_pong_reports_nothing() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    const ROUNDS: usize = 300;
    let cond = Arc::new(Condition::named("turns"));
    let turn = Arc::new(Mutex::new(0usize));
    let player = |me: usize| {
        let (cond, turn) = (cond.clone(), turn.clone());
        spawn_named(&format!("player{me}"), move || {
            for _ in 0..ROUNDS {
                let _held = cond.lock().lock();
                cond.wait_for(|| *turn.lock().unwrap() % 2 == me, None)
                    .unwrap();
                *turn.lock().unwrap() += 1;
                cond.notify_all().unwrap();
            }
        })
    };
    let (p0, p1) = (player(0), player(1));
    join(p0).unwrap();
    join(p1).unwrap();
    assert_eq!(*turn.lock().unwrap(), 2 * ROUNDS);
    assert!(reports_of(&reports).is_empty());
}

/// A producer and a consumer through a small bounded queue: puts and gets block often; none
/// of it is a deadlock.
#[test]
fn bounded_queue_producer_consumer_reports_nothing() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let q = Arc::new(Queue::new(2).with_name("pipe"));
    let lock = Arc::new(Lock::named("shared"));
    let producer = {
        let (q, lock) = (q.clone(), lock.clone());
        spawn_named("producer", move || {
            for n in 0..2000u64 {
                let _held = lock.lock();
                drop(_held);
                q.put(n).unwrap();
            }
        })
    };
    let consumer = {
        let (q, lock) = (q.clone(), lock.clone());
        spawn_named("consumer", move || {
            let mut sum = 0;
            for _ in 0..2000 {
                let n = q.get().unwrap();
                let _held = lock.lock();
                sum += n;
                q.task_done().unwrap();
            }
            sum
        })
    };
    q.join();
    join(producer).unwrap();
    assert_eq!(join(consumer).unwrap(), 1999 * 2000 / 2);
    assert!(reports_of(&reports).is_empty());
}

/// With the ignore action, nothing is looked for: the deadlock is neither raised nor
/// reported, though a snapshot still shows it.
#[test]
fn ignore_looks_for_nothing_but_a_snapshot_shows_the_deadlock() {
    let (_serial, reports) = setup(DeadlockAction::Ignore);
    let (a, b) = (Arc::new(RLock::named("a")), Arc::new(RLock::named("b")));
    let both = Arc::new(std::sync::Barrier::new(2));
    let (e1, e2) = (Escape::default(), Escape::default());
    let side = |name: &str, first: &Arc<RLock>, second: &Arc<RLock>, escape: &Escape| {
        let (first, second, both, mut escape) =
            (first.clone(), second.clone(), both.clone(), escape.clone());
        spawn_named(name, move || {
            let _first = first.lock();
            both.wait();
            let r = second.acquire_interruptible(Deadline::never(), &mut escape);
            if r == Ok(true) {
                second.release().unwrap();
            }
            r
        })
    };
    let t1 = side("t1", &a, &b, &e1);
    let t2 = side("t2", &b, &a, &e2);
    until_waiting_held(t1.thread().ident().unwrap(), WaitKind::RLock);
    until_waiting_held(t2.thread().ident().unwrap(), WaitKind::RLock);
    let snap = debug::snapshot();
    assert_eq!(snap.deadlocks.len(), 1, "{snap}");
    assert!(!snap.deadlocks[0].raises());
    assert!(ab_ba_lines("RLock")
        .iter()
        .any(|l| snap.deadlocks[0].to_string().contains(l.as_str())));
    assert!(snap.to_string().contains("Deadlocks: 1"));
    e1.trip();
    assert_eq!(join(t1).unwrap(), Err(Interrupted));
    assert_eq!(join(t2).unwrap(), Ok(true));
    assert!(reports_of(&reports).is_empty());
}

/// Sets `parked` from its checks, which run only once the wait is parked (after its deadlock
/// check): proves a thread is past the check without sleeping.
#[derive(Clone)]
struct Parked(Arc<threadkit::Event>);

impl Interrupt for Parked {
    fn interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(1))
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        self.0.set();
        Ok(())
    }
}

/// An `Interrupt` that overrides `on_deadlock` gets the report (raising or not, per the action)
/// and decides: this one gives up, so the wait fails as interrupted and the hook is not called.
#[test]
fn an_interrupt_can_take_over_the_deadlock_action() {
    #[derive(Default)]
    struct GiveUp(Option<DeadlockReport>);
    impl Interrupt for GiveUp {
        fn interval(&self) -> Option<Duration> {
            None
        }
        fn check(&mut self) -> Result<(), Interrupted> {
            Ok(())
        }
        fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
            self.0 = Some(report.clone());
            Err(Interrupted)
        }
    }
    for action in [DeadlockAction::Raise, DeadlockAction::Report] {
        let (_serial, reports) = setup(action);
        let (a, b) = (Arc::new(RLock::named("a")), Arc::new(RLock::named("b")));
        let held_a = a.lock();
        let holds_b = Arc::new(threadkit::Event::new());
        let parked = Parked(Arc::new(threadkit::Event::new()));
        let t1 = {
            let (a, b, holds_b, mut parked) =
                (a.clone(), b.clone(), holds_b.clone(), parked.clone());
            spawn_named("t1", move || {
                let _b = b.lock();
                holds_b.set();
                assert_eq!(
                    a.acquire_interruptible(Deadline::never(), &mut parked),
                    Ok(true)
                );
                a.release().unwrap();
            })
        };
        holds_b.wait();
        parked.0.wait(); // t1 waits for a, past its own (fruitless) deadlock check
        let mut give_up = GiveUp::default();
        assert_eq!(
            b.acquire_interruptible(Deadline::never(), &mut give_up),
            Err(Interrupted)
        );
        let report = give_up.0.expect("this wait closed the cycle");
        assert_eq!(report.raises(), action == DeadlockAction::Raise);
        assert_eq!(report.threads()[0].ident, threadkit::get_ident());
        assert!(!b.is_owned());
        drop(held_a);
        join(t1).unwrap();
        assert!(reports_of(&reports).is_empty());
    }
}

/// After a raise, the thread that gave up holds nothing new and can use the same locks again.
#[test]
fn after_a_raise_the_locks_work_as_before() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let (a, b) = (Arc::new(Lock::named("a")), Arc::new(Lock::named("b")));
    let held_a = a.lock();
    let holds_b = Arc::new(threadkit::Event::new());
    let parked = Parked(Arc::new(threadkit::Event::new()));
    let t1 = {
        let (a, b, holds_b, mut parked) = (a.clone(), b.clone(), holds_b.clone(), parked.clone());
        spawn_named("t1", move || {
            b.acquire();
            holds_b.set();
            assert_eq!(
                a.acquire_interruptible(Deadline::never(), &mut parked),
                Ok(true)
            );
            a.release().unwrap();
            b.release().unwrap();
        })
    };
    holds_b.wait();
    parked.0.wait();
    let error = catch_unwind(AssertUnwindSafe(|| b.acquire())).unwrap_err();
    let error = deadlock_error(error);
    assert_eq!(error.report().threads()[0].ident, threadkit::get_ident());
    assert_eq!(a.owner(), Some(threadkit::get_ident()));
    drop(held_a);
    join(t1).unwrap();
    assert!(!a.locked() && !b.locked());
    // Both locks work as before, the deadlock is forgotten.
    let (_a, _b) = (a.lock(), b.lock());
    assert!(reports_of(&reports).is_empty());
}
