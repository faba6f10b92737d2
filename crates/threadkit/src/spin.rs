//! [`SpinWait`]: spin briefly, then sleep. A waiter that expects its condition within
//! microseconds checks it in a loop (yielding the CPU each round) for a short time before it
//! blocks, because waking a thread that went to sleep costs more than the whole hand-off it
//! waits for (ARCHITECTURE.md, "Spin then sleep").
//!
//! The numbers were measured on the 2-CPU virtual machine where threadkit's benchmarks run
//! (`bench/bench.py`), where waking a sleeping core costs tens of microseconds (each GIL
//! hand-off between two Python threads, which wakes one, costs about 17 us there). Each
//! constant says what it is for and what was measured.
//!
//! Under `cfg(loom)` time is not modelled: [`SpinWait::until`] checks its condition, yields to
//! loom's scheduler once and checks again, so the models explore both ends of a spin (the
//! condition came true while spinning, or the waiter goes on to sleep). The process-wide state
//! below (spinners, fork, back-off) is plain std atomics, which loom cannot model in statics;
//! it only decides whether to spin, never what a wait returns.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
#[cfg(not(loom))]
use std::time::Instant;

/// Threads inside [`SpinWait::until`] now (a spin may take a mutex over and over, e.g. a work
/// queue's in its `ready` check).
static SPINNERS: AtomicUsize = AtomicUsize::new(0);
/// Set between [`SpinWait::before_fork`] and [`SpinWait::after_fork`]: spins stop at once, so
/// that no mutex is held across the fork.
static FORKING: AtomicBool = AtomicBool::new(false);
/// Spins are off while this is above zero: set to [`SpinWait::BACKOFF_WAITS`] after a spin
/// found the machine busy, counted down by each wait that does not spin.
#[cfg(not(loom))]
static SPIN_BACKOFF: AtomicUsize = AtomicUsize::new(0);

/// How long to spin before sleeping, and the process-wide rules every spin follows: yield the
/// CPU every round; give up at once, and stop spinning for the next
/// [`BACKOFF_WAITS`](SpinWait::BACKOFF_WAITS) waits, when a yield shows that no CPU is idle
/// ([`BUSY_YIELD`](SpinWait::BUSY_YIELD)); never spin around a `fork()`
/// ([`before_fork`](SpinWait::before_fork)).
///
/// Compare `parking_lot_core::SpinWait`, which counts rounds of a backoff before a lock parks;
/// this one is bounded in time, because what it waits for is another thread's work (a task, a
/// hand-off), not a lock held for a few instructions. The Python bindings' thread pool uses
/// [`SpinWait::RESULT`] in `Future.result()` and [`SpinWait::IDLE_WORKER`] in a worker waiting
/// for its next task; a Rust program can use them, or its own limit, the same way.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use threadkit::{Event, SpinWait};
///
/// let done = Arc::new(Event::new());
/// let d = done.clone();
/// let worker = std::thread::spawn(move || d.set());
/// // A short wait first; sleep only if the event is not set by then.
/// if !SpinWait::RESULT.until(|| done.is_set()) {
///     done.wait();
/// }
/// assert!(done.is_set());
/// worker.join().unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpinWait {
    limit: Duration,
}

impl SpinWait {
    /// 20 us: how long a thread waiting for a result (`Future.result()`) spins before it
    /// sleeps.
    ///
    /// Measured: a hand-off to a worker and back takes a few microseconds when both threads are
    /// on a CPU, while putting the waiter to sleep costs two wake-ups of tens of microseconds
    /// each (its own, and the worker's when the next task comes). In `bench/bench.py`'s
    /// `submit().result()` round trip, threadkit was 3.5x faster than the standard library on a
    /// quiet machine and about 1.4x under load without spinning, 4-13x with this spin.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(threadkit::SpinWait::RESULT.limit(), Duration::from_micros(20));
    /// assert!(threadkit::SpinWait::RESULT.until(|| true));
    /// ```
    pub const RESULT: SpinWait = SpinWait::new(Duration::from_micros(20));

