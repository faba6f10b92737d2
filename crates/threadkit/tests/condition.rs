//! Behaviour of `Condition` (over `RLock` and over `Lock`) and its `WaitQueue`: FIFO wake-ups,
//! notify counts, timeouts, wait_for, errors, interruption, and a producer/consumer stress.
#![cfg(not(loom))] // std threads and real time; the loom models are in loom_*.rs

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::raw::WaitQueue;
use threadkit::{
    Condition, ConditionError, ConditionLock, ConditionOp, Deadline, Interrupted, Lock,
    NoInterrupt, RLock,
};

mod common;
use common::{gives_up_promptly, spin_until, StopAfter};

/// Starts `n` waiters one after another (each enqueued before the next starts); each sends its
/// index on the channel once woken, with the lock held.
fn start_waiters<L: ConditionLock + 'static>(
    cond: &Arc<Condition<L>>,
    n: usize,
) -> (Vec<thread::JoinHandle<()>>, mpsc::Receiver<usize>) {
    let (tx, rx) = mpsc::channel();
    let handles = (0..n)
        .map(|i| {
            let (c, tx) = (cond.clone(), tx.clone());
            let h = thread::spawn(move || {
                c.acquire();
                assert_eq!(c.wait(), Ok(true));
                assert!(c.is_owned());
                tx.send(i).unwrap();
                c.release().unwrap();
            });
            spin_until(|| cond.waiter_count() == i + 1);
            h
        })
        .collect();
    (handles, rx)
}

