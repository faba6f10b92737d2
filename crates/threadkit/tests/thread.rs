//! Thread, Builder and the registry.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use threadkit::raw::ThreadExt;
use threadkit::{
    active_count, current_thread, enumerate, main_thread, Builder, Deadline, JoinError, StartError,
    Thread,
};

mod common;
use common::{gives_up_promptly, on_other_thread, StopAfter, GUARD};

fn name_number(name: &str, prefix: &str) -> usize {
    name.strip_prefix(prefix)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name:?} is not {prefix}N"))
}

#[test]
fn default_names_count_up() {
    let a = Builder::new().spawn(|| ()).unwrap();
    let b = Builder::new().spawn(|| ()).unwrap();
    let na = name_number(&a.name(), "Thread-");
    let nb = name_number(&b.name(), "Thread-");
    assert!(nb > na, "{na} then {nb}");
    a.join().unwrap();
    b.join().unwrap();
}

#[test]
fn custom_names_and_rename() {
    let (tx, rx) = mpsc::channel();
    let h = Builder::new()
        .name("custom")
        .spawn(move || {
            rx.recv().unwrap();
            current_thread().name()
        })
        .unwrap();
    assert_eq!(h.name(), "custom");
    h.set_name("renamed");
    tx.send(()).unwrap();
    assert_eq!(h.join().unwrap(), "renamed");
}

#[test]
fn daemon_flag_is_inherited_from_the_creator() {
    // Explicit flags win.
    let d = Builder::new().daemon(true).spawn(|| ()).unwrap();
    assert!(d.is_daemon());
    let n = Builder::new().daemon(false).spawn(|| ()).unwrap();
    assert!(!n.is_daemon());
    // Unset: the creating thread's flag.
    let from_non_daemon = Builder::new()
        .daemon(false)
        .spawn(|| Builder::new().spawn(|| ()).unwrap().is_daemon())
        .unwrap();
    assert!(!from_non_daemon.join().unwrap());
    let from_daemon = Builder::new()
        .daemon(true)
        .spawn(|| Builder::new().spawn(|| ()).unwrap().is_daemon())
        .unwrap();
    assert!(from_daemon.join().unwrap());
    // The test harness thread is a foreign thread: a daemon dummy, as CPython's _DummyThread.
    assert!(current_thread().is_daemon());
    assert!(Thread::new_unstarted(None, None).is_daemon());
    d.join().unwrap();
    n.join().unwrap();
}

#[test]
fn set_daemon_only_before_start() {
    let t = Thread::new_unstarted(None, Some(false));
    t.set_daemon(true).unwrap();
    assert!(t.is_daemon());
    let h = Builder::new().spawn(|| ()).unwrap();
    assert!(h.set_daemon(true).is_err());
    h.join().unwrap();
}

#[test]
fn current_thread_inside_is_the_handle() {
    let h = Builder::new()
        .spawn(|| {
            let me = current_thread();
            (
                me.clone(),
                me.ident(),
                me.native_id(),
                threadkit::get_ident(),
                threadkit::get_native_id(),
            )
        })
        .unwrap();
    let t = h.thread().clone();
    let (inside, ident, native, real_ident, real_native) = h.join().unwrap();
    assert_eq!(inside, t);
    assert_eq!(ident, Some(real_ident));
    assert_eq!(native, Some(real_native));
    assert_eq!(t.ident(), Some(real_ident));
    assert!(t.is_started());
    assert!(!t.is_alive());
}

#[test]
fn enumerate_and_active_count_track_running_threads() {
    let (tx, rx) = mpsc::channel::<()>();
    let h = Builder::new()
        .spawn(move || {
            let _ = rx.recv();
        })
        .unwrap();
    let t = h.thread().clone();
    // spawn returns once the thread is registered.
    assert!(t.is_alive());
    assert!(enumerate().contains(&t));
    assert!(active_count() >= 2);
    assert!(enumerate().iter().all(|t| t.is_alive()));
    drop(tx);
    h.join().unwrap();
    assert!(!t.is_alive());
    assert!(!enumerate().contains(&t));
}

