//! Deadlocks through the waits that are not locks (`threadkit::debug`): thread joins, future
//! results, waits for several futures, pool shutdowns; with the raise and report actions, and
//! the cases that must not be reported.
//!
//! The action and the hook are process-wide: every test takes `SERIAL` first. Threads are
//! sequenced with barriers, events and observable wait records, never with sleeps.
#![cfg(not(loom))]

mod common;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::{spin_until, Escape, GUARD};
use threadkit::debug::{self, DeadlockAction, DeadlockError, DeadlockReport, WaitKind};
use threadkit::{
    as_completed, wait, Builder, Deadline, Event, Future, FutureError, JoinError, JoinHandle, Lock,
    RLock, ReturnWhen, ThreadPoolExecutor, Timer,
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

/// Waits for the first report.
fn first_report(reports: &Reports) -> DeadlockReport {
    spin_until(|| !reports_of(reports).is_empty());
    reports_of(reports).remove(0)
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

/// Runs `f`, returning the [`DeadlockError`] it panicked with, if it did.
fn raised<R>(f: impl FnOnce() -> R) -> Result<R, DeadlockError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(deadlock_error)
}

/// Waits until thread `ident` is recorded as waiting in a wait of `kind`, with a holder if
/// `held`.
fn until_waiting(ident: u64, kind: WaitKind, held: bool) {
    spin_until(|| {
        debug::snapshot().threads.iter().any(|t| {
            t.ident == ident
                && t.waiting
                    .as_ref()
                    .is_some_and(|w| w.kind == kind && (!held || !w.held_by.is_empty()))
        })
    });
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Thread joins

/// 'j' holds RLock 'l' and joins 't', which waits for 'l'. `t_first`: 't' blocks on the lock
/// before 'j' joins (the join closes the cycle); otherwise 'j' joins first and 't''s acquire
/// closes it. With raise, the closing wait gives up and the other thread then completes.
fn join_of_a_thread_waiting_for_the_joiners_lock(t_first: bool) {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let lock = Arc::new(RLock::named("l"));
    let go = Arc::new(Event::new());
    let (tx, rx) = mpsc::channel();
    let j = {
        let (lock, go) = (lock.clone(), go.clone());
        spawn_named("j", move || {
            let held = lock.lock();
            let t = {
                let (lock, go) = (lock.clone(), go.clone());
                spawn_named("t", move || {
                    go.wait();
                    raised(|| drop(lock.lock()))
                })
            };
            tx.send(t.thread().clone()).unwrap();
            if t_first {
                until_waiting(t.thread().ident().unwrap(), WaitKind::RLock, true);
            }
            let joined = raised(|| t.thread().join());
            drop(held);
            (joined, join(t).unwrap())
        })
    };
    let t = rx.recv().unwrap();
    if !t_first {
        until_waiting(j.thread().ident().unwrap(), WaitKind::ThreadJoin, true);
    }
    go.set();
    let (joined, acquired) = join(j).unwrap();
    let error = if t_first {
        assert!(acquired.is_ok(), "t got the lock once j gave up");
        joined.expect_err("j's join closed the cycle")
    } else {
        assert_eq!(joined.expect("t gave up, then ended"), Ok(()));
        acquired.expect_err("t's acquire closed the cycle")
    };
    let report = error.report();
    assert!(report.raises());
    let line = report.cycle_line();
    if t_first {
        assert_eq!(line, "'j' -> Thread 't' (join) -> 't' -> RLock 'l' -> 'j'");
    } else {
        assert_eq!(line, "'t' -> RLock 'l' -> 'j' -> Thread 't' (join) -> 't'");
    }
    let text = error.to_string();
    assert_mentions(
        &text,
        &["waits for Thread 't' created at", "deadlock_waits.rs"],
    );
    assert!(!t.is_alive());
    assert!(reports_of(&reports).is_empty());
}

#[test]
fn a_join_of_a_thread_waiting_for_the_joiners_lock_raises() {
    join_of_a_thread_waiting_for_the_joiners_lock(true);
}

#[test]
fn a_lock_wait_of_a_thread_being_joined_by_its_holder_raises() {
    join_of_a_thread_waiting_for_the_joiners_lock(false);
}

/// The same with report: one report, both keep waiting; the join's escape breaks it.
#[test]
fn a_join_of_a_thread_waiting_for_the_joiners_lock_is_reported() {
    let (_serial, reports) = setup(DeadlockAction::Report);
    let lock = Arc::new(RLock::named("l"));
    let escape = Escape::default();
    let j = {
        let (lock, mut escape) = (lock.clone(), escape.clone());
        spawn_named("j", move || {
            let held = lock.lock();
            let t = {
                let lock = lock.clone();
                spawn_named("t", move || drop(lock.lock()))
            };
            until_waiting(t.thread().ident().unwrap(), WaitKind::RLock, true);
            let joined = t.join_interruptible(Deadline::never(), &mut escape);
            drop(held);
            join(t).unwrap();
            joined
        })
    };
    let report = first_report(&reports);
    assert!(!report.raises());
    assert_eq!(
        report.cycle_line(),
        "'j' -> Thread 't' (join) -> 't' -> RLock 'l' -> 'j'"
    );
    assert_mentions(
        &report.to_string(),
        &["Deadlock found", "held by 't'", "held by 'j'", "Cycle: "],
    );
    assert!(j.is_alive());
    escape.trip();
    assert_eq!(join(j).unwrap(), Err(JoinError::Interrupted));
    assert_eq!(reports_of(&reports).len(), 1, "reported once");
}

/// Two threads joining each other: the second join closes the cycle and raises, then its
/// thread ends and the first join returns.
#[test]
fn two_threads_joining_each_other_raise_in_the_second_join() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let (tx, rx) = mpsc::channel::<threadkit::Thread>();
    let a = spawn_named("a", move || {
        let b = rx.recv().unwrap();
        raised(|| b.join())
    });
    let b = {
        let a = a.thread().clone();
        spawn_named("b", move || raised(|| a.join()))
    };
    tx.send(b.thread().clone()).unwrap();
    let (ra, rb) = (join(a).unwrap(), join(b).unwrap());
    let (error, closer) = match (ra, rb) {
        (Err(e), Ok(Ok(()))) => (e, "a"),
        (Ok(Ok(())), Err(e)) => (e, "b"),
        other => panic!("exactly one join gives up: {other:?}"),
    };
    let report = error.report();
    assert_eq!(report.threads()[0].name.as_deref(), Some(closer));
    let lines = [
        "'a' -> Thread 'b' (join) -> 'b' -> Thread 'a' (join) -> 'a'",
        "'b' -> Thread 'a' (join) -> 'a' -> Thread 'b' (join) -> 'b'",
    ];
    assert!(lines.contains(&report.cycle_line().as_str()), "{report}");
    assert!(reports_of(&reports).is_empty());
}

/// The same with report: both keep waiting; one join's escape breaks it.
#[test]
fn two_threads_joining_each_other_are_reported_once() {
    let (_serial, reports) = setup(DeadlockAction::Report);
    let escape = Escape::default();
    let (tx, rx) = mpsc::channel::<threadkit::Thread>();
    let a = {
        let mut escape = escape.clone();
        spawn_named("a", move || {
            let b = rx.recv().unwrap();
            b.join_interruptible(Deadline::never(), &mut escape)
        })
    };
    let b = {
        let a = a.thread().clone();
        spawn_named("b", move || a.join())
    };
    tx.send(b.thread().clone()).unwrap();
    let report = first_report(&reports);
    assert!(
        report.cycle_line().contains("Thread 'a' (join)"),
        "{report}"
    );
    assert!(
        report.cycle_line().contains("Thread 'b' (join)"),
        "{report}"
    );
    assert!(a.is_alive() && b.is_alive());
    escape.trip();
    assert_eq!(join(a).unwrap(), Err(JoinError::Interrupted));
    assert_eq!(join(b).unwrap(), Ok(()));
    assert_eq!(reports_of(&reports).len(), 1);
}

/// `JoinHandle::join` (the OS join) takes part too: here it closes the cycle.
#[test]
fn a_join_handle_join_raises_too() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let lock = Arc::new(RLock::named("l"));
    let held = lock.lock();
    let t = {
        let lock = lock.clone();
        spawn_named("t", move || drop(lock.lock()))
    };
    let ident = t.thread().ident().unwrap();
    until_waiting(ident, WaitKind::RLock, true);
    let thread = t.thread().clone();
    let error = match catch_unwind(AssertUnwindSafe(|| t.join())) {
        Err(p) => deadlock_error(p),
        Ok(r) => panic!("the join returned {r:?}"),
    };
    assert!(error.report().cycle_line().contains("Thread 't' (join)"));
    drop(held);
    assert_eq!(thread.join_timeout(GUARD), Ok(true));
    assert!(reports_of(&reports).is_empty());
}

