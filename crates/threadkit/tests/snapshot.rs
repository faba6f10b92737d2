//! Labels and snapshots (`threadkit::debug`): creation sites, names, what each thread waits for
//! and holds, and the dump.
#![cfg(not(loom))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{spin_until, GUARD};
use threadkit::debug::{self, Label, Site, ThreadSnapshot, WaitKind};
use threadkit::{Builder, Condition, Event, Lock, Queue, RLock, Semaphore, SimpleQueue};

/// Asserts that `label` was made on line `line` of this file, unnamed.
fn made_at(label: &Label, line: u32) {
    assert_eq!((label.site().file(), label.site().line()), (file!(), line));
    assert_eq!(label.name(), None);
}

#[test]
fn constructors_record_the_callers_site() {
    let lock = Lock::new();
    made_at(lock.label(), line!() - 1);
    let rlock = RLock::new();
    made_at(rlock.label(), line!() - 1);
    let cond = Condition::new();
    made_at(cond.label(), line!() - 1);
    made_at(cond.lock().label(), line!() - 2);
    let ev = Event::new();
    made_at(ev.label(), line!() - 1);
    let sem = Semaphore::new(1);
    made_at(sem.label(), line!() - 1);
    let bounded = threadkit::BoundedSemaphore::new(1);
    made_at(bounded.label(), line!() - 1);
    let barrier = threadkit::Barrier::with_action(1, || ());
    made_at(barrier.label(), line!() - 1);
    let q: threadkit::LifoQueue<u8> = Queue::lifo(0);
    made_at(q.label(), line!() - 1);
    let sq = SimpleQueue::<u8>::new();
    made_at(sq.label(), line!() - 1);
    let defaulted: Lock = Default::default();
    made_at(defaulted.label(), line!() - 1);
}

#[test]
fn names_and_foreign_sites() {
    let lock = Lock::named("inventory");
    assert_eq!(lock.label().to_string(), "'inventory'");
    let cond = Condition::named("ready");
    assert_eq!(cond.lock().label().name(), Some("ready"));
    let py = Lock::new().with_label(Label::new(Some("log".into()), Site::intern("app.py", 12)));
    assert_eq!(py.label().site().to_string(), "app.py:12");
    assert_eq!(py.label().site().column(), None);
    assert_eq!(Site::intern("app.py", 12), py.label().site());
    assert_ne!(Site::intern("app.py", 13), py.label().site());
    let unnamed = Label::new(None, Site::intern("app.py", 12));
    assert_eq!(unnamed.to_string(), "created at app.py:12");
}

fn thread_of(snap: &debug::Snapshot, ident: u64) -> &ThreadSnapshot {
    snap.threads
        .iter()
        .find(|t| t.ident == ident)
        .unwrap_or_else(|| panic!("thread {ident} missing from\n{snap}"))
}