    /// 50 us: how long an idle pool worker spins for its next task before it sleeps. Only one
    /// idle worker of a pool spins at a time (the others sleep at once), so this costs at most
    /// one CPU for 50 us after a task.
    ///
    /// Longer than [`SpinWait::RESULT`] because the next task comes after a turnaround on the
    /// submitting side (it takes its result, runs its own code, submits again).
    ///
    /// Measured (2026-11-30, 2-core x86-64 Linux, CPython 3.11, release build, quiet machine;
    /// `bench/bench.py --only ThreadPoolExecutor`, 9 interleaved repetitions, two rounds), the
    /// `submit().result()` round trip against the standard library's: no spin 1.95x and 2.07x,
    /// 20 us 6.99x and 7.24x, 50 us 7.27x and 7.28x, 100 us 6.82x and 6.96x. The batch case
    /// (8.4x-8.9x) does not depend on it. Below about 20 us the worker sleeps before the next
    /// task arrives; above 50 us nothing more is caught, only CPU burnt.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(threadkit::SpinWait::IDLE_WORKER.limit(), Duration::from_micros(50));
    /// ```
    pub const IDLE_WORKER: SpinWait = SpinWait::new(Duration::from_micros(50));

    /// 20 us: how long a blocking `Queue.get()` spins for an item, and a blocking
    /// `Queue.put()` for room, before it sleeps (the Python bindings' queues, through
    /// [`QueueExt`](crate::raw::QueueExt)).
    ///
    /// A producer and a consumer on a bounded queue take turns: each blocks when the queue is
    /// full or empty, and the other one is then a few microseconds from changing that. Without
    /// the spin, every turn puts a thread to sleep on the queue and wakes it, then puts it to
    /// sleep again on the interpreter lock, which the other thread holds.
    ///
    /// Measured (2026-11-30, 2-core x86-64 Linux, CPython 3.11, release build, quiet machine;
    /// `bench/bench.py`'s 2-thread producer/consumer with `maxsize` 100, 200,000 items, `perf
    /// stat`): without the spin 7,800 context switches and 370-390 ns per item; with it 3,900
    /// and 245-265 ns. What is left is two interpreter-lock hand-offs per 100 items, which
    /// cost about the same when the waiting thread spins for the lock instead of sleeping
    /// (tried: 15 context switches, same time), so a longer spin would not help.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(threadkit::SpinWait::QUEUE.limit(), Duration::from_micros(20));
    /// ```
    pub const QUEUE: SpinWait = SpinWait::new(Duration::from_micros(20));

    /// 30 us: a yield that returns later than this means that other threads wanted this CPU,
    /// so no CPU is idle: spinning on would steal time from the very thread being waited for.
    /// The spin then gives up and spinning stops for [`SpinWait::BACKOFF_WAITS`] waits.
    ///
    /// Why 30 us: a yield returns at once when no other thread wants the CPU; one that let
    /// another thread run returns a time slice of it later, far above this. 30 us also stays
    /// below the cost of a wake-up on the measured machine (tens of microseconds), so a spin
    /// never outlasts what it saves.
    ///
    /// ```
    /// assert!(threadkit::SpinWait::BUSY_YIELD < threadkit::SpinWait::IDLE_WORKER.limit());
    /// ```
    pub const BUSY_YIELD: Duration = Duration::from_micros(30);

    /// 1000: how many waits go straight to sleep after a spin found the machine busy (see
    /// [`SpinWait::BUSY_YIELD`]). A saturated machine then pays for at most one short spin per
    /// thousand waits, so under load the round trip costs what it costs without spinning
    /// (measured: about 1.4x faster than the standard library's), and spinning comes back once
    /// the load is gone.
    ///
    /// ```
    /// assert_eq!(threadkit::SpinWait::BACKOFF_WAITS, 1000);
    /// ```
    pub const BACKOFF_WAITS: usize = 1000;

    /// 100 ms: how long [`SpinWait::before_fork`] waits at most for the threads inside a spin
    /// to leave it. A spin lasts at most its limit plus one scheduling delay, so this bound
    /// matters only if a spinning thread is descheduled; it caps the delay `fork()` sees.
    ///
    /// ```
    /// assert_eq!(threadkit::SpinWait::FORK_WAIT.as_millis(), 100);
    /// ```
    pub const FORK_WAIT: Duration = Duration::from_millis(100);

