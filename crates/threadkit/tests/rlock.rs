//! Behaviour of `RLock`: recursion, ownership, release errors, the save/restore pair, guards,
//! timeouts, interruption, and mutual exclusion under stress.
#![cfg(not(loom))] // std threads and real time; the loom models are in loom_*.rs

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use threadkit::{get_ident, Deadline, Interrupted, NoInterrupt, RLock, ReleaseError};

mod common;
use common::{gives_up_promptly, on_other_thread, spawn_started, StopAfter};

#[test]
fn recursion_counts_and_ownership() {
    let lock = RLock::new();
    assert!(!lock.locked());
    assert!(!lock.is_owned());
    assert_eq!(lock.owner(), None);
    assert_eq!(lock.recursion_count(), 0);
    for depth in 1..=5 {
        lock.acquire();
        assert_eq!(lock.recursion_count(), depth);
    }
    assert!(lock.try_acquire());
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(lock.acquire_until(Deadline::now()));
    assert_eq!(
        lock.acquire_interruptible(Deadline::now(), &mut NoInterrupt),
        Ok(true)
    );
    assert_eq!(lock.recursion_count(), 9);
    assert_eq!(lock.owner(), Some(get_ident()));
    assert!(lock.is_owned());
    for depth in (0..9).rev() {
        lock.release().unwrap();
        assert_eq!(lock.recursion_count(), depth);
        assert_eq!(lock.locked(), depth > 0);
    }
    assert_eq!(lock.owner(), None);
    assert_eq!(lock.release(), Err(ReleaseError::NotOwner));
}

#[test]
fn other_threads_see_it_held_until_the_last_release() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    lock.acquire();
    let me = get_ident();
    let l = lock.clone();
    let seen = on_other_thread(move || {
        (
            l.try_acquire(),
            l.acquire_timeout(Duration::from_millis(10)),
            l.is_owned(),
            l.recursion_count(),
            l.owner(),
            l.locked(),
            l.release(),
        )
    });
    assert_eq!(
        seen,
        (
            false,
            false,
            false,
            0,
            Some(me),
            true,
            Err(ReleaseError::NotOwner)
        )
    );
    // The failed release did not disturb the count.
    assert_eq!(lock.recursion_count(), 2);
    lock.release().unwrap();
    let l = lock.clone();
    assert!(!on_other_thread(move || l.try_acquire()));
    lock.release().unwrap();
    let l = lock.clone();
    assert!(on_other_thread(move || {
        let got = l.try_acquire();
        l.release().unwrap();
        got
    }));
}

#[test]
fn timeout_returns_false_promptly() {
    let lock = Arc::new(RLock::new());
    let _held = lock.lock();
    let l = lock.clone();
    let got = on_other_thread(move || {
        gives_up_promptly(Duration::from_millis(30), |t| l.acquire_timeout(t))
    });
    assert!(!got);
}

#[test]
fn blocked_acquire_is_woken_by_the_last_release() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    lock.acquire();
    let (tx, rx) = mpsc::channel();
    let l = lock.clone();
    let waiter = thread::spawn(move || {
        l.acquire();
        tx.send((get_ident(), l.recursion_count())).unwrap();
        l.release().unwrap();
    });
    lock.release().unwrap();
    // Still held once: the waiter cannot have got in.
    assert!(lock.is_owned());
    assert!(rx.try_recv().is_err());
    lock.release().unwrap();
    let (ident, count) = rx.recv().unwrap();
    assert_ne!(ident, get_ident());
    assert_eq!(count, 1);
    waiter.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn release_save_and_acquire_restore() {
    let lock = Arc::new(RLock::new());
    assert_eq!(lock.release_save(), Err(ReleaseError::NotOwner));
    for _ in 0..3 {
        lock.acquire();
    }
    // As CPython's: any thread may release-save a held lock, getting the owner's state.
    let l = lock.clone();
    let me = get_ident();
    assert_eq!(on_other_thread(move || l.release_save()), Ok((3, me)));
    assert!(!lock.locked());
    lock.acquire_restore((3, me));
    assert_eq!(lock.recursion_count(), 3);
    let saved = lock.release_save().unwrap();
    assert_eq!(saved, (3, get_ident()));
    assert!(!lock.locked());
    assert_eq!(lock.recursion_count(), 0);
    // Free for others meanwhile.
    let l = lock.clone();
    assert!(on_other_thread(move || {
        let a = l.try_acquire() && l.try_acquire();
        l.release().unwrap();
        l.release().unwrap();
        a
    }));
    lock.acquire_restore(saved);
    assert_eq!(lock.recursion_count(), 3);
    assert_eq!(lock.owner(), Some(get_ident()));
    for _ in 0..3 {
        lock.release().unwrap();
    }
    assert!(!lock.locked());
}

