//! Queue benchmarks: `threadkit::Queue` (and `SimpleQueue`) against crossbeam-channel's
//! unbounded channel and `std::sync::mpsc`: put+get on one thread, and a two-thread hand-off.
//!
//! `cargo bench -p threadkit --bench queue -- --warm-up-time 1 --measurement-time 3`
// criterion_group!/criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use threadkit::{Queue, SimpleQueue};

fn one_thread(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/put+get");
    let q = Queue::new(0);
    g.bench_function("threadkit::Queue", |b| {
        b.iter(|| {
            q.put(black_box(1u64)).unwrap();
            black_box(q.get().unwrap());
        })
    });
    let q = SimpleQueue::new();
    g.bench_function("threadkit::SimpleQueue", |b| {
        b.iter(|| {
            q.put(black_box(1u64));
            black_box(q.get());
        })
    });
    let (tx, rx) = crossbeam_channel::unbounded();
    g.bench_function("crossbeam_channel::unbounded", |b| {
        b.iter(|| {
            tx.send(black_box(1u64)).unwrap();
            black_box(rx.recv().unwrap());
        })
    });
    let (tx, rx) = std::sync::mpsc::channel();
    g.bench_function("std::sync::mpsc::channel", |b| {
        b.iter(|| {
            tx.send(black_box(1u64)).unwrap();
            black_box(rx.recv().unwrap());
        })
    });
    g.finish();
}

/// A producer thread sends `iters` items that this thread receives; the time is per item.
fn handoff<S, R>(iters: u64, send: S, recv: R) -> Duration
where
    S: FnOnce(u64) + Send + 'static,
    R: FnOnce(u64),
{
    let t0 = Instant::now();
    let producer = thread::spawn(move || send(iters));
    recv(iters);
    producer.join().unwrap();
    t0.elapsed()
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/2-thread-handoff");
    g.bench_function("threadkit::Queue", |b| {
        b.iter_custom(|n| {
            let q = std::sync::Arc::new(Queue::new(0));
            let p = q.clone();
            handoff(
                n,
                move |n| (0..n).for_each(|i| p.put(i).unwrap()),
                |n| {
                    (0..n).for_each(|_| {
                        black_box(q.get().unwrap());
                    })
                },
            )
        })
    });
    g.bench_function("threadkit::SimpleQueue", |b| {
        b.iter_custom(|n| {
            let q = std::sync::Arc::new(SimpleQueue::new());
            let p = q.clone();
            handoff(
                n,
                move |n| (0..n).for_each(|i| p.put(i)),
                |n| {
                    (0..n).for_each(|_| {
                        black_box(q.get());
                    })
                },
            )
        })
    });
    g.bench_function("crossbeam_channel::unbounded", |b| {
        b.iter_custom(|n| {
            let (tx, rx) = crossbeam_channel::unbounded();
            handoff(
                n,
                move |n| (0..n).for_each(|i| tx.send(i).unwrap()),
                |n| {
                    (0..n).for_each(|_| {
                        black_box(rx.recv().unwrap());
                    })
                },
            )
        })
    });
    g.bench_function("std::sync::mpsc::channel", |b| {
        b.iter_custom(|n| {
            let (tx, rx) = std::sync::mpsc::channel();
            handoff(
                n,
                move |n| (0..n).for_each(|i| tx.send(i).unwrap()),
                |n| {
                    (0..n).for_each(|_| {
                        black_box(rx.recv().unwrap());
                    })
                },
            )
        })
    });
    g.finish();
}

criterion_group!(benches, one_thread, two_threads);
criterion_main!(benches);
