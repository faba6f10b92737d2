//! Waits that wake every slice (an [`Interrupt`] with an interval, as the Python main thread's)
//! take what they wait for exactly once: a slice that ends as the lock or permit frees up must
//! not take it and then wait again.
#![cfg(not(loom))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{spin_until, GUARD};
use threadkit::{Deadline, Interrupt, Interrupted, Lock, Semaphore};

/// Wakes the wait as often as possible: every slice times out at once.
struct Busy;

impl Interrupt for Busy {
    fn interval(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        Ok(())
    }
}

#[test]
fn lock_acquired_at_a_slice_end_is_taken_once() {
    for _ in 0..200 {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let waiter = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                let got = lock.acquire_interruptible(Deadline::after(GUARD), &mut Busy);
                let r = lock.release();
                (got, r)
            })
        };
        spin_until(|| lock.owner().is_some());
        lock.release().unwrap();
        let (got, released) = waiter.join().unwrap();
        assert_eq!(got, Ok(true), "the waiter gave up on a free lock");
        assert_eq!(released, Ok(()));
        assert!(!lock.locked());
    }
}

#[test]
fn semaphore_permit_at_a_slice_end_is_taken_once() {
    for _ in 0..200 {
        let sem = Arc::new(Semaphore::new(0));
        let waiter = {
            let sem = sem.clone();
            std::thread::spawn(move || sem.acquire_interruptible(Deadline::after(GUARD), &mut Busy))
        };
        sem.release(2).unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(true));
        assert_eq!(sem.value(), 1, "the waiter took two permits");
    }
}
