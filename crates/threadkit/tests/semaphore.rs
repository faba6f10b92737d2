//! Semaphore and BoundedSemaphore: behaviour, errors, timeouts, interrupts, stress.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use threadkit::{BoundedSemaphore, Deadline, Interrupted, NoInterrupt, Semaphore, SemaphoreError};

mod common;
use common::{gives_up_promptly, StopAfter};

#[test]
fn counts_permits() {
    let sem = Semaphore::new(2);
    assert_eq!(sem.value(), 2);
    sem.acquire();
    assert!(sem.try_acquire());
    assert_eq!(sem.value(), 0);
    assert!(!sem.try_acquire());
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1);
    sem.release(5).unwrap();
    assert_eq!(sem.value(), 6);
    assert_eq!(Semaphore::default().value(), 1);
    assert_eq!(Semaphore::new(0).value(), 0);
}

#[test]
fn release_zero_is_an_error_and_changes_nothing() {
    let sem = Semaphore::new(3);
    assert_eq!(sem.release(0), Err(SemaphoreError::ZeroRelease));
    assert_eq!(sem.value(), 3);
    let bounded = BoundedSemaphore::new(3);
    bounded.acquire();
    assert_eq!(bounded.release(0), Err(SemaphoreError::ZeroRelease));
    assert_eq!(bounded.value(), 2);
    assert_eq!(
        SemaphoreError::ZeroRelease.to_string(),
        "n must be one or more"
    );
}

#[test]
fn bounded_refuses_to_exceed_its_initial_value() {
    let sem = BoundedSemaphore::new(3);
    assert_eq!(sem.initial_value(), 3);
    assert_eq!(sem.release(1), Err(SemaphoreError::ReleasedTooManyTimes));
    assert_eq!(sem.value(), 3);
    sem.acquire();
    sem.acquire();
    assert_eq!(sem.release(3), Err(SemaphoreError::ReleasedTooManyTimes));
    assert_eq!(sem.value(), 1);
    sem.release(2).unwrap();
    assert_eq!(sem.value(), 3);
    assert_eq!(
        SemaphoreError::ReleasedTooManyTimes.to_string(),
        "Semaphore released too many times"
    );

    let zero = BoundedSemaphore::new(0);
    assert!(!zero.try_acquire());
    assert_eq!(zero.release(1), Err(SemaphoreError::ReleasedTooManyTimes));
    assert_eq!(BoundedSemaphore::default().initial_value(), 1);

    let huge = BoundedSemaphore::new(Semaphore::MAX_VALUE);
    assert_eq!(huge.release(1), Err(SemaphoreError::ReleasedTooManyTimes));
    assert_eq!(
        huge.release(usize::MAX),
        Err(SemaphoreError::ReleasedTooManyTimes)
    );
}

#[test]
fn unbounded_overflow_is_an_error() {
    let sem = Semaphore::new(Semaphore::MAX_VALUE);
    assert_eq!(sem.release(1), Err(SemaphoreError::Overflow));
    assert_eq!(sem.release(usize::MAX), Err(SemaphoreError::Overflow));
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    sem.acquire();
    sem.release(1).unwrap();
}

#[test]
#[should_panic(expected = "semaphore value too large")]
fn new_above_max_value_panics() {
    let _ = Semaphore::new(Semaphore::MAX_VALUE + 1);
}

#[test]
fn timeouts_return_false_promptly() {
    let sem = Semaphore::new(0);
    assert!(!gives_up_promptly(Duration::from_millis(30), |t| sem.acquire_timeout(t)));
    assert!(!sem.acquire_until(Deadline::now()));
    assert!(!sem.acquire_timeout(Duration::ZERO));
    assert_eq!(
        sem.acquire_interruptible(Deadline::after(Duration::from_millis(5)), &mut NoInterrupt),
        Ok(false)
    );
    let bounded = BoundedSemaphore::new(1);
    bounded.acquire();
    assert!(!bounded.acquire_timeout(Duration::from_millis(5)));
    assert!(!bounded.acquire_until(Deadline::now()));
    // A timed-out waiter leaves the semaphore usable.
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1);
    assert!(sem.try_acquire());
}

#[test]
fn interrupt_stops_a_blocked_acquire() {
    let sem = Semaphore::new(0);
    assert_eq!(
        sem.acquire_interruptible(Deadline::never(), &mut StopAfter::new(3)),
        Err(Interrupted)
    );
    let bounded = BoundedSemaphore::new(0);
    assert_eq!(
        bounded.acquire_interruptible(Deadline::never(), &mut StopAfter::new(2)),
        Err(Interrupted)
    );
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1);
    assert_eq!(
        sem.acquire_interruptible(Deadline::never(), &mut StopAfter::new(1)),
        Ok(true)
    );
}