#[test]
fn acquire_restore_waits_for_the_lock() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    let saved = lock.release_save().unwrap();
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let l = lock.clone();
    let holder = thread::spawn(move || {
        let _g = l.lock();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    });
    held_rx.recv().unwrap();
    go_tx.send(()).unwrap();
    lock.acquire_restore(saved); // blocks until the holder is done
    holder.join().unwrap();
    assert!(lock.is_owned());
    assert_eq!(lock.recursion_count(), 1);
    lock.release().unwrap();
}

#[test]
fn guards_nest() {
    let lock = RLock::new();
    {
        let _a = lock.lock();
        let _b = lock.try_lock().unwrap();
        let _c = lock.try_lock_for(Duration::from_millis(1)).unwrap();
        assert_eq!(lock.recursion_count(), 3);
        assert!(format!("{_a:?}").contains("RLockGuard"));
    }
    assert!(!lock.locked());
}

#[test]
fn failed_try_lock_leaves_the_holder_alone() {
    let lock = Arc::new(RLock::new());
    let _held = lock.lock();
    let l = lock.clone();
    assert!(on_other_thread(
        move || l.try_lock().is_none() && l.try_lock_for(Duration::from_millis(1)).is_none()
    ));
    assert!(lock.is_owned());
    assert_eq!(lock.recursion_count(), 1);
}

#[test]
fn interrupt_aborts_blocked_acquire_and_leaves_lock_consistent() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    let l = lock.clone();
    let (r, checks, owned) = on_other_thread(move || {
        let mut stop = StopAfter::new(3);
        let r = l.acquire_interruptible(Deadline::never(), &mut stop);
        (r, stop.checks, l.is_owned())
    });
    assert_eq!((r, checks, owned), (Err(Interrupted), 3, false));
    assert_eq!(lock.recursion_count(), 1);
    lock.release().unwrap();
    let l = lock.clone();
    assert!(on_other_thread(move || {
        let got = l.try_acquire();
        l.release().unwrap();
        got
    }));
    // Re-entry never blocks, so never consults the interrupt.
    lock.acquire();
    let mut stop = StopAfter::new(1);
    assert_eq!(
        lock.acquire_interruptible(Deadline::never(), &mut stop),
        Ok(true)
    );
    assert_eq!(stop.checks, 0);
    lock.release().unwrap();
    lock.release().unwrap();
}

#[test]
fn mutual_exclusion_stress_with_recursion() {
    const THREADS: usize = 8;
    const ITERS: usize = 6_000;
    let lock = Arc::new(RLock::new());
    let inside = Arc::new(AtomicUsize::new(0));
    let counter = Arc::new(AtomicUsize::new(0));
    let handles = {
        let (lock, inside, counter) = (lock.clone(), inside.clone(), counter.clone());
        spawn_started(THREADS, move |t| {
            for i in 0..ITERS {
                let depth = 1 + (t + i) % 3;
                match i % 3 {
                    0 => lock.acquire(),
                    1 => {
                        while !lock.try_acquire() {
                            thread::yield_now();
                        }
                    }
                    _ => while !lock.acquire_timeout(Duration::from_millis(1)) {},
                }
                assert_eq!(inside.fetch_add(1, Ordering::Relaxed), 0, "two holders");
                for _ in 1..depth {
                    assert!(lock.try_acquire());
                }
                assert_eq!(lock.recursion_count() as usize, depth);
                let v = counter.load(Ordering::Relaxed);
                counter.store(v + 1, Ordering::Relaxed);
                for _ in 1..depth {
                    lock.release().unwrap();
                }
                inside.fetch_sub(1, Ordering::Relaxed);
                lock.release().unwrap();
                assert!(!lock.is_owned());
            }
        })
    };
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * ITERS);
    assert!(!lock.locked());
}

#[test]
fn reinit_after_fork_and_debug() {
    let lock = RLock::default();
    lock.acquire();
    lock.acquire();
    let dbg = format!("{lock:?}");
    assert!(
        dbg.contains("locked: true") && dbg.contains("count: 2"),
        "{dbg}"
    );
    lock.reinit_after_fork();
    assert!(!lock.locked());
    assert_eq!(lock.owner(), None);
    assert_eq!(lock.recursion_count(), 0);
    assert!(format!("{lock:?}").contains("count: 0"));
    lock.acquire();
    assert_eq!(lock.recursion_count(), 1);
    lock.release().unwrap();
}
