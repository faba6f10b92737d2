//! [`Barrier`]: Python's `threading.Barrier`, where a fixed number of threads wait for each
//! other, round after round.
//!
//! The state machine is CPython's: a round is *filling* while threads arrive; the last to arrive
//! runs the action (if any) and switches the barrier to *draining*, which releases the round;
//! threads arriving meanwhile wait until the round has drained (so two rounds never mix).
//! [`Barrier::reset`] while threads wait switches to *resetting*: they leave with
//! [`BarrierError::Broken`] and the barrier is filling again once they are gone. A timeout, an
//! action that fails, or [`Barrier::abort`] make it *broken* until a reset.
//!
//! One addition: while the last thread runs the action the barrier is in an *action* phase, with
//! the internal mutex released. CPython runs the action holding the barrier's lock; the
//! observable behaviour is the same (waiters are not released before the action ends, and a
//! waiter's timeout that expires during the action does not break the barrier), except that
//! [`Barrier::abort`] takes effect at once instead of deadlocking or waiting for the action.
//!
//! The action phase is what lets the action run outside this crate: the Python bindings call
//! [`BarrierExt::arrive_interruptible`] (in [`crate::raw`]), and the thread that gets
//! [`Arrival::RunAction`] runs the Python action, then calls [`BarrierExt::complete_action`]
//! (the Rust types never call Python code). [`Barrier::with_action`] uses the same two calls
//! with a Rust closure.

use std::fmt;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::deadline::{wait_while, Deadline, Interrupt, Interrupted, NoInterrupt, WaitOutcome};
use crate::debug::{Label, Tag, WaitKind, WaitOn, Waiting};
use crate::sync::{Condvar, Mutex, MutexGuard};

/// Why a barrier wait failed.
///
/// ```
/// use threadkit::{Barrier, BarrierError};
/// let barrier = Barrier::new(2);
/// barrier.abort();
/// assert_eq!(barrier.wait(), Err(BarrierError::Broken));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BarrierError {
    /// The barrier is broken or was reset while this thread waited, or the wait timed out
    /// (which breaks it). Python: `threading.BrokenBarrierError()`, which has no message.
    Broken,
    /// The [`Interrupt`] stopped the wait. As in CPython, where an exception raised in a waiting
    /// thread (`KeyboardInterrupt`) just propagates, the barrier is *not* broken: the thread
    /// leaves the round, which goes on counting without it. Call [`Barrier::abort`] to break it
    /// instead.
    Interrupted,
}

impl fmt::Display for BarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BarrierError::Broken => "broken barrier",
            BarrierError::Interrupted => "wait interrupted",
        })
    }
}

impl std::error::Error for BarrierError {}

impl From<Interrupted> for BarrierError {
    fn from(_: Interrupted) -> Self {
        BarrierError::Interrupted
    }
}

/// A barrier was made for zero parties (Python: `ValueError('parties must be > 0')`).
///
/// ```
/// use threadkit::{Barrier, ZeroPartiesError};
/// assert_eq!(Barrier::try_new(0).unwrap_err(), ZeroPartiesError);
/// assert_eq!(ZeroPartiesError.to_string(), "parties must be > 0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ZeroPartiesError;

impl fmt::Display for ZeroPartiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("parties must be > 0")
    }
}

impl std::error::Error for ZeroPartiesError {}

/// What [`BarrierExt::arrive`] tells the arriving thread.
///
/// Used by the Python bindings (`crates/threadkit-python`) to learn which thread runs a
/// `Barrier`'s Python action.
///
/// ```
/// use threadkit::raw::{Arrival, BarrierExt};
/// use threadkit::Barrier;
/// let barrier = Barrier::new(1);
/// assert_eq!(barrier.arrive(), Ok(Arrival::RunAction(0)));
/// assert_eq!(barrier.complete_action(true), Ok(0));
/// ```
#[must_use = "a thread told to run the action must call BarrierExt::complete_action"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arrival {
    /// The round passed; this is the thread's arrival index, `0..parties - 1`.
    Passed(usize),
    /// This thread arrived last (its index is `parties - 1`): the others stay blocked until it
    /// runs the action and calls [`BarrierExt::complete_action`].
    RunAction(usize),
}

