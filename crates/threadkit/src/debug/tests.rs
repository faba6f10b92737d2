//! Unit tests of what the public API cannot reach yet: AND nodes (a future queued in a pool that
//! cannot grow, held by all its workers) and [`wait_while_watched`], which the thread and futures
//! hooks will use. A fake future stands in for the real one.

use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use super::slot::{slot_of, wait_while_watched, HeldBy, WaitOn, Waitable, Waiting};
use super::{DeadlockAction, DeadlockReport, Label, WaitKind};
use crate::deadline::{Deadline, Interrupt, Interrupted, WaitOutcome};
use crate::ident::get_ident;
use crate::sync::{Condvar, Mutex};

/// The action is process-wide: tests that depend on it run one at a time.
static SERIAL: StdMutex<()> = StdMutex::new(());

/// A future queued in a pool of `workers`: done when set; any worker could run it.
struct FakeFuture {
    label: Label,
    workers: StdMutex<Vec<u64>>,
    done: Mutex<bool>,
    cv: Condvar,
}

impl FakeFuture {
    fn new(name: &str) -> Arc<FakeFuture> {
        Arc::new(FakeFuture {
            label: Label::here().with_name(name),
            workers: StdMutex::new(Vec::new()),
            done: Mutex::new(false),
            cv: Condvar::new(),
        })
    }

    /// As a `Future::result` hook would be written.
    fn wait(&self, interrupt: &mut dyn Interrupt) -> Result<bool, Interrupted> {
        let on = WaitOn {
            kind: WaitKind::FutureResult,
            target: self,
            tag: None,
            reacquire: false,
        };
        let waiting = Waiting::start(on, Deadline::never());
        waiting.check_deadlock(interrupt)?;
        let guard = self.done.lock();
        let (_guard, outcome) = wait_while_watched(
            &waiting,
            &self.done,
            &self.cv,
            guard,
            Deadline::never(),
            interrupt,
            |done| !*done,
        );
        match outcome {
            WaitOutcome::Ready => Ok(true),
            WaitOutcome::TimedOut => Ok(false),
            WaitOutcome::Interrupted => Err(Interrupted),
        }
    }

    fn set(&self) {
        *self.done.lock() = true;
        self.cv.notify_all();
    }
}

impl Waitable for FakeFuture {
    fn label(&self) -> Label {
        self.label.clone()
    }

    fn held_by(&self, _waiter: u64) -> HeldBy {
        HeldBy::AllOf(self.workers.lock().unwrap().clone())
    }

    fn wakes(&self) -> bool {
        true
    }

    fn wake(&self) {
        let _guard = self.done.lock();
        self.cv.notify_all();
    }
}

/// Records the reports it is given; gives up on them.
#[derive(Default)]
struct Record(Vec<DeadlockReport>);

impl Interrupt for Record {
    fn interval(&self) -> Option<Duration> {
        None
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        Ok(())
    }
    fn on_deadlock(&mut self, report: &DeadlockReport) -> Result<(), Interrupted> {
        self.0.push(report.clone());
        Err(Interrupted)
    }
}

/// Waits until thread `ident` is recorded as waiting.
fn until_waiting(ident: u64) {
    let start = Instant::now();
    while slot_of(ident)
        .and_then(|s| s.read(false))
        .map_or(true, |seen| seen.kind != WaitKind::FutureResult)
    {
        assert!(start.elapsed() < Duration::from_secs(20), "never waited");
        std::thread::yield_now();
    }
}

#[test]
fn a_worker_waiting_for_a_future_queued_in_its_own_single_worker_pool_is_a_deadlock() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    super::set_deadlock_action(DeadlockAction::Report);
    let future = FakeFuture::new("queued");
    future.workers.lock().unwrap().push(get_ident());
    let mut record = Record::default();
    assert_eq!(future.wait(&mut record), Err(Interrupted));
    assert_eq!(record.0.len(), 1);
    let report = &record.0[0];
    assert!(!report.raises());
    assert_eq!(report.threads().len(), 1);
    assert_eq!(report.threads()[0].held_by, [get_ident()]);
    assert_eq!(report.threads()[0].kind, WaitKind::FutureResult);
    let name = report.threads()[0].display_name();
    assert_eq!(
        report.cycle_line(),
        format!("{name} -> Future 'queued' (result) -> {name}")
    );
}

#[test]
fn an_and_node_is_a_deadlock_only_once_every_worker_is_stuck() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    super::set_deadlock_action(DeadlockAction::Report);
    // Two workers, each waiting for a future queued behind the other in their pool.
    let (f1, f2) = (FakeFuture::new("f1"), FakeFuture::new("f2"));
    let first = {
        let f1 = f1.clone();
        std::thread::spawn(move || {
            let mut record = Record::default();
            let r = f1.wait(&mut record);
            (r, record.0)
        })
    };
    let w1 = {
        let start = Instant::now();
        loop {
            if let Some(ident) = crate::debug::slot::all_slots()
                .iter()
                .find(|s| {
                    s.read(true)
                        .is_some_and(|seen| seen.label.unwrap().name() == Some("f1"))
                })
                .map(|s| s.ident)
            {
                break ident;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "never waited");
            std::thread::yield_now();
        }
    };
    let me = get_ident();
    for f in [&f1, &f2] {
        *f.workers.lock().unwrap() = vec![w1, me];
    }
    until_waiting(w1);
    // This thread is not stuck yet, so w1 is not: its wait found nothing when it started.
    // Now this thread waits too: every worker of the pool is stuck.
    let mut record = Record::default();
    assert_eq!(f2.wait(&mut record), Err(Interrupted));
    assert_eq!(record.0.len(), 1);
    let report = &record.0[0];
    assert_eq!(report.threads().len(), 2);
    assert_eq!(report.threads()[0].ident, me);
    assert!(report.involves(w1));
    assert!(report.to_string().contains("waits for any of"));
    f1.set();
    let (r, reports) = first.join().unwrap();
    assert_eq!(r, Ok(true));
    assert!(reports.is_empty());
}

