//! Two threads increment a shared counter, first without a lock (updates get lost), then with
//! a `Lock` (none are).
//!
//! Run: `cargo run -p threadkit --example counter`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadkit::{Builder, Lock};

const PER_THREAD: u64 = 1_000_000;

/// `counter += 1` as Python does it: read, add, write back; two threads can interleave
/// between the read and the write, and one increment overwrites the other.
fn racy_increment(counter: &AtomicU64) {
    let v = counter.load(Ordering::Relaxed);
    std::hint::black_box(());
    counter.store(v + 1, Ordering::Relaxed);
}

fn run(with_lock: bool) -> u64 {
    let counter = Arc::new(AtomicU64::new(0));
    let lock = Arc::new(Lock::new());
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let (counter, lock) = (counter.clone(), lock.clone());
            Builder::new()
                .name(format!("incrementer-{i}"))
                .spawn(move || {
                    for _ in 0..PER_THREAD {
                        if with_lock {
                            let _held = lock.lock();
                            racy_increment(&counter);
                        } else {
                            racy_increment(&counter);
                        }
                    }
                })
                .expect("spawn")
        })
        .collect();
    for t in threads {
        t.join().expect("incrementer panicked");
    }
    counter.load(Ordering::Relaxed)
}

fn main() {
    let expected = 2 * PER_THREAD;
    let without = run(false);
    println!(
        "without a lock: {without} of {expected} ({} increments lost)",
        expected - without
    );
    let with = run(true);
    println!(
        "with a Lock:    {with} of {expected} ({} increments lost)",
        expected - with
    );
    assert_eq!(with, expected);
}