/// CPython's `_state`, plus the action phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Threads are arriving (CPython 0).
    Filling,
    /// All arrived; the last one runs the action. Arrivals and waiters wait.
    Action,
    /// The round is released; arrivals wait until every thread of it has left (CPython 1).
    Draining,
    /// Reset while threads waited: they leave broken, arrivals wait for them (CPython -1).
    Resetting,
    /// Broken until reset (CPython -2).
    Broken,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Threads inside a wait of the current round (CPython's `_count`).
    count: usize,
    /// A thread was told to run the action and has not called `complete_action` yet.
    action_pending: bool,
}

type Action = Box<dyn Fn() + Send + Sync>;

/// A barrier for a fixed number of threads, as Python's `threading.Barrier`: each
/// [`wait`](Barrier::wait) blocks until `parties` threads are waiting, then all return, each
/// with a distinct arrival index. The barrier can be used again for the next round.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || barrier.wait().unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    parties: usize,
    action: Option<Action>,
    state: Mutex<State>,
    cv: Condvar,
    tag: Tag,
}

impl Barrier {
    /// A barrier for `parties` threads.
    ///
    /// # Panics
    /// If `parties` is 0 (use [`Barrier::try_new`] to get the error instead).
    ///
    /// ```
    /// assert_eq!(threadkit::Barrier::new(4).parties(), 4);
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Self {
        Barrier::try_new(parties).expect("parties must be > 0")
    }

    /// A barrier for `parties` threads.
    ///
    /// # Errors
    /// [`ZeroPartiesError`] if `parties` is 0.
    ///
    /// ```
    /// assert!(threadkit::Barrier::try_new(0).is_err());
    /// assert!(threadkit::Barrier::try_new(1).is_ok());
    /// ```
    #[track_caller]
    pub fn try_new(parties: usize) -> Result<Self, ZeroPartiesError> {
        Barrier::make(parties, None)
    }

    /// A barrier for `parties` threads that runs `action` once per round, in the last thread to
    /// arrive, before releasing the others. If the action panics, the barrier breaks (the
    /// others get [`BarrierError::Broken`]) and the panic goes on in that thread.
    ///
    /// # Panics
    /// If `parties` is 0 (use [`Barrier::try_with_action`] to get the error instead).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use threadkit::Barrier;
    ///
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let counter = rounds.clone();
    /// let barrier = Barrier::with_action(1, move || {
    ///     counter.fetch_add(1, Ordering::SeqCst);
    /// });
    /// barrier.wait().unwrap();
    /// barrier.wait().unwrap();
    /// assert_eq!(rounds.load(Ordering::SeqCst), 2);
    /// ```
    #[track_caller]
    pub fn with_action(parties: usize, action: impl Fn() + Send + Sync + 'static) -> Self {
        Barrier::try_with_action(parties, action).expect("parties must be > 0")
    }

    /// [`Barrier::with_action`], with the error for zero parties.
    ///
    /// # Errors
    /// [`ZeroPartiesError`] if `parties` is 0.
    ///
    /// ```
    /// assert!(threadkit::Barrier::try_with_action(0, || ()).is_err());
    /// ```
    #[track_caller]
    pub fn try_with_action(
        parties: usize,
        action: impl Fn() + Send + Sync + 'static,
    ) -> Result<Self, ZeroPartiesError> {
        Barrier::make(parties, Some(Box::new(action)))
    }

