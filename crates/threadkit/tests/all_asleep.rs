//! Debug mode's all-asleep watchdog: the main thread waits for an Event that only a thread
//! blocked on a lock the main thread holds would set. Its own process (`harness = false`): the
//! watchdog counts every thread of the process.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::debug;
use threadkit::{Builder, Event, Lock};

fn main() {
    // The waits below have no timeout (a timed wait is never "asleep"): if the watchdog never
    // reports, SIGALRM ends the process and the test fails instead of hanging.
    // SAFETY: alarm() only arms a timer; no memory is involved.
    unsafe { libc::alarm(60) };
    debug::enable();
    let lock = Arc::new(Lock::named("gate"));
    let reports = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        // The way out of the hang: the hook (run on a sleeping thread) opens the gate.
        let (lock, reports) = (lock.clone(), reports.clone());
        debug::set_all_asleep_hook(Box::new(move |r| {
            reports.lock().unwrap().push(r.to_string());
            lock.release().unwrap();
        }));
    }
    let done = Arc::new(Event::new());

    // Not asleep: a thread sleeping outside threadkit, or waiting with a timeout.
    let sleeper_done = Arc::new(Event::new());
    let sleeper = {
        let sleeper_done = sleeper_done.clone();
        std::thread::spawn(move || {
            while !sleeper_done.is_set() {
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    assert!(!done.wait_timeout(Duration::from_millis(300)));
    sleeper_done.set();
    sleeper.join().unwrap();
    let timed = {
        let done = done.clone();
        std::thread::spawn(move || done.wait_timeout(Duration::from_millis(300)))
    };
    assert!(!done.wait_timeout(Duration::from_millis(200)));
    assert!(!timed.join().unwrap());
    assert!(
        reports.lock().unwrap().is_empty(),
        "{:?}",
        reports.lock().unwrap()
    );

    // Asleep: main waits for `done`, which only `setter` sets, once it has the gate main holds.
    lock.acquire();
    let setter = {
        let (lock, done) = (lock.clone(), done.clone());
        Builder::new()
            .name("setter")
            .spawn(move || {
                lock.acquire();
                done.set();
                lock.release().unwrap();
            })
            .unwrap()
    };
    let started = Instant::now();
    done.wait();
    let elapsed = started.elapsed();
    setter.join().unwrap();
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let text = &reports[0];
    assert!(text.starts_with("All threads are asleep"), "{text}");
    assert!(text.contains("'setter'"), "{text}");
    assert!(text.contains("Lock 'gate'"), "{text}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    println!("all_asleep: reported and released after {elapsed:?}");
}
