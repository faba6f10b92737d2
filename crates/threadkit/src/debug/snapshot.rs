//! [`snapshot`]: every thread and what it waits for, as plain data; its `Display` is a thread
//! dump.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use super::label::Label;
use super::order::{self, HeldLock, StackFrame};
use super::report::{describe, registry_names, DeadlockReport};
use super::slot::{self, HeldBy};
use super::WaitKind;

/// A thread's current wait, in a [`Snapshot`].
///
/// ```
/// use threadkit::debug::WaitSnapshot;
/// fn line(w: &WaitSnapshot) -> String {
///     format!("waits for {} {} since {:?}", w.kind, w.label, w.waited)
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitSnapshot {
    /// What kind of wait.
    pub kind: WaitKind,
    /// The label of the primitive waited for.
    pub label: Label,
    /// Who holds it, if known (a lock's owner, a pool's workers...); empty if nobody is known.
    pub held_by: Vec<u64>,
    /// How long the thread has waited.
    pub waited: Duration,
    /// The wait has a timeout.
    pub timed: bool,
    /// A Condition taking its lock back after `wait`.
    pub reacquire: bool,
}

/// Something a thread is known to hold: the target of another thread's wait whose holder it is,
/// or, in debug mode, a lock in the list of locks it holds (published when it started waiting,
/// or the calling thread's own).
///
/// ```
/// # fn f(h: &threadkit::debug::HeldSnapshot) {
/// println!("holds {} {}", h.kind.primitive(), h.label);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeldSnapshot {
    /// The kind of the wait that revealed it (for a lock from debug mode's list: `Lock` or
    /// `RLock`).
    pub kind: WaitKind,
    /// Its label.
    pub label: Label,
    /// Where the thread acquired it, if debug mode captured that acquisition's stack: the
    /// innermost frame. See [`CycleThread::acquired_at`](super::CycleThread::acquired_at).
    pub acquired_at: Option<StackFrame>,
}

/// One thread, in a [`Snapshot`].
///
/// ```
/// for t in threadkit::debug::snapshot().threads {
///     println!("{:?} {}", t.name, t.waiting.is_some());
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadSnapshot {
    /// The thread's ident.
    pub ident: u64,
    /// Its name, if known.
    pub name: Option<String>,
    /// Whether it is a daemon, if the threadkit registry knows it.
    pub daemon: Option<bool>,
    /// What it waits for now (`None`: running, or waiting outside threadkit).
    pub waiting: Option<WaitSnapshot>,
    /// What other threads wait for and this one holds. Locks nobody waits for are listed only
    /// in debug mode, for a thread in a threadkit wait or the calling thread: the uncontended
    /// path records nothing otherwise.
    pub holds: Vec<HeldSnapshot>,
}

/// Every thread threadkit knows (its registry, plus every thread that ever waited in a slow
/// path), what each waits for and holds, and the deadlocks there are now. Plain data, for tools;
/// `Display` writes a thread dump.
///
/// ```
/// let me = threadkit::current_thread().ident().unwrap(); // registers this thread
/// let snap = threadkit::debug::snapshot();
/// assert!(snap.threads.iter().any(|t| t.ident == me && t.waiting.is_none()));
/// assert!(snap.deadlocks.is_empty());
/// println!("{snap}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The threads, in the registry's order, then threads known only by their waits.
    pub threads: Vec<ThreadSnapshot>,
    /// Deadlocks found now (each once; reports that do not raise).
    pub deadlocks: Vec<DeadlockReport>,
}

