//! A `Semaphore(3)` lets at most three of ten threads into a section at once (a connection
//! limit); the peak is measured.
//!
//! Run: `cargo run -p threadkit --example semaphore`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use threadkit::{Builder, Semaphore};

fn main() {
    let slots = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));

    let threads: Vec<_> = (0..10)
        .map(|i| {
            let (slots, inside, peak) = (slots.clone(), inside.clone(), peak.clone());
            Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || {
                    slots.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    println!("client-{i} connected ({now} connected)");
                    std::thread::sleep(Duration::from_millis(100)); // the "connection"
                    inside.fetch_sub(1, Ordering::SeqCst);
                    slots.release(1).expect("release what was acquired");
                })
                .expect("spawn")
        })
        .collect();
    for t in threads {
        t.join().expect("ok");
    }
    let peak = peak.load(Ordering::SeqCst);
    println!("at most {peak} clients were connected at once (limit 3)");
    assert!(peak <= 3);
}
