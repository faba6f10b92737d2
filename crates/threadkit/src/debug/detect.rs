//! Deadlock detection at block time.
//!
//! When a thread is about to park in an untimed wait whose target has a holder, it walks
//! waits-for -> held-by -> waits-for from its own record. The walk collects the *closed set* of
//! threads that must act for it to go on: each member waits (untimed) for a target whose every
//! holder is certain and is itself a member. A closed set whose members include a holder of the
//! walking thread's target is a deadlock with that thread in a cycle: nobody in the set can go on
//! until another member does. ("Holder" is one thread for a lock, all workers for a future
//! queued in a pool that cannot grow: the AND node, stuck only if every worker is.)
//!
//! # No false reports
//!
//! - Only untimed waits, and only certain holders: an RLock's owner; a plain Lock's owner if no
//!   thread ever released that lock for another (the hand-off idiom makes a plain Lock's owner
//!   only a guess) and the owner is not the waiter itself (the idiom's first step).
//! - A plain Lock's owner counts only while it waits for a lock itself (a Lock, an RLock, a
//!   Condition's re-acquire): the nested locking of a lock-order deadlock. An owner that waits
//!   for something else (a join, a future, a pool shutdown) may be holding the Lock as a closed
//!   gate that another thread opens (the gate idiom: acquire a Lock, start workers that wait at
//!   it, join them, and let a Timer or another thread release it). That a thread will release a
//!   plain Lock itself is a guess, so such a cycle is not certain: holding an RLock (whose
//!   owner alone can release it) across the join or the `result()` makes the same cycle certain.
//! - Double collect: the walk runs twice; the second pass re-reads every record (same
//!   generation) and every holder (same value). Holders are read with read-modify-writes,
//!   which see the latest value, and records under their slot's mutex. If every value is the
//!   same in both passes, at the instant between the passes every member was inside the same
//!   wait, waiting for a target held by the members read: a value cannot change and change back
//!   meanwhile, since a member would have to leave its wait (new generation) to acquire or
//!   release anything.
//!
//! # Nothing missed
//!
//! Every walk runs under one global mutex (slow path only), after the walker set its record and
//! after it acquired what it holds. The last member of a cycle to start waiting therefore walks
//! after every other member's record and holdings were published (each of them took the same
//! mutex after publishing), and finds the cycle.
//!
//! # Reported once
//!
//! The set of `(thread, generation)` of the members names one deadlock: if two members close it
//! at once, the second walker finds the set already reported and only waits.

use std::collections::VecDeque;
use std::sync::Arc;

use super::report::{self, DeadlockReport};
use super::slot::{self, HeldBy, Seen, Slot};
use super::{DeadlockAction, WaitKind};
use crate::deadline::{Interrupt, Interrupted};

/// A walk gives up (no claim) beyond this many threads.
const MAX_MEMBERS: usize = 256;

/// How many reported deadlocks are remembered to report each once.
const REMEMBERED: usize = 64;

/// One thread of a deadlock, as the second pass saw it.
pub(crate) struct Member {
    pub(crate) slot: Arc<Slot>,
    pub(crate) seen: Seen,
}

/// The deadlocks reported, by their sorted `(slot serial, generation)` sets. Its mutex is the one
/// every walk for a blocking thread runs under.
pub(super) static REPORTED: parking_lot::Mutex<Option<VecDeque<DeadlockKey>>> =
    parking_lot::Mutex::new(None);

/// The sorted `(slot serial, generation)` pairs of a deadlock's members.
type DeadlockKey = Vec<(u64, u64)>;

/// The threads a thread that waits as `seen` certainly waits for: `None` if it is no
/// deadlock member (a timed wait, no certain holder).
fn holders(seen: &Seen) -> Option<&[u64]> {
    if seen.timed {
        return None;
    }
    match &seen.held_by {
        HeldBy::Thread { certain: true, .. } => Some(seen.held_by.idents()),
        HeldBy::AllOf(holders) if !holders.is_empty() => Some(holders),
        _ => None,
    }
}

/// Whether a thread waiting as `seen` waits for a lock: an owner of a plain Lock counts as
/// its certain holder only then (the gate idiom, in the module documentation).
fn waits_for_a_lock(seen: &Seen) -> bool {
    matches!(seen.kind, WaitKind::Lock | WaitKind::RLock)
}

