//! A thread pool runs many small jobs on a few reused workers, with results in order
//! (`map`), as they come (`as_completed`), and a failing job that does not break the pool.
//!
//! Run: `cargo run -p threadkit --example worker_pool`

use std::collections::BTreeMap;

use threadkit::{as_completed, current_thread, FutureError, ThreadPoolExecutor};

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

fn main() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .thread_name_prefix("worker")
        .build();

    // map: results in input order.
    let numbers = [
        1_000_001u64,
        1_000_003,
        1_000_005,
        1_000_033,
        1_000_037,
        1_000_099,
    ];
    let flags: Vec<bool> = pool
        .map(is_prime, numbers)
        .expect("submit")
        .map(|r| r.expect("no job fails"))
        .collect();
    for (n, p) in numbers.iter().zip(&flags) {
        println!("{n} is {}", if *p { "prime" } else { "not prime" });
    }

    // submit + as_completed: which worker ran what.
    let futures: Vec<_> = (0..20u64)
        .map(|i| {
            pool.submit(move || (i, i * i, current_thread().name()))
                .expect("submit")
        })
        .collect();
    let mut per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for i in as_completed(&futures, None) {
        let (_, _, worker) = futures[i.expect("no timeout")].result().expect("ok");
        *per_worker.entry(worker.clone()).or_default() += 1;
    }
    println!("20 jobs on {} workers: {per_worker:?}", pool.num_threads());
    assert!(pool.num_threads() <= 4);

    // A panicking job fails its own future; the pool goes on.
    let bad = pool
        .submit(|| -> u64 { panic!("job failed") })
        .expect("submit");
    match bad.result() {
        Err(FutureError::Panicked(msg)) => println!("failing job reported: {msg}"),
        other => println!("unexpected: {other:?}"),
    }
    let after = pool.submit(|| 42).expect("submit");
    println!("the pool still works: {}", after.result().expect("ok"));

    pool.shutdown(true, false);
    println!(
        "shut down; submit now fails: {}",
        pool.submit(|| 0).unwrap_err()
    );
}
