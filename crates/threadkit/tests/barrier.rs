//! Barrier: rounds, indices, actions (in Rust and split), timeouts, reset/abort, stress.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use threadkit::raw::{Arrival, BarrierExt};
use threadkit::{Barrier, BarrierError, Deadline, Interrupted, NoInterrupt, ZeroPartiesError};

mod common;
use common::{gives_up_promptly, spin_until, StopAfter};

/// Runs `n` threads doing `f(barrier)` and returns their results in thread order.
fn run<T: Send + 'static>(
    barrier: &Arc<Barrier>,
    n: usize,
    f: impl Fn(&Barrier) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, f) = (barrier.clone(), f.clone());
            thread::spawn(move || f(&barrier))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

#[test]
fn zero_parties_is_an_error() {
    assert_eq!(Barrier::try_new(0).err(), Some(ZeroPartiesError));
    assert!(Barrier::try_with_action(0, || ()).is_err());
    assert_eq!(ZeroPartiesError.to_string(), "parties must be > 0");
    assert!(catch_unwind(|| Barrier::new(0)).is_err());
    assert!(catch_unwind(|| Barrier::with_action(0, || ())).is_err());
}

#[test]
fn one_party_passes_at_once() {
    let barrier = Barrier::new(1);
    assert_eq!(barrier.parties(), 1);
    for _ in 0..3 {
        assert_eq!(barrier.wait(), Ok(0));
        assert_eq!(barrier.wait_timeout(Duration::ZERO), Ok(0));
        assert_eq!(barrier.wait_until(Deadline::now()), Ok(0));
    }
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[test]
fn indices_are_a_permutation() {
    let barrier = Arc::new(Barrier::new(4));
    let indices = run(&barrier, 4, |b| b.wait().unwrap());
    assert_eq!(sorted(indices), [0, 1, 2, 3]);
    let indices = run(&barrier, 4, |b| {
        b.wait_timeout(Duration::from_secs(60)).unwrap()
    });
    assert_eq!(sorted(indices), [0, 1, 2, 3]);
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn action_runs_once_per_round_in_the_last_thread_before_release() {
    const PARTIES: usize = 3;
    const ROUNDS: usize = 20;
    let rounds = Arc::new(AtomicUsize::new(0));
    let runner = Arc::new(Mutex::new(Vec::new()));
    let barrier = {
        let (rounds, runner) = (rounds.clone(), runner.clone());
        Arc::new(Barrier::with_action(PARTIES, move || {
            rounds.fetch_add(1, Ordering::SeqCst);
            runner.lock().unwrap().push(thread::current().id());
        }))
    };
    let rounds2 = rounds.clone();
    let runner2 = runner.clone();
    run(&barrier, PARTIES, move |b| {
        for r in 0..ROUNDS {
            let index = b.wait().unwrap();
            // The action of this round ran before anyone was released, and the next one
            // cannot run before this thread arrives again.
            assert_eq!(rounds2.load(Ordering::SeqCst), r + 1);
            if index == PARTIES - 1 {
                assert_eq!(runner2.lock().unwrap()[r], thread::current().id());
            }
        }
    });
    assert_eq!(rounds.load(Ordering::SeqCst), ROUNDS);
    assert_eq!(runner.lock().unwrap().len(), ROUNDS);
}

#[test]
fn a_panicking_action_breaks_the_barrier_and_propagates() {
    let barrier = Arc::new(Barrier::with_action(3, || panic!("action failed")));
    let results = run(&barrier, 3, |b| {
        catch_unwind(AssertUnwindSafe(|| b.wait())).map_err(|_| "panicked")
    });
    let panicked = results.iter().filter(|r| r.is_err()).count();
    let broken = results
        .iter()
        .filter(|r| **r == Ok(Err(BarrierError::Broken)))
        .count();
    assert_eq!((panicked, broken), (1, 2), "{results:?}");
    assert!(barrier.broken());
    assert_eq!(barrier.wait(), Err(BarrierError::Broken));
}

#[test]
fn a_timeout_breaks_the_barrier_promptly() {
    let barrier = Barrier::new(2);
    assert_eq!(
        gives_up_promptly(Duration::from_millis(30), |t| barrier.wait_timeout(t)),
        Err(BarrierError::Broken)
    );
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(barrier.wait(), Err(BarrierError::Broken));
    assert_eq!(
        barrier.wait_until(Deadline::now()),
        Err(BarrierError::Broken)
    );
    barrier.reset();
    assert!(!barrier.broken());
    assert_eq!(
        barrier.wait_until(Deadline::now()),
        Err(BarrierError::Broken)
    );
}

#[test]
fn a_timeout_releases_the_others_broken() {
    let barrier = Arc::new(Barrier::new(3));
    let others: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        })
        .collect();
    spin_until(|| barrier.n_waiting() == 2);
    assert_eq!(
        barrier.wait_timeout(Duration::from_millis(1)),
        Ok(2),
        "the last arrival passes at once"
    );
    for h in others {
        assert!(h.join().unwrap().is_ok());
    }
    // Now a real timeout with a waiter blocked forever.
    let other = {
        let barrier = barrier.clone();
        thread::spawn(move || barrier.wait())
    };
    spin_until(|| barrier.n_waiting() == 1);
    let third = {
        let barrier = barrier.clone();
        thread::spawn(move || barrier.wait_timeout(Duration::from_millis(20)))
    };
    assert_eq!(third.join().unwrap(), Err(BarrierError::Broken));
    assert_eq!(other.join().unwrap(), Err(BarrierError::Broken));
    assert!(barrier.broken());
}