/// Takes a [`Snapshot`]. Costs a lock and a few reads per thread; never blocks a waiting thread
/// for longer than reading its record.
///
/// The calling thread is registered as a dummy thread by nothing here: a thread that neither
/// threadkit started, nor called [`crate::current_thread`], nor ever waited in a slow path does
/// not appear.
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{debug, Event};
///
/// let ev = Arc::new(Event::named("go"));
/// let waiter = { let ev = ev.clone(); threadkit::spawn(move || ev.wait()) };
/// let ident = waiter.thread().ident().unwrap(); // spawn returns once the thread runs
/// // Wait until the waiter's wait shows in a snapshot.
/// let wait = loop {
///     let snap = debug::snapshot();
///     if let Some(w) = snap.threads.iter().find(|t| t.ident == ident).and_then(|t| t.waiting.clone()) {
///         break w;
///     }
///     std::thread::yield_now();
/// };
/// assert_eq!((wait.kind, wait.label.name()), (debug::WaitKind::Event, Some("go")));
/// ev.set();
/// waiter.join().unwrap();
/// ```
pub fn snapshot() -> Snapshot {
    let registry = crate::enumerate();
    let names = registry_names();
    let now = Instant::now();
    let mut threads: Vec<ThreadSnapshot> = registry
        .iter()
        .filter_map(|t| {
            Some(ThreadSnapshot {
                ident: t.ident()?,
                name: Some(t.name()),
                daemon: Some(t.is_daemon()),
                waiting: None,
                holds: Vec::new(),
            })
        })
        .collect();
    let mut revealed_addr: HashMap<u64, usize> = HashMap::new();
    let mut index: HashMap<u64, usize> = threads
        .iter()
        .enumerate()
        .map(|(i, t)| (t.ident, i))
        .collect();
    let mut slots = slot::all_slots();
    slots.sort_by_key(|s| s.ident);
    // Debug mode's lists of held locks, by thread: published by waits, and the caller's own.
    let mut published: HashMap<u64, Vec<HeldLock>> = HashMap::new();
    published.insert(crate::ident::get_ident(), order::held_locks());
    for slot in slots {
        let mut seen = slot.read(true);
        if let Some(seen) = &mut seen {
            published.insert(slot.ident, std::mem::take(&mut seen.holds));
        }
        let i = *index.entry(slot.ident).or_insert_with(|| {
            threads.push(ThreadSnapshot {
                ident: slot.ident,
                name: names
                    .get(&slot.ident)
                    .map(|(n, _)| n.clone())
                    .or_else(|| slot.std_name.clone()),
                daemon: names.get(&slot.ident).map(|&(_, d)| d),
                waiting: None,
                holds: Vec::new(),
            });
            threads.len() - 1
        });
        let lock_addr = seen.as_ref().map_or(0, |s| s.lock_addr);
        revealed_addr.insert(slot.ident, lock_addr);
        threads[i].waiting = seen.map(|seen| WaitSnapshot {
            kind: seen.kind,
            label: seen.label.expect("read with its label"),
            held_by: match &seen.held_by {
                HeldBy::Unknown => Vec::new(),
                other => other.idents().to_vec(),
            },
            waited: now.saturating_duration_since(seen.since),
            timed: seen.timed,
            reacquire: seen.reacquire,
        });
    }
    // The address of each held lock some wait revealed, so debug mode's list adds only others.
    let mut listed: Vec<(u64, usize)> = Vec::new();
    let held: Vec<(u64, HeldSnapshot)> = threads
        .iter()
        .filter_map(|t| Some((t.ident, t.waiting.as_ref()?)))
        // A joined thread holds only its own life: nothing to list.
        .filter(|(_, w)| w.held_by.len() == 1)
        .filter(|(_, w)| !matches!(w.kind, WaitKind::ThreadJoin | WaitKind::PoolShutdown))
        .map(|(waiter, w)| {
            let holder = w.held_by[0];
            let addr = revealed_addr.get(&waiter).copied().unwrap_or(0);
            let acquired_at = published
                .get(&holder)
                .and_then(|list| list.iter().rev().find(|h| addr != 0 && h.lock == addr))
                .and_then(|h| h.acquired_at.clone());
            if addr != 0 {
                listed.push((holder, addr));
            }
            (
                holder,
                HeldSnapshot {
                    kind: w.kind,
                    label: w.label.clone(),
                    acquired_at,
                },
            )
        })
        .collect();
    for (holder, h) in held {
        if let Some(&i) = index.get(&holder) {
            if !threads[i].holds.contains(&h) {
                threads[i].holds.push(h);
            }
        }
    }
    for (ident, list) in published {
        let Some(&i) = index.get(&ident) else {
            continue;
        };
        for h in list {
            if listed.contains(&(ident, h.lock)) {
                continue;
            }
            listed.push((ident, h.lock));
            if let Some((label, kind)) = order::class_label(h.class) {
                threads[i].holds.push(HeldSnapshot {
                    kind,
                    label,
                    acquired_at: h.acquired_at,
                });
            }
        }
    }
    Snapshot {
        threads,
        deadlocks: super::detect::all_deadlocks(),
    }
}

impl fmt::Display for Snapshot {
    /// A thread dump: one block per thread, then the deadlocks.
    ///
    /// ```text
    /// Thread 'MainThread' (ident 140234, not daemon): running
    ///     holds Lock 'inventory' created at src/shop.rs:12
    /// Thread 'restock' (ident 140567, daemon): waiting for Lock 'inventory' created at
    ///     src/shop.rs:12, held by 'MainThread', for 1.204 s
    ///
    /// Deadlocks: none
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_of = |ident: u64| -> String {
            match self
                .threads
                .iter()
                .find(|t| t.ident == ident)
                .and_then(|t| t.name.as_deref())
            {
                Some(n) => format!("'{n}'"),
                None => format!("thread {ident}"),
            }
        };
        for t in &self.threads {
            write!(f, "Thread {} (ident {}", name_of(t.ident), t.ident)?;
            match t.daemon {
                Some(true) => write!(f, ", daemon")?,
                Some(false) => write!(f, ", not daemon")?,
                None => {}
            }
            write!(f, "): ")?;
            match &t.waiting {
                None => writeln!(f, "running")?,
                Some(w) => {
                    write!(f, "waiting for {}", describe(w.kind, &w.label, true))?;
                    if w.reacquire {
                        write!(f, " (taking it back after Condition.wait)")?;
                    }
                    match w.held_by.len() {
                        0 => {}
                        1 => write!(f, ", held by {}", name_of(w.held_by[0]))?,
                        _ => {
                            let all: Vec<String> = w.held_by.iter().map(|&h| name_of(h)).collect();
                            write!(f, ", held by any of {}", all.join(", "))?;
                        }
                    }
                    write!(f, ", for {:.3} s", w.waited.as_secs_f64())?;
                    if w.timed {
                        write!(f, " (with a timeout)")?;
                    }
                    writeln!(f)?;
                }
            }
            for h in &t.holds {
                write!(f, "    holds {}", describe(h.kind, &h.label, true))?;
                match &h.acquired_at {
                    Some(at) => writeln!(f, ", acquired at {}:{}", at.file, at.line)?,
                    None => writeln!(f)?,
                }
            }
        }
        writeln!(f)?;
        if self.deadlocks.is_empty() {
            write!(f, "Deadlocks: none")
        } else {
            write!(f, "Deadlocks: {}", self.deadlocks.len())?;
            for d in &self.deadlocks {
                write!(f, "\n\n{d}")?;
            }
            Ok(())
        }
    }
}
