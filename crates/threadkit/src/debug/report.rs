//! [`DeadlockReport`] and [`DeadlockError`]: what a deadlock found at block time says.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use super::detect::Member;
use super::label::Label;
use super::order::StackFrame;
use super::WaitKind;

/// One thread of a deadlock: who it is, what it waits for, who holds that.
///
/// ```
/// use threadkit::debug::CycleThread;
/// fn describe(t: &CycleThread) -> String {
///     format!("{} waits for {} {}", t.ident, t.kind, t.label)
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CycleThread {
    /// The thread's ident ([`crate::get_ident`]).
    pub ident: u64,
    /// Its name: the threadkit thread registry's, else the std thread's, if any.
    pub name: Option<String>,
    /// What kind of wait it is in.
    pub kind: WaitKind,
    /// The label of the primitive it waits for.
    pub label: Label,
    /// The threads holding it: one, or every worker of a pool that cannot grow (any of them
    /// would do, and none can).
    pub held_by: Vec<u64>,
    /// How long it had waited when the deadlock was found.
    pub waited: Duration,
    /// The wait is a Condition taking its lock back after `wait` (it cannot give up).
    pub reacquire: bool,
    /// Where the holder acquired the lock waited for: the innermost frame of the stack debug
    /// mode captured at that acquisition. `None` with debug mode off (reading a frame on every
    /// acquisition would cost the uncontended path), for what is not a lock, and for a lock
    /// the holder took where debug mode kept no stack (a thread's later locks of a class it
    /// already took).
    pub acquired_at: Option<StackFrame>,
}

impl CycleThread {
    /// `'name'`, or `thread IDENT` for a thread without a name.
    ///
    /// ```
    /// # use threadkit::debug::CycleThread;
    /// fn who(t: &CycleThread) -> String { t.display_name() }
    /// ```
    pub fn display_name(&self) -> String {
        display_name(self.name.as_deref(), self.ident)
    }
}

fn display_name(name: Option<&str>, ident: u64) -> String {
    match name {
        Some(name) => format!("'{name}'"),
        None => format!("thread {ident}"),
    }
}

/// A deadlock found when a thread was about to block: the threads in it and the cycle.
///
/// Displays as one block per thread, then the cycle in one line:
///
/// ```text
/// Deadlock found: 2 threads wait for each other.
///
/// Thread 'write_log' (ident 139843245840064), waiting for 0.001 s
///     waits for Lock 'inventory' created at src/shop.rs:12
///     held by 'restock' (ident 139843247945408)
///     acquired by it at src/shop.rs:30, in shop::restock
///
/// Thread 'restock' (ident 139843247945408), waiting for 0.012 s
///     waits for Lock 'log' created at src/shop.rs:13
///     held by 'write_log' (ident 139843245840064)
///     acquired by it at src/shop.rs:41, in shop::write_log
///
/// Cycle: 'write_log' -> Lock 'inventory' -> 'restock' -> Lock 'log' -> 'write_log'
/// ```
///
/// The first thread is the one whose wait closed the cycle. The `acquired by it` lines are
/// there in debug mode ([`CycleThread::acquired_at`]); otherwise such a line says that the site
/// is not recorded. See [`crate::debug`] for an example that makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlockReport {
    threads: Vec<CycleThread>,
    /// The first `cycle` threads form the cycle, in order; the others are stuck behind them.
    cycle: usize,
    raises: bool,
}

impl DeadlockReport {
    /// The threads, the one that closed the cycle first, then the rest of the cycle in order,
    /// then any thread stuck in the deadlock without being on that cycle (a pool worker).
    ///
    /// ```
    /// # fn f(report: &threadkit::debug::DeadlockReport) {
    /// for t in report.threads() {
    ///     println!("{} waits for {} {}", t.display_name(), t.kind, t.label);
    /// }
    /// # }
    /// ```
    pub fn threads(&self) -> &[CycleThread] {
        &self.threads
    }

    /// The threads of the cycle itself, in order (a prefix of [`threads`](Self::threads)).
    ///
    /// ```
    /// # fn f(report: &threadkit::debug::DeadlockReport) {
    /// assert!(report.cycle().len() <= report.threads().len());
    /// # }
    /// ```
    pub fn cycle(&self) -> &[CycleThread] {
        &self.threads[..self.cycle]
    }

    /// The cycle in one line: `'a' -> Lock 'x' -> 'b' -> Lock 'y' -> 'a'`.
    ///
    /// ```
    /// # fn f(report: &threadkit::debug::DeadlockReport) {
    /// assert!(report.cycle_line().starts_with(&report.threads()[0].display_name()));
    /// # }
    /// ```
    pub fn cycle_line(&self) -> String {
        let mut line = String::new();
        for t in self.cycle() {
            line.push_str(&t.display_name());
            line.push_str(" -> ");
            line.push_str(&describe(t.kind, &t.label, false));
            line.push_str(" -> ");
        }
        line.push_str(&self.threads[0].display_name());
        line
    }

