//! ThreadPoolExecutor, Future, WorkQueue, wait / as_completed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::{
    as_completed, wait, wait_interruptible, Deadline, Event, Future, FutureError, FutureState,
    Interrupted, InvalidStateError, Lock, NoInterrupt, ReturnWhen, SubmitError, ThreadPoolExecutor,
    BROKEN_INITIALIZER,
};

mod common;
use common::{StopAfter, GUARD};

/// A gate tasks pass only once the test opens it.
fn closed_gate() -> Arc<Lock> {
    let gate = Arc::new(Lock::new());
    gate.acquire();
    gate
}

fn pass(gate: &Lock) {
    gate.acquire();
    gate.release().unwrap();
}

#[test]
fn max_workers_is_respected_and_reached() {
    let pool = ThreadPoolExecutor::new(3);
    let gate = closed_gate();
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = mpsc::channel();
    let futures: Vec<_> = (0..30)
        .map(|i| {
            let (gate, active, peak, tx) = (
                gate.clone(),
                active.clone(),
                peak.clone(),
                started_tx.clone(),
            );
            pool.submit(move || {
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tx.send(i).unwrap();
                pass(&gate);
                active.fetch_sub(1, Ordering::SeqCst);
                i
            })
            .unwrap()
        })
        .collect();
    // Three tasks run at once (one per worker); the rest wait for a free worker.
    for _ in 0..3 {
        started_rx.recv_timeout(GUARD).unwrap();
    }
    assert_eq!(pool.num_threads(), 3);
    assert_eq!(active.load(Ordering::SeqCst), 3);
    assert_eq!(futures.iter().filter(|f| f.running()).count(), 3);
    assert_eq!(futures[29].state(), FutureState::Pending);
    gate.release().unwrap();
    for (i, f) in futures.iter().enumerate() {
        assert_eq!(*f.result_timeout(GUARD).unwrap(), i);
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    assert_eq!(pool.num_threads(), 3);
}

#[test]
fn workers_start_lazily_and_are_reused() {
    let pool = ThreadPoolExecutor::new(8);
    assert_eq!(pool.num_threads(), 0);
    let mut names = std::collections::HashSet::new();
    for i in 0..50 {
        let f = pool
            .submit(move || (i, threadkit::current_thread().name()))
            .unwrap();
        let (j, name) = f.result_timeout(GUARD).unwrap().clone();
        assert_eq!(j, i);
        names.insert(name);
    }
    // Each submit after the previous result finds the worker idle.
    assert_eq!(pool.num_threads(), 1);
    assert_eq!(names.len(), 1);
}

#[test]
fn worker_names_use_the_prefix() {
    let pool = ThreadPoolExecutor::new(2);
    let prefix = pool.thread_name_prefix().to_string();
    assert!(prefix.starts_with("ThreadPoolExecutor-"), "{prefix}");
    let other = ThreadPoolExecutor::new(1);
    assert_ne!(other.thread_name_prefix(), prefix);
    let name = pool.submit(|| threadkit::current_thread().name()).unwrap();
    assert_eq!(*name.result().unwrap(), format!("{prefix}_0"));
    let named = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("io")
        .build();
    let n = named.submit(|| threadkit::current_thread().name()).unwrap();
    assert_eq!(n.result().unwrap(), "io_0");
}

#[test]
fn map_keeps_input_order() {
    let pool = ThreadPoolExecutor::new(4);
    // Earlier items take longer, so they finish later.
    let out: Vec<u64> = pool
        .map(
            |n: u64| {
                let mut x = 0u64;
                for k in 0..(20 - n) * 20_000 {
                    x = x.wrapping_add(std::hint::black_box(k));
                }
                let _ = x;
                n * 10
            },
            0..20,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..20).map(|n| n * 10).collect::<Vec<_>>());
}

