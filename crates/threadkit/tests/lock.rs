//! Behaviour of `Lock`: mutual exclusion, timeouts, release by another thread, errors, owner,
//! guards, and interruption of a blocked acquire.
#![cfg(not(loom))] // std threads and real time; the loom models are in loom_*.rs

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use threadkit::{get_ident, Deadline, Interrupted, Lock, NoInterrupt, ReleaseError};

mod common;
use common::{gives_up_promptly, on_other_thread, spawn_started, StopAfter};

#[test]
fn mutual_exclusion_stress() {
    const THREADS: usize = 8;
    const ITERS: usize = 10_000;
    let lock = Arc::new(Lock::new());
    let inside = Arc::new(AtomicUsize::new(0));
    let counter = Arc::new(AtomicUsize::new(0));
    let handles = {
        let (lock, inside, counter) = (lock.clone(), inside.clone(), counter.clone());
        spawn_started(THREADS, move |t| {
            for i in 0..ITERS {
                // Mix the ways in.
                match (t + i) % 3 {
                    0 => lock.acquire(),
                    1 => {
                        while !lock.try_acquire() {
                            thread::yield_now();
                        }
                    }
                    _ => while !lock.acquire_timeout(Duration::from_millis(1)) {},
                }
                assert_eq!(inside.fetch_add(1, Ordering::Relaxed), 0, "two holders");
                assert_eq!(lock.owner(), Some(get_ident()));
                let v = counter.load(Ordering::Relaxed);
                counter.store(v + 1, Ordering::Relaxed);
                inside.fetch_sub(1, Ordering::Relaxed);
                lock.release().unwrap();
            }
        })
    };
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * ITERS);
    assert!(!lock.locked());
    assert_eq!(lock.owner(), None);
}

#[test]
fn timeouts_return_false_promptly() {
    let lock = Lock::new();
    lock.acquire();
    assert!(!lock.try_acquire());
    assert!(!gives_up_promptly(Duration::from_millis(30), |t| lock.acquire_timeout(t)));
    assert!(!lock.acquire_until(Deadline::now()));
    assert_eq!(
        lock.acquire_interruptible(Deadline::after(Duration::from_millis(5)), &mut NoInterrupt),
        Ok(false)
    );
    assert!(lock.try_lock_for(Duration::from_millis(5)).is_none());
    // Still held, by us, and usable.
    assert_eq!(lock.owner(), Some(get_ident()));
    lock.release().unwrap();
    assert!(lock.acquire_timeout(Duration::ZERO));
}

#[test]
fn timeout_from_another_thread_then_acquire_after_release() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = lock.clone();
    let got = on_other_thread(move || l.acquire_timeout(Duration::from_millis(20)));
    assert!(!got);
    lock.release().unwrap();
    let l = lock.clone();
    assert!(on_other_thread(move || {
        let ok = l.acquire_timeout(Duration::from_secs(5));
        l.release().unwrap();
        ok
    }));
}

#[test]
fn release_from_another_thread() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = lock.clone();
    assert_eq!(on_other_thread(move || l.release()), Ok(()));
    assert!(!lock.locked());
    assert_eq!(lock.owner(), None);
    // Released by another thread, a blocked acquirer gets it.
    lock.acquire();
    let (tx, rx) = mpsc::channel();
    let l = lock.clone();
    let waiter = thread::spawn(move || {
        l.acquire();
        tx.send(get_ident()).unwrap();
    });
    let l = lock.clone();
    on_other_thread(move || l.release().unwrap());
    let waiter_ident = rx.recv().unwrap();
    assert_eq!(lock.owner(), Some(waiter_ident));
    waiter.join().unwrap();
    lock.release().unwrap();
}

#[test]
fn release_errors() {
    let lock = Lock::new();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    lock.acquire();
    lock.release().unwrap();
    let err = lock.release().unwrap_err();
    assert_eq!(err, ReleaseError::Unlocked);
    assert_eq!(err.to_string(), "release unlocked lock");
    assert_eq!(
        ReleaseError::NotOwner.to_string(),
        "cannot release un-acquired lock"
    );
    let _: &dyn std::error::Error = &err;
}

