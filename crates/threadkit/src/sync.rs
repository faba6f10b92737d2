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

/// A lock for critical sections of a few instructions that never block, never allocate much
/// and never run foreign code (a queue's item list): taking it is one atomic swap and letting
/// go one plain release store, where [`Mutex`] pays an atomic read-modify-write for each. A
/// thread that finds it held spins, then yields: the holder is running its few instructions,
/// or was preempted in them. Under loom it is loom's mutex (the same exclusion, model-checked).
#[cfg(not(loom))]
pub(crate) struct SpinMutex<T> {
    locked: AtomicBool,
    value: std::cell::UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and at most one guard exists at a time
// (`locked`, taken with Acquire and let go with Release, orders the accesses): a `Mutex`.
#[cfg(not(loom))]
unsafe impl<T: Send> Sync for SpinMutex<T> {}

/// The guard of a [`SpinMutex`].
#[cfg(not(loom))]
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinMutex<T>,
}

#[cfg(not(loom))]
impl<T> SpinMutex<T> {
    pub(crate) fn new(value: T) -> Self {
        PARENT_PID.get_or_init(std::process::id);
        SpinMutex {
            locked: AtomicBool::new(false),
            value: std::cell::UnsafeCell::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        if self.locked.swap(true, Ordering::Acquire) {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                if spins < 64 {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    // The holder was preempted: let it run.
                    yield_now();
                }
            }
            if !self.locked.swap(true, Ordering::Acquire) {
                return;
            }
        }
    }

    /// [`Mutex::lock_after_fork`]: in a `fork()` child, a lock a parent's thread held at the
    /// fork is let go by force.
    pub(crate) fn lock_after_fork(&self) -> SpinGuard<'_, T> {
        if PARENT_PID
            .get()
            .is_some_and(|&pid| pid != std::process::id())
        {
            // This is a fork() child, before any other thread uses the primitive (see
            // `Mutex::lock_after_fork`): a holder is a parent's thread that does not exist here.
            self.locked.store(false, Ordering::Release);
        }
        self.lock()
    }
}

#[cfg(not(loom))]
impl<T: Default> Default for SpinMutex<T> {
    fn default() -> Self {
        SpinMutex::new(T::default())
    }
}

#[cfg(not(loom))]
impl<T> std::ops::Deref for SpinGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard is the one holder of the lock (see `unsafe impl Sync`).
        unsafe { &*self.lock.value.get() }
    }
}

#[cfg(not(loom))]
impl<T> std::ops::DerefMut for SpinGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the one holder of the lock (see `unsafe impl Sync`).
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(not(loom))]
impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

/// A lock for short critical sections (loom: loom's mutex).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct SpinMutex<T> {
    inner: loom::sync::Mutex<T>,
}

/// The guard of a [`SpinMutex`].
#[cfg(loom)]
pub(crate) type SpinGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

#[cfg(loom)]
impl<T> SpinMutex<T> {
    pub(crate) fn new(value: T) -> Self {
        SpinMutex {
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        self.inner.lock().unwrap()
    }

    pub(crate) fn lock_after_fork(&self) -> SpinGuard<'_, T> {
        self.lock()
    }
}
