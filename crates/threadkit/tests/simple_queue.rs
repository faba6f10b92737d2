//! Behaviour of `SimpleQueue`: order, errors, timeouts, interrupts, and a many-thread stress
//! test.

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use threadkit::{Deadline, GetError, SimpleQueue};

mod common;
use common::{gives_up_promptly, spawn_started, StopAfter};

#[test]
fn fifo_order_and_sizes() {
    let q = SimpleQueue::new();
    assert!(q.empty());
    for n in 0..100 {
        q.put(n);
    }
    assert_eq!(q.qsize(), 100);
    assert!(!q.empty());
    let got: Vec<_> = (0..100).map(|_| q.get()).collect();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert!(q.empty());
}

#[test]
fn try_get_and_get_until_now_on_empty() {
    let q = SimpleQueue::<u8>::default();
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(q.get_until(Deadline::now()), Err(GetError::Empty));
    q.put(1);
    assert_eq!(q.try_get(), Ok(1));
}

#[test]
fn get_timeout_returns_promptly() {
    let q = SimpleQueue::<u8>::new();
    assert_eq!(
        gives_up_promptly(Duration::from_millis(30), |t| q.get_timeout(t)),
        Err(GetError::Empty)
    );
}

#[test]
fn get_interruptible() {
    let q = SimpleQueue::<u8>::new();
    let mut i = StopAfter::new(3);
    assert_eq!(
        q.get_interruptible(Deadline::never(), &mut i),
        Err(GetError::Interrupted)
    );
    assert_eq!(i.checks, 3);
    q.put(9);
    let mut i = StopAfter::new(1);
    assert_eq!(q.get_interruptible(Deadline::never(), &mut i), Ok(9));
    assert_eq!(i.checks, 0);
}

#[test]
fn blocked_getters_each_get_one_item() {
    let q = Arc::new(SimpleQueue::new());
    let getters = {
        let q = q.clone();
        spawn_started(4, move |_| q.get())
    };
    for n in 0..4 {
        q.put(n);
    }
    let mut got: Vec<i32> = getters.into_iter().map(|g| g.join().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, vec![0, 1, 2, 3]);
}

#[test]
fn debug_and_reinit() {
    let q = SimpleQueue::new();
    q.put(1);
    assert_eq!(format!("{q:?}"), "SimpleQueue { qsize: 1 }");
    q.reinit_after_fork();
    assert_eq!(q.get(), 1);
}

#[test]
fn stress_every_item_once() {
    const PRODUCERS: u64 = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: u64 = 10_000;
    let q = Arc::new(SimpleQueue::new());
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    q.put(Some(p * PER_PRODUCER + i));
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let item = if c % 2 == 0 {
                        q.get()
                    } else {
                        match q.get_timeout(Duration::from_millis(1)) {
                            Ok(item) => item,
                            Err(GetError::Empty) => continue,
                            Err(e) => panic!("unexpected {e}"),
                        }
                    };
                    match item {
                        Some(n) => got.push(n),
                        None => return got,
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    for _ in 0..CONSUMERS {
        q.put(None); // one stop marker per consumer
    }
    let mut seen = HashSet::new();
    for c in consumers {
        for n in c.join().unwrap() {
            assert!(seen.insert(n), "{n} delivered twice");
        }
    }
    assert_eq!(seen.len() as u64, PRODUCERS * PER_PRODUCER);
    assert!(q.empty());
}

/// As `Queue`'s: an item taken by `get_in_flight` counts in `qsize()` until `landed()`.
#[test]
fn an_item_taken_in_flight_counts_until_landed() {
    use threadkit::raw::QueueExt;
    use threadkit::{Deadline, NoInterrupt, SimpleQueue};
    let q = SimpleQueue::new();
    q.put(1);
    assert_eq!(q.get_in_flight(Deadline::never(), &mut NoInterrupt), Ok(1));
    assert_eq!((q.qsize(), q.empty()), (1, false));
    q.landed();
    assert_eq!((q.qsize(), q.empty()), (0, true));
}
