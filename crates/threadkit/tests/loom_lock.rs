//! loom models of `Lock` and `RLock`: mutual exclusion, no lost wake-up for a blocked acquirer,
//! try_acquire, and RLock re-entry under contention.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use threadkit::{Lock, RLock};

/// Data that only the lock's holder touches: loom reports a race if the lock fails to order
/// two holders.
struct Guarded<L> {
    lock: L,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only accessed while `lock` is held, which the models check.
unsafe impl<L: Sync> Sync for Guarded<L> {}

impl<L> Guarded<L> {
    fn new(lock: L) -> Arc<Self> {
        Arc::new(Guarded {
            lock,
            value: UnsafeCell::new(0),
        })
    }

    /// Increments the value; the caller holds the lock.
    fn bump(&self) {
        // SAFETY: the caller holds the lock, so no other thread accesses `value`.
        self.value.with_mut(|v| unsafe { *v += 1 });
    }

    fn read(&self) -> usize {
        // SAFETY: called after every other thread was joined.
        self.value.with(|v| unsafe { *v })
    }
}

#[test]
fn lock_mutual_exclusion_two_threads() {
    loom::model(|| {
        let g = Guarded::new(Lock::new());
        let t = {
            let g = g.clone();
            thread::spawn(move || {
                g.lock.acquire();
                g.bump();
                g.lock.release().unwrap();
            })
        };
        g.lock.acquire();
        g.bump();
        g.lock.release().unwrap();
        t.join().unwrap();
        assert_eq!(g.read(), 2);
        assert!(!g.lock.locked());
    });
}

#[test]
fn lock_three_threads_all_get_in() {
    loom::model(|| {
        let g = Guarded::new(Lock::new());
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || {
                    let _held = g.lock.lock();
                    g.bump();
                })
            })
            .collect();
        {
            let _held = g.lock.lock();
            g.bump();
        }
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(g.read(), 3);
        assert!(!g.lock.locked());
    });
}

#[test]
fn lock_blocked_waiter_is_always_woken() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let t = {
            let lock = lock.clone();
            // Blocks (in most interleavings) until the release below: must be woken.
            thread::spawn(move || {
                lock.acquire();
                lock.release().unwrap();
            })
        };
        lock.release().unwrap();
        t.join().unwrap();
        assert!(!lock.locked());
    });
}

#[test]
fn lock_try_acquire_never_double_holds() {
    loom::model(|| {
        let g = Guarded::new(Lock::new());
        let t = {
            let g = g.clone();
            thread::spawn(move || {
                if g.lock.try_acquire() {
                    g.bump();
                    g.lock.release().unwrap();
                    1
                } else {
                    0
                }
            })
        };
        let mine = if g.lock.try_acquire() {
            g.bump();
            g.lock.release().unwrap();
            1
        } else {
            0
        };
        let theirs = t.join().unwrap();
        assert!(
            mine + theirs >= 1,
            "both try_acquire failed on a lock free at times"
        );
        assert_eq!(g.read(), mine + theirs);
        assert!(!g.lock.locked());
    });
}

#[test]
fn rlock_reentry_under_contention() {
    loom::model(|| {
        let g = Guarded::new(RLock::new());
        let t = {
            let g = g.clone();
            thread::spawn(move || {
                g.lock.acquire();
                g.lock.acquire();
                g.bump();
                g.lock.release().unwrap();
                g.bump();
                g.lock.release().unwrap();
            })
        };
        g.lock.acquire();
        g.bump();
        assert_eq!(g.lock.recursion_count(), 1);
        g.lock.release().unwrap();
        assert!(!g.lock.is_owned());
        t.join().unwrap();
        assert_eq!(g.read(), 3);
        assert!(!g.lock.locked());
        assert_eq!(g.lock.owner(), None);
    });
}