/// `Timer::join` is a thread join: a timer whose function waits for the joiner's lock.
#[test]
fn a_timer_join_takes_part_in_deadlocks() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let me = threadkit::current_thread().name(); // registered: reports use this name
    let lock = Arc::new(RLock::named("l"));
    let held = lock.lock();
    let timer = {
        let lock = lock.clone();
        Timer::new(Duration::ZERO, move || drop(lock.lock()))
    };
    timer.thread().set_name("timer");
    timer.start().unwrap();
    until_waiting(timer.thread().ident().unwrap(), WaitKind::RLock, true);
    let error = raised(|| timer.join()).expect_err("the join closes the cycle");
    assert_eq!(
        error.report().cycle_line(),
        format!("'{me}' -> Thread 'timer' (join) -> 'timer' -> RLock 'l' -> '{me}'")
    );
    drop(held);
    assert_eq!(timer.join_timeout(GUARD), Ok(true));
    assert!(reports_of(&reports).is_empty());
}

/// A join with a timeout is no deadlock, nor is a join of a thread that waits for something
/// without a holder (an Event the joiner would set). The test ends both waits itself.
#[test]
fn timed_joins_and_joins_of_threads_waiting_for_events_are_not_deadlocks() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let lock = Arc::new(RLock::named("l"));
    let held = lock.lock();
    let t = {
        let lock = lock.clone();
        spawn_named("t", move || drop(lock.lock()))
    };
    until_waiting(t.thread().ident().unwrap(), WaitKind::RLock, true);
    let joiner = {
        let t = t.thread().clone();
        spawn_named("joiner", move || t.join_timeout(GUARD))
    };
    until_waiting(joiner.thread().ident().unwrap(), WaitKind::ThreadJoin, true);
    assert!(debug::snapshot().deadlocks.is_empty());
    drop(held);
    assert_eq!(join(joiner).unwrap(), Ok(true));
    join(t).unwrap();

    let ev = Arc::new(Event::named("go"));
    let t = {
        let ev = ev.clone();
        spawn_named("t", move || ev.wait())
    };
    until_waiting(t.thread().ident().unwrap(), WaitKind::Event, false);
    let setter = {
        let ev = ev.clone();
        let me = threadkit::get_ident();
        spawn_named("setter", move || {
            until_waiting(me, WaitKind::ThreadJoin, true);
            ev.set();
        })
    };
    t.thread().join().unwrap();
    join(setter).unwrap();
    assert!(reports_of(&reports).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Futures

/// A pool of one worker whose task submits another task to the same pool and waits for its
/// result: the second task can never run. With raise, the task's `result()` gives up; the
/// worker then runs the second task.
#[test]
fn a_one_worker_pool_whose_task_waits_for_a_task_it_queued_raises() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("solo")
            .build(),
    );
    let outer = {
        let inner_pool = pool.clone();
        pool.submit(move || {
            let inner = inner_pool.submit(|| 7).unwrap();
            let r = raised(|| inner.result().copied().ok());
            (r, inner)
        })
        .unwrap()
    };
    let (r, inner) = outer.result().unwrap().clone();
    let error = r.expect_err("the result() closed the cycle");
    let report = error.report();
    assert!(report.raises());
    assert_eq!(report.threads().len(), 1);
    let worker = &report.threads()[0];
    assert_eq!(worker.name.as_deref(), Some("solo_0"));
    assert_eq!(worker.kind, WaitKind::FutureResult);
    assert_eq!(worker.held_by, [worker.ident]);
    let line = report.cycle_line();
    assert!(
        line.starts_with("'solo_0' -> Future created at ")
            && line.ends_with(" (result) -> 'solo_0'"),
        "{line}"
    );
    assert!(line.contains("deadlock_waits.rs"), "{line}");
    assert_eq!(*inner.result_timeout(GUARD).unwrap(), 7);
    assert!(reports_of(&reports).is_empty());
}