#[test]
fn abort_releases_waiters_broken_until_reset() {
    let barrier = Arc::new(Barrier::new(3));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        })
        .collect();
    spin_until(|| barrier.n_waiting() == 2);
    barrier.abort();
    for h in waiters {
        assert_eq!(h.join().unwrap(), Err(BarrierError::Broken));
    }
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(barrier.wait(), Err(BarrierError::Broken));
    barrier.reset();
    assert!(!barrier.broken());
    assert_eq!(sorted(run(&barrier, 3, |b| b.wait().unwrap())), [0, 1, 2]);
}

#[test]
fn reset_while_waiting_raises_in_the_waiters_and_leaves_it_usable() {
    let barrier = Arc::new(Barrier::new(3));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        })
        .collect();
    spin_until(|| barrier.n_waiting() == 2);
    barrier.reset();
    for h in waiters {
        assert_eq!(h.join().unwrap(), Err(BarrierError::Broken));
    }
    assert!(!barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(sorted(run(&barrier, 3, |b| b.wait().unwrap())), [0, 1, 2]);
}

/// CPython's `reset()` on a broken barrier with threads still inside: it becomes usable once
/// they have left, and arrivals meanwhile wait instead of mixing with them.
#[test]
fn reset_of_a_broken_barrier_with_threads_inside() {
    for _ in 0..50 {
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        };
        spin_until(|| barrier.n_waiting() == 1);
        barrier.abort();
        barrier.reset();
        assert!(!barrier.broken());
        assert_eq!(waiter.join().unwrap(), Err(BarrierError::Broken));
        assert_eq!(sorted(run(&barrier, 2, |b| b.wait().unwrap())), [0, 1]);
    }
}

