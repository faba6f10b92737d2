//! Contention counters per label, updated by the slow path of every wait only.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::label::Label;

/// The counters of one `(kind, label)`. Leaked once per distinct label: a primitive caches the
/// pointer, so the slow path touches four atomics and no lock.
#[derive(Default)]
pub(crate) struct Stats {
    contended: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
    waiters: AtomicU64,
}

impl Stats {
    /// A thread starts waiting.
    pub(crate) fn enter(&self) {
        self.waiters.fetch_add(1, Ordering::Relaxed);
    }

    /// A thread stops waiting after `waited`.
    pub(crate) fn leave(&self, waited: Duration) {
        let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        self.contended.fetch_add(1, Ordering::Relaxed);
        self.total_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }
}

type Key = (&'static str, Label);

pub(super) static TABLE: parking_lot::Mutex<Option<HashMap<Key, &'static Stats>>> =
    parking_lot::Mutex::new(None);

/// The counters of `(kind, label)`, made on first use. Bounded by the distinct labels that were
/// ever contended (two primitives with the same name and site share a row, as a profiler that
/// names locks by creation site would show them).
pub(crate) fn stats_for(kind: &'static str, label: &Label) -> &'static Stats {
    super::note_pid();
    let mut table = TABLE.lock();
    let table = table.get_or_insert_with(HashMap::new);
    if let Some(&stats) = table.get(&(kind, label.clone())) {
        return stats;
    }
    let stats: &'static Stats = Box::leak(Box::default());
    table.insert((kind, label.clone()), stats);
    stats
}

/// One row of [`contention`]: how much threads waited for the primitives of one kind and
/// label.
///
/// ```
/// use threadkit::debug::contention;
/// for row in contention() {
///     println!("{} {}: {} waits, {:?} in total", row.kind, row.label, row.contended, row.total_wait);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContentionRow {
    /// The primitive's kind: `"Lock"`, `"RLock"`, `"Queue"`...
    pub kind: &'static str,
    /// Its label (name or creation site).
    pub label: Label,
    /// Waits that could not proceed at once and entered the slow path (since the last
    /// [`reset_contention`]).
    pub contended: u64,
    /// Their total duration.
    pub total_wait: Duration,
    /// The longest of them.
    pub max_wait: Duration,
    /// Threads waiting now.
    pub waiters: u64,
}

impl fmt::Display for ContentionRow {
    /// `Lock 'inventory': 12 contended waits, 0.004210 s in total, 0.001003 s at most, 1 waiting`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} contended waits, {:.6} s in total, {:.6} s at most, {} waiting",
            self.kind,
            self.label,
            self.contended,
            self.total_wait.as_secs_f64(),
            self.max_wait.as_secs_f64(),
            self.waiters
        )
    }
}

/// How much each primitive was waited for, by kind and label, longest total wait first.
///
/// Counted on the slow path only: a wait that proceeds at once (an uncontended acquire, a `get`
/// that finds an item) counts nothing. Primitives with the same kind, name and creation site
/// share a row.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threadkit::debug::contention;
/// use threadkit::Lock;
///
/// let lock = Arc::new(Lock::named("contention-doc"));
/// lock.acquire();
/// assert!(!lock.acquire_timeout(Duration::from_millis(1))); // one contended wait
/// let row = contention()
///     .into_iter()
///     .find(|r| r.label.name() == Some("contention-doc"))
///     .unwrap();
/// assert_eq!((row.kind, row.contended, row.waiters), ("Lock", 1, 0));
/// assert!(row.total_wait >= Duration::from_millis(1));
/// ```
pub fn contention() -> Vec<ContentionRow> {
    let rows: Vec<(Key, &'static Stats)> = match &*TABLE.lock() {
        Some(table) => table.iter().map(|(k, &v)| (k.clone(), v)).collect(),
        None => Vec::new(),
    };
    let mut rows: Vec<ContentionRow> = rows
        .into_iter()
        .map(|((kind, label), s)| ContentionRow {
            kind,
            label,
            contended: s.contended.load(Ordering::Relaxed),
            total_wait: Duration::from_nanos(s.total_ns.load(Ordering::Relaxed)),
            max_wait: Duration::from_nanos(s.max_ns.load(Ordering::Relaxed)),
            waiters: s.waiters.load(Ordering::Relaxed),
        })
        .filter(|r| r.contended > 0 || r.waiters > 0)
        .collect();
    rows.sort_by(|a, b| {
        b.total_wait
            .cmp(&a.total_wait)
            .then(b.contended.cmp(&a.contended))
            .then_with(|| a.label.to_string().cmp(&b.label.to_string()))
    });
    rows
}

/// Sets every counter of [`contention`] back to zero (the threads waiting now stay counted as
/// waiting; their waits count again when they end).
///
/// ```
/// use std::time::Duration;
/// use threadkit::debug::{contention, reset_contention};
/// let lock = threadkit::Lock::named("reset-doc");
/// lock.acquire();
/// assert!(!lock.acquire_timeout(Duration::from_millis(1)));
/// reset_contention();
/// assert!(contention().iter().all(|r| r.label.name() != Some("reset-doc")));
/// ```
pub fn reset_contention() {
    if let Some(table) = &*TABLE.lock() {
        for s in table.values() {
            s.contended.store(0, Ordering::Relaxed);
            s.total_ns.store(0, Ordering::Relaxed);
            s.max_ns.store(0, Ordering::Relaxed);
        }
    }
}
