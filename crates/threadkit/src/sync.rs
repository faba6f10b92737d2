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

/// Gives the CPU to another thread (under loom, to the model's scheduler).
#[cfg(loom)]
pub(crate) use loom::thread::yield_now;
/// Gives the CPU to another thread (under loom, to the model's scheduler).
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;

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

/// The process the first mutex was made in: a different `getpid()` later means this is a
/// child process made by `fork()`.
#[cfg(not(loom))]
static PARENT_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        #[cfg(not(loom))]
        PARENT_PID.get_or_init(std::process::id);
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

    /// Takes the mutex in a primitive's `reinit_after_fork`. In a child process made by
    /// `fork()`, a mutex that a thread of the parent held at the fork would never be released
    /// (that thread does not exist in the child): it is unlocked by force. Outside a forked
    /// child this is a plain `lock()`.
    pub(crate) fn lock_after_fork(&self) -> MutexGuard<'_, T> {
        if let Some(guard) = self.try_lock() {
            return guard;
        }
        #[cfg(not(loom))]
        if PARENT_PID
            .get()
            .is_some_and(|&pid| pid != std::process::id())
        {
            // SAFETY: this process is a fork() child, and reinit_after_fork is documented to be
            // called in the child before any other thread uses the primitive (as CPython's
            // at-fork hooks do). The holder is therefore a thread of the parent, which does not
            // exist here and will never release it; no guard of this thread holds it, since
            // no internal lock is held while user code (which calls fork) runs.
            unsafe {
                self.inner
                    .force_unlock(parking_lot::lock_api::GuardNoSend::new())
            };
        }
        self.lock()
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