#[test]
fn interrupt_leaves_the_barrier_unbroken() {
    let barrier = Arc::new(Barrier::new(2));
    assert_eq!(
        barrier.wait_interruptible(Deadline::never(), &mut StopAfter::new(3)),
        Err(BarrierError::Interrupted)
    );
    assert!(!barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(sorted(run(&barrier, 2, |b| b.wait().unwrap())), [0, 1]);
    assert_eq!(BarrierError::from(Interrupted), BarrierError::Interrupted);
    assert_eq!(BarrierError::Interrupted.to_string(), "wait interrupted");
    assert_eq!(BarrierError::Broken.to_string(), "broken barrier");
}

#[test]
fn split_action_holds_the_round_until_completed() {
    const PARTIES: usize = 3;
    let barrier = Arc::new(Barrier::new(PARTIES));
    let passed = Arc::new(AtomicUsize::new(0));
    let passed2 = passed.clone();
    let results = run(&barrier, PARTIES, move |b| {
        match b.arrive_interruptible(Deadline::never(), &mut NoInterrupt) {
            Ok(Arrival::Passed(i)) => {
                passed2.fetch_add(1, Ordering::SeqCst);
                i
            }
            Ok(Arrival::RunAction(i)) => {
                assert_eq!(i, PARTIES - 1);
                assert_eq!(b.n_waiting(), PARTIES);
                assert_eq!(passed2.load(Ordering::SeqCst), 0);
                b.complete_action(true).unwrap()
            }
            Err(e) => panic!("{e}"),
        }
    });
    assert_eq!(sorted(results), [0, 1, 2]);
    assert_eq!(passed.load(Ordering::SeqCst), PARTIES - 1);
    assert!(!barrier.broken());
}

#[test]
fn split_action_failure_breaks_the_barrier() {
    let barrier = Arc::new(Barrier::new(3));
    let results = run(&barrier, 3, |b| match b.arrive() {
        Ok(Arrival::RunAction(_)) => b.complete_action(false).map(|_| "ran"),
        other => other.map(|_| "passed"),
    });
    assert_eq!(
        results,
        [
            Err(BarrierError::Broken),
            Err(BarrierError::Broken),
            Err(BarrierError::Broken)
        ]
    );
    assert!(barrier.broken());
}

#[test]
fn abort_during_the_action_breaks_the_round() {
    let barrier = Arc::new(Barrier::new(3));
    let results = run(&barrier, 3, |b| match b.arrive() {
        Ok(Arrival::RunAction(_)) => {
            b.abort();
            b.complete_action(true)
        }
        other => other.map(|_| 0),
    });
    assert!(results.iter().all(|r| *r == Err(BarrierError::Broken)));
    assert!(barrier.broken());
    barrier.reset();
    assert_eq!(sorted(run(&barrier, 3, |b| b.wait().unwrap())), [0, 1, 2]);
}

#[test]
fn reset_during_the_action_lets_the_round_finish() {
    let barrier = Arc::new(Barrier::new(2));
    let results = run(&barrier, 2, |b| match b.arrive() {
        Ok(Arrival::RunAction(_)) => {
            b.reset();
            b.complete_action(true)
        }
        Ok(Arrival::Passed(i)) => Ok(i),
        Err(e) => Err(e),
    });
    assert_eq!(
        sorted(results.into_iter().map(Result::unwrap).collect()),
        [0, 1]
    );
    assert!(!barrier.broken());
}

/// A waiter's deadline that expires while the action runs does not break the barrier (in
/// CPython the action runs under the barrier's lock).
#[test]
fn timeout_during_the_action_does_not_break() {
    let barrier = Arc::new(Barrier::new(2));
    let deadline = Deadline::after(Duration::from_secs(1));
    let waiter = {
        let barrier = barrier.clone();
        thread::spawn(move || barrier.wait_until(deadline))
    };
    spin_until(|| barrier.n_waiting() == 1);
    match barrier.arrive() {
        Ok(Arrival::RunAction(index)) => {
            assert_eq!(index, 1);
            while !deadline.has_passed() {
                thread::sleep(deadline.remaining().unwrap());
            }
            assert_eq!(barrier.complete_action(true), Ok(1));
            assert_eq!(waiter.join().unwrap(), Ok(0));
        }
        // The machine was so slow that the waiter timed out before this thread arrived.
        other => {
            assert_eq!(other, Err(BarrierError::Broken));
            assert_eq!(waiter.join().unwrap(), Err(BarrierError::Broken));
        }
    }
}

#[test]
#[should_panic(expected = "complete_action called without")]
fn complete_action_without_run_action_panics() {
    let _ = Barrier::new(2).complete_action(true);
}

#[test]
fn debug_and_reinit() {
    let barrier = Barrier::new(2);
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 2, n_waiting: 0, phase: Filling, has_action: false }"
    );
    barrier.abort();
    barrier.reinit_after_fork();
    assert!(!barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn stress_many_rounds_never_mix() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 400;
    let actions = Arc::new(AtomicUsize::new(0));
    let barrier = {
        let actions = actions.clone();
        Arc::new(Barrier::with_action(THREADS, move || {
            actions.fetch_add(1, Ordering::SeqCst);
        }))
    };
    let actions2 = actions.clone();
    let per_thread = run(&barrier, THREADS, move |b| {
        (0..ROUNDS)
            .map(|r| {
                let i = if r % 2 == 0 {
                    b.wait().unwrap()
                } else {
                    b.wait_timeout(Duration::from_secs(60)).unwrap()
                };
                assert_eq!(actions2.load(Ordering::SeqCst), r + 1);
                i
            })
            .collect::<Vec<usize>>()
    });
    for r in 0..ROUNDS {
        let round: Vec<usize> = per_thread.iter().map(|v| v[r]).collect();
        assert_eq!(sorted(round), (0..THREADS).collect::<Vec<_>>(), "round {r}");
    }
    assert_eq!(actions.load(Ordering::SeqCst), ROUNDS);
    assert!(!barrier.broken());
}

