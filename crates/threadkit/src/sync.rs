//! The synchronization building blocks every primitive is made of.
//!
//! In a normal build these are `parking_lot`'s mutex and condition variable and the standard
//! atomics; under `cfg(loom)` they are loom's, so the same primitive code is model-checked.
//! The API is the intersection of the two: guards are passed by value to waits, and a timed
//! wait under loom never times out (loom does not model time), so loom models use untimed waits.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;

use std::time::Instant;

/// A mutex without poisoning.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

/// The guard of a [`Mutex`].
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
/// The guard of a [`Mutex`].
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex {
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner.lock()
        }
        #[cfg(loom)]
        {
            self.inner.lock().unwrap()
        }
    }

    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        #[cfg(not(loom))]
        {
            self.inner.try_lock()
        }
        #[cfg(loom)]
        {
            self.inner.try_lock().ok()
        }
    }

    /// Runs `f` with the mutex released, then takes it again. Used to call code that must not run
    /// under an internal lock (an interrupt check that re-enters Python).
    pub(crate) fn unlocked<'a, R>(
        &'a self,
        guard: MutexGuard<'a, T>,
        f: impl FnOnce() -> R,
    ) -> (MutexGuard<'a, T>, R) {
        drop(guard);
        let r = f();
        (self.lock(), r)
    }
}

/// A condition variable paired with [`Mutex`].
#[derive(Debug, Default)]
pub(crate) struct Condvar {
    #[cfg(not(loom))]
    inner: parking_lot::Condvar,
    #[cfg(loom)]
    inner: loom::sync::Condvar,
}

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar {
            #[cfg(not(loom))]
            inner: parking_lot::Condvar::new(),
            #[cfg(loom)]
            inner: loom::sync::Condvar::new(),
        }
    }

    /// Waits until notified (or spuriously woken), or until `until` if given. Returns the guard
    /// and whether `until` passed.
    pub(crate) fn wait_until<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        until: Option<Instant>,
    ) -> (MutexGuard<'a, T>, bool) {
        #[cfg(not(loom))]
        {
            let mut guard = guard;
            match until {
                None => {
                    self.inner.wait(&mut guard);
                    (guard, false)
                }
                Some(at) => {
                    let r = self.inner.wait_until(&mut guard, at);
                    (guard, r.timed_out())
                }
            }
        }
        #[cfg(loom)]
        {
            // loom does not model time: a timed wait is an untimed one.
            let _ = until;
            (self.inner.wait(guard).unwrap(), false)
        }
    }

    pub(crate) fn notify_one(&self) {
        self.inner.notify_one();
    }

    pub(crate) fn notify_all(&self) {
        self.inner.notify_all();
    }
}
