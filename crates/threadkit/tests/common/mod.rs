//! Helpers shared by the std-thread integration tests (`mod common;` in each). Not used by the
//! loom models. Only std and threadkit's public API, so it compiles with and without `--cfg loom`.
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use threadkit::{Interrupt, Interrupted};

/// Generous guard so a broken test fails instead of hanging.
pub const GUARD: Duration = Duration::from_secs(20);

/// How long a timed call that gives up may take before the test calls it hung.
pub const PROMPT: Duration = Duration::from_secs(5);

/// An interrupt that says stop on its `n`th check (and on every check after it), checking every
/// millisecond. Checks only happen while a wait is blocked, so `checks` proves it blocked.
pub struct StopAfter {
    pub checks: u32,
    pub n: u32,
}

impl StopAfter {
    pub fn new(n: u32) -> Self {
        StopAfter { checks: 0, n }
    }
}

impl Interrupt for StopAfter {
    fn interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(1))
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        self.checks += 1;
        if self.checks >= self.n {
            Err(Interrupted)
        } else {
            Ok(())
        }
    }
}

/// Spins (yielding) until `cond` holds: waits for observable state, never for time. Fails after
/// [`GUARD`] instead of hanging.
pub fn spin_until(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < GUARD, "state never reached");
        thread::yield_now();
    }
}

/// Runs `f` on another thread and returns its result.
pub fn on_other_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    thread::spawn(f).join().unwrap()
}

/// Calls `call(timeout)`, a timed call expected to give up, and asserts it waited the whole
/// `timeout` but returned within [`PROMPT`]. Returns what the call returned.
#[track_caller]
pub fn gives_up_promptly<R>(timeout: Duration, call: impl FnOnce(Duration) -> R) -> R {
    let start = Instant::now();
    let r = call(timeout);
    let took = start.elapsed();
    assert!(took >= timeout, "gave up early: {took:?}");
    assert!(took < PROMPT, "hung: {took:?}");
    r
}

/// Spawns `n` threads running `f(i)` for `i` in `0..n`, all held at a start line until every
/// one has started; the caller is the last to arrive, so when this returns all `n` have been
/// released together.
pub fn spawn_started<R: Send + 'static>(
    n: usize,
    f: impl Fn(usize) -> R + Send + Sync + 'static,
) -> Vec<JoinHandle<R>> {
    let start = Arc::new(Barrier::new(n + 1));
    let f = Arc::new(f);
    let handles = (0..n)
        .map(|i| {
            let (start, f) = (start.clone(), f.clone());
            thread::spawn(move || {
                start.wait();
                f(i)
            })
        })
        .collect();
    start.wait();
    handles
}

/// An interrupt the test trips to make a wait give up: the deliberate release path of a
/// deadlock left waiting by the report action. Checked every millisecond.
#[derive(Clone, Default)]
pub struct Escape(Arc<std::sync::atomic::AtomicBool>);

impl Escape {
    pub fn trip(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Interrupt for Escape {
    fn interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(1))
    }
    fn check(&mut self) -> Result<(), Interrupted> {
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            Err(Interrupted)
        } else {
            Ok(())
        }
    }
}
