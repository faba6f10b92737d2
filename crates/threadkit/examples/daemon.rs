//! Daemon and non-daemon threads at program end: `wait_for_non_daemon_threads()` waits for the
//! non-daemon one to finish its work, and lets the endless daemon one die with the process,
//! as Python does when the main program ends.
//!
//! Run: `cargo run -p threadkit --example daemon`

use std::time::Duration;

use threadkit::{current_thread, enumerate, main_thread, wait_for_non_daemon_threads, Builder};

fn main() {
    println!(
        "{} is daemon: {}",
        current_thread().name(),
        current_thread().is_daemon()
    );

    Builder::new()
        .name("heartbeat")
        .daemon(true)
        .spawn(|| {
            // Runs forever; as a daemon it does not keep the program alive.
            let mut told = false;
            loop {
                if !main_thread().is_alive() && !told {
                    println!("[heartbeat] main_thread().is_alive() is now false");
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .expect("spawn");

    Builder::new()
        .name("saver")
        .daemon(false)
        .spawn(|| {
            for step in 1..=3 {
                std::thread::sleep(Duration::from_millis(200));
                println!("[saver] saved part {step}/3");
            }
            println!("[saver] all saved");
        })
        .expect("spawn");

    let names: Vec<String> = enumerate()
        .iter()
        .map(|t| {
            format!(
                "{}{}",
                t.name(),
                if t.is_daemon() { " (daemon)" } else { "" }
            )
        })
        .collect();
    println!("running: {names:?}");
    println!("main is done; waiting for non-daemon threads...");
    wait_for_non_daemon_threads();
    println!("non-daemon threads finished; exiting without waiting for the daemon");
}
