//! Contention counters (`threadkit::debug::contention`): counted on slow paths only, per kind
//! and label, resettable. The counters are process-wide: every test takes `SERIAL` and looks
//! only at its own labels.
#![cfg(not(loom))]

mod common;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::{spin_until, GUARD};
use threadkit::debug::{self, contention, ContentionRow, Label, Site};
use threadkit::{Event, Lock, Queue, RLock, Semaphore, SimpleQueue};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The row of the primitives named `name`, if any.
fn row(name: &str) -> Option<ContentionRow> {
    contention()
        .into_iter()
        .find(|r| r.label.name() == Some(name))
}

#[test]
fn an_uncontended_lock_counts_nothing() {
    let _serial = serial();
    let lock = Lock::named("quiet");
    let rlock = RLock::named("quiet-r");
    for _ in 0..1000 {
        lock.acquire();
        lock.release().unwrap();
        let _a = rlock.lock();
        let _b = rlock.lock();
    }
    let ev = Event::named("quiet-ev");
    ev.set();
    assert!(ev.wait());
    let q = Queue::new(0).with_name("quiet-q");
    q.put(1).unwrap();
    assert_eq!(q.get(), Ok(1));
    for name in ["quiet", "quiet-r", "quiet-ev", "quiet-q"] {
        assert_eq!(row(name), None, "{name}");
    }
}

#[test]
fn a_contended_wait_is_counted_with_its_duration_and_waiters() {
    let _serial = serial();
    let lock = Arc::new(Lock::named("hot"));
    lock.acquire();
    let waiter = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            lock.acquire();
            lock.release().unwrap();
        })
    };
    // The waiter is counted while it waits.
    spin_until(|| row("hot").is_some_and(|r| r.waiters == 1));
    let during = row("hot").unwrap();
    assert_eq!((during.kind, during.contended), ("Lock", 0));
    lock.release().unwrap();
    waiter.join().unwrap();
    let after = row("hot").unwrap();
    assert_eq!((after.contended, after.waiters), (1, 0));
    assert!(after.total_wait > Duration::ZERO);
    assert_eq!(after.max_wait, after.total_wait);
    assert!(after.total_wait < GUARD);
    assert!(after
        .to_string()
        .starts_with("Lock 'hot': 1 contended waits"));
}

#[test]
fn every_kind_of_wait_is_counted_under_its_primitive() {
    let _serial = serial();
    let sem = Semaphore::new(0).with_name("c-sem");
    assert!(!sem.acquire_timeout(Duration::from_millis(1)));
    let bounded = threadkit::BoundedSemaphore::new(1).with_name("c-bsem");
    bounded.acquire();
    assert!(!bounded.acquire_timeout(Duration::from_millis(1)));
    let ev = Event::named("c-ev");
    assert!(!ev.wait_timeout(Duration::from_millis(1)));
    let q: Queue<u8> = Queue::new(1).with_name("c-q");
    assert!(q.get_timeout(Duration::from_millis(1)).is_err());
    q.put(1).unwrap();
    assert!(q.put_timeout(2, Duration::from_millis(1)).is_err());
    assert!(!q.join_timeout(Duration::from_millis(1)));
    let sq: SimpleQueue<u8> = SimpleQueue::new().with_name("c-sq");
    assert!(sq.get_timeout(Duration::from_millis(1)).is_err());
    let cond = threadkit::Condition::named("c-cond");
    let _held = cond.lock().lock();
    assert_eq!(cond.wait_timeout(Duration::from_millis(1)), Ok(false));
    let barrier = threadkit::Barrier::new(2).with_name("c-barrier");
    assert!(barrier.wait_timeout(Duration::from_millis(1)).is_err());
    for (name, kind, waits) in [
        ("c-sem", "Semaphore", 1),
        ("c-bsem", "BoundedSemaphore", 1),
        ("c-ev", "Event", 1),
        ("c-q", "Queue", 3),
        ("c-sq", "SimpleQueue", 1),
        ("c-cond", "Condition", 1),
        ("c-barrier", "Barrier", 1),
    ] {
        let r = row(name).unwrap_or_else(|| panic!("no row for {name}"));
        assert_eq!((r.kind, r.contended, r.waiters), (kind, waits, 0), "{name}");
        assert!(r.total_wait >= Duration::from_millis(waits), "{name}");
    }
}

#[test]
fn rows_are_by_label_and_sorted_by_total_wait() {
    let _serial = serial();
    // Two unnamed locks made at one site share a row; a named one has its own.
    let site = Site::intern("rows.py", 1);
    let locks: Vec<Lock> = (0..2)
        .map(|_| Lock::new().with_label(Label::new(None, site)))
        .collect();
    for lock in &locks {
        lock.acquire();
        assert!(!lock.acquire_timeout(Duration::from_millis(1)));
    }
    let long = Lock::named("rows-long");
    long.acquire();
    assert!(!long.acquire_timeout(Duration::from_millis(30)));
    let rows = contention();
    let shared = rows.iter().find(|r| r.label.site() == site).unwrap();
    assert_eq!(shared.contended, 2);
    assert_eq!(shared.label.to_string(), "created at rows.py:1");
    let at = |pred: &dyn Fn(&ContentionRow) -> bool| rows.iter().position(pred).unwrap();
    assert!(
        at(&|r| r.label.name() == Some("rows-long")) < at(&|r| r.label.site() == site),
        "longest total wait first"
    );
    assert!(rows.windows(2).all(|w| w[0].total_wait >= w[1].total_wait));
}

#[test]
fn reset_sets_the_counters_back_to_zero_but_not_the_waiters() {
    let _serial = serial();
    let lock = Arc::new(Lock::named("reset"));
    lock.acquire();
    assert!(!lock.acquire_timeout(Duration::from_millis(1)));
    let waiter = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            lock.acquire();
            lock.release().unwrap();
        })
    };
    spin_until(|| row("reset").is_some_and(|r| r.waiters == 1));
    debug::reset_contention();
    let r = row("reset").expect("a thread still waits");
    assert_eq!(
        (r.contended, r.total_wait, r.max_wait, r.waiters),
        (0, Duration::ZERO, Duration::ZERO, 1)
    );
    lock.release().unwrap();
    waiter.join().unwrap();
    assert_eq!(row("reset").unwrap().contended, 1);
    debug::reset_contention();
    assert_eq!(
        row("reset"),
        None,
        "a row without waits or waiters is not listed"
    );
}
