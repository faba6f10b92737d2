//! loom model of the wait-record protocol (`threadkit::debug`): a thread sets a record pointing
//! at a primitive, waits, clears it and frees the primitive, while other threads read records
//! and ask their targets who holds them. A reader must never reach a freed target.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use threadkit::debug::loom_model::{Target, ThreadSlot};

#[test]
fn a_reader_never_reaches_the_target_of_an_ended_wait() {
    loom::model(|| {
        let slot = ThreadSlot::new(7);
        let target = Arc::new(Target::new());
        let waiter = {
            let (slot, target) = (slot.clone(), target.clone());
            thread::spawn(move || {
                {
                    let _waiting = slot.wait_on(&target);
                }
                target.free();
            })
        };
        let _ = slot.read();
        let _ = slot.read();
        waiter.join().unwrap();
        assert!(!slot.read());
    });
}

#[test]
fn a_nested_wait_puts_the_outer_record_back() {
    loom::model(|| {
        let slot = ThreadSlot::new(7);
        let (outer, inner) = (Arc::new(Target::new()), Arc::new(Target::new()));
        let waiter = {
            let (slot, outer, inner) = (slot.clone(), outer.clone(), inner.clone());
            thread::spawn(move || {
                {
                    let _outer = slot.wait_on(&outer);
                    {
                        let _inner = slot.wait_on(&inner);
                    }
                    inner.free();
                    // The outer wait goes on: its record is back.
                    assert!(slot.read());
                }
                outer.free();
            })
        };
        let _ = slot.read();
        waiter.join().unwrap();
        assert!(!slot.read());
    });
}
