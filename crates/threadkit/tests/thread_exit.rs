//! wait_for_non_daemon_threads: Python's exit semantics. Its own test binary: it shuts the
//! process's pools down and closes atexit registration.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use threadkit::{
    register_atexit, wait_for_non_daemon_threads, Builder, SubmitError, ThreadPoolExecutor,
};

#[test]
fn waits_for_non_daemon_threads_and_pools_but_not_daemons() {
    let done = Arc::new(AtomicUsize::new(0));
    // Non-daemon threads that are still working when shutdown begins.
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Arc::new(std::sync::Mutex::new(go_rx));
    for _ in 0..4 {
        let (done, go_rx) = (done.clone(), go_rx.clone());
        Builder::new()
            .daemon(false)
            .spawn(move || {
                let _ = go_rx.lock().unwrap().recv();
                done.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    // A daemon thread that never ends must not be waited for.
    let (_never_tx, never_rx) = mpsc::channel::<()>();
    Builder::new()
        .daemon(true)
        .spawn(move || {
            let _ = never_rx.recv();
        })
        .unwrap();
    // A pool with queued work that nobody shuts down (leaked, as a forgotten global would be).
    let pool = Box::leak(Box::new(ThreadPoolExecutor::new(2)));
    let pool_done = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        let d = pool_done.clone();
        pool.submit(move || {
            d.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    }
    // An exit callback releases the non-daemon threads.
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    register_atexit(move || {
        r.store(true, Ordering::SeqCst);
        drop(go_tx);
    })
    .unwrap();
    // As in CPython, an exit callback may still submit work: pools refuse it only once the
    // callbacks have run (concurrent.futures' own exit hook comes after them).
    let late_done = Arc::new(AtomicBool::new(false));
    let (late_tx, late_rx) = mpsc::channel();
    let (late_done2, pool_ref) = (late_done.clone(), &*pool);
    register_atexit(move || {
        let late = pool_ref.submit(move || late_done2.store(true, Ordering::SeqCst));
        late_tx.send(late.is_ok()).unwrap();
    })
    .unwrap();

    wait_for_non_daemon_threads();

    assert_eq!(late_rx.try_recv(), Ok(true));
    assert!(late_done.load(Ordering::SeqCst));

    assert!(ran.load(Ordering::SeqCst));
    assert_eq!(done.load(Ordering::SeqCst), 4);
    assert_eq!(pool_done.load(Ordering::SeqCst), 20);
    assert!(pool.threads().iter().all(|t| !t.is_alive()));
    assert!(matches!(
        pool.submit(|| ()),
        Err(SubmitError::InterpreterShutdown) | Err(SubmitError::Shutdown)
    ));
    assert!(register_atexit(|| ()).is_err());
}