/// The three threads: one holding a lock, one waiting for it, one waiting on a queue.
#[test]
fn a_snapshot_shows_holders_waiters_and_queue_waits() {
    let lock = Arc::new(Lock::named("inventory"));
    let jobs = Arc::new(Queue::<u32>::new(0).with_name("jobs"));
    let holder = current();
    lock.acquire();
    let waiter = {
        let lock = lock.clone();
        Builder::new()
            .name("restock")
            .daemon(false)
            .spawn(move || {
                lock.acquire();
                lock.release().unwrap();
            })
            .unwrap()
    };
    let getter = {
        let jobs = jobs.clone();
        Builder::new()
            .name("worker")
            .daemon(true)
            .spawn(move || jobs.get().unwrap())
            .unwrap()
    };
    let (w, g) = (waiter.ident().unwrap(), getter.ident().unwrap());
    spin_until(|| {
        let snap = debug::snapshot();
        [w, g].iter().all(|&i| {
            snap.threads
                .iter()
                .any(|t| t.ident == i && t.waiting.is_some())
        })
    });
    let snap = debug::snapshot();
    let restock = thread_of(&snap, w);
    assert_eq!(restock.name.as_deref(), Some("restock"));
    assert_eq!(restock.daemon, Some(false));
    let wait = restock.waiting.as_ref().unwrap();
    assert_eq!(wait.kind, WaitKind::Lock);
    assert_eq!(wait.label.name(), Some("inventory"));
    assert_eq!(wait.held_by, [holder]);
    assert!(!wait.timed && !wait.reacquire);
    assert!(wait.waited < GUARD);
    let worker = thread_of(&snap, g);
    assert_eq!(worker.daemon, Some(true));
    let wait = worker.waiting.as_ref().unwrap();
    assert_eq!(
        (wait.kind, wait.label.name()),
        (WaitKind::QueueGet, Some("jobs"))
    );
    assert!(wait.held_by.is_empty());
    let me = thread_of(&snap, holder);
    assert!(me.waiting.is_none());
    assert_eq!(me.holds.len(), 1);
    assert_eq!(me.holds[0].label.name(), Some("inventory"));
    assert!(snap.deadlocks.is_empty());

    let dump = snap.to_string();
    let line_of = |who: &str| {
        dump.lines()
            .find(|l| l.starts_with(&format!("Thread '{who}'")))
            .unwrap_or_else(|| panic!("no line for {who} in\n{dump}"))
            .to_string()
    };
    let restock_line = line_of("restock");
    assert!(
        restock_line.contains(&format!(
            "(ident {w}, not daemon): waiting for Lock 'inventory' created at {}",
            file!()
        )),
        "{restock_line}"
    );
    assert!(
        restock_line.contains(&format!("held by {}", snap_name(&snap, holder))),
        "{restock_line}"
    );
    assert!(restock_line.contains(" s"), "{restock_line}");
    let worker_line = line_of("worker");
    assert!(
        worker_line.contains("daemon): waiting for Queue 'jobs' created at"),
        "{worker_line}"
    );
    assert!(
        worker_line.ends_with("(get), for 0.000 s") || worker_line.contains("(get), for "),
        "{worker_line}"
    );
    assert!(
        dump.contains("    holds Lock 'inventory' created at"),
        "{dump}"
    );
    assert!(dump.ends_with("Deadlocks: none"), "{dump}");

    lock.release().unwrap();
    jobs.put(7).unwrap();
    assert_eq!(waiter.join_timeout(GUARD), Ok(true));
    assert_eq!(getter.join_timeout(GUARD), Ok(true));
    assert_eq!(getter.join().unwrap(), 7);
    // Done waiting: the records are gone.
    let snap = debug::snapshot();
    assert!(snap
        .threads
        .iter()
        .all(|t| t.ident != w || t.waiting.is_none()));
}

/// The calling thread's ident, registered with threadkit so that snapshots name it.
fn current() -> u64 {
    threadkit::current_thread().ident().unwrap()
}

fn snap_name(snap: &debug::Snapshot, ident: u64) -> String {
    format!("'{}'", thread_of(snap, ident).name.as_deref().unwrap())
}

#[test]
fn a_timed_wait_is_marked_timed() {
    let ev = Arc::new(Event::named("timed"));
    let waiter = {
        let ev = ev.clone();
        threadkit::spawn(move || ev.wait_timeout(GUARD))
    };
    let ident = waiter.ident().unwrap();
    spin_until(|| {
        debug::snapshot().threads.iter().any(|t| {
            t.ident == ident
                && t.waiting
                    .as_ref()
                    .is_some_and(|w| w.timed && w.kind == WaitKind::Event)
        })
    });
    assert!(debug::snapshot()
        .to_string()
        .contains("waiting for Event 'timed' created at"));
    ev.set();
    assert!(waiter.join().unwrap());
}

#[test]
fn a_thread_waiting_in_a_plain_std_thread_is_listed_by_its_wait() {
    let sem = Arc::new(Semaphore::new(0).with_name("std"));
    let waiter = {
        let sem = sem.clone();
        std::thread::Builder::new()
            .name("plain-std".into())
            .spawn(move || sem.acquire())
            .unwrap()
    };
    spin_until(|| {
        debug::snapshot().threads.iter().any(|t| {
            t.name.as_deref() == Some("plain-std") && t.waiting.is_some() && t.daemon.is_none()
        })
    });
    sem.release(1).unwrap();
    waiter.join().unwrap();
    let _ = Duration::ZERO;
}
