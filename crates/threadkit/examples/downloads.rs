//! Ten "downloads" that each take one second (a sleep standing in for network waiting) finish
//! in about one second in total, one thread each, and again through a thread pool.
//!
//! Run: `cargo run -p threadkit --example downloads`

use std::time::{Duration, Instant};

use threadkit::{Builder, ThreadPoolExecutor};

const N: usize = 10;

fn download(i: usize) -> usize {
    std::thread::sleep(Duration::from_secs(1));
    1000 + i // "bytes"
}

fn main() {
    let start = Instant::now();
    let threads: Vec<_> = (0..N)
        .map(|i| {
            Builder::new()
                .name(format!("download-{i}"))
                .spawn(move || download(i))
                .expect("spawn")
        })
        .collect();
    let bytes: usize = threads.into_iter().map(|t| t.join().expect("ok")).sum();
    let threads_took = start.elapsed();
    println!(
        "{N} downloads of 1 s on {N} threads: {bytes} bytes in {:.2} s",
        threads_took.as_secs_f64()
    );

    let start = Instant::now();
    let pool = ThreadPoolExecutor::new(N);
    let bytes: usize = pool
        .map(download, 0..N)
        .expect("submit")
        .map(|r| r.expect("ok"))
        .sum();
    let pool_took = start.elapsed();
    println!(
        "{N} downloads of 1 s in a pool of {N}: {bytes} bytes in {:.2} s",
        pool_took.as_secs_f64()
    );
    println!("sequentially they would take {N} s");
    assert!(threads_took < Duration::from_secs(3) && pool_took < Duration::from_secs(3));
}