#[test]
fn release_wakes_a_blocked_acquirer() {
    let sem = Arc::new(Semaphore::new(0));
    let t = {
        let sem = sem.clone();
        thread::spawn(move || sem.acquire())
    };
    sem.release(1).unwrap();
    t.join().unwrap();
    assert_eq!(sem.value(), 0);

    let t = {
        let sem = sem.clone();
        thread::spawn(move || sem.acquire_timeout(Duration::from_secs(60)))
    };
    sem.release(1).unwrap();
    assert!(t.join().unwrap());
}

#[test]
fn release_n_wakes_n_waiters() {
    let sem = Arc::new(Semaphore::new(0));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let sem = sem.clone();
            thread::spawn(move || sem.acquire())
        })
        .collect();
    sem.release(4).unwrap();
    sem.release(2).unwrap();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(sem.value(), 0);
}

#[test]
fn guards_give_the_permit_back() {
    let sem = Semaphore::new(2);
    {
        let _a = sem.acquire_guard();
        let _b = sem.try_acquire_guard().unwrap();
        assert!(sem.try_acquire_guard().is_none());
        assert!(sem
            .acquire_guard_timeout(Duration::from_millis(5))
            .is_none());
        assert_eq!(sem.value(), 0);
    }
    assert_eq!(sem.value(), 2);
    let bounded = BoundedSemaphore::new(1);
    {
        let _g = bounded
            .acquire_guard_timeout(Duration::from_millis(5))
            .unwrap();
        assert!(bounded.try_acquire_guard().is_none());
        // Someone else releases it meanwhile (Python allows that): the guard's drop is a no-op.
        bounded.release(1).unwrap();
    }
    assert_eq!(bounded.value(), 1);
    drop(bounded.acquire_guard());
    assert_eq!(bounded.value(), 1);
}

#[test]
fn debug_and_reinit() {
    let sem = Semaphore::new(2);
    assert_eq!(format!("{sem:?}"), "Semaphore { value: 2 }");
    let bounded = BoundedSemaphore::new(3);
    bounded.acquire();
    assert_eq!(
        format!("{bounded:?}"),
        "BoundedSemaphore { value: 2, initial_value: 3 }"
    );
    sem.reinit_after_fork();
    bounded.reinit_after_fork();
    assert_eq!((sem.value(), bounded.value()), (2, 2));
    assert!(sem.try_acquire());
}

#[test]
fn stress_never_exceeds_the_count() {
    const THREADS: usize = 8;
    const ITERS: usize = 2_000;
    const PERMITS: usize = 3;
    let sem = Arc::new(BoundedSemaphore::new(PERMITS));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
            thread::spawn(move || {
                let mut got = 0;
                for i in 0..ITERS {
                    let acquired = match (t + i) % 4 {
                        0 => {
                            sem.acquire();
                            true
                        }
                        1 => sem.try_acquire(),
                        2 => sem.acquire_timeout(Duration::from_micros(50)),
                        _ => sem.acquire_timeout(Duration::from_secs(60)),
                    };
                    if !acquired {
                        continue;
                    }
                    got += 1;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    assert!(now <= PERMITS, "{now} threads inside");
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release(1).unwrap();
                }
                got
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(total >= THREADS * ITERS / 2);
    assert!(max.load(Ordering::SeqCst) <= PERMITS);
    assert_eq!(sem.value(), PERMITS);
}

#[test]
fn stress_batched_releases_balance() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: usize = 3_000;
    let sem = Arc::new(Semaphore::new(0));
    let consumed = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut left = PER_PRODUCER;
                let mut n = p + 1;
                while left > 0 {
                    let k = n.min(left);
                    sem.release(k).unwrap();
                    left -= k;
                    n = n % 5 + 1;
                }
            })
        })
        .collect();
    let per_consumer = PRODUCERS * PER_PRODUCER / CONSUMERS;
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (sem, consumed) = (sem.clone(), consumed.clone());
            thread::spawn(move || {
                for _ in 0..per_consumer {
                    sem.acquire();
                    consumed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in producers.into_iter().chain(consumers) {
        h.join().unwrap();
    }
    assert_eq!(consumed.load(Ordering::Relaxed), PRODUCERS * PER_PRODUCER);
    assert_eq!(sem.value(), 0);
}

/// Waiters that time out must not swallow the wake-up meant for a waiter that blocks forever.
#[test]
fn stress_timed_out_waiters_lose_no_wake_up() {
    const BLOCKING: usize = 4;
    const TIMED: usize = 4;
    let sem = Arc::new(Semaphore::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let timed: Vec<_> = (0..TIMED)
        .map(|_| {
            let (sem, done) = (sem.clone(), done.clone());
            thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    if sem.acquire_timeout(Duration::from_micros(200)) {
                        sem.release(1).unwrap();
                    }
                }
            })
        })
        .collect();
    for _round in 0..20 {
        let blocking: Vec<_> = (0..BLOCKING)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        for _ in 0..BLOCKING {
            sem.release(1).unwrap();
        }
        for h in blocking {
            h.join().unwrap();
        }
    }
    done.store(true, Ordering::SeqCst);
    for h in timed {
        h.join().unwrap();
    }
    assert_eq!(sem.value(), 0);
}