    #[track_caller]
    fn make(parties: usize, action: Option<Action>) -> Result<Self, ZeroPartiesError> {
        if parties == 0 {
            return Err(ZeroPartiesError);
        }
        Ok(Barrier {
            parties,
            action,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
                action_pending: false,
            }),
            cv: Condvar::new(),
            tag: Tag::here(),
        })
    }

    /// The same barrier, named `name` (in reports, dumps and contention rows).
    ///
    /// ```
    /// let x = threadkit::Barrier::new(2).with_name("n");
    /// assert_eq!(x.label().name(), Some("n"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<StdArc<str>>) -> Self {
        self.tag.set_name(name.into());
        self
    }

    /// The same barrier, labelled `label` (the Python bindings give the Python site
    /// this way).
    ///
    /// ```
    /// use threadkit::debug::{Label, Site};
    /// let x = threadkit::Barrier::new(2).with_label(Label::new(None, Site::intern("a.py", 4)));
    /// assert_eq!(x.label().site().to_string(), "a.py:4");
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.tag.set_label(label);
        self
    }

    /// Its name and creation site.
    ///
    /// ```
    /// let x = threadkit::Barrier::new(2);
    /// assert_eq!(x.label().site().line(), line!() - 1);
    /// ```
    pub fn label(&self) -> &Label {
        &self.tag.label
    }

    /// The number of threads a round needs.
    ///
    /// ```
    /// assert_eq!(threadkit::Barrier::new(2).parties(), 2);
    /// ```
    #[inline]
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the round being filled (0 while a round drains or the
    /// barrier resets or is broken), as CPython's `n_waiting`.
    ///
    /// ```
    /// assert_eq!(threadkit::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let state = self.state.lock();
        match state.phase {
            Phase::Filling | Phase::Action => state.count,
            _ => 0,
        }
    }

    /// Whether the barrier is broken (by a timeout, a failed action or [`Barrier::abort`]).
    ///
    /// ```
    /// let barrier = threadkit::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }

    /// Waits until `parties` threads are waiting, runs the action (in the last thread), and
    /// returns this thread's arrival index.
    ///
    /// # Errors
    /// [`BarrierError::Broken`] if the barrier is broken, or is reset or aborted while waiting.
    ///
    /// ```
    /// assert_eq!(threadkit::Barrier::new(1).wait(), Ok(0));
    /// ```
    pub fn wait(&self) -> Result<usize, BarrierError> {
        self.wait_interruptible(Deadline::never(), &mut NoInterrupt)
    }

    /// [`wait`](Barrier::wait), at most `timeout`.
    ///
    /// # Errors
    /// [`BarrierError::Broken`] as for [`wait`](Barrier::wait), and on timeout, which breaks the
    /// barrier (as in CPython).
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{Barrier, BarrierError};
    /// let barrier = Barrier::new(2);
    /// assert_eq!(barrier.wait_timeout(Duration::from_millis(10)), Err(BarrierError::Broken));
    /// assert!(barrier.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BarrierError> {
        self.wait_until(Deadline::after(timeout))
    }

    /// [`wait`](Barrier::wait), until `deadline` at most.
    ///
    /// # Errors
    /// As [`wait_timeout`](Barrier::wait_timeout).
    ///
    /// ```
    /// use threadkit::{Barrier, Deadline};
    /// assert_eq!(Barrier::new(1).wait_until(Deadline::now()), Ok(0));
    /// ```
    pub fn wait_until(&self, deadline: Deadline) -> Result<usize, BarrierError> {
        self.wait_interruptible(deadline, &mut NoInterrupt)
    }

    /// [`wait`](Barrier::wait), until `deadline` at most, asking `interrupt` at its interval
    /// whether to give up.
    ///
    /// # Errors
    /// As [`wait_timeout`](Barrier::wait_timeout), and [`BarrierError::Interrupted`] if the
    /// interrupt stopped the wait (which leaves the barrier unbroken, as CPython).
    ///
    /// ```
    /// use threadkit::{Barrier, Deadline, NoInterrupt};
    /// let barrier = Barrier::new(1);
    /// assert_eq!(barrier.wait_interruptible(Deadline::never(), &mut NoInterrupt), Ok(0));
    /// ```
    pub fn wait_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<usize, BarrierError> {
        let Some(action) = &self.action else {
            return match self.arrive_inner(deadline, interrupt, false)? {
                Arrival::Passed(index) | Arrival::RunAction(index) => Ok(index),
            };
        };
        match self.arrive_inner(deadline, interrupt, true)? {
            Arrival::Passed(index) => Ok(index),
            Arrival::RunAction(_) => {
                /// Breaks the barrier if the action panics.
                struct FailOnUnwind<'a>(&'a Barrier);
                impl Drop for FailOnUnwind<'_> {
                    fn drop(&mut self) {
                        let _ = self.0.complete_action(false);
                    }
                }
                let on_unwind = FailOnUnwind(self);
                action();
                std::mem::forget(on_unwind);
                self.complete_action(true)
            }
        }
    }

    fn arrive_inner(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
        with_action: bool,
    ) -> Result<Arrival, BarrierError> {
        let state = self.state.lock();
        let draining =
            |s: &State| matches!(s.phase, Phase::Action | Phase::Draining | Phase::Resetting);
        let on = WaitOn::new(WaitKind::Barrier, &self.tag, &self.tag);
        // Recorded only when this thread waits (here, or for the round below).
        let mut waiting = draining(&state).then(|| Waiting::start(on, Deadline::never()));
        // CPython's _enter: wait (without timeout, as CPython) while the last round drains.
        let (mut state, outcome) = wait_while(
            &self.state,
            &self.cv,
            state,
            Deadline::never(),
            interrupt,
            |s| draining(s),
        );
        if outcome == WaitOutcome::Interrupted {
            return Err(BarrierError::Interrupted);
        }
        if state.phase == Phase::Broken {
            return Err(BarrierError::Broken);
        }
        debug_assert_eq!(state.phase, Phase::Filling);
        let index = state.count;
        state.count += 1;
        if index + 1 == self.parties {
            if with_action {
                state.phase = Phase::Action;
                state.action_pending = true;
                return Ok(Arrival::RunAction(index));
            }
            state.phase = Phase::Draining;
            self.cv.notify_all();
            self.leave(&mut state);
            return Ok(Arrival::Passed(index));
        }
        drop(waiting.take());
        let _waiting = Waiting::start(on, deadline);
        let (mut state, result) = self.wait_released(state, deadline, interrupt);
        self.leave(&mut state);
        result.map(|()| Arrival::Passed(index))
    }

    /// CPython's `_wait`: blocks until the round is released, reset or broken.
    fn wait_released<'a>(
        &'a self,
        state: MutexGuard<'a, State>,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> (MutexGuard<'a, State>, Result<(), BarrierError>) {
        let waiting = |s: &mut State| matches!(s.phase, Phase::Filling | Phase::Action);
        let (mut state, mut outcome) =
            wait_while(&self.state, &self.cv, state, deadline, interrupt, waiting);
        if outcome == WaitOutcome::TimedOut && state.phase == Phase::Action {
            // In CPython the action runs under the barrier's lock, so a timeout that expires
            // meanwhile is only seen once the round is released: wait for the action to end.
            (state, outcome) = wait_while(
                &self.state,
                &self.cv,
                state,
                Deadline::never(),
                interrupt,
                waiting,
            );
        }
        let result = match outcome {
            WaitOutcome::Interrupted => Err(BarrierError::Interrupted),
            WaitOutcome::TimedOut => {
                self.break_barrier(&mut state);
                Err(BarrierError::Broken)
            }
            WaitOutcome::Ready if state.phase == Phase::Draining => Ok(()),
            WaitOutcome::Ready => Err(BarrierError::Broken),
        };
        (state, result)
    }

    /// CPython's `_exit`: the last thread of a draining or resetting round to leave lets the
    /// next round fill.
    fn leave(&self, state: &mut State) {
        state.count -= 1;
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.cv.notify_all();
        }
    }

    fn break_barrier(&self, state: &mut State) {
        state.phase = Phase::Broken;
        self.cv.notify_all();
    }

    /// Returns the barrier to its initial, empty state. Threads waiting in it leave with
    /// [`BarrierError::Broken`]; threads arriving meanwhile wait until they have left.
    ///
    /// ```
    /// let barrier = threadkit::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        let mut state = self.state.lock();
        if state.count > 0 {
            // As CPython; a draining round (or one whose action runs) finishes normally.
            if matches!(state.phase, Phase::Filling | Phase::Broken) {
                state.phase = Phase::Resetting;
            }
        } else {
            state.phase = Phase::Filling;
        }
        self.cv.notify_all();
    }

    /// Breaks the barrier: threads waiting in it and threads that wait later get
    /// [`BarrierError::Broken`] until [`reset`](Barrier::reset).
    ///
    /// ```
    /// use threadkit::{Barrier, BarrierError};
    /// let barrier = Barrier::new(3);
    /// barrier.abort();
    /// assert_eq!(barrier.wait(), Err(BarrierError::Broken));
    /// ```
    pub fn abort(&self) {
        let mut state = self.state.lock();
        self.break_barrier(&mut state);
    }

    /// Resets the barrier for a child process after `fork()`: the threads that were waiting
    /// do not exist in the child. The barrier is empty and filling, as new.
    ///
    /// ```
    /// let barrier = threadkit::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reinit_after_fork();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reinit_after_fork(&self) {
        {
            let mut state = self.state.lock_after_fork();
            state.phase = Phase::Filling;
            state.count = 0;
            state.action_pending = false;
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.count)
            .field("phase", &state.phase)
            .field("has_action", &self.action.is_some())
            .finish()
    }
}