#[test]
fn a_report_handed_to_a_watched_wait_is_delivered_and_the_wait_goes_on() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let future = FakeFuture::new("watched");
    let delivered = Arc::new(AtomicBool::new(false));
    /// Counts deliveries, then keeps waiting.
    struct Keep(Arc<AtomicBool>);
    impl Interrupt for Keep {
        fn interval(&self) -> Option<Duration> {
            None
        }
        fn check(&mut self) -> Result<(), Interrupted> {
            Ok(())
        }
        fn on_deadlock(&mut self, _report: &DeadlockReport) -> Result<(), Interrupted> {
            self.0.store(true, StdOrdering::SeqCst);
            Ok(())
        }
    }
    let waiter = {
        let (future, delivered) = (future.clone(), delivered.clone());
        std::thread::spawn(move || future.wait(&mut Keep(delivered)))
    };
    let ident = {
        let start = Instant::now();
        loop {
            if let Some(s) = crate::debug::slot::all_slots().into_iter().find(|s| {
                s.read(true)
                    .is_some_and(|seen| seen.label.unwrap().name() == Some("watched"))
            }) {
                break s;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "never waited");
            std::thread::yield_now();
        }
    };
    let seen = ident.read(false).unwrap();
    let report = DeadlockReport::for_test();
    assert!(ident.poke(seen.generation, report));
    let start = Instant::now();
    while !delivered.load(StdOrdering::SeqCst) {
        assert!(start.elapsed() < Duration::from_secs(20), "never delivered");
        std::thread::yield_now();
    }
    future.set();
    assert_eq!(waiter.join().unwrap(), Ok(true));
}

/// Waits until thread `ident` is recorded as waiting in a wait of `kind`.
fn until_waiting_in(ident: u64, kind: WaitKind) {
    let start = Instant::now();
    while slot_of(ident)
        .and_then(|s| s.read(false))
        .map_or(true, |seen| seen.kind != kind)
    {
        assert!(start.elapsed() < Duration::from_secs(20), "never waited");
        std::thread::yield_now();
    }
}

/// Thread 'holder' takes `lock` (a plain Lock, or an RLock) and starts a worker that waits for
/// it; then 'holder' waits for a future only that worker could run. Returns what the holder's
/// wait returned and the reports it was given. With a plain Lock this is the gate idiom (the
/// test thread opens the gate: a hand-off), so no report; with an RLock only the holder can
/// release it, so the cycle is certain.
fn lock_held_across_a_wait_for_its_waiter(plain: bool) -> (Result<bool, Interrupted>, usize) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    super::set_deadlock_action(DeadlockAction::Report);
    let lock = Arc::new(crate::Lock::named("gate"));
    let rlock = Arc::new(crate::RLock::named("gate"));
    let future = FakeFuture::new("work");
    let (worker_ident_tx, worker_ident_rx) = std::sync::mpsc::channel();
    let holder = {
        let (lock, rlock, future) = (lock.clone(), rlock.clone(), future.clone());
        std::thread::spawn(move || {
            if plain {
                lock.acquire();
            } else {
                rlock.acquire();
            }
            let worker = {
                let (lock, rlock, tx) = (lock.clone(), rlock.clone(), worker_ident_tx);
                std::thread::spawn(move || {
                    tx.send(get_ident()).unwrap();
                    if plain {
                        lock.acquire();
                        lock.release().unwrap();
                    } else {
                        rlock.acquire();
                        rlock.release().unwrap();
                    }
                })
            };
            let worker_ident = worker_ident_rx.recv().unwrap();
            until_waiting_in(
                worker_ident,
                if plain {
                    WaitKind::Lock
                } else {
                    WaitKind::RLock
                },
            );
            future.workers.lock().unwrap().push(worker_ident);
            let mut record = Record::default();
            let r = future.wait(&mut record);
            if !plain {
                rlock.release().unwrap();
            }
            worker.join().unwrap();
            (r, record.0.len(), get_ident())
        })
    };
    // A false report ends the holder's wait at once (Record gives up): then nothing to open.
    if plain && !holder.is_finished() {
        // Open the gate once the holder waits: the worker goes on, and so does the holder.
        let start = Instant::now();
        let ident = loop {
            if holder.is_finished() {
                let (r, reports, _) = holder.join().unwrap();
                return (r, reports);
            }
            if let Some(s) = crate::debug::slot::all_slots().into_iter().find(|s| {
                s.read(true)
                    .is_some_and(|seen| seen.label.unwrap().name() == Some("work"))
            }) {
                break s.ident;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "never waited");
            std::thread::yield_now();
        };
        until_waiting_in(ident, WaitKind::FutureResult);
        lock.release().unwrap();
        // The worker has the lock and ends; then the future is done.
        while lock.locked() || slot_of(ident).is_none() {
            std::thread::yield_now();
        }
        future.set();
    }
    let (r, reports, _) = holder.join().unwrap();
    (r, reports)
}

#[test]
fn a_plain_lock_held_across_a_wait_that_is_no_lock_wait_is_a_gate_not_a_deadlock() {
    assert_eq!(lock_held_across_a_wait_for_its_waiter(true), (Ok(true), 0));
}

#[test]
fn an_rlock_held_across_a_wait_for_its_waiter_is_a_deadlock() {
    assert_eq!(
        lock_held_across_a_wait_for_its_waiter(false),
        (Err(Interrupted), 1)
    );
}
