//! Event: behaviour, timeouts, interrupts, wake-ups, stress.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use threadkit::{Deadline, Event, Interrupt, Interrupted, NoInterrupt};

mod common;
use common::{gives_up_promptly, spin_until, StopAfter};

/// Counts, once, into `blocked` when the wait it is given to is really blocked (its check is
/// only called from a blocked wait), then never interrupts.
struct ReportBlocked {
    blocked: Arc<AtomicUsize>,
    reported: bool,
}
impl Interrupt for ReportBlocked {
    fn interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(1))
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        if !self.reported {
            self.reported = true;
            self.blocked.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[test]
fn flag_set_clear() {
    let ev = Event::new();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
    assert!(!Event::default().is_set());
}

#[test]
fn wait_returns_at_once_when_set() {
    let ev = Event::new();
    ev.set();
    assert!(ev.wait());
    assert!(ev.wait_timeout(Duration::ZERO));
    assert!(ev.wait_until(Deadline::now()));
    assert_eq!(
        ev.wait_interruptible(Deadline::now(), &mut NoInterrupt),
        Ok(true)
    );
}

#[test]
fn timeouts_return_false_promptly() {
    let ev = Event::new();
    assert!(!gives_up_promptly(Duration::from_millis(30), |t| ev.wait_timeout(t)));
    assert!(!ev.wait_until(Deadline::now()));
    assert!(!ev.wait_timeout(Duration::ZERO));
    assert_eq!(
        ev.wait_interruptible(Deadline::after(Duration::from_millis(5)), &mut NoInterrupt),
        Ok(false)
    );
    // Still works after timed-out waits.
    ev.set();
    assert!(ev.wait_timeout(Duration::from_millis(5)));
}

#[test]
fn interrupt_stops_a_wait() {
    let ev = Event::new();
    assert_eq!(
        ev.wait_interruptible(Deadline::never(), &mut StopAfter::new(3)),
        Err(Interrupted)
    );
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.wait());
}

#[test]
fn set_wakes_a_waiter_with_a_timeout() {
    let ev = Arc::new(Event::new());
    let t = {
        let ev = ev.clone();
        thread::spawn(move || ev.wait_timeout(Duration::from_secs(60)))
    };
    ev.set();
    assert!(t.join().unwrap());
}

#[test]
fn set_wakes_every_waiter() {
    const WAITERS: usize = 8;
    let ev = Arc::new(Event::new());
    let handles: Vec<_> = (0..WAITERS)
        .map(|i| {
            let ev = ev.clone();
            thread::spawn(move || match i % 3 {
                0 => ev.wait(),
                1 => ev.wait_timeout(Duration::from_secs(60)),
                _ => ev.wait_interruptible(Deadline::never(), &mut NoInterrupt) == Ok(true),
            })
        })
        .collect();
    ev.set();
    for h in handles {
        assert!(h.join().unwrap());
    }
}

/// CPython: a waiter woken by `set` returns true even if the flag is cleared before it runs.
#[test]
fn woken_waiters_return_true_after_a_clear() {
    const WAITERS: usize = 8;
    let ev = Arc::new(Event::new());
    let blocked = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..WAITERS)
        .map(|i| {
            let (ev, blocked) = (ev.clone(), blocked.clone());
            thread::spawn(move || {
                let mut report = ReportBlocked {
                    blocked,
                    reported: false,
                };
                let deadline = if i % 2 == 0 {
                    Deadline::never()
                } else {
                    Deadline::after(Duration::from_secs(60))
                };
                ev.wait_interruptible(deadline, &mut report)
            })
        })
        .collect();
    spin_until(|| blocked.load(Ordering::SeqCst) == WAITERS);
    ev.set();
    ev.clear();
    for h in handles {
        assert_eq!(h.join().unwrap(), Ok(true));
    }
    assert!(!ev.is_set());
    assert!(!ev.wait_timeout(Duration::from_millis(1)));
}

#[test]
fn debug_and_reinit() {
    let ev = Event::new();
    assert_eq!(format!("{ev:?}"), "Event { set: false }");
    ev.set();
    assert_eq!(format!("{ev:?}"), "Event { set: true }");
    ev.reinit_after_fork();
    assert!(ev.is_set());
    ev.clear();
    ev.reinit_after_fork();
    assert!(!ev.is_set());
    assert!(!ev.wait_timeout(Duration::from_millis(1)));
}

/// Many rounds, each its own event set once every thread is about to wait for it: every
/// waiter of every round is woken.
#[test]
fn stress_every_round_wakes_every_waiter() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 500;
    let events: Arc<Vec<Event>> = Arc::new((0..ROUNDS).map(|_| Event::new()).collect());
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (events, arrived) = (events.clone(), arrived.clone());
            thread::spawn(move || {
                for (r, ev) in events.iter().enumerate() {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    let ok = if (t + r) % 2 == 0 {
                        ev.wait()
                    } else {
                        ev.wait_timeout(Duration::from_secs(60))
                    };
                    assert!(ok);
                }
            })
        })
        .collect();
    for (r, ev) in events.iter().enumerate() {
        spin_until(|| arrived.load(Ordering::SeqCst) == THREADS * (r + 1));
        ev.set();
    }
    for h in handles {
        h.join().unwrap();
    }
}

/// set/clear churn against waiters with and without timeouts: no waiter is lost, and once the
/// flag stays set every waiter returns.
#[test]
fn stress_set_clear_churn() {
    const WAITERS: usize = 8;
    const TOGGLES: usize = 20_000;
    let ev = Arc::new(Event::new());
    let stop = Arc::new(AtomicBool::new(false));
    let waiters: Vec<_> = (0..WAITERS)
        .map(|t| {
            let (ev, stop) = (ev.clone(), stop.clone());
            thread::spawn(move || {
                let mut waits = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    if t % 2 == 0 {
                        assert!(ev.wait());
                    } else {
                        ev.wait_timeout(Duration::from_micros(100));
                    }
                    waits += 1;
                }
                waits
            })
        })
        .collect();
    for _ in 0..TOGGLES {
        ev.set();
        ev.clear();
    }
    stop.store(true, Ordering::SeqCst);
    ev.set();
    for h in waiters {
        // A waiter may see `stop` before its first wait: only its termination matters.
        let _waits: usize = h.join().unwrap();
    }
    assert!(ev.is_set());
}