/// A barrier wait in two halves, for a caller that runs the action itself: the Python bindings
/// call [`BarrierExt::arrive_interruptible`], and the thread told [`Arrival::RunAction`] runs the
/// Python action in a Python frame, then calls [`BarrierExt::complete_action`] (Rust never calls
/// user Python code). [`Barrier::wait`] with a [`Barrier::with_action`] action makes the same two
/// calls with the Rust closure in between.
///
/// Implemented for [`Barrier`].
///
/// ```
/// use threadkit::raw::{Arrival, BarrierExt};
/// use threadkit::Barrier;
/// let barrier = Barrier::new(1);
/// let Ok(Arrival::RunAction(index)) = barrier.arrive() else { unreachable!() };
/// // ... run the action here ...
/// assert_eq!(barrier.complete_action(true), Ok(index));
/// ```
pub trait BarrierExt {
    /// The first half of a wait whose action runs outside the barrier, blocking as long as it
    /// takes. The thread that arrives last gets [`Arrival::RunAction`]: it must run the action
    /// and then call [`complete_action`](BarrierExt::complete_action), which releases the round
    /// (until then the other threads stay blocked). Every other thread gets
    /// [`Arrival::Passed`] once the round is released. The barrier's own action, if it was made
    /// [`with_action`](Barrier::with_action), is not run by this call.
    ///
    /// Called (in its interruptible form) by the Python bindings (`crates/threadkit-python`) in
    /// `Barrier.wait()` when the barrier has an action.
    ///
    /// # Errors
    /// As [`wait`](Barrier::wait).
    ///
    /// ```
    /// use threadkit::raw::{Arrival, BarrierExt};
    /// use threadkit::Barrier;
    /// let barrier = Barrier::new(1);
    /// let Ok(Arrival::RunAction(index)) = barrier.arrive() else { unreachable!() };
    /// // ... run the action here ...
    /// assert_eq!(barrier.complete_action(true), Ok(index));
    /// ```
    fn arrive(&self) -> Result<Arrival, BarrierError>;