/// The same with report: reported once while the worker keeps waiting; the test breaks it by
/// cancelling the queued task (which the report does not foresee: see `Workers::held_by`).
#[test]
fn a_one_worker_pool_whose_task_waits_for_a_task_it_queued_is_reported() {
    let (_serial, reports) = setup(DeadlockAction::Report);
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("solo")
            .build(),
    );
    let (tx, rx) = mpsc::channel();
    let outer = {
        let inner_pool = pool.clone();
        pool.submit(move || {
            let inner = inner_pool.submit(|| 7).unwrap();
            tx.send(inner.clone()).unwrap();
            matches!(inner.result(), Err(FutureError::Cancelled))
        })
        .unwrap()
    };
    let inner = rx.recv().unwrap();
    let report = first_report(&reports);
    assert!(!report.raises());
    assert_mentions(
        &report.to_string(),
        &[
            "Thread 'solo_0'",
            "waits for Future created at",
            "held by 'solo_0'",
        ],
    );
    assert!(!outer.done());
    assert!(inner.cancel());
    assert!(*outer.result_timeout(GUARD).unwrap());
    assert_eq!(reports_of(&reports).len(), 1);
}

/// Two workers, each running a task that waits for a task it queued behind both: the queued
/// tasks wait for all the pool's workers (an AND node), and both are stuck.
#[test]
fn a_full_pool_whose_every_worker_waits_for_queued_tasks_raises() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .thread_name_prefix("pair")
            .build(),
    );
    let both_busy = Arc::new(std::sync::Barrier::new(2));
    let outers: Vec<_> = (0..2)
        .map(|i| {
            let (inner_pool, both_busy) = (pool.clone(), both_busy.clone());
            pool.submit(move || {
                both_busy.wait();
                let inner = inner_pool.submit(move || i).unwrap();
                raised(|| inner.result().copied().ok())
            })
            .unwrap()
        })
        .collect();
    let results: Vec<_> = outers
        .iter()
        .map(|f| f.result_timeout(GUARD).unwrap().clone())
        .collect();
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{results:?}");
    let report = errors[0].report();
    assert_eq!(report.threads().len(), 2, "{report}");
    for t in report.threads() {
        assert_eq!(t.held_by.len(), 2, "{report}");
        assert!(t.name.as_deref().unwrap().starts_with("pair_"));
    }
    assert!(report.to_string().contains("waits for any of"), "{report}");
    // The other worker's wait ended once the one that gave up ran its queued task.
    assert!(results.iter().any(|r| r.is_ok()));
    assert!(reports_of(&reports).is_empty());
}