#[test]
fn owner_is_the_acquiring_thread() {
    let lock = Arc::new(Lock::new());
    assert_eq!(lock.owner(), None);
    let (held_tx, held_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let l = lock.clone();
    let holder = thread::spawn(move || {
        l.acquire();
        held_tx.send(get_ident()).unwrap();
        done_rx.recv().unwrap();
        l.release().unwrap();
    });
    let holder_ident = held_rx.recv().unwrap();
    assert_ne!(holder_ident, get_ident());
    assert_eq!(lock.owner(), Some(holder_ident));
    assert!(lock.locked());
    done_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(lock.owner(), None);
}

#[test]
fn guards() {
    let lock = Lock::new();
    {
        let _g = lock.lock();
        assert!(lock.locked());
        assert!(lock.try_lock().is_none());
        assert!(lock.try_lock_for(Duration::from_millis(1)).is_none());
    }
    assert!(!lock.locked());
    let g = lock.try_lock().unwrap();
    // Released behind the guard's back (allowed for a Lock): dropping the guard is harmless.
    lock.release().unwrap();
    drop(g);
    assert!(!lock.locked());
    let g = lock.try_lock_for(Duration::from_millis(1)).unwrap();
    assert!(format!("{g:?}").contains("LockGuard"));
    drop(g);
    assert!(!lock.locked());
}

#[test]
fn blocked_acquire_is_woken_by_release() {
    const WAITERS: usize = 8;
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let done = Arc::new(AtomicUsize::new(0));
    let handles = {
        let (lock, done) = (lock.clone(), done.clone());
        spawn_started(WAITERS, move |_| {
            lock.acquire();
            done.fetch_add(1, Ordering::Relaxed);
            lock.release().unwrap();
        })
    };
    lock.release().unwrap();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), WAITERS);
    assert!(!lock.locked());
}

#[test]
fn interrupt_aborts_blocked_acquire_and_leaves_lock_consistent() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = lock.clone();
    let r = on_other_thread(move || {
        let mut stop = StopAfter::new(3);
        let r = l.acquire_interruptible(Deadline::never(), &mut stop);
        (r, stop.checks)
    });
    assert_eq!(r, (Err(Interrupted), 3));
    // Still ours, and a plain blocked waiter is still woken by our release.
    assert_eq!(lock.owner(), Some(get_ident()));
    let l = lock.clone();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        l.acquire();
        tx.send(()).unwrap();
        l.release().unwrap();
    });
    // Let another interrupted waiter race with the real one.
    let l = lock.clone();
    let interrupted =
        thread::spawn(move || l.acquire_interruptible(Deadline::never(), &mut StopAfter::new(2)));
    assert_eq!(interrupted.join().unwrap(), Err(Interrupted));
    lock.release().unwrap();
    rx.recv().unwrap();
    waiter.join().unwrap();
    assert!(!lock.locked());
    assert!(lock.try_acquire());
    lock.release().unwrap();
    assert!(!lock.locked());
}

#[test]
fn timed_out_waiter_does_not_swallow_the_wake_up() {
    // A waiter that times out while another waits forever: the release must still reach the
    // one that waits.
    for _ in 0..20 {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l = lock.clone();
        let forever = thread::spawn(move || {
            l.acquire();
            l.release().unwrap();
        });
        let l = lock.clone();
        let timed = thread::spawn(move || l.acquire_timeout(Duration::from_millis(2)));
        assert!(!timed.join().unwrap());
        lock.release().unwrap();
        forever.join().unwrap();
        assert!(!lock.locked());
    }
}

#[test]
fn interrupt_check_runs_only_while_blocked() {
    let lock = Lock::new();
    let mut stop = StopAfter::new(1);
    assert_eq!(
        lock.acquire_interruptible(Deadline::never(), &mut stop),
        Ok(true)
    );
    assert_eq!(stop.checks, 0);
    lock.release().unwrap();
}

#[test]
fn reinit_after_fork_and_debug() {
    let lock = Lock::new();
    lock.acquire();
    let dbg = format!("{lock:?}");
    assert!(dbg.contains("locked: true"), "{dbg}");
    lock.reinit_after_fork();
    assert!(!lock.locked());
    assert_eq!(lock.owner(), None);
    assert!(format!("{lock:?}").contains("locked: false"));
    assert!(lock.try_acquire());
    lock.release().unwrap();
}