#[test]
fn map_reports_panics_per_item_and_times_out() {
    let pool = ThreadPoolExecutor::new(2);
    let out: Vec<_> = pool
        .map(|n: i32| if n == 2 { panic!("two") } else { n }, 0..4)
        .unwrap()
        .collect();
    assert_eq!(*out[0].as_ref().unwrap(), 0);
    assert!(matches!(&out[2], Err(FutureError::Panicked(m)) if m == "two"));
    assert_eq!(*out[3].as_ref().unwrap(), 3);

    let gate = closed_gate();
    let g = gate.clone();
    let mut late = pool
        .map_until(
            move |_: ()| pass(&g),
            [()],
            Deadline::after(Duration::from_millis(20)),
        )
        .unwrap();
    assert!(matches!(late.next(), Some(Err(FutureError::Timeout))));
    gate.release().unwrap();
}

#[test]
fn shutdown_with_cancel_futures() {
    let pool = ThreadPoolExecutor::new(1);
    let gate = closed_gate();
    let (tx, rx) = mpsc::channel();
    let g = gate.clone();
    let first = pool
        .submit(move || {
            tx.send(()).unwrap();
            pass(&g);
            "first"
        })
        .unwrap();
    rx.recv_timeout(GUARD).unwrap();
    let cancelled_callbacks = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..10)
        .map(|i| {
            let f = pool.submit(move || i).unwrap();
            let c = cancelled_callbacks.clone();
            f.add_done_callback(move |f| {
                assert!(f.cancelled());
                c.fetch_add(1, Ordering::SeqCst);
            });
            f
        })
        .collect();
    pool.shutdown(false, true);
    assert!(queued.iter().all(|f| f.cancelled()));
    assert!(queued
        .iter()
        .all(|f| matches!(f.result(), Err(FutureError::Cancelled))));
    assert_eq!(cancelled_callbacks.load(Ordering::SeqCst), 10);
    assert!(first.running());
    let e = pool.submit(|| "late").unwrap_err();
    assert!(matches!(e, SubmitError::Shutdown));
    assert_eq!(e.to_string(), "cannot schedule new futures after shutdown");
    gate.release().unwrap();
    assert_eq!(*first.result_timeout(GUARD).unwrap(), "first");
    pool.shutdown(true, false);
    assert!(pool.threads().iter().all(|t| !t.is_alive()));
}

#[test]
fn shutdown_without_cancel_runs_everything_queued() {
    let pool = ThreadPoolExecutor::new(2);
    let count = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..40)
        .map(|_| {
            let c = count.clone();
            pool.submit(move || c.fetch_add(1, Ordering::SeqCst))
                .unwrap()
        })
        .collect();
    pool.shutdown(true, false);
    assert_eq!(count.load(Ordering::SeqCst), 40);
    assert!(futures.iter().all(|f| f.done() && !f.cancelled()));
}

