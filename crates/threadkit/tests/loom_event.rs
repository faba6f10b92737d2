//! loom models of Event: set wakes every waiter (a lost wake-up between a waiter's check of the
//! flag and its sleep shows up as a loom deadlock), and what was written before set is visible
//! after wait.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use threadkit::Event;

#[test]
fn set_wakes_a_waiter() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let t = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        ev.set();
        assert!(t.join().unwrap());
        assert!(ev.is_set());
    });
}

#[test]
fn no_lost_wake_up_between_check_and_wait() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let ev = ev.clone();
                thread::spawn(move || if ev.is_set() { true } else { ev.wait() })
            })
            .collect();
        ev.set();
        for h in handles {
            assert!(h.join().unwrap());
        }
    });
}

#[test]
fn set_clear_set_wakes_the_waiter() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let t = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        ev.set();
        ev.clear();
        ev.set();
        assert!(t.join().unwrap());
    });
}

#[test]
fn set_publishes_writes() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let data = Arc::new(UnsafeCell::new(0usize));
        let t = {
            let (ev, data) = (ev.clone(), data.clone());
            thread::spawn(move || {
                ev.wait();
                // SAFETY: the writer finished before set(), which happens-before this read.
                data.with(|p| unsafe { *p })
            })
        };
        // SAFETY: the reader only reads after wait() returns, i.e. after set() below.
        data.with_mut(|p| unsafe { *p = 42 });
        ev.set();
        assert_eq!(t.join().unwrap(), 42);
    });
}