/// A thread waits for a pool task that waits for a lock the thread holds.
#[test]
fn waiting_for_a_task_that_waits_for_the_waiters_lock_raises() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let me = threadkit::current_thread().name(); // registered: reports use this name
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("w")
        .build();
    let lock = Arc::new(RLock::named("l"));
    let held = lock.lock();
    let task = {
        let lock = lock.clone();
        pool.submit(move || drop(lock.lock())).unwrap()
    };
    until_waiting(pool.threads()[0].ident().unwrap(), WaitKind::RLock, true);
    let error = raised(|| task.result().map(|_| ())).expect_err("closes the cycle");
    let line = error.report().cycle_line();
    assert!(
        line.starts_with(&format!("'{me}' -> Future created at ")),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(" (result) -> 'w_0' -> RLock 'l' -> '{me}'")),
        "{line}"
    );
    drop(held);
    task.result_timeout(GUARD).unwrap();
    assert!(reports_of(&reports).is_empty());
}

/// `wait(FIRST_COMPLETED)` and `as_completed` over futures with holders take part too; a
/// wait for several futures shows in a snapshot with the call's location.
#[test]
fn waits_for_several_futures_take_part_in_deadlocks() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("solo")
            .build(),
    );
    for use_wait in [true, false] {
        let outer = {
            let inner_pool = pool.clone();
            pool.submit(move || {
                let fs = [
                    inner_pool.submit(|| 1).unwrap(),
                    inner_pool.submit(|| 2).unwrap(),
                ];
                raised(|| {
                    if use_wait {
                        wait(&fs, None, ReturnWhen::FirstCompleted).done.len()
                    } else {
                        as_completed(&fs, None).next().map_or(0, |r| r.unwrap())
                    }
                })
            })
            .unwrap()
        };
        let error = outer.result_timeout(GUARD).unwrap().clone().unwrap_err();
        let t = &error.report().threads()[0];
        assert_eq!(t.kind, WaitKind::FuturesWait);
        assert!(t.label.site().file().ends_with("deadlock_waits.rs"));
    }
    assert!(debug::contention()
        .iter()
        .any(|row| row.kind == "Future" && row.label.site().file().ends_with("deadlock_waits.rs")));
    assert!(reports_of(&reports).is_empty());
}