#[test]
fn drop_shuts_down_and_waits() {
    let count = Arc::new(AtomicUsize::new(0));
    let threads;
    {
        let pool = ThreadPoolExecutor::new(3);
        for _ in 0..30 {
            let c = count.clone();
            pool.submit(move || {
                c.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
        threads = pool.threads();
    }
    assert_eq!(count.load(Ordering::SeqCst), 30);
    assert!(threads.iter().all(|t| !t.is_alive()));
}

#[test]
fn a_panicking_task_fails_only_its_future() {
    let pool = ThreadPoolExecutor::new(1);
    let bad = pool.submit(|| -> u32 { panic!("task failed") }).unwrap();
    match bad.result_timeout(GUARD) {
        Err(FutureError::Panicked(m)) => assert_eq!(m, "task failed"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        bad.exception(),
        Ok(Some(FutureError::Panicked(_)))
    ));
    for i in 0..10u32 {
        assert_eq!(
            *pool
                .submit(move || i)
                .unwrap()
                .result_timeout(GUARD)
                .unwrap(),
            i
        );
    }
    assert_eq!(pool.num_threads(), 1);
    assert!(pool.threads()[0].is_alive());
}

#[test]
fn a_failing_initializer_breaks_the_pool() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(|| panic!("init failed"))
        .build();
    let f = pool.submit(|| 1).unwrap();
    match f.result_timeout(GUARD) {
        Err(FutureError::BrokenThreadPool(m)) => assert_eq!(m, BROKEN_INITIALIZER),
        other => panic!("{other:?}"),
    }
    assert!(pool.is_broken());
    match pool.submit(|| 2) {
        Err(SubmitError::Broken(m)) => assert_eq!(m, BROKEN_INITIALIZER),
        other => panic!("{other:?}"),
    }
}

#[test]
fn initializer_runs_once_per_worker() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(move || {
            i.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    for _ in 0..10 {
        pool.submit(|| ()).unwrap().result().unwrap();
    }
    pool.shutdown(true, false);
    assert_eq!(inits.load(Ordering::SeqCst), pool.num_threads());
}

#[test]
fn callbacks_run_once_in_order() {
    let f = Future::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    for k in 0..3 {
        let o = order.clone();
        f.add_done_callback(move |f: &Future<i32>| {
            o.lock().unwrap().push((k, *f.result().unwrap()));
        });
    }
    f.set_result(9).unwrap();
    assert_eq!(*order.lock().unwrap(), [(0, 9), (1, 9), (2, 9)]);
    // Added after completion: runs at once.
    let o = order.clone();
    f.add_done_callback(move |_| o.lock().unwrap().push((3, 0)));
    assert_eq!(order.lock().unwrap().len(), 4);
    // Completing again fails and runs nothing.
    assert_eq!(
        f.set_result(1),
        Err(InvalidStateError(FutureState::Finished))
    );
    assert!(!f.cancel());
    assert_eq!(order.lock().unwrap().len(), 4);
}

#[test]
fn a_panicking_callback_does_not_stop_the_others() {
    let f = Future::new();
    let ran = Arc::new(AtomicUsize::new(0));
    f.add_done_callback(|_| panic!("bad callback"));
    let r = ran.clone();
    f.add_done_callback(move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    f.set_result(()).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn future_state_machine() {
    let f: Future<u8> = Future::new();
    assert_eq!(f.state(), FutureState::Pending);
    assert!(f.cancel());
    assert!(f.cancel());
    assert_eq!(f.state(), FutureState::Cancelled);
    assert!(f.done() && f.cancelled());
    assert_eq!(f.set_running_or_notify_cancel(), Ok(false));
    assert_eq!(f.state(), FutureState::CancelledAndNotified);
    assert!(matches!(f.result(), Err(FutureError::Cancelled)));
    assert!(matches!(f.exception(), Err(FutureError::Cancelled)));
    assert!(f.set_result(1).is_err());

    let g: Future<u8> = Future::new();
    assert_eq!(g.set_running_or_notify_cancel(), Ok(true));
    assert!(g.running());
    assert!(!g.cancel());
    assert_eq!(
        g.set_running_or_notify_cancel(),
        Err(InvalidStateError(FutureState::Running))
    );
    g.set_exception(FutureError::Panicked("x".into())).unwrap();
    assert_eq!(g.state(), FutureState::Finished);
    assert!(matches!(g.result(), Err(FutureError::Panicked(_))));

    #[derive(Debug)]
    struct MyError;
    impl std::fmt::Display for MyError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("my error")
        }
    }
    impl std::error::Error for MyError {}
    let h: Future<u8> = Future::new();
    h.set_exception(FutureError::Exception(Arc::new(MyError)))
        .unwrap();
    match h.exception().unwrap() {
        Some(FutureError::Exception(e)) => {
            assert!(e.downcast_ref::<MyError>().is_some());
            assert_eq!(e.to_string(), "my error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn result_timeout_on_a_pending_future_is_prompt() {
    let f: Future<()> = Future::new();
    let start = Instant::now();
    assert!(matches!(
        f.result_timeout(Duration::from_millis(30)),
        Err(FutureError::Timeout)
    ));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(30) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert!(matches!(
        f.exception_timeout(Duration::ZERO),
        Err(FutureError::Timeout)
    ));
}

#[test]
fn result_is_shared_between_handles_and_threads() {
    let f: Future<String> = Future::new();
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || f.result_timeout(GUARD).unwrap().len())
        })
        .collect();
    f.set_result(String::from("shared")).unwrap();
    for r in readers {
        assert_eq!(r.join().unwrap(), 6);
    }
    assert_eq!(f.result().unwrap(), "shared");
}

#[test]
fn wait_first_completed_and_all_completed() {
    let pool = ThreadPoolExecutor::new(2);
    let gate = closed_gate();
    let g = gate.clone();
    let slow = pool.submit(move || pass(&g)).unwrap();
    let quick = pool.submit(|| ()).unwrap();
    let fs = [slow, quick];
    let r = wait(&fs, Some(GUARD), ReturnWhen::FirstCompleted);
    assert_eq!((r.done, r.not_done), (vec![1], vec![0]));
    let r = wait(
        &fs,
        Some(Duration::from_millis(20)),
        ReturnWhen::AllCompleted,
    );
    assert_eq!((r.done, r.not_done), (vec![1], vec![0]));
    gate.release().unwrap();
    let r = wait(&fs, Some(GUARD), ReturnWhen::AllCompleted);
    assert_eq!((r.done, r.not_done), (vec![0, 1], vec![]));
}

#[test]
fn wait_first_exception() {
    let pool = ThreadPoolExecutor::new(2);
    let gate = closed_gate();
    let g = gate.clone();
    let slow = pool.submit(move || pass(&g)).unwrap();
    let bad = pool.submit(|| panic!("bad")).unwrap();
    let fs = [slow, bad];
    let r = wait(&fs, Some(GUARD), ReturnWhen::FirstException);
    assert_eq!((r.done, r.not_done), (vec![1], vec![0]));
    gate.release().unwrap();
}

#[test]
fn as_completed_yields_each_once_and_times_out() {
    let pool = ThreadPoolExecutor::new(4);
    let fs: Vec<_> = (0..20).map(|i| pool.submit(move || i).unwrap()).collect();
    let mut seen: Vec<usize> = as_completed(&fs, Some(GUARD)).map(Result::unwrap).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());

    let pending: Vec<Future<()>> = vec![Future::new(), Future::new()];
    pending[1].set_result(()).unwrap();
    let got: Vec<_> = as_completed(&pending, Some(Duration::from_millis(20))).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(*got[0].as_ref().unwrap(), 1);
    assert!(matches!(got[1], Err(FutureError::Timeout)));
}

#[test]
fn stress_many_submitters_every_future_completes_once() {
    const SUBMITTERS: usize = 8;
    const TASKS: usize = 400;
    let pool = Arc::new(ThreadPoolExecutor::new(4));
    let runs: Arc<Vec<AtomicUsize>> = Arc::new(
        (0..SUBMITTERS * TASKS)
            .map(|_| AtomicUsize::new(0))
            .collect(),
    );
    let callbacks = Arc::new(AtomicUsize::new(0));
    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|s| {
            let (pool, runs, callbacks) = (pool.clone(), runs.clone(), callbacks.clone());
            std::thread::spawn(move || {
                let futures: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let id = s * TASKS + t;
                        let runs = runs.clone();
                        let f = pool
                            .submit(move || {
                                runs[id].fetch_add(1, Ordering::Relaxed);
                                if id % 97 == 0 {
                                    panic!("planned {id}");
                                }
                                id
                            })
                            .unwrap();
                        let c = callbacks.clone();
                        f.add_done_callback(move |_| {
                            c.fetch_add(1, Ordering::Relaxed);
                        });
                        f
                    })
                    .collect();
                for (t, f) in futures.iter().enumerate() {
                    let id = s * TASKS + t;
                    match f.result_timeout(GUARD) {
                        Ok(v) => assert_eq!(*v, id),
                        Err(FutureError::Panicked(m)) => {
                            assert_eq!(id % 97, 0);
                            assert_eq!(m, format!("planned {id}"));
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().unwrap();
    }
    pool.shutdown(true, false);
    assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1));
    assert_eq!(callbacks.load(Ordering::Relaxed), SUBMITTERS * TASKS);
    assert!(pool.num_threads() <= 4);
}

#[test]
fn work_queue_for_external_workers() {
    use threadkit::raw::{Pop, WorkQueue};
    let q = Arc::new(WorkQueue::new());
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(i) = q.pop() {
                    got.push(i);
                }
                got
            })
        })
        .collect();
    for i in 0..1000 {
        q.push(i).unwrap();
    }
    q.close();
    assert_eq!(q.push(0), Err(0));
    let mut all: Vec<i32> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    assert_eq!(q.pop_until(Deadline::never()), Pop::Closed);
}

