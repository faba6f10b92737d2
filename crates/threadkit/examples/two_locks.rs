//! Two locks, each guarding one part of an app (accounts, and an audit log): threads working on
//! one part never wait for the other part's lock.
//!
//! Run: `cargo run -p threadkit --example two_locks`

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::{Builder, Lock};

/// Data guarded by a threadkit `Lock` (Python style: the lock and the data live side by side).
struct Guarded<T> {
    lock: Lock,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through `with`, which holds `lock` for the whole access.
unsafe impl<T: Send> Sync for Guarded<T> {}

impl<T> Guarded<T> {
    fn new(data: T) -> Self {
        Guarded {
            lock: Lock::new(),
            data: UnsafeCell::new(data),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _held = self.lock.lock();
        // SAFETY: the lock is held, so no other thread accesses `data` until `_held` drops.
        f(unsafe { &mut *self.data.get() })
    }
}

fn main() {
    let accounts = Arc::new(Guarded::new(vec![100i64; 4]));
    let audit = Arc::new(Guarded::new(Vec::<String>::new()));

    // The audit thread holds the audit lock for a long time (slow disk).
    let (holding_tx, holding_rx) = std::sync::mpsc::channel();
    let slow_audit = {
        let audit = audit.clone();
        Builder::new()
            .name("auditor")
            .spawn(move || {
                audit.with(|log| {
                    holding_tx.send(()).expect("main is waiting");
                    std::thread::sleep(Duration::from_millis(500));
                    log.push("audit flushed".to_string());
                })
            })
            .expect("spawn")
    };
    holding_rx.recv().expect("auditor holds the audit lock");
    assert!(audit.lock.locked());

    // Meanwhile transfers only need the accounts lock: they are not held up.
    let start = Instant::now();
    let transfers: Vec<_> = (0..4)
        .map(|i| {
            let accounts = accounts.clone();
            Builder::new()
                .name(format!("teller-{i}"))
                .spawn(move || {
                    for _ in 0..1000 {
                        accounts.with(|a| {
                            a[i] -= 1;
                            a[(i + 1) % 4] += 1;
                        });
                    }
                })
                .expect("spawn")
        })
        .collect();
    for t in transfers {
        t.join().expect("ok");
    }
    let transfers_took = start.elapsed();
    let audit_still_held = audit.lock.locked();
    let total: i64 = accounts.with(|a| a.iter().sum());
    println!(
        "4000 transfers done in {:.1} ms; audit lock still held meanwhile: {audit_still_held}; total {total}",
        transfers_took.as_secs_f64() * 1e3
    );
    slow_audit.join().expect("ok");
    println!("audit log: {:?}", audit.with(|l| l.clone()));
    assert_eq!(total, 400);
}