#[test]
fn stress_split_action_rounds() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 300;
    let barrier = Arc::new(Barrier::new(THREADS));
    let actions = Arc::new(AtomicUsize::new(0));
    let actions2 = actions.clone();
    let per_thread = run(&barrier, THREADS, move |b| {
        (0..ROUNDS)
            .map(|r| {
                let i = match b.arrive().unwrap() {
                    Arrival::Passed(i) => i,
                    Arrival::RunAction(_) => {
                        actions2.fetch_add(1, Ordering::SeqCst);
                        b.complete_action(true).unwrap()
                    }
                };
                assert_eq!(actions2.load(Ordering::SeqCst), r + 1);
                i
            })
            .collect::<Vec<usize>>()
    });
    for r in 0..ROUNDS {
        let round: Vec<usize> = per_thread.iter().map(|v| v[r]).collect();
        assert_eq!(sorted(round), (0..THREADS).collect::<Vec<_>>(), "round {r}");
    }
    assert_eq!(actions.load(Ordering::SeqCst), ROUNDS);
}

/// Aborts and resets racing with rounds: every wait ends (passed or broken), nothing hangs, and
/// the barrier works normally afterwards.
#[test]
fn stress_abort_and_reset_racing_rounds() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 300;
    const DISRUPTIONS: usize = 300;
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let mut passed = 0usize;
                for _ in 0..ROUNDS {
                    match barrier.wait() {
                        Ok(i) => {
                            assert!(i < THREADS);
                            passed += 1;
                        }
                        Err(e) => assert_eq!(e, BarrierError::Broken),
                    }
                }
                passed
            })
        })
        .collect();
    let disruptor = {
        let barrier = barrier.clone();
        thread::spawn(move || {
            for k in 0..DISRUPTIONS {
                if k % 2 == 0 {
                    barrier.abort();
                } else {
                    barrier.reset();
                }
                thread::yield_now();
            }
        })
    };
    disruptor.join().unwrap();
    // Broken for good: the workers' remaining waits all return at once.
    barrier.abort();
    for h in workers {
        assert!(h.join().unwrap() <= ROUNDS);
    }
    assert_eq!(barrier.n_waiting(), 0);
    barrier.reset();
    assert_eq!(
        sorted(run(&barrier, THREADS, |b| b.wait().unwrap())),
        (0..THREADS).collect::<Vec<_>>()
    );
}