/// A pool shutdown that waits for a worker stuck on the caller's lock.
#[test]
fn a_shutdown_waiting_for_a_worker_stuck_on_the_callers_lock_raises() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let me = threadkit::current_thread().name(); // registered: reports use this name
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("p")
        .build();
    let lock = Arc::new(RLock::named("l"));
    let held = lock.lock();
    let task = {
        let lock = lock.clone();
        pool.submit(move || drop(lock.lock())).unwrap()
    };
    until_waiting(pool.threads()[0].ident().unwrap(), WaitKind::RLock, true);
    let error = raised(|| pool.shutdown(true, false)).expect_err("closes the cycle");
    assert_eq!(
        error.report().cycle_line(),
        format!("'{me}' -> ThreadPoolExecutor 'p' (shutdown) -> 'p_0' -> RLock 'l' -> '{me}'")
    );
    drop(held);
    task.result_timeout(GUARD).unwrap();
    pool.shutdown(true, false);
    assert!(reports_of(&reports).is_empty());
}

// ---------------------------------------------------------------------------------------------
// No false reports

/// Workers of one pool submit to another pool and wait for the results, many times: every
/// wait is for a worker that runs.
#[test]
fn a_pool_whose_workers_submit_to_another_pool_reports_nothing() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let front = ThreadPoolExecutor::builder().max_workers(2).build();
    let back = Arc::new(ThreadPoolExecutor::builder().max_workers(1).build());
    let fs: Vec<_> = (0..200u64)
        .map(|i| {
            let back = back.clone();
            front
                .submit(move || *back.submit(move || i * 2).unwrap().result().unwrap())
                .unwrap()
        })
        .collect();
    let total: u64 = fs.iter().map(|f| *f.result_timeout(GUARD).unwrap()).sum();
    assert_eq!(total, 199 * 200);
    assert!(reports_of(&reports).is_empty());
}

/// A task queued in a pool that has an idle worker (or room for another) is no deadlock, even
/// when the waiter is one of the pool's workers.
#[test]
fn a_task_waiting_for_a_queued_task_of_a_pool_that_can_run_it_reports_nothing() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    for _ in 0..50 {
        let pool = Arc::new(ThreadPoolExecutor::new(2));
        let outer = {
            let inner_pool = pool.clone();
            pool.submit(move || *inner_pool.submit(|| 5).unwrap().result().unwrap())
                .unwrap()
        };
        assert_eq!(*outer.result_timeout(GUARD).unwrap(), 5);
    }
    assert!(reports_of(&reports).is_empty());
}

