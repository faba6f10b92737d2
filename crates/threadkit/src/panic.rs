//! Catching panics quietly: [`catch_panic`] runs code whose panic threadkit reports itself (a
//! thread target's goes to the excepthook, a pool task's to its future), so the default panic
//! hook must not print it as well. Both the thread registry and the pool use it; it depends on
//! neither.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(e) = payload.downcast_ref::<crate::debug::DeadlockError>() {
        // The raise action's panic (threadkit::debug): its message is the report.
        e.to_string()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// A panic caught by [`catch_panic`]: its payload, message and location.
pub(crate) struct CaughtPanic {
    pub(crate) payload: Box<dyn Any + Send>,
    pub(crate) message: String,
    pub(crate) location: Option<String>,
}

thread_local! {
    /// Set while running code whose panics threadkit reports itself: the panic hook then
    /// records the location instead of printing.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK_INSTALLED: std::sync::Once = std::sync::Once::new();

/// Chains a panic hook that stays quiet for panics threadkit catches and reports (thread
/// targets go to the excepthook, tasks to their future), and calls the previous hook otherwise.
fn install_panic_hook() {
    HOOK_INSTALLED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let capturing = CAPTURING.try_with(|c| c.get()).unwrap_or(false);
            if capturing {
                let loc = info.location().map(|l| l.to_string());
                let _ = LAST_LOCATION.try_with(|l| *l.borrow_mut() = loc);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic quietly (no panic-hook output) with its message and location.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, CaughtPanic> {
    install_panic_hook();
    let was = CAPTURING.with(|c| c.replace(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(was));
    r.map_err(|payload| {
        let message = panic_message(&*payload);
        let location = LAST_LOCATION.with(|l| l.borrow_mut().take());
        CaughtPanic {
            payload,
            message,
            location,
        }
    })
}
