//! Behaviour of `Queue` (FIFO, LIFO, priority): order, bounds, errors, timeouts, tasks,
//! shutdown, and a many-thread stress test.

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use threadkit::{
    Deadline, Fifo, GetError, Interrupted, Lifo, Order, Priority, PutError, Queue, TaskDoneError,
};

mod common;
use common::{gives_up_promptly, spawn_started, StopAfter};

#[test]
fn fifo_order() {
    let q = Queue::new(0);
    for n in 0..10 {
        q.put(n).unwrap();
    }
    assert_eq!(q.qsize(), 10);
    let got: Vec<_> = (0..10).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert!(q.empty());
}

#[test]
fn lifo_order() {
    let q = Queue::lifo(0);
    for n in 0..10 {
        q.put(n).unwrap();
    }
    let got: Vec<_> = (0..10).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, (0..10).rev().collect::<Vec<_>>());
}

#[test]
fn priority_order_smallest_first() {
    let q = Queue::priority(0);
    for n in [5, 3, 9, 1, 7, 3, 0] {
        q.put(n).unwrap();
    }
    let got: Vec<_> = (0..7).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, vec![0, 1, 3, 3, 5, 7, 9]);
    // Interleaved puts and gets keep the smallest at the front.
    q.put(4).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.get(), Ok(2));
    q.put(1).unwrap();
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.get(), Ok(4));
}

#[test]
fn type_aliases_and_default() {
    let q: threadkit::LifoQueue<u8> = Default::default();
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.get(), Ok(2));
    let p: threadkit::PriorityQueue<u8> = threadkit::PriorityQueue::with_maxsize(2);
    assert_eq!(p.maxsize(), 2);
}

#[test]
fn maxsize_full_and_try_put_gives_item_back() {
    let q = Queue::new(2);
    assert_eq!(q.maxsize(), 2);
    assert!(!q.full());
    q.try_put("a").unwrap();
    q.try_put("b").unwrap();
    assert!(q.full());
    assert_eq!(q.try_put("c"), Err(PutError::Full("c")));
    assert_eq!(q.put_until("d", Deadline::now()), Err(PutError::Full("d")));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get(), Ok("a"));
    assert!(!q.full());
    q.try_put("c").unwrap();
    assert_eq!(q.get(), Ok("b"));
    assert_eq!(q.get(), Ok("c"));
}

#[test]
fn unbounded_is_never_full() {
    let q = Queue::new(0);
    for n in 0..10_000 {
        q.try_put(n).unwrap();
    }
    assert!(!q.full());
    assert_eq!(q.qsize(), 10_000);
}

#[test]
fn try_get_empty() {
    let q: Queue<i32> = Queue::new(0);
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(q.get_until(Deadline::now()), Err(GetError::Empty));
}

#[test]
fn get_timeout_returns_promptly() {
    let q: Queue<i32> = Queue::new(0);
    assert_eq!(
        gives_up_promptly(Duration::from_millis(30), |t| q.get_timeout(t)),
        Err(GetError::Empty)
    );
}

#[test]
fn put_timeout_returns_promptly_with_item() {
    let q = Queue::new(1);
    q.put(1).unwrap();
    assert_eq!(
        gives_up_promptly(Duration::from_millis(30), |t| q.put_timeout(2, t)),
        Err(PutError::Full(2))
    );
    assert_eq!(q.qsize(), 1);
}

#[test]
fn interrupted_get_and_put() {
    let q: Queue<i32> = Queue::new(1);
    let mut i = StopAfter::new(3);
    assert_eq!(
        q.get_interruptible(Deadline::never(), &mut i),
        Err(GetError::Interrupted)
    );
    assert_eq!(i.checks, 3);

    q.put(1).unwrap();
    let mut i = StopAfter::new(2);
    assert_eq!(
        q.put_interruptible(2, Deadline::never(), &mut i),
        Err(PutError::Interrupted(2))
    );
    assert_eq!(i.checks, 2);
    assert_eq!(q.qsize(), 1);

    let mut i = StopAfter::new(2);
    assert_eq!(
        q.join_interruptible(Deadline::never(), &mut i),
        Err(Interrupted)
    );
}

#[test]
fn interrupt_not_consulted_when_ready() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    let mut i = StopAfter::new(1);
    assert_eq!(q.get_interruptible(Deadline::never(), &mut i), Ok(1));
    assert_eq!(i.checks, 0);
}

#[test]
fn blocked_get_receives_item() {
    let q = Arc::new(Queue::new(0));
    let getter = {
        let q = q.clone();
        thread::spawn(move || q.get())
    };
    q.put(42).unwrap();
    assert_eq!(getter.join().unwrap(), Ok(42));
}

#[test]
fn blocked_put_proceeds_after_get() {
    let q = Arc::new(Queue::new(1));
    q.put(1).unwrap();
    let putter = {
        let q = q.clone();
        thread::spawn(move || q.put(2))
    };
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.get(), Ok(2));
    assert_eq!(putter.join().unwrap(), Ok(()));
}