#[test]
fn join_timeout_returns_false_promptly_then_true() {
    let (tx, rx) = mpsc::channel::<()>();
    let h = Builder::new()
        .spawn(move || {
            let _ = rx.recv();
        })
        .unwrap();
    assert_eq!(
        gives_up_promptly(Duration::from_millis(50), |t| h.join_timeout(t)),
        Ok(false)
    );
    assert_eq!(h.join_until(Deadline::now()), Ok(false));
    assert!(h.is_alive());
    drop(tx);
    assert_eq!(h.join_timeout(GUARD), Ok(true));
    assert_eq!(h.thread().join(), Ok(()));
    h.join().unwrap();
}

#[test]
fn join_errors() {
    // As CPython: a dummy thread (the harness thread is one) cannot be joined at all.
    assert_eq!(current_thread().join(), Err(JoinError::Dummy));
    let inside = Builder::new()
        .spawn(|| current_thread().join_timeout(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(inside.join().unwrap(), Err(JoinError::CurrentThread));
    let t = Thread::new_unstarted(None, None);
    assert_eq!(t.join(), Err(JoinError::NotStarted));
    assert_eq!(t.join_timeout(Duration::ZERO), Err(JoinError::NotStarted));
    // current_thread() here is a dummy (the harness thread); from elsewhere it cannot be joined.
    let me = current_thread();
    assert!(me.is_dummy());
    let other = on_other_thread(move || me.join());
    assert_eq!(other, Err(JoinError::Dummy));
    assert_eq!(
        JoinError::CurrentThread.to_string(),
        "cannot join current thread"
    );
}

#[test]
fn join_interruptible_is_interrupted() {
    let (tx, rx) = mpsc::channel::<()>();
    let h = Builder::new()
        .spawn(move || {
            let _ = rx.recv();
        })
        .unwrap();
    let mut stop = StopAfter::new(4); // three checks pass, the fourth stops
    assert_eq!(
        h.join_interruptible(Deadline::never(), &mut stop),
        Err(JoinError::Interrupted)
    );
    assert!(h.is_alive());
    drop(tx);
    h.join().unwrap();
}

#[test]
fn panics_go_to_the_excepthook_and_join_err() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    threadkit::set_excepthook(Box::new(move |args: &threadkit::ExceptHookArgs<'_>| {
        s.lock().unwrap().push((
            args.thread.name(),
            args.message.to_string(),
            args.location.map(str::to_string),
            args.thread.is_alive(),
        ));
    }));
    let h = Builder::new()
        .name("panicker")
        .spawn(|| -> u32 { panic!("boom {}", 7) })
        .unwrap();
    let t = h.thread().clone();
    let payload = h.join().unwrap_err();
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(text, Some("boom 7"));
    assert!(!t.is_alive());
    let ok = Builder::new().name("fine").spawn(|| 1).unwrap();
    assert_eq!(ok.join().unwrap(), 1);
    threadkit::reset_excepthook();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (name, message, location, alive) = &seen[0];
    assert_eq!(name, "panicker");
    assert_eq!(message, "boom 7");
    assert!(
        location.as_deref().unwrap_or("").contains("thread.rs"),
        "{location:?}"
    );
    assert!(alive, "the hook runs before the thread is marked finished");
}

#[test]
fn low_level_start_and_finish_without_builder() {
    let t = Thread::new_unstarted(Some("py-thread".into()), Some(false));
    assert!(!t.is_alive());
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let t2 = t.clone();
    let os = std::thread::spawn(move || {
        t2.mark_started().unwrap();
        assert!(matches!(t2.mark_started(), Err(StartError::AlreadyStarted)));
        let me = current_thread();
        assert_eq!(me, t2);
        assert_eq!(me.name(), "py-thread");
        go_rx.recv().unwrap();
        t2.mark_finished();
        // After finishing, the OS thread is a foreign thread again.
        assert!(current_thread().is_dummy());
    });
    t.wait_started();
    assert!(t.is_alive());
    assert!(enumerate().contains(&t));
    assert_eq!(t.join_timeout(Duration::from_millis(10)), Ok(false));
    go_tx.send(()).unwrap();
    assert_eq!(t.join_timeout(GUARD), Ok(true));
    assert!(!enumerate().contains(&t));
    os.join().unwrap();
    t.mark_finished(); // idempotent
}

