//! Timer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use threadkit::{Deadline, JoinError, NoInterrupt, StartError, Timer};

mod common;
use common::{StopAfter, GUARD};

#[test]
fn fires_after_the_interval_in_its_own_thread() {
    let (tx, rx) = mpsc::channel();
    let interval = Duration::from_millis(30);
    let start = Instant::now();
    let t = Timer::new(interval, move || {
        let me = threadkit::current_thread();
        tx.send((start.elapsed(), me.name())).unwrap();
    });
    let name = t.name();
    assert!(name.starts_with("Thread-"), "{name}");
    t.start().unwrap();
    let (elapsed, ran_in) = rx.recv_timeout(GUARD).unwrap();
    assert!(elapsed >= interval, "{elapsed:?}");
    assert_eq!(ran_in, name);
    assert_eq!(t.join_timeout(GUARD), Ok(true));
    assert!(t.is_finished());
    assert!(!t.is_alive());
}

#[test]
fn cancel_before_the_interval_means_never() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let t = Timer::new(Duration::from_secs(3600), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    assert!(t.is_alive());
    assert!(!t.is_finished());
    let start = Instant::now();
    t.cancel();
    assert_eq!(t.join_timeout(GUARD), Ok(true));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(t.is_finished());
}

#[test]
fn cancel_before_start_means_never() {
    let t = Timer::new(Duration::ZERO, || panic!("must not run"));
    t.cancel();
    t.start().unwrap();
    t.join().unwrap();
}

#[test]
fn cancel_after_running_is_harmless() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let t = Timer::new(Duration::ZERO, move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    t.join().unwrap();
    t.cancel();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn start_once_and_join_before_start() {
    let t = Timer::new(Duration::ZERO, || ());
    assert_eq!(t.join(), Err(JoinError::NotStarted));
    t.start().unwrap();
    assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
    t.join().unwrap();
}

#[test]
fn join_timeout_while_waiting() {
    let t = Timer::new(Duration::from_secs(3600), || ());
    t.start().unwrap();
    let start = Instant::now();
    assert_eq!(t.join_timeout(Duration::from_millis(20)), Ok(false));
    assert!(start.elapsed() < Duration::from_secs(10));
    t.cancel();
    t.join().unwrap();
}

#[test]
fn thread_options_before_start() {
    let t = Timer::new(Duration::ZERO, || ());
    t.thread().set_name("tick");
    t.thread().set_daemon(false).unwrap();
    t.start().unwrap();
    assert_eq!(t.name(), "tick");
    assert!(!t.thread().is_daemon());
    t.join().unwrap();
}

#[test]
fn many_timers_cancelled_concurrently() {
    let ran = Arc::new(AtomicUsize::new(0));
    let timers: Vec<Timer> = (0..32)
        .map(|_| {
            let r = ran.clone();
            let t = Timer::new(Duration::from_secs(3600), move || {
                r.fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            t
        })
        .collect();
    let timers = Arc::new(timers);
    let cancellers: Vec<_> = (0..8)
        .map(|k| {
            let timers = timers.clone();
            std::thread::spawn(move || {
                for t in timers.iter().skip(k).step_by(8) {
                    t.cancel();
                }
            })
        })
        .collect();
    for c in cancellers {
        c.join().unwrap();
    }
    for t in timers.iter() {
        assert_eq!(t.join_timeout(GUARD), Ok(true));
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn join_interruptible_stops_on_interrupt() {
    let t = Timer::new(Duration::from_secs(3600), || ());
    t.start().unwrap();
    let mut stop = StopAfter::new(2);
    assert_eq!(
        t.join_interruptible(Deadline::never(), &mut stop),
        Err(JoinError::Interrupted)
    );
    assert_eq!(stop.checks, 2);
    assert!(t.is_alive());
    t.cancel();
    assert_eq!(
        t.join_interruptible(Deadline::after(GUARD), &mut NoInterrupt),
        Ok(true)
    );
}
