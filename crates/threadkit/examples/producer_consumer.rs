//! Producers put jobs on a bounded `Queue`; consumers take them, mark each `task_done`, and
//! the main thread `join`s the queue: it returns once every job was processed.
//!
//! Run: `cargo run -p threadkit --example producer_consumer`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadkit::{Builder, Queue};

const PRODUCERS: u64 = 3;
const JOBS_EACH: u64 = 1000;

fn main() {
    // Bounded: producers wait when consumers fall behind.
    let queue: Arc<Queue<Option<u64>>> = Arc::new(Queue::new(16));
    let total = Arc::new(AtomicU64::new(0));

    let consumers: Vec<_> = (0..2)
        .map(|i| {
            let (queue, total) = (queue.clone(), total.clone());
            Builder::new()
                .name(format!("consumer-{i}"))
                .spawn(move || {
                    let mut handled = 0u64;
                    // `None` is the stop signal.
                    while let Some(job) = queue.get().expect("queue is not shut down") {
                        total.fetch_add(job, Ordering::Relaxed);
                        handled += 1;
                        queue.task_done().expect("one task_done per get");
                    }
                    queue.task_done().expect("one task_done per get");
                    handled
                })
                .expect("spawn")
        })
        .collect();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let queue = queue.clone();
            Builder::new()
                .name(format!("producer-{p}"))
                .spawn(move || {
                    for j in 0..JOBS_EACH {
                        queue.put(Some(p * JOBS_EACH + j)).expect("queue is open");
                    }
                })
                .expect("spawn")
        })
        .collect();
    for p in producers {
        p.join().expect("producer ok");
    }

    // Every job put so far has been marked done once this returns.
    queue.join();
    let n = PRODUCERS * JOBS_EACH;
    let expected = n * (n - 1) / 2;
    println!(
        "queue.join() returned: all {n} jobs processed, sum {} (expected {expected})",
        total.load(Ordering::Relaxed)
    );
    assert_eq!(total.load(Ordering::Relaxed), expected);

    for _ in &consumers {
        queue.put(None).expect("queue is open");
    }
    for c in consumers {
        let name = c.thread().name();
        println!("{name} handled {} jobs", c.join().expect("consumer ok"));
    }
}
