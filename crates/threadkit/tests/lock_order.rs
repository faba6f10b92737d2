//! Debug mode's lock-order checking, from Rust. One test function: the mode, the action and the
//! hook are process-wide, so the scenarios run one after another.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use threadkit::debug::{
    self, DeadlockAction, DeadlockError, PotentialDeadlockError, PotentialDeadlockReport,
};
use threadkit::{Builder, Condition, Event, Lock, RLock};

type Seen = Arc<Mutex<Vec<PotentialDeadlockReport>>>;

fn collect() -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    debug::set_potential_deadlock_hook(Box::new(move |r| sink.lock().unwrap().push(r.clone())));
    seen
}

/// Runs `first` on a thread named `a`, then (after it finished) `second` on one named `b`.
fn in_turn(first: impl FnOnce() + Send + 'static, second: impl FnOnce() + Send + 'static) {
    let done = Arc::new(Event::new());
    let d = done.clone();
    let one = Builder::new()
        .name("a")
        .spawn(move || {
            first();
            d.set();
        })
        .unwrap();
    let two = Builder::new()
        .name("b")
        .spawn(move || {
            done.wait();
            second();
        })
        .unwrap();
    one.join().unwrap();
    two.join().unwrap();
}

fn two_lock_inversion(seen: &Seen) {
    let (inventory, log) = (
        Arc::new(Lock::named("inventory")),
        Arc::new(Lock::named("log")),
    );
    let (i2, l2) = (inventory.clone(), log.clone());
    in_turn(
        move || {
            let _i = inventory.lock();
            let _l = log.lock();
        },
        move || {
            let _l = l2.lock();
            let _i = i2.lock();
        },
    );
    let reports = seen.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!(r.edges().len(), 2);
    // The closing edge first: 'b' took inventory while holding log.
    let (close, other) = (&r.edges()[0], &r.edges()[1]);
    assert_eq!(close.thread_name.as_deref(), Some("b"));
    assert_eq!(close.held.name(), Some("log"));
    assert_eq!(close.acquired.name(), Some("inventory"));
    assert_eq!(other.thread_name.as_deref(), Some("a"));
    assert_eq!(other.held.name(), Some("inventory"));
    assert_eq!(other.acquired.name(), Some("log"));
    let text = r.to_string();
    assert!(
        text.contains("'b' took Lock 'inventory' while holding Lock 'log'"),
        "{text}"
    );
    assert!(
        text.contains("'a'  acquire Lock 'inventory', then Lock 'log'"),
        "{text}"
    );
    assert!(
        text.contains("'b'  acquire Lock 'log', then Lock 'inventory'"),
        "{text}"
    );
}

fn three_lock_cycle(seen: &Seen) {
    let locks: Vec<Arc<RLock>> = ["x", "y", "z"]
        .iter()
        .map(|n| Arc::new(RLock::named(*n)))
        .collect();
    for i in 0..3 {
        let (first, second) = (locks[i].clone(), locks[(i + 1) % 3].clone());
        Builder::new()
            .name(format!("t{i}"))
            .spawn(move || {
                let _f = first.lock();
                let _again = first.lock(); // re-entry adds nothing
                let _s = second.lock();
            })
            .unwrap()
            .join()
            .unwrap();
    }
    let reports = seen.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].edges().len(), 3);
    assert!(reports[0]
        .edges()
        .iter()
        .all(|e| e.held_kind == debug::WaitKind::RLock));
}

