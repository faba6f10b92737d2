//! Lock benchmarks: `threadkit::Lock` (and `RLock`) against `std::sync::Mutex<()>` and
//! `parking_lot::Mutex<()>` (and `parking_lot::ReentrantMutex<()>`), uncontended and with two
//! threads contending.
//!
//! `cargo bench -p threadkit --bench lock -- --warm-up-time 1 --measurement-time 3`
// criterion_group!/criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

/// A lock the benchmarks can take and release.
trait BenchLock: Send + Sync + 'static {
    fn lock_unlock(&self);
}

impl BenchLock for threadkit::Lock {
    #[inline]
    fn lock_unlock(&self) {
        self.acquire();
        let _ = black_box(self.release());
    }
}

impl BenchLock for threadkit::RLock {
    #[inline]
    fn lock_unlock(&self) {
        self.acquire();
        let _ = black_box(self.release());
    }
}

impl BenchLock for parking_lot::ReentrantMutex<()> {
    #[inline]
    fn lock_unlock(&self) {
        drop(black_box(self.lock()));
    }
}

impl BenchLock for std::sync::Mutex<()> {
    #[inline]
    fn lock_unlock(&self) {
        drop(black_box(self.lock().unwrap()));
    }
}

impl BenchLock for parking_lot::Mutex<()> {
    #[inline]
    fn lock_unlock(&self) {
        drop(black_box(self.lock()));
    }
}

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock/uncontended");
    fn one<L: BenchLock>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        lock: L,
    ) {
        g.bench_function(name, |b| b.iter(|| black_box(&lock).lock_unlock()));
    }
    one(&mut g, "threadkit::Lock", threadkit::Lock::new());
    one(&mut g, "std::sync::Mutex", std::sync::Mutex::new(()));
    one(&mut g, "parking_lot::Mutex", parking_lot::Mutex::new(()));
    one(&mut g, "threadkit::RLock", threadkit::RLock::new());
    one(
        &mut g,
        "parking_lot::ReentrantMutex",
        parking_lot::ReentrantMutex::new(()),
    );
    g.finish();
}

/// Two threads each take and release the lock `iters` times; the time is per pair and thread.
fn contend<L: BenchLock>(lock: &Arc<L>, iters: u64) -> Duration {
    let start = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (lock, start) = (lock.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..iters {
                    lock.lock_unlock();
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for t in threads {
        t.join().unwrap();
    }
    t0.elapsed()
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock/2-threads");
    let tk = Arc::new(threadkit::Lock::new());
    g.bench_function("threadkit::Lock", |b| b.iter_custom(|n| contend(&tk, n)));
    let std = Arc::new(std::sync::Mutex::new(()));
    g.bench_function("std::sync::Mutex", |b| b.iter_custom(|n| contend(&std, n)));
    let pl = Arc::new(parking_lot::Mutex::new(()));
    g.bench_function("parking_lot::Mutex", |b| b.iter_custom(|n| contend(&pl, n)));
    g.finish();
}

criterion_group!(benches, uncontended, contended);
criterion_main!(benches);