#[test]
fn task_done_and_join() {
    let q = Arc::new(Queue::new(0));
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called too many times"
    );
    for n in 0..5 {
        q.put(n).unwrap();
    }
    assert_eq!(q.unfinished_tasks(), 5);
    assert!(!q.join_timeout(Duration::from_millis(5)));
    let worker = {
        let q = q.clone();
        thread::spawn(move || {
            for _ in 0..5 {
                q.get().unwrap();
                q.task_done().unwrap();
            }
        })
    };
    q.join();
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.join_until(Deadline::now()));
    worker.join().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn many_joiners_all_released() {
    let q = Arc::new(Queue::new(0));
    q.put(()).unwrap();
    let joiners = {
        let q = q.clone();
        spawn_started(4, move |_| q.join())
    };
    q.get().unwrap();
    q.task_done().unwrap();
    for j in joiners {
        j.join().unwrap();
    }
}

#[test]
fn shutdown_rejects_puts_and_drains_gets() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert!(!q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
    assert_eq!(q.put(3), Err(PutError::ShutDown(3)));
    assert_eq!(q.try_put(3), Err(PutError::ShutDown(3)));
    assert_eq!(
        q.put_timeout(3, Duration::from_millis(1)),
        Err(PutError::ShutDown(3))
    );
    // Gets go on until empty.
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.get(), Err(GetError::ShutDown));
    assert_eq!(q.try_get(), Err(GetError::ShutDown));
    assert_eq!(
        q.get_timeout(Duration::from_millis(1)),
        Err(GetError::ShutDown)
    );
    // Tasks are still tracked.
    assert_eq!(q.unfinished_tasks(), 2);
    q.task_done().unwrap();
    q.task_done().unwrap();
    q.join();
    // Shutting down twice is harmless.
    q.shutdown(false);
}

#[test]
fn shutdown_on_full_queue_rejects_put_before_full() {
    let q = Queue::new(1);
    q.put(1).unwrap();
    q.shutdown(false);
    assert_eq!(q.try_put(2), Err(PutError::ShutDown(2)));
}

#[test]
fn shutdown_immediate_drains_and_counts_tasks_done() {
    let q = Queue::new(0);
    for n in 0..3 {
        q.put(n).unwrap();
    }
    q.get().unwrap(); // got but not done: stays unfinished
    q.shutdown(true);
    assert!(q.empty());
    assert_eq!(q.get(), Err(GetError::ShutDown));
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(!q.join_timeout(Duration::from_millis(1)));
    q.task_done().unwrap();
    q.join();
}

#[test]
fn shutdown_immediate_drops_items() {
    let item = Arc::new(());
    let q = Queue::new(0);
    q.put(item.clone()).unwrap();
    q.put(item.clone()).unwrap();
    assert_eq!(Arc::strong_count(&item), 3);
    q.shutdown(true);
    assert_eq!(Arc::strong_count(&item), 1);
}

#[test]
fn shutdown_wakes_blocked_getters() {
    let q: Arc<Queue<i32>> = Arc::new(Queue::new(0));
    let getters = {
        let q = q.clone();
        spawn_started(3, move |_| q.get())
    };
    q.shutdown(false);
    for g in getters {
        assert_eq!(g.join().unwrap(), Err(GetError::ShutDown));
    }
}

#[test]
fn shutdown_wakes_blocked_putters_with_their_items() {
    let q = Arc::new(Queue::new(1));
    q.put(0).unwrap();
    let putters = {
        let q = q.clone();
        spawn_started(3, move |i| {
            let n = i + 1;
            (n, q.put(n))
        })
    };
    q.shutdown(false);
    for p in putters {
        let (n, r) = p.join().unwrap();
        assert_eq!(r, Err(PutError::ShutDown(n)));
    }
    assert_eq!(q.get(), Ok(0));
}

#[test]
fn shutdown_immediate_releases_joiners() {
    let q = Arc::new(Queue::new(0));
    q.put(1).unwrap();
    q.put(2).unwrap();
    let joiners = {
        let q = q.clone();
        spawn_started(2, move |_| q.join())
    };
    q.shutdown(true);
    for j in joiners {
        j.join().unwrap();
    }
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn shutdown_normal_leaves_joiners_waiting_for_tasks() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    q.shutdown(false);
    assert!(!q.join_timeout(Duration::from_millis(5)));
    assert_eq!(q.get(), Ok(1));
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::from_millis(5)));
}

