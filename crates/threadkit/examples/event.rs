//! Worker threads wait on an `Event` until the main thread signals "go"; `wait` with a timeout
//! returns false when nobody sets it.
//!
//! Run: `cargo run -p threadkit --example event`

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::{Builder, Event};

fn main() {
    let go = Arc::new(Event::new());
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let go = go.clone();
            Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    let start = Instant::now();
                    go.wait();
                    println!(
                        "worker-{i} started after waiting {:.0} ms",
                        start.elapsed().as_secs_f64() * 1e3
                    );
                })
                .expect("spawn")
        })
        .collect();

    println!("main: preparing for 200 ms; workers wait on the event");
    std::thread::sleep(Duration::from_millis(200));
    println!("main: is_set = {}; setting it", go.is_set());
    go.set();
    for w in workers {
        w.join().expect("ok");
    }

    let never = Event::new();
    let start = Instant::now();
    let got = never.wait_timeout(Duration::from_millis(100));
    println!(
        "an event nobody sets: wait_timeout(100 ms) returned {got} after {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    assert!(!got);
}