fn no_false_reports(seen: &Seen) {
    // One order, many threads, locks made in a loop (one class each site).
    let outer: Vec<Arc<Lock>> = (0..8).map(|_| Arc::new(Lock::new())).collect();
    let inner = Arc::new(Lock::new());
    let threads: Vec<_> = outer
        .iter()
        .map(|o| {
            let (o, inner) = (o.clone(), inner.clone());
            Builder::new()
                .spawn(move || {
                    for _ in 0..100 {
                        let _o = o.lock();
                        let _i = inner.lock();
                    }
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Two locks of one class nested both ways: unknown order by class, not reported.
    let same: Vec<Lock> = (0..2).map(|_| Lock::new()).collect();
    for (a, b) in [(&same[0], &same[1]), (&same[1], &same[0])] {
        let _a = a.lock();
        let _b = b.lock();
    }
    // Hand-off: taken here and released by another thread, so no longer held here: taking
    // `data` next records no gate -> data, and data -> gate then closes nothing.
    let (gate, data) = (Arc::new(Lock::named("gate")), Arc::new(Lock::named("data")));
    gate.acquire();
    let g = gate.clone();
    std::thread::spawn(move || g.release().unwrap())
        .join()
        .unwrap();
    drop(data.lock());
    {
        let _d = data.lock();
        let _g = gate.lock();
    }
    // A lock freed while held stops counting too (another lock keeps its class alive).
    let _keep = Lock::named("doomed");
    {
        let doomed = Lock::named("doomed");
        doomed.acquire();
    }
    {
        let _d = data.lock();
        let doomed = Lock::named("doomed");
        let _again = doomed.lock();
    }
    // try-acquisitions and timed ones add no edge.
    let (m, n) = (Lock::named("m"), Lock::named("n"));
    {
        let _m = m.lock();
        assert!(n.try_acquire());
        n.release().unwrap();
    }
    {
        let _n = n.lock();
        assert!(m.acquire_timeout(std::time::Duration::from_secs(5)));
        m.release().unwrap();
    }
    // Condition wait/notify ping-pong under another lock, always in one order.
    let outer = Arc::new(Lock::named("outer"));
    let cond = Arc::new(Condition::new());
    let turn = Arc::new(Mutex::new(0));
    let pong = {
        let (outer, cond, turn) = (outer.clone(), cond.clone(), turn.clone());
        Builder::new()
            .spawn(move || {
                for i in 0..50 {
                    {
                        // outer -> the condition's lock, the one order both threads use.
                        let _o = outer.lock();
                        cond.acquire();
                        cond.release().unwrap();
                    }
                    cond.acquire();
                    while *turn.lock().unwrap() != 2 * i + 1 {
                        cond.wait().unwrap();
                    }
                    *turn.lock().unwrap() += 1;
                    cond.notify_all().unwrap();
                    cond.release().unwrap();
                }
            })
            .unwrap()
    };
    for i in 0..50 {
        {
            let _o = outer.lock();
            cond.acquire();
            cond.release().unwrap();
        }
        cond.acquire();
        *turn.lock().unwrap() += 1;
        cond.notify_all().unwrap();
        while *turn.lock().unwrap() != 2 * i + 2 {
            cond.wait().unwrap();
        }
        cond.release().unwrap();
    }
    pong.join().unwrap();
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

fn allowed_order(seen: &Seen) {
    let (setup, run) = (Arc::new(Lock::named("setup")), Arc::new(Lock::named("run")));
    debug::allow(run.label(), setup.label());
    let (s2, r2) = (setup.clone(), run.clone());
    in_turn(
        move || {
            let _s = setup.lock();
            let _r = run.lock();
        },
        move || {
            let _r = r2.lock();
            let _s = s2.lock();
        },
    );
    let unchecked = Lock::named("quiet").order_unchecked();
    let other = Lock::named("loud");
    {
        let _u = unchecked.lock();
        let _o = other.lock();
    }
    {
        let _o = other.lock();
        let _u = unchecked.lock();
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

fn raises_without_taking_the_lock() {
    debug::set_deadlock_action(DeadlockAction::Raise);
    let (a, b) = (Arc::new(Lock::named("ra")), Arc::new(Lock::named("rb")));
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let e = catch_unwind(AssertUnwindSafe(|| drop(a.lock()))).unwrap_err();
    let e = e.downcast::<PotentialDeadlockError>().unwrap();
    assert_eq!(e.report().edges()[0].acquired.name(), Some("ra"));
    assert!(!a.locked(), "the acquisition that raised took nothing");
    // Once per cycle: the same order again goes through.
    drop(a.lock());
    debug::set_deadlock_action(DeadlockAction::Report);
}

/// A deadlock report in debug mode says where the holder acquired the lock waited for, and a
/// snapshot lists every lock a waiting thread holds with where it took it.
fn acquisition_sites() {
    debug::set_deadlock_action(DeadlockAction::Raise);
    let results = Arc::new(RLock::named("sites-results"));
    let spare = Arc::new(Lock::named("sites-spare"));
    let line = Arc::new(Mutex::new((0, 0)));
    let (r2, l2) = (results.clone(), line.clone());
    let joiner = Builder::new()
        .name("joiner")
        .spawn(move || {
            let _s = spare.lock();
            let spare_line = line!() - 1;
            let _r = r2.lock();
            *l2.lock().unwrap() = (spare_line, line!() - 1);
            let r3 = r2.clone();
            let worker = Builder::new()
                .name("worker")
                .spawn(move || drop(r3.lock()))
                .unwrap();
            let ident = worker.thread().ident().unwrap();
            // Until the worker waits for `results`, held by this thread.
            while !debug::snapshot().threads.iter().any(|t| {
                t.ident == ident && t.waiting.as_ref().is_some_and(|w| !w.held_by.is_empty())
            }) {
                std::thread::yield_now();
            }
            // This thread's own snapshot lists both locks it holds, with where it took them.
            let me = threadkit::current_thread().ident().unwrap();
            let snap = debug::snapshot();
            let holds = snap
                .threads
                .into_iter()
                .find(|t| t.ident == me)
                .unwrap()
                .holds;
            let e = catch_unwind(AssertUnwindSafe(|| worker.thread().join())).unwrap_err();
            let e = e.downcast::<DeadlockError>().unwrap();
            // The worker thread now gets `results` once this thread releases it.
            (e.report().clone(), worker, holds)
        })
        .unwrap();
    let (report, worker, holds) = joiner.join().unwrap();
    worker.join().unwrap();
    let (spare_line, results_line) = *line.lock().unwrap();
    let waits = report
        .threads()
        .iter()
        .find(|t| t.name.as_deref() == Some("worker"))
        .unwrap();
    let at = waits
        .acquired_at
        .as_ref()
        .expect("the holder's acquisition site");
    assert!(at.file.ends_with("lock_order.rs"), "{at:?}");
    assert_eq!(at.line, results_line, "{report}");
    assert!(
        report
            .to_string()
            .contains(&format!("acquired by it at {}:{results_line}", at.file)),
        "{report}"
    );
    let mut listed: Vec<(Option<&str>, u32)> = holds
        .iter()
        .map(|h| (h.label.name(), h.acquired_at.as_ref().map_or(0, |a| a.line)))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            (Some("sites-results"), results_line),
            (Some("sites-spare"), spare_line)
        ],
        "{holds:?}"
    );
    debug::set_deadlock_action(DeadlockAction::Report);
}

fn bounded_memory(seen: &Seen) {
    // 200,000 short-lived locks, each named uniquely, each taken under a fixed lock: their
    // classes leave the graph with them.
    let pool = Lock::named("pool");
    let (before_classes, before_orders) = debug::lock_order_size();
    for i in 0..200_000 {
        let conn = Lock::named(format!("conn-{i}"));
        let _p = pool.lock();
        let _c = conn.lock();
    }
    let (classes, orders) = debug::lock_order_size();
    assert!(
        classes <= before_classes + 2,
        "{before_classes} -> {classes}"
    );
    assert!(orders <= before_orders + 1, "{before_orders} -> {orders}");
    // Classes by site stay (bounded by the source): a thousand locks from one line are one.
    let made: Vec<Lock> = (0..1000).map(|_| Lock::new()).collect();
    for l in &made {
        let _p = pool.lock();
        let _l = l.lock();
    }
    assert!(debug::lock_order_size().0 <= classes + 1);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn lock_order_checking() {
    debug::enable();
    let seen = collect();
    two_lock_inversion(&seen);
    seen.lock().unwrap().clear();
    three_lock_cycle(&seen);
    seen.lock().unwrap().clear();
    no_false_reports(&seen);
    allowed_order(&seen);
    raises_without_taking_the_lock();
    acquisition_sites();
    bounded_memory(&seen);
    // Off: locks made now are not checked, and nothing is reported.
    debug::disable();
    let (c, d) = (Lock::named("c"), Lock::named("d"));
    assert!(!c.is_order_checked());
    {
        let _c = c.lock();
        let _d = d.lock();
    }
    let _d = d.lock();
    let _c = c.lock();
    assert!(seen.lock().unwrap().is_empty());
    debug::reset_potential_deadlock_hook();
}