#[test]
fn errors_display_and_into_inner() {
    assert_eq!(PutError::Full(1).to_string(), "queue full");
    assert_eq!(PutError::ShutDown(1).to_string(), "queue shut down");
    assert_eq!(PutError::Interrupted(1).to_string(), "wait interrupted");
    assert_eq!(GetError::Empty.to_string(), "queue empty");
    assert_eq!(GetError::ShutDown.to_string(), "queue shut down");
    assert_eq!(GetError::Interrupted.to_string(), "wait interrupted");
    assert_eq!(PutError::Interrupted("x").into_inner(), "x");
    assert!(PutError::Full(()).is_full());
    assert!(PutError::ShutDown(()).is_shut_down());
    assert!(PutError::Interrupted(()).is_interrupted());
    // Debug does not need T: Debug.
    struct Opaque;
    assert_eq!(format!("{:?}", PutError::Full(Opaque)), "Full(..)");
    let e: Box<dyn std::error::Error> = Box::new(PutError::Full(Opaque));
    assert_eq!(e.to_string(), "queue full");
}

#[test]
fn debug_and_reinit() {
    let q = Queue::new(3);
    q.put(1).unwrap();
    let s = format!("{q:?}");
    assert!(s.contains("maxsize: 3") && s.contains("qsize: 1"), "{s}");
    q.reinit_after_fork();
    assert_eq!(q.get(), Ok(1));
}

/// Producers put distinct numbers into a bounded queue, consumers take them until shutdown;
/// every number must come out exactly once and every task be marked done.
fn stress<O: Order<u64> + Send + Sync + 'static>(q: Queue<u64, O>)
where
    O::Store: Send,
{
    const PRODUCERS: u64 = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: u64 = 5_000;
    let q = Arc::new(q);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let n = p * PER_PRODUCER + i;
                    // Mix the blocking and non-blocking paths.
                    if i % 3 == 0 {
                        let mut item = n;
                        loop {
                            match q.try_put(item) {
                                Ok(()) => break,
                                Err(PutError::Full(back)) => {
                                    item = back;
                                    thread::yield_now();
                                }
                                Err(e) => panic!("unexpected {e}"),
                            }
                        }
                    } else {
                        q.put(n).unwrap();
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let r = if c % 2 == 0 {
                        q.get()
                    } else {
                        q.get_timeout(Duration::from_millis(1))
                    };
                    match r {
                        Ok(n) => {
                            got.push(n);
                            q.task_done().unwrap();
                        }
                        Err(GetError::Empty) => {}
                        Err(GetError::ShutDown) => return got,
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.join();
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown(false);
    let mut seen = HashSet::new();
    for c in consumers {
        for n in c.join().unwrap() {
            assert!(seen.insert(n), "{n} delivered twice");
        }
    }
    assert_eq!(seen.len() as u64, PRODUCERS * PER_PRODUCER);
    assert!(q.empty());
}

#[test]
fn stress_fifo() {
    stress::<Fifo>(Queue::new(8));
}

#[test]
fn stress_lifo() {
    stress::<Lifo>(Queue::lifo(8));
}

#[test]
fn stress_priority_unbounded() {
    stress::<Priority>(Queue::priority(0));
}

#[test]
fn fifo_order_per_producer_under_contention() {
    // With one consumer, each producer's items come out in the order it put them.
    let q = Arc::new(Queue::new(4));
    let producers: Vec<_> = (0..8u64)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..1_000u64 {
                    q.put((p, i)).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0u64; 8];
    for _ in 0..8_000 {
        let (p, i) = q.get().unwrap();
        assert_eq!(next[p as usize], i);
        next[p as usize] += 1;
    }
    for p in producers {
        p.join().unwrap();
    }
    assert!(q.empty());
}

#[test]
fn send_and_sync_when_items_are_send() {
    fn send_sync<X: Send + Sync>() {}
    // Cell is Send but not Sync: the queue hands items over, never shares them.
    send_sync::<Queue<std::cell::Cell<u8>>>();
    send_sync::<Queue<std::cell::Cell<u8>, Lifo>>();
    send_sync::<threadkit::SimpleQueue<std::cell::Cell<u8>>>();
}

/// An item a getter blocked in `get_in_flight` was handed stays counted by `qsize()` and
/// `empty()` until that getter calls `landed()` (the Python bindings call it once the getter
/// is back in Python), whatever happens meanwhile; a plain get counts nothing.
#[test]
fn an_item_taken_in_flight_counts_until_landed() {
    use threadkit::raw::QueueExt;
    use threadkit::{Deadline, NoInterrupt};
    let q = Queue::new(0);
    let (took, landed) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    std::thread::scope(|s| {
        s.spawn(|| {
            let item = q
                .get_in_flight(Deadline::never(), &mut NoInterrupt)
                .unwrap();
            took.wait();
            landed.wait();
            q.landed();
            item
        });
        q.put(7).unwrap();
        took.wait();
        assert_eq!((q.qsize(), q.empty()), (1, false));
        q.put(8).unwrap();
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.get(), Ok(8));
        assert_eq!(q.qsize(), 1);
        landed.wait();
    });
    assert_eq!((q.qsize(), q.empty()), (0, true));
}