    /// Whether the wait given this report should give up with [`DeadlockError`] (the action
    /// is [`Raise`](super::DeadlockAction::Raise) and the wait can give up), rather than report
    /// it and go on waiting. [`Interrupt::on_deadlock`](crate::Interrupt::on_deadlock)
    /// implementations follow it.
    ///
    /// ```
    /// # fn f(report: &threadkit::debug::DeadlockReport) {
    /// if report.raises() { /* make the wait fail */ } else { eprintln!("{report}") }
    /// # }
    /// ```
    pub fn raises(&self) -> bool {
        self.raises
    }

    /// Whether thread `ident` is in the deadlock.
    ///
    /// ```
    /// # fn f(report: &threadkit::debug::DeadlockReport) {
    /// let me = threadkit::get_ident();
    /// let _mine = report.involves(me);
    /// # }
    /// ```
    pub fn involves(&self, ident: u64) -> bool {
        self.threads.iter().any(|t| t.ident == ident)
    }

    /// A one-thread report, for unit tests.
    #[cfg(test)]
    pub(crate) fn for_test() -> DeadlockReport {
        DeadlockReport {
            threads: vec![CycleThread {
                ident: 1,
                name: None,
                kind: WaitKind::Lock,
                label: Label::here(),
                held_by: vec![1],
                waited: Duration::ZERO,
                reacquire: false,
                acquired_at: None,
            }],
            cycle: 1,
            raises: false,
        }
    }
}

impl fmt::Display for DeadlockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: HashMap<u64, String> = self
            .threads
            .iter()
            .map(|t| (t.ident, t.display_name()))
            .collect();
        match self.threads.len() {
            1 => writeln!(f, "Deadlock found: 1 thread waits for itself.")?,
            n => writeln!(f, "Deadlock found: {n} threads wait for each other.")?,
        }
        for t in &self.threads {
            writeln!(f)?;
            writeln!(
                f,
                "Thread {} (ident {}), waiting for {:.3} s",
                t.display_name(),
                t.ident,
                t.waited.as_secs_f64()
            )?;
            write!(f, "    waits for {}", describe(t.kind, &t.label, true))?;
            if t.reacquire {
                write!(f, " (taking it back after Condition.wait)")?;
            }
            writeln!(f)?;
            let holders: Vec<String> = t
                .held_by
                .iter()
                .map(|h| {
                    let name = names
                        .get(h)
                        .cloned()
                        .unwrap_or_else(|| format!("thread {h}"));
                    format!("{name} (ident {h})")
                })
                .collect();
            match holders.len() {
                1 => writeln!(f, "    held by {}", holders[0])?,
                _ => writeln!(f, "    waits for any of {}, all stuck", holders.join(", "))?,
            }
            match &t.acquired_at {
                Some(at) => writeln!(
                    f,
                    "    acquired by it at {}:{}, in {}",
                    at.file, at.line, at.function
                )?,
                None if holders.len() == 1
                    && matches!(t.kind, WaitKind::Lock | WaitKind::RLock) =>
                {
                    writeln!(f, "    {}", acquisition_unknown())?
                }
                None => {}
            }
        }
        writeln!(f)?;
        write!(f, "Cycle: {}", self.cycle_line())
    }
}

/// What a deadlock report says, with debug mode off, for a lock whose holder's acquisition site
/// is not known (the Python bindings' reports say the same).
///
/// ```
/// assert!(threadkit::debug::ACQUIRED_AT_UNKNOWN.contains("THREADKIT_DEBUG=1"));
/// ```
pub const ACQUIRED_AT_UNKNOWN: &str =
    "where it was acquired is not recorded: debug mode records it (THREADKIT_DEBUG=1)";

/// What a deadlock report says, in debug mode, for a lock whose holder's acquisition site is
/// not known: debug mode kept no stack for it (see [`CycleThread::acquired_at`]).
///
/// ```
/// assert!(threadkit::debug::ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE.contains("records the first"));
/// ```
pub const ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE: &str =
    "where it was acquired is not recorded: its holder had taken locks created there before \
     (debug mode records the first)";

/// What a report says for a lock whose holder's acquisition site is not known.
fn acquisition_unknown() -> &'static str {
    if super::order::is_enabled() {
        ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE
    } else {
        ACQUIRED_AT_UNKNOWN
    }
}

/// Where the holder of what `m` waits for acquired it, from the holds its wait published.
fn acquired_at(members: &[Member], m: &Member) -> Option<StackFrame> {
    let [holder] = m.seen.held_by.idents() else {
        return None;
    };
    if m.seen.lock_addr == 0 {
        return None;
    }
    members
        .iter()
        .find(|h| h.slot.ident == *holder)?
        .seen
        .holds
        .iter()
        .rev()
        .find(|h| h.lock == m.seen.lock_addr)?
        .acquired_at
        .clone()
}