#[test]
fn notify_wakes_in_fifo_order() {
    const N: usize = 8;
    let cond = Arc::new(Condition::new());
    let (handles, rx) = start_waiters(&cond, N);
    for expected in 0..N {
        cond.acquire();
        cond.notify(1).unwrap();
        cond.release().unwrap();
        assert_eq!(rx.recv().unwrap(), expected);
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!(!cond.has_waiters());
}

#[test]
fn notify_n_wakes_exactly_n() {
    let cond = Arc::new(Condition::<Lock>::default());
    let (handles, rx) = start_waiters(&cond, 6);
    cond.acquire();
    cond.notify(2).unwrap();
    // Notified waiters leave the queue at once.
    assert_eq!(cond.waiter_count(), 4);
    cond.notify(0).unwrap();
    assert_eq!(cond.waiter_count(), 4);
    cond.release().unwrap();
    let mut woken: Vec<_> = (0..2).map(|_| rx.recv().unwrap()).collect();
    woken.sort();
    assert_eq!(woken, [0, 1]);
    assert_eq!(cond.waiter_count(), 4);
    assert!(rx.try_recv().is_err());
    cond.acquire();
    cond.notify(3).unwrap();
    cond.release().unwrap();
    let mut woken: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
    woken.sort();
    assert_eq!(woken, [2, 3, 4]);
    assert_eq!(cond.waiter_count(), 1);
    cond.acquire();
    cond.notify(10).unwrap(); // more than wait: wakes the one left
    cond.release().unwrap();
    assert_eq!(rx.recv().unwrap(), 5);
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn notify_all_wakes_everyone() {
    let cond = Arc::new(Condition::new());
    let (handles, rx) = start_waiters(&cond, 8);
    cond.acquire();
    cond.notify_all().unwrap();
    assert!(!cond.has_waiters());
    cond.release().unwrap();
    let mut woken: Vec<_> = (0..8).map(|_| rx.recv().unwrap()).collect();
    woken.sort();
    assert_eq!(woken, (0..8).collect::<Vec<_>>());
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn notify_without_waiters_is_a_no_op() {
    let cond = Condition::new();
    let _held = cond.lock().lock();
    for _ in 0..1000 {
        cond.notify(1).unwrap();
        cond.notify_all().unwrap();
    }
    assert_eq!(cond.waiter_count(), 0);
}

#[test]
fn wait_timeout_returns_false_promptly_with_the_lock_held() {
    let cond = Condition::new();
    cond.acquire();
    assert_eq!(
        gives_up_promptly(Duration::from_millis(30), |t| cond.wait_timeout(t)),
        Ok(false)
    );
    assert!(cond.is_owned());
    assert_eq!(cond.wait_until(Deadline::now()), Ok(false));
    assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
    assert!(cond.is_owned());
    assert!(!cond.has_waiters());
    cond.release().unwrap();
}

#[test]
fn a_timed_out_waiter_leaves_so_the_notification_reaches_the_next() {
    let cond = Arc::new(Condition::new());
    let c = cond.clone();
    let timed = thread::spawn(move || {
        c.acquire();
        let r = c.wait_timeout(Duration::from_millis(5));
        c.release().unwrap();
        r
    });
    spin_until(|| cond.waiter_count() == 1);
    let (handles, rx) = {
        // A second waiter queued behind the one that will time out.
        let (tx, rx) = mpsc::channel();
        let c = cond.clone();
        let h = thread::spawn(move || {
            c.acquire();
            let r = c.wait();
            tx.send(r).unwrap();
            c.release().unwrap();
        });
        (h, rx)
    };
    assert_eq!(timed.join().unwrap(), Ok(false));
    spin_until(|| cond.waiter_count() == 1);
    cond.acquire();
    cond.notify(1).unwrap();
    cond.release().unwrap();
    assert_eq!(rx.recv().unwrap(), Ok(true));
    handles.join().unwrap();
}

#[test]
fn wait_for_returns_the_predicate_value() {
    let cond = Arc::new(Condition::new());
    let value = Arc::new(AtomicUsize::new(0));
    cond.acquire();
    // True at once: no wait, no predicate re-evaluation.
    let mut calls = 0;
    assert_eq!(
        cond.wait_for(
            || {
                calls += 1;
                true
            },
            None
        ),
        Ok(true)
    );
    assert_eq!(calls, 1);
    // Never true: false after the timeout, with the lock held.
    let start = Instant::now();
    assert_eq!(
        cond.wait_for(|| false, Some(Duration::from_millis(20))),
        Ok(false)
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(cond.is_owned());
    // A zero timeout still waits once (as CPython), so calls the predicate twice.
    let mut calls = 0;
    assert_eq!(
        cond.wait_for(
            || {
                calls += 1;
                false
            },
            Some(Duration::ZERO)
        ),
        Ok(false)
    );
    assert_eq!(calls, 2);
    cond.release().unwrap();

    // Made true by another thread, step by step.
    let (c, v) = (cond.clone(), value.clone());
    let waiter = thread::spawn(move || {
        c.acquire();
        let r = c.wait_for(|| v.load(Ordering::Relaxed) == 3, None);
        let seen = v.load(Ordering::Relaxed);
        c.release().unwrap();
        (r, seen)
    });
    for _ in 0..3 {
        spin_until(|| cond.waiter_count() == 1);
        cond.acquire();
        value.fetch_add(1, Ordering::Relaxed);
        cond.notify_all().unwrap();
        cond.release().unwrap();
    }
    assert_eq!(waiter.join().unwrap(), (Ok(true), 3));
}

#[test]
fn errors_without_the_lock() {
    let cond = Arc::new(Condition::new());
    let wait_err = ConditionError::NotOwned(ConditionOp::Wait);
    let notify_err = ConditionError::NotOwned(ConditionOp::Notify);
    assert_eq!(cond.wait(), Err(wait_err));
    assert_eq!(cond.wait_timeout(Duration::from_secs(10)), Err(wait_err));
    assert_eq!(
        cond.wait_interruptible(Deadline::never(), &mut NoInterrupt),
        Err(wait_err)
    );
    assert_eq!(cond.wait_for(|| false, None), Err(wait_err));
    assert_eq!(cond.notify(1), Err(notify_err));
    assert_eq!(cond.notify_all(), Err(notify_err));
    assert_eq!(wait_err.to_string(), "cannot wait on un-acquired lock");
    assert_eq!(notify_err.to_string(), "cannot notify on un-acquired lock");
    assert_eq!(ConditionError::Interrupted.to_string(), "wait interrupted");
    let _: &dyn std::error::Error = &wait_err;
    assert_eq!(
        ConditionError::from(Interrupted),
        ConditionError::Interrupted
    );
    assert!(!cond.has_waiters());

    // Held by another thread is not held by us: for an RLock, and for a Lock too.
    let _held = cond.lock().lock();
    let c = cond.clone();
    assert_eq!(
        thread::spawn(move || (c.wait(), c.notify(1)))
            .join()
            .unwrap(),
        (Err(wait_err), Err(notify_err))
    );
    let lock_cond = Arc::new(Condition::with_lock(Arc::new(Lock::new())));
    lock_cond.acquire();
    let c = lock_cond.clone();
    assert_eq!(
        thread::spawn(move || (c.wait(), c.notify_all()))
            .join()
            .unwrap(),
        (Err(wait_err), Err(notify_err))
    );
    assert!(lock_cond.lock().locked());
    lock_cond.release().unwrap();
}

#[test]
fn rlock_recursion_depth_is_restored_after_wait_and_the_lock_fully_released_during_it() {
    let cond = Arc::new(Condition::new());
    let (tx, rx) = mpsc::channel();
    let c = cond.clone();
    let waiter = thread::spawn(move || {
        for _ in 0..3 {
            c.acquire();
        }
        let r = c.wait();
        let depth = c.lock().recursion_count();
        for _ in 0..3 {
            c.release().unwrap();
        }
        tx.send((r, depth)).unwrap();
    });
    spin_until(|| cond.waiter_count() == 1);
    // Fully released while waiting: we can take it (not merely one level of it).
    assert!(cond.try_acquire());
    assert_eq!(cond.lock().recursion_count(), 1);
    cond.notify(1).unwrap();
    cond.release().unwrap();
    assert_eq!(rx.recv().unwrap(), (Ok(true), 3));
    waiter.join().unwrap();
    assert!(!cond.lock().locked());

    // Also on timeout.
    for _ in 0..2 {
        cond.acquire();
    }
    assert_eq!(cond.wait_timeout(Duration::from_millis(1)), Ok(false));
    assert_eq!(cond.lock().recursion_count(), 2);
    cond.release().unwrap();
    cond.release().unwrap();
}

#[test]
fn condition_over_a_shared_lock() {
    let lock = Arc::new(Lock::new());
    let cond = Arc::new(Condition::with_lock(lock.clone()));
    assert!(Arc::ptr_eq(cond.lock_arc(), &lock));
    let (tx, rx) = mpsc::channel();
    let c = cond.clone();
    let waiter = thread::spawn(move || {
        c.acquire();
        let r = c.wait();
        let owned = c.is_owned();
        c.release().unwrap();
        tx.send((r, owned)).unwrap();
    });
    spin_until(|| cond.waiter_count() == 1);
    // Acquiring the lock itself (not through the condition) makes us the owner.
    lock.acquire();
    cond.notify(1).unwrap();
    lock.release().unwrap();
    assert_eq!(rx.recv().unwrap(), (Ok(true), true));
    waiter.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn interrupted_wait_reacquires_the_lock() {
    let cond = Arc::new(Condition::new());
    cond.acquire();
    cond.acquire();
    let mut stop = StopAfter::new(3);
    assert_eq!(
        cond.wait_interruptible(Deadline::never(), &mut stop),
        Err(ConditionError::Interrupted)
    );
    assert_eq!(stop.checks, 3);
    assert!(cond.is_owned());
    assert_eq!(cond.lock().recursion_count(), 2);
    assert!(!cond.has_waiters());
    // wait_for stops at the interrupt too, lock held.
    let mut stop = StopAfter::new(2);
    assert_eq!(
        cond.wait_for_interruptible(|| false, Deadline::never(), &mut stop),
        Err(ConditionError::Interrupted)
    );
    assert_eq!(cond.lock().recursion_count(), 2);
    cond.release().unwrap();
    cond.release().unwrap();

    // Over a Lock, from another thread, while a notifier holds the lock when the interrupt
    // fires: the wait still returns holding the lock.
    let cond = Arc::new(Condition::<Lock>::default());
    let c = cond.clone();
    let waiter = thread::spawn(move || {
        c.acquire();
        let r = c.wait_interruptible(Deadline::never(), &mut StopAfter::new(5));
        let owned = c.is_owned();
        c.release().unwrap();
        (r, owned)
    });
    spin_until(|| cond.waiter_count() == 1);
    cond.acquire();
    spin_until(|| cond.waiter_count() == 0); // the waiter gave up and now blocks on the lock
    cond.release().unwrap();
    assert_eq!(
        waiter.join().unwrap(),
        (Err(ConditionError::Interrupted), true)
    );
}

#[test]
fn wait_queue_hands_on_a_notification_a_cancelled_ticket_received() {
    let q = WaitQueue::new();
    let (a, b) = (q.enqueue(), q.enqueue());
    assert_eq!(q.notify(1), 1);
    assert!(a.is_notified() && !b.is_notified());
    assert!(q.cancel(&a)); // a had been notified: b gets it
    assert!(b.is_notified());
    assert!(!q.has_waiters());
    assert_eq!(q.wait(&b, Deadline::never(), &mut NoInterrupt), Ok(true));
    let c = q.enqueue();
    q.reinit_after_fork();
    assert!(!q.has_waiters());
    assert_eq!(q.notify_all(), 0);
    assert!(!c.is_notified());
    assert!(format!("{q:?}").contains("waiters: 0"));
}

#[test]
fn reinit_after_fork_and_debug() {
    let cond = Condition::new();
    cond.acquire();
    let dbg = format!("{cond:?}");
    assert!(dbg.contains("Condition") && dbg.contains("RLock"), "{dbg}");
    cond.reinit_after_fork();
    assert!(!cond.lock().locked());
    assert!(!cond.has_waiters());
}

/// A bounded buffer: one lock, two conditions, as queue.Queue does.
#[test]
fn producer_consumer_stress() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: usize = 10_000;
    const CAPACITY: usize = 4;
    let lock = Arc::new(RLock::new());
    let not_empty = Arc::new(Condition::with_lock(lock.clone()));
    let not_full = Arc::new(Condition::with_lock(lock.clone()));
    // Guarded by `lock`; the std Mutex only satisfies the borrow checker and is never contended.
    let buffer = Arc::new(Mutex::new(VecDeque::new()));
    let taken = Arc::new(AtomicUsize::new(0));

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (lock, not_empty, not_full, buffer) = (
                lock.clone(),
                not_empty.clone(),
                not_full.clone(),
                buffer.clone(),
            );
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let _held = lock.lock();
                    let full = || buffer.try_lock().unwrap().len() >= CAPACITY;
                    assert_eq!(not_full.wait_for(|| !full(), None), Ok(true));
                    buffer.try_lock().unwrap().push_back(p * PER_PRODUCER + i);
                    not_empty.notify(1).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (lock, not_empty, not_full, buffer, taken) = (
                lock.clone(),
                not_empty.clone(),
                not_full.clone(),
                buffer.clone(),
                taken.clone(),
            );
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let _held = lock.lock();
                    loop {
                        if let Some(item) = buffer.try_lock().unwrap().pop_front() {
                            got.push(item);
                            taken.fetch_add(1, Ordering::Relaxed);
                            not_full.notify(1).unwrap();
                            break;
                        }
                        if taken.load(Ordering::Relaxed) == PRODUCERS * PER_PRODUCER {
                            return got;
                        }
                        not_empty.wait().unwrap();
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Everything is produced; wake consumers that wait on an empty buffer so they see the end.
    spin_until(|| taken.load(Ordering::Relaxed) == PRODUCERS * PER_PRODUCER);
    {
        let _held = lock.lock();
        not_empty.notify_all().unwrap();
    }
    let mut all: Vec<usize> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..PRODUCERS * PER_PRODUCER).collect::<Vec<_>>());
    assert!(!lock.locked());
    assert!(!not_empty.has_waiters() && !not_full.has_waiters());
}
