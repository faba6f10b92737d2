//! loom models of Barrier: every thread of a round is released with a distinct index, rounds do
//! not mix, the action runs once per round, and abort/reset release waiters.
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use threadkit::raw::{Arrival, BarrierExt};
use threadkit::{Barrier, BarrierError};

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

#[test]
fn two_threads_one_round() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait().unwrap())
        };
        let mine = barrier.wait().unwrap();
        assert_eq!(sorted(vec![mine, t.join().unwrap()]), [0, 1]);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn two_threads_two_rounds() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || [barrier.wait().unwrap(), barrier.wait().unwrap()])
        };
        let mine = [barrier.wait().unwrap(), barrier.wait().unwrap()];
        let theirs = t.join().unwrap();
        for r in 0..2 {
            assert_eq!(sorted(vec![mine[r], theirs[r]]), [0, 1]);
        }
    });
}

#[test]
fn three_threads_one_round_one_action() {
    loom::model(|| {
        let actions = Arc::new(AtomicUsize::new(0));
        let barrier = {
            let actions = actions.clone();
            Arc::new(Barrier::with_action(3, move || {
                actions.fetch_add(1, Ordering::SeqCst);
            }))
        };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (barrier, actions) = (barrier.clone(), actions.clone());
                thread::spawn(move || {
                    let i = barrier.wait().unwrap();
                    assert_eq!(actions.load(Ordering::SeqCst), 1);
                    i
                })
            })
            .collect();
        let mut indices = vec![barrier.wait().unwrap()];
        assert_eq!(actions.load(Ordering::SeqCst), 1);
        indices.extend(handles.into_iter().map(|h| h.join().unwrap()));
        assert_eq!(sorted(indices), [0, 1, 2]);
    });
}

#[test]
fn two_threads_two_rounds_split_action() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let actions = Arc::new(AtomicUsize::new(0));
        let round = |barrier: &Barrier, actions: &AtomicUsize| match barrier.arrive().unwrap() {
            Arrival::Passed(i) => i,
            Arrival::RunAction(_) => {
                actions.fetch_add(1, Ordering::SeqCst);
                barrier.complete_action(true).unwrap()
            }
        };
        let t = {
            let (barrier, actions) = (barrier.clone(), actions.clone());
            thread::spawn(move || {
                let a = round(&barrier, &actions);
                assert_eq!(actions.load(Ordering::SeqCst), 1);
                let b = round(&barrier, &actions);
                assert_eq!(actions.load(Ordering::SeqCst), 2);
                [a, b]
            })
        };
        let mine = [round(&barrier, &actions), round(&barrier, &actions)];
        let theirs = t.join().unwrap();
        for r in 0..2 {
            assert_eq!(sorted(vec![mine[r], theirs[r]]), [0, 1]);
        }
        assert_eq!(actions.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn abort_releases_a_waiter() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        };
        barrier.abort();
        assert_eq!(t.join().unwrap(), Err(BarrierError::Broken));
        assert!(barrier.broken());
    });
}

#[test]
fn reset_then_abort_releases_a_waiter() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        };
        barrier.reset();
        barrier.abort();
        assert_eq!(t.join().unwrap(), Err(BarrierError::Broken));
    });
}