/// `Lock 'name'` / `Lock created at file:line` (with `full`: `Lock 'name' created at
/// file:line`), then the operation for waits that have one: `Queue 'jobs' (get)`.
pub(crate) fn describe(kind: WaitKind, label: &Label, full: bool) -> String {
    let mut s = format!("{} {label}", kind.primitive());
    if full && label.name().is_some() {
        s.push_str(&format!(" created at {}", label.site()));
    }
    if let Some(op) = kind.operation() {
        s.push_str(&format!(" ({op})"));
    }
    s
}

/// The indices of a shortest cycle from `closer` back to it, through holders (`closer`'s index
/// first). Every deadlock's closer is on a cycle.
pub(crate) fn cycle_path(members: &[Member], closer: u64) -> Vec<usize> {
    let index: HashMap<u64, usize> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.slot.ident, i))
        .collect();
    let Some(&start) = index.get(&closer) else {
        return Vec::new();
    };
    let mut parent: Vec<Option<usize>> = vec![None; members.len()];
    let mut queue = VecDeque::from([start]);
    let mut seen = vec![false; members.len()];
    seen[start] = true;
    while let Some(i) = queue.pop_front() {
        for &h in members[i].seen.held_by.idents() {
            if h == closer {
                let mut path = vec![i];
                let mut at = i;
                while let Some(p) = parent[at] {
                    path.push(p);
                    at = p;
                }
                if path.last() != Some(&start) {
                    path.push(start);
                }
                path.reverse();
                return path;
            }
            if let Some(&j) = index.get(&h) {
                if !seen[j] {
                    seen[j] = true;
                    parent[j] = Some(i);
                    queue.push_back(j);
                }
            }
        }
    }
    vec![start]
}

/// The names the threadkit thread registry knows, by ident.
pub(crate) fn registry_names() -> HashMap<u64, (String, bool)> {
    crate::enumerate()
        .into_iter()
        .filter_map(|t| Some((t.ident()?, (t.name(), t.is_daemon()))))
        .collect()
}

/// The report of the deadlock `members` form, closed by `closer`'s wait.
pub(crate) fn build(members: &[Member], closer: u64, raises: bool) -> DeadlockReport {
    let names = registry_names();
    let now = Instant::now();
    let path = cycle_path(members, closer);
    let order = path
        .iter()
        .copied()
        .chain((0..members.len()).filter(|i| !path.contains(i)));
    let threads = order
        .map(|i| {
            let m = &members[i];
            let name = names
                .get(&m.slot.ident)
                .map(|(n, _)| n.clone())
                .or_else(|| m.slot.std_name.clone());
            CycleThread {
                ident: m.slot.ident,
                name,
                kind: m.seen.kind,
                label: m.seen.label.clone().expect("the second pass reads labels"),
                held_by: m.seen.held_by.idents().to_vec(),
                waited: now.saturating_duration_since(m.seen.since),
                reacquire: m.seen.reacquire,
                acquired_at: acquired_at(members, m),
            }
        })
        .collect();
    DeadlockReport {
        threads,
        cycle: path.len().max(1),
        raises,
    }
}

/// A wait gave up because it would have closed a deadlock, with
/// [`DeadlockAction::Raise`](super::DeadlockAction::Raise): Python's `threadkit.DeadlockError`.
///
/// In Rust, the default [`Interrupt::on_deadlock`](crate::Interrupt::on_deadlock) panics with
/// this value ([`std::panic::panic_any`]); catch it with [`std::panic::catch_unwind`] or from a
/// thread's join, and downcast. No primitive is left half-updated and no internal lock is held
/// when it unwinds; the guards of what the thread holds release them as the panic unwinds.
///
/// ```
/// # fn f(payload: Box<dyn std::any::Any + Send>) {
/// if let Some(e) = payload.downcast_ref::<threadkit::debug::DeadlockError>() {
///     eprintln!("{}", e.report().cycle_line());
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlockError {
    report: DeadlockReport,
}

impl DeadlockError {
    /// The error for `report`.
    ///
    /// ```
    /// # fn f(report: threadkit::debug::DeadlockReport) {
    /// let e = threadkit::debug::DeadlockError::new(report);
    /// # }
    /// ```
    pub fn new(report: DeadlockReport) -> Self {
        DeadlockError { report }
    }

    /// The deadlock.
    ///
    /// ```
    /// # fn f(e: &threadkit::debug::DeadlockError) {
    /// println!("{}", e.report());
    /// # }
    /// ```
    pub fn report(&self) -> &DeadlockReport {
        &self.report
    }
}

/// The report's text (Python's `DeadlockError` message).
impl fmt::Display for DeadlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report.fmt(f)
    }
}

impl std::error::Error for DeadlockError {}
