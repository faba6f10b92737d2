//! loom models of spin-then-sleep: a waiter that spins with SpinWait and then blocks sees a
//! set made by another thread at any point, before, during or after its spin.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use threadkit::{Event, SpinWait};

#[test]
fn spin_then_sleep_sees_a_set_from_another_thread() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let setter = {
            let ev = ev.clone();
            thread::spawn(move || ev.set())
        };
        if !SpinWait::RESULT.until(|| ev.is_set()) {
            assert!(ev.wait());
        }
        assert!(ev.is_set());
        setter.join().unwrap();
    });
}