#[test]
fn wait_interruptible_stops_on_interrupt_then_waits_again() {
    let fs = [Future::new(), Future::new()];
    let mut stop = StopAfter::new(3);
    let r = wait_interruptible(&fs, ReturnWhen::AllCompleted, Deadline::never(), &mut stop);
    assert_eq!(r, Err(Interrupted));
    assert_eq!(stop.checks, 3);
    fs[0].set_result(1).unwrap();
    let r = wait_interruptible(
        &fs,
        ReturnWhen::FirstCompleted,
        Deadline::never(),
        &mut NoInterrupt,
    );
    assert_eq!(r.map(|r| (r.done, r.not_done)), Ok((vec![0], vec![1])));
    // Interrupted waits leave no waiter behind: completing the futures still works.
    fs[1].set_result(2).unwrap();
    assert_eq!(wait(&fs, None, ReturnWhen::AllCompleted).done, [0, 1]);
}

#[test]
fn as_completed_next_interruptible_does_not_end_the_iteration() {
    let fs = [Future::new()];
    let mut it = as_completed(&fs, None);
    let got = it.next_interruptible(&mut StopAfter::new(2));
    assert!(
        matches!(got, Some(Err(FutureError::Interrupted))),
        "{got:?}"
    );
    fs[0].set_result(()).unwrap();
    assert_eq!(it.next().map(|r| r.ok()), Some(Some(0)));
    assert!(it.next().is_none());
}