#[test]
fn dummy_threads_leave_the_registry_when_they_exit() {
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let os = std::thread::spawn(move || {
        tx.send(current_thread()).unwrap();
        go_rx.recv().unwrap();
    });
    let d = rx.recv_timeout(GUARD).unwrap();
    assert!(d.is_dummy() && d.is_daemon() && d.is_alive());
    name_number(&d.name(), "Dummy-");
    assert!(enumerate().contains(&d));
    go_tx.send(()).unwrap();
    os.join().unwrap();
    assert!(!d.is_alive());
    assert!(!enumerate().contains(&d));
}

#[test]
fn main_thread_is_main_thread() {
    let m = main_thread();
    assert_eq!(m.name(), "MainThread");
    assert!(m.is_main() && !m.is_daemon() && m.is_alive());
    assert_eq!(m, main_thread());
    assert!(enumerate().contains(&m));
    let from_thread = Builder::new().spawn(main_thread).unwrap().join().unwrap();
    assert_eq!(from_thread, m);
}

#[test]
fn stack_size_and_values() {
    let h = Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| vec![1u8; 1000].len())
        .unwrap();
    assert_eq!(h.join().unwrap(), 1000);
}

#[test]
fn stress_spawn_join_from_many_threads() {
    const SPAWNERS: usize = 8;
    const EACH: usize = 40;
    let ran = Arc::new(AtomicUsize::new(0));
    let spawners: Vec<_> = (0..SPAWNERS)
        .map(|_| {
            let ran = ran.clone();
            Builder::new()
                .spawn(move || {
                    let mut names = Vec::new();
                    for _ in 0..EACH {
                        let ran = ran.clone();
                        let h = Builder::new()
                            .spawn(move || {
                                ran.fetch_add(1, Ordering::Relaxed);
                                current_thread()
                            })
                            .unwrap();
                        let t = h.thread().clone();
                        assert_eq!(h.join().unwrap(), t);
                        assert_eq!(t.join(), Ok(()));
                        assert!(!t.is_alive());
                        names.push(t.name());
                    }
                    names
                })
                .unwrap()
        })
        .collect();
    let mut all = HashSet::new();
    let mut threads = Vec::new();
    for s in spawners {
        threads.push(s.thread().clone());
        for n in s.join().unwrap() {
            assert!(all.insert(n), "duplicate thread name");
        }
    }
    assert_eq!(all.len(), SPAWNERS * EACH);
    assert_eq!(ran.load(Ordering::Relaxed), SPAWNERS * EACH);
    let alive = enumerate();
    assert!(threads.iter().all(|t| !alive.contains(t)));
}

#[test]
fn claimed_thread_started_by_hand_runs_and_joins() {
    // The way the Python bindings start a thread: claim, create the OS thread, mark_started
    // in it, mark_finished at its end.
    let t = threadkit::Thread::new_unstarted(Some("by-hand".into()), Some(false));
    t.claim_start().unwrap();
    assert!(
        t.claim_start().is_err(),
        "a second start fails while the first is under way"
    );
    assert!(
        t.set_daemon(true).is_err(),
        "the daemon flag is fixed once claimed"
    );
    assert_eq!(t.join(), Err(threadkit::JoinError::NotStarted));
    let t2 = t.clone();
    let os = std::thread::spawn(move || {
        t2.mark_started().unwrap();
        assert_eq!(threadkit::current_thread(), t2);
        t2.mark_finished();
    });
    t.wait_started();
    t.join().unwrap();
    assert!(!t.is_alive() && t.is_started());
    assert!(
        t.claim_start().is_err(),
        "a finished thread cannot be started again"
    );
    os.join().unwrap();
}
