//! loom models of `Condition`: no lost wake-up, notify_all, and a predicate-loop
//! producer/consumer.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use threadkit::{Condition, ConditionLock, Lock};

/// A condition and a value that only the condition's lock holder touches.
struct Shared<L: ConditionLock> {
    cond: Condition<L>,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only accessed with the condition's lock held.
unsafe impl<L: ConditionLock> Sync for Shared<L> {}

impl<L: ConditionLock> Shared<L> {
    fn get(&self) -> usize {
        // SAFETY: the caller holds the lock.
        self.value.with(|v| unsafe { *v })
    }

    fn set(&self, value: usize) {
        // SAFETY: the caller holds the lock.
        self.value.with_mut(|v| unsafe { *v = value });
    }
}

fn shared<L: ConditionLock + Default>() -> Arc<Shared<L>> {
    Arc::new(Shared {
        cond: Condition::default(),
        value: UnsafeCell::new(0),
    })
}

#[test]
fn notify_wakes_a_waiter() {
    loom::model(|| {
        let s = shared::<Lock>();
        let waiter = {
            let s = s.clone();
            thread::spawn(move || {
                s.cond.acquire();
                while s.get() == 0 {
                    s.cond.wait().unwrap();
                }
                assert!(s.cond.is_owned());
                s.cond.release().unwrap();
            })
        };
        s.cond.acquire();
        s.set(1);
        s.cond.notify(1).unwrap();
        s.cond.release().unwrap();
        waiter.join().unwrap();
        assert!(!s.cond.has_waiters());
    });
}

#[test]
fn notify_all_wakes_both_waiters() {
    loom::model(|| {
        let s = shared::<Lock>();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    s.cond.acquire();
                    while s.get() == 0 {
                        s.cond.wait().unwrap();
                    }
                    s.cond.release().unwrap();
                })
            })
            .collect();
        s.cond.acquire();
        s.set(1);
        s.cond.notify_all().unwrap();
        s.cond.release().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
    });
}

#[test]
fn producer_consumer_over_rlock() {
    // One slot: the producer puts 1 then 2, each only once the consumer took the previous.
    loom::model(|| {
        let s = shared::<threadkit::RLock>();
        let consumer = {
            let s = s.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                s.cond.acquire();
                while got.len() < 2 {
                    s.cond.wait_for(|| s.get() != 0, None).unwrap();
                    got.push(s.get());
                    s.set(0);
                    s.cond.notify(1).unwrap();
                }
                s.cond.release().unwrap();
                got
            })
        };
        s.cond.acquire();
        for item in 1..=2 {
            s.cond.wait_for(|| s.get() == 0, None).unwrap();
            s.set(item);
            s.cond.notify(1).unwrap();
        }
        s.cond.release().unwrap();
        assert_eq!(consumer.join().unwrap(), [1, 2]);
    });
}