#[test]
fn map_next_interruptible_keeps_the_result_for_the_next_call() {
    let pool = ThreadPoolExecutor::new(1);
    let go = Arc::new(Event::new());
    let g = go.clone();
    let mut results = pool
        .map(
            move |x: u32| {
                assert!(g.wait_timeout(GUARD));
                x * 2
            },
            [1, 2],
        )
        .unwrap();
    let got = results.next_interruptible(&mut StopAfter::new(2));
    assert!(
        matches!(got, Some(Err(FutureError::Interrupted))),
        "{got:?}"
    );
    assert_eq!(results.len(), 2);
    go.set();
    let values: Vec<u32> = results.map(Result::unwrap).collect();
    assert_eq!(values, [2, 4]);
}

#[test]
fn shutdown_interruptible_stops_on_interrupt_and_the_pool_stays_shut() {
    let pool = ThreadPoolExecutor::new(1);
    let go = Arc::new(Event::new());
    let g = go.clone();
    let f = pool.submit(move || g.wait_timeout(GUARD)).unwrap();
    let mut stop = StopAfter::new(2);
    assert_eq!(
        pool.shutdown_interruptible(false, Deadline::never(), &mut stop),
        Err(Interrupted)
    );
    assert!(matches!(pool.submit(|| true), Err(SubmitError::Shutdown)));
    assert_eq!(
        pool.shutdown_interruptible(false, Deadline::now(), &mut NoInterrupt),
        Ok(false)
    );
    go.set();
    assert_eq!(
        pool.shutdown_interruptible(false, Deadline::after(GUARD), &mut NoInterrupt),
        Ok(true)
    );
    assert_eq!(f.result().ok(), Some(&true));
}
