//! loom models of `Queue` and `SimpleQueue`: hand-offs to blocked getters and putters,
//! task_done/join, and shutdown waking a blocked getter. Every interleaving (up to
//! `LOOM_MAX_PREEMPTIONS`) must finish without a lost wake-up (loom reports a deadlock).
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use threadkit::{GetError, PutError, Queue, SimpleQueue};

#[test]
fn handoff_to_blocked_getter() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get())
        };
        q.put(7).unwrap();
        assert_eq!(getter.join().unwrap(), Ok(7));
        assert!(q.empty());
    });
}

#[test]
fn two_getters_two_puts() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || q.get().unwrap())
            })
            .collect();
        q.put(1).unwrap();
        q.put(2).unwrap();
        let mut got: Vec<i32> = getters.into_iter().map(|g| g.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
    });
}

#[test]
fn bounded_blocked_putter() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put(2))
        };
        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.get(), Ok(2));
        assert_eq!(putter.join().unwrap(), Ok(()));
    });
}

#[test]
fn task_done_releases_join() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        q.put(()).unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                q.get().unwrap();
                q.task_done().unwrap();
            })
        };
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
    });
}

#[test]
fn shutdown_wakes_blocked_getter() {
    loom::model(|| {
        let q: Arc<Queue<i32>> = Arc::new(Queue::new(0));
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get())
        };
        q.shutdown(false);
        assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
    });
}

#[test]
fn shutdown_wakes_blocked_putter() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put(2))
        };
        q.shutdown(false);
        assert_eq!(putter.join().unwrap(), Err(PutError::ShutDown(2)));
        assert_eq!(q.try_get(), Ok(1));
    });
}

#[test]
fn shutdown_immediate_releases_join() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        q.put(1).unwrap();
        let joiner = {
            let q = q.clone();
            thread::spawn(move || q.join())
        };
        q.shutdown(true);
        joiner.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

#[test]
fn simple_queue_handoff() {
    loom::model(|| {
        let q = Arc::new(SimpleQueue::new());
        let getter = {
            let q = q.clone();
            thread::spawn(move || (q.get(), q.get()))
        };
        q.put(1);
        q.put(2);
        assert_eq!(getter.join().unwrap(), (1, 2));
    });
}

/// An item a getter blocked in `get_in_flight` takes is counted by `qsize()` at every instant
/// from the put until `landed()`: taking it and counting it in flight is one step, on the fast
/// path and after a sleep alike.
#[test]
fn in_flight_item_stays_counted() {
    use threadkit::raw::QueueExt;
    use threadkit::{Deadline, NoInterrupt};
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get_in_flight(Deadline::never(), &mut NoInterrupt))
        };
        q.put(7).unwrap();
        assert_eq!(q.qsize(), 1);
        assert_eq!(getter.join().unwrap(), Ok(7));
        assert_eq!(q.qsize(), 1);
        q.landed();
        assert!(q.empty());
    });
}

/// As `in_flight_item_stays_counted`, for `SimpleQueue` (its items under a spin lock, its
/// sleepers under another mutex).
#[test]
fn simple_queue_in_flight_item_stays_counted() {
    use threadkit::raw::QueueExt;
    use threadkit::{Deadline, NoInterrupt};
    loom::model(|| {
        let q = Arc::new(SimpleQueue::new());
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get_in_flight(Deadline::never(), &mut NoInterrupt))
        };
        q.put(7);
        assert_eq!(q.qsize(), 1);
        assert_eq!(getter.join().unwrap(), Ok(7));
        assert_eq!(q.qsize(), 1);
        q.landed();
        assert!(q.empty());
    });
}