    /// [`arrive`](BarrierExt::arrive), until `deadline` at most.
    ///
    /// The Python bindings (`crates/threadkit-python`) call the interruptible form instead.
    ///
    /// # Errors
    /// As [`wait_timeout`](Barrier::wait_timeout).
    ///
    /// ```
    /// use threadkit::raw::BarrierExt;
    /// use threadkit::{Barrier, BarrierError, Deadline};
    /// let barrier = Barrier::new(2);
    /// assert_eq!(barrier.arrive_until(Deadline::now()), Err(BarrierError::Broken));
    /// ```
    fn arrive_until(&self, deadline: Deadline) -> Result<Arrival, BarrierError>;

    /// [`arrive`](BarrierExt::arrive), until `deadline` at most, asking `interrupt` at its interval
    /// whether to give up. The Python bindings' `Barrier.wait` with an action is this call,
    /// then the action in Python, then [`complete_action`](BarrierExt::complete_action).
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) in `Barrier.wait()` when the
    /// barrier has an action.
    ///
    /// # Errors
    /// As [`wait_interruptible`](Barrier::wait_interruptible).
    ///
    /// ```
    /// use threadkit::raw::{Arrival, BarrierExt};
    /// use threadkit::{Barrier, Deadline, NoInterrupt};
    /// let barrier = Barrier::new(1);
    /// let arrival = barrier.arrive_interruptible(Deadline::never(), &mut NoInterrupt);
    /// assert_eq!(arrival, Ok(Arrival::RunAction(0)));
    /// assert_eq!(barrier.complete_action(true), Ok(0));
    /// ```
    fn arrive_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<Arrival, BarrierError>;

    /// The second half of a wait whose last thread got [`Arrival::RunAction`]: call it when the
    /// action has run. With `action_ok`, the round is released and the result is the caller's
    /// index (`parties - 1`); without (the action failed), the barrier breaks and the result is
    /// [`BarrierError::Broken`] (Python re-raises the action's exception instead).
    ///
    /// Called by the Python bindings (`crates/threadkit-python`) once the Python action has run
    /// (or raised).
    ///
    /// # Errors
    /// [`BarrierError::Broken`] if the action failed, or the barrier was aborted while it ran
    /// (the other threads have then left with [`BarrierError::Broken`]).
    ///
    /// # Panics
    /// If no thread was told to run the action.
    ///
    /// ```
    /// use threadkit::raw::{Arrival, BarrierExt};
    /// use threadkit::{Barrier, BarrierError};
    /// let barrier = Barrier::new(1);
    /// assert_eq!(barrier.arrive(), Ok(Arrival::RunAction(0)));
    /// assert_eq!(barrier.complete_action(false), Err(BarrierError::Broken));
    /// assert!(barrier.broken());
    /// ```
    fn complete_action(&self, action_ok: bool) -> Result<usize, BarrierError>;
}

impl BarrierExt for Barrier {
    fn arrive(&self) -> Result<Arrival, BarrierError> {
        self.arrive_interruptible(Deadline::never(), &mut NoInterrupt)
    }

    fn arrive_until(&self, deadline: Deadline) -> Result<Arrival, BarrierError> {
        self.arrive_interruptible(deadline, &mut NoInterrupt)
    }

    fn arrive_interruptible(
        &self,
        deadline: Deadline,
        interrupt: &mut dyn Interrupt,
    ) -> Result<Arrival, BarrierError> {
        self.arrive_inner(deadline, interrupt, true)
    }

    fn complete_action(&self, action_ok: bool) -> Result<usize, BarrierError> {
        let mut state = self.state.lock();
        assert!(
            state.action_pending,
            "BarrierExt::complete_action called without Arrival::RunAction"
        );
        state.action_pending = false;
        let result = if state.phase != Phase::Action {
            // Aborted (then maybe reset) while the action ran.
            Err(BarrierError::Broken)
        } else if action_ok {
            state.phase = Phase::Draining;
            Ok(self.parties - 1)
        } else {
            state.phase = Phase::Broken;
            Err(BarrierError::Broken)
        };
        self.cv.notify_all();
        self.leave(&mut state);
        result
    }
}
