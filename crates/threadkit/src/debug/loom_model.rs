//! The record protocol of the `slot` module, opened up for `tests/loom_debug.rs` (loom builds
//! only): a slot and a target made inside a loom model, the same `Recorded` guard the waits
//! use, and the same reader.

use std::sync::Arc;
use std::time::Instant;

use super::label::Label;
use super::slot::{HeldBy, Recorded, Slot, WaitOn, Waitable};
use super::WaitKind;
use crate::sync::{AtomicBool, Ordering};

/// A primitive that knows when it is gone: reading its holders after [`Target::free`] fails
/// the model.
pub struct Target {
    alive: AtomicBool,
    label: Label,
}

impl Target {
    /// A live target.
    pub fn new() -> Self {
        Target {
            alive: AtomicBool::new(true),
            label: Label::here(),
        }
    }

    /// Ends the target's life, as its owner freeing it would.
    pub fn free(&self) {
        self.alive.store(false, Ordering::Relaxed);
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::new()
    }
}

impl Waitable for Target {
    fn label(&self) -> Label {
        self.label.clone()
    }

    fn held_by(&self, _waiter: u64) -> HeldBy {
        assert!(
            self.alive.load(Ordering::Relaxed),
            "a reader dereferenced the record of a wait that had ended"
        );
        HeldBy::Thread {
            ident: 1,
            certain: true,
        }
    }
}

/// One thread's slot.
pub struct ThreadSlot(Arc<Slot>);

impl ThreadSlot {
    /// The slot of thread `ident`.
    pub fn new(ident: u64) -> Self {
        ThreadSlot(Arc::new(Slot::new(ident, None)))
    }

    /// Records a wait on `target` until the returned guard is dropped.
    pub fn wait_on<'a>(&self, target: &'a Target) -> impl Drop + 'a {
        let on = WaitOn {
            kind: WaitKind::Lock,
            target,
            tag: None,
            reacquire: false,
        };
        Recorded::new(self.0.clone(), &on, Instant::now(), false)
    }

    /// What another thread reads: whether a wait is recorded (its target's holders are read).
    pub fn read(&self) -> bool {
        self.0.read(true).is_some()
    }
}

impl Clone for ThreadSlot {
    fn clone(&self) -> Self {
        ThreadSlot(self.0.clone())
    }
}