/// One pass: the closed set from `me`, or `None` if some member is not certainly stuck, or if
/// `me` is not in a cycle.
fn walk(me: &Arc<Slot>, with_label: bool) -> Option<Vec<Member>> {
    // The usual case, without allocating: the holder of what `me` waits for is running.
    let mine = me.read(false)?;
    for &holder in holders(&mine)? {
        if holder != me.ident {
            holders(&slot::read_slot_of(holder)?)?;
        }
    }
    let mut members: Vec<Member> = Vec::new();
    // (thread, reached as the owner of a plain Lock)
    let mut todo = vec![(me.ident, false)];
    while let Some((ident, owns_a_plain_lock)) = todo.pop() {
        if let Some(m) = members.iter().find(|m| m.slot.ident == ident) {
            if owns_a_plain_lock && !waits_for_a_lock(&m.seen) {
                return None;
            }
            continue;
        }
        if members.len() == MAX_MEMBERS {
            return None;
        }
        let slot = if ident == me.ident {
            me.clone()
        } else {
            slot::slot_of(ident)?
        };
        let seen = slot.read(with_label)?;
        if owns_a_plain_lock && !waits_for_a_lock(&seen) {
            return None;
        }
        let plain = seen.kind == WaitKind::Lock;
        todo.extend(holders(&seen)?.iter().map(|&h| (h, plain)));
        members.push(Member { slot, seen });
    }
    members
        .iter()
        .any(|m| m.seen.held_by.idents().contains(&me.ident))
        .then_some(members)
}

/// Both passes: the members of a deadlock `me` is in, in first-pass order (`me` first).
pub(crate) fn find(me: &Arc<Slot>) -> Option<Vec<Member>> {
    let first = walk(me, false)?;
    let mut second = Vec::with_capacity(first.len());
    for m in first {
        let seen = m.slot.read(true)?;
        if seen.generation != m.seen.generation || seen.held_by != m.seen.held_by {
            return None;
        }
        second.push(Member { slot: m.slot, seen });
    }
    Some(second)
}

/// What a blocking thread does before it parks: find a deadlock it closes, report it once, act.
///
/// - [`Report`](DeadlockAction::Report): `interrupt.on_deadlock` with a report that does not
///   raise (the default calls the hook); the thread then waits as before.
/// - [`Raise`](DeadlockAction::Raise): the wait that closed the cycle gives up, through
///   `interrupt.on_deadlock` with a report that raises. A Condition's re-acquire cannot give
///   up: it hands the report to the next thread of the cycle that can, wakes it, and goes on
///   waiting; the lock it needs is released when that
///   member unwinds. If no member can give up, the report is only reported.
/// - [`Ignore`](DeadlockAction::Ignore): nothing is looked for.
pub(crate) fn on_block(
    me: &Arc<Slot>,
    reacquire: bool,
    interrupt: &mut dyn Interrupt,
) -> Result<(), Interrupted> {
    let action = super::deadlock_action();
    if action == DeadlockAction::Ignore {
        return Ok(());
    }
    let members = {
        let mut reported = REPORTED.lock();
        let Some(members) = find(me) else {
            return Ok(());
        };
        let mut key: DeadlockKey = members
            .iter()
            .map(|m| (m.slot.serial, m.seen.generation))
            .collect();
        key.sort_unstable();
        let reported = reported.get_or_insert_with(VecDeque::new);
        if reported.contains(&key) {
            return Ok(());
        }
        if reported.len() == REMEMBERED {
            reported.pop_front();
        }
        reported.push_back(key);
        members
    };
    let raise = action == DeadlockAction::Raise;
    if raise && reacquire {
        let report = report::build(&members, me.ident, true);
        let victim = report::cycle_path(&members, me.ident)
            .into_iter()
            .map(|i| &members[i])
            .filter(|m| m.slot.ident != me.ident && !m.seen.reacquire)
            .any(|m| m.slot.poke(m.seen.generation, report.clone()));
        if victim {
            return Ok(());
        }
    }
    let report = report::build(&members, me.ident, raise && !reacquire);
    let r = interrupt.on_deadlock(&report);
    if reacquire {
        Ok(())
    } else {
        r
    }
}

/// Every deadlock in the process now, for snapshots: no report is remembered, nothing is
/// delivered.
pub(crate) fn all_deadlocks() -> Vec<DeadlockReport> {
    let mut found: Vec<(Vec<u64>, DeadlockReport)> = Vec::new();
    for slot in slot::all_slots() {
        if found.iter().any(|(idents, _)| idents.contains(&slot.ident)) {
            continue;
        }
        let Some(members) = find(&slot) else {
            continue;
        };
        let mut idents: Vec<u64> = members.iter().map(|m| m.slot.ident).collect();
        idents.sort_unstable();
        if found.iter().any(|(other, _)| *other == idents) {
            continue;
        }
        found.push((idents, report::build(&members, slot.ident, false)));
    }
    found.into_iter().map(|(_, r)| r).collect()
}