/// A thread waits for a pool task that waits for a free-standing future which a third thread
/// completes: the free future has no known holder, so nothing is claimed.
#[test]
fn a_future_completed_by_another_thread_while_the_waiter_waits_reports_nothing() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let pool = ThreadPoolExecutor::new(1);
    for _ in 0..20 {
        let free: Future<u8> = Future::new();
        let task = {
            let free = free.clone();
            pool.submit(move || *free.result().unwrap()).unwrap()
        };
        let worker = pool.threads()[0].ident().unwrap();
        let completer = {
            let free = free.clone();
            let me = threadkit::get_ident();
            spawn_named("completer", move || {
                until_waiting(worker, WaitKind::FutureResult, false);
                until_waiting(me, WaitKind::FutureResult, true);
                free.set_result(3).unwrap();
            })
        };
        assert_eq!(*task.result().unwrap(), 3);
        join(completer).unwrap();
    }
    assert!(reports_of(&reports).is_empty());
}

/// A timed `result()` in the one-worker-pool shape is not a deadlock (it ends by itself); the
/// test ends it sooner by cancelling the queued task.
#[test]
fn a_timed_result_is_not_a_deadlock() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let pool = Arc::new(ThreadPoolExecutor::new(1));
    let (tx, rx) = mpsc::channel();
    let outer = {
        let inner_pool = pool.clone();
        pool.submit(move || {
            let inner = inner_pool.submit(|| 7).unwrap();
            tx.send(inner.clone()).unwrap();
            matches!(inner.result_timeout(GUARD), Err(FutureError::Cancelled))
        })
        .unwrap()
    };
    let inner = rx.recv().unwrap();
    until_waiting(
        pool.threads()[0].ident().unwrap(),
        WaitKind::FutureResult,
        true,
    );
    assert!(debug::snapshot().deadlocks.is_empty());
    assert!(inner.cancel());
    assert!(*outer.result_timeout(GUARD).unwrap());
    assert!(reports_of(&reports).is_empty());
}

/// Fast paths record nothing: a `result()` of a finished future and a join of a finished
/// thread return without a wait record (no contention row, no snapshot entry can appear).
#[test]
fn finished_futures_and_threads_are_not_waited_for() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let f = Future::new();
    f.set_result(1).unwrap();
    assert_eq!(*f.result().unwrap(), 1);
    let h = threadkit::spawn(|| ());
    let t = h.thread().clone();
    h.join().unwrap();
    assert_eq!(t.join(), Ok(()));
    let me = threadkit::get_ident();
    assert!(debug::snapshot()
        .threads
        .iter()
        .all(|s| s.ident != me || s.waiting.is_none()));
    assert!(reports_of(&reports).is_empty());
}

/// A plain Lock held across a join is the gate idiom, not a deadlock: this thread takes the
/// Lock as a closed gate and joins 't', which waits at the gate; 'opener' opens it (releases
/// it: any thread may release a Lock). A plain Lock's owner is a certain holder only while it
/// waits for a lock itself (`debug`'s detection notes); with an RLock, the same shape is the
/// deadlock of `a_join_handle_join_raises_too`.
#[test]
fn a_plain_lock_held_across_a_join_is_a_gate_not_a_deadlock() {
    let (_serial, reports) = setup(DeadlockAction::Raise);
    let gate = Arc::new(Lock::named("gate"));
    gate.acquire();
    let t = {
        let gate = gate.clone();
        spawn_named("t", move || {
            gate.acquire();
            gate.release().unwrap();
        })
    };
    until_waiting(t.thread().ident().unwrap(), WaitKind::Lock, true);
    let me = threadkit::get_ident();
    let opener = {
        let gate = gate.clone();
        spawn_named("opener", move || {
            until_waiting(me, WaitKind::ThreadJoin, true);
            gate.release().unwrap();
        })
    };
    // Not timed: a timed join is no deadlock anyway. A false report would panic here.
    t.join().unwrap();
    join(opener).unwrap();
    assert!(reports_of(&reports).is_empty());
}