    /// A spin of at most `limit`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let spin = threadkit::SpinWait::new(Duration::from_micros(5));
    /// assert_eq!(spin.limit(), Duration::from_micros(5));
    /// ```
    pub const fn new(limit: Duration) -> Self {
        SpinWait { limit }
    }

    /// The longest this spin lasts.
    ///
    /// ```
    /// assert!(!threadkit::SpinWait::RESULT.limit().is_zero());
    /// ```
    pub const fn limit(&self) -> Duration {
        self.limit
    }

    /// Calls `ready` until it returns true (then returns true) or the limit has passed (then
    /// returns false: the caller should block), yielding the CPU between calls. Returns false
    /// at once, without calling `ready`, while spinning is off (the machine was found busy in
    /// one of the last [`SpinWait::BACKOFF_WAITS`] waits, or a fork is in progress), and gives
    /// up early when a yield shows the machine busy. Call it detached from any interpreter and
    /// holding no lock that `ready`'s thread needs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::SpinWait;
    /// let mut calls = 0;
    /// let spin = SpinWait::new(Duration::from_micros(10));
    /// let got = spin.until(|| { calls += 1; calls == 3 });
    /// // true after three calls, unless the spin was off or gave up first
    /// assert!(if got { calls == 3 } else { calls < 3 });
    /// ```
    pub fn until(&self, mut ready: impl FnMut() -> bool) -> bool {
        SPINNERS.fetch_add(1, Ordering::SeqCst);
        let r = self.spin(&mut ready);
        SPINNERS.fetch_sub(1, Ordering::SeqCst);
        r
    }

    #[cfg(not(loom))]
    fn spin(&self, ready: &mut impl FnMut() -> bool) -> bool {
        if SPIN_BACKOFF.load(Ordering::Relaxed) > 0 {
            let _ = SPIN_BACKOFF
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
            return false;
        }
        let start = Instant::now();
        let mut last = start;
        loop {
            if FORKING.load(Ordering::SeqCst) {
                return false;
            }
            if ready() {
                return true;
            }
            let now = Instant::now();
            if now - last > Self::BUSY_YIELD {
                SPIN_BACKOFF.store(Self::BACKOFF_WAITS, Ordering::Relaxed);
                return false;
            }
            if now - start >= self.limit {
                return false;
            }
            last = now;
            crate::sync::yield_now();
        }
    }

    /// loom does not model time: one check, one yield to the scheduler, one more check.
    #[cfg(loom)]
    fn spin(&self, ready: &mut impl FnMut() -> bool) -> bool {
        if ready() {
            return true;
        }
        crate::sync::yield_now();
        ready()
    }

    /// Call before `fork()`: stops every spin in the process and waits (at most
    /// [`SpinWait::FORK_WAIT`]) for the spinning threads to leave, because a spin may hold a
    /// mutex for short moments and a mutex held at fork time stays locked in the child. Call
    /// [`SpinWait::after_fork`] after the fork, in the parent and in the child. The Python
    /// bindings call both from `os.register_at_fork`.
    ///
    /// ```
    /// use threadkit::SpinWait;
    /// SpinWait::before_fork();
    /// assert!(!SpinWait::RESULT.until(|| true)); // no spinning while a fork is in progress
    /// SpinWait::after_fork(false);
    /// ```
    pub fn before_fork() {
        FORKING.store(true, Ordering::SeqCst);
        #[cfg(not(loom))]
        {
            let deadline = Instant::now() + Self::FORK_WAIT;
            while SPINNERS.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
                std::thread::yield_now();
            }
        }
    }

    /// Call after `fork()`, in the parent (`in_child` false) and in the child (true): spinning
    /// may resume. In the child, the threads that were spinning do not exist: they are
    /// forgotten.
    ///
    /// ```
    /// threadkit::SpinWait::before_fork();
    /// threadkit::SpinWait::after_fork(false);
    /// assert!(threadkit::SpinWait::RESULT.until(|| true));
    /// ```
    pub fn after_fork(in_child: bool) {
        if in_child {
            SPINNERS.store(0, Ordering::SeqCst);
        }
        FORKING.store(false, Ordering::SeqCst);
    }
}
