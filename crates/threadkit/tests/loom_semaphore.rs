//! loom models of Semaphore: permits are never over-granted, and a blocked acquirer is always
//! woken by a release (a lost wake-up shows up as a loom deadlock).
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use threadkit::{BoundedSemaphore, Semaphore};

#[test]
fn permits_never_over_granted() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    sem.acquire();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release(1).unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(sem.value(), 1);
    });
}

#[test]
fn blocked_acquirer_is_woken_by_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let t = {
            let sem = sem.clone();
            thread::spawn(move || sem.acquire())
        };
        sem.release(1).unwrap();
        t.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

#[test]
fn release_n_wakes_n_waiters() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        sem.release(2).unwrap();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

#[test]
fn separate_releases_wake_separate_waiters() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(2));
        assert!(sem.try_acquire());
        assert!(sem.try_acquire());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1).unwrap())
        };
        sem.release(1).unwrap();
        releaser.join().unwrap();
        for h in waiters {
            h.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

#[test]
fn try_acquire_races_a_blocked_acquirer() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let blocked = {
            let sem = sem.clone();
            thread::spawn(move || sem.acquire())
        };
        let trier = {
            let sem = sem.clone();
            thread::spawn(move || sem.try_acquire())
        };
        sem.release(1).unwrap();
        if trier.join().unwrap() {
            // The trier took the only permit: the blocked thread needs another.
            sem.release(1).unwrap();
        }
        blocked.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}
