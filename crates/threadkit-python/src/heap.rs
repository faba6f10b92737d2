// The sift functions of this file follow CPython 3.13's Modules/_heapqmodule.c (`siftdown`,
// `siftup`, `heappush`, `heappop`) step for step.
// Copyright (c) 2001-2024 Python Software Foundation; All Rights Reserved. Used under the PSF
// License Version 2: see LICENSES/PSF-2.0.txt and LICENSES/README.md.

//! The heap of `threadkit.queue.PriorityQueue`: `heapq`'s algorithm over a `Vec` of Python
//! objects, compared with Python's `<` while attached.
//!
//! The comparisons and the swaps are CPython 3.13's, in the same order, so a sequence of puts
//! and gets returns equal-priority items in exactly the order `heapq` (and so
//! `queue.PriorityQueue`) does. Unlike `heapq`, a comparison that raises leaves the heap exactly
//! as it was: every move is a swap along one root-to-leaf path, and the swaps made are undone
//! in reverse order (no comparison needed to undo). `heapq` leaves the list half sifted, a
//! pushed item in it, and a popped item lost.
//!
//! The caller owns the `Vec` for the whole operation (the queue's `busy` lock, see `queue.rs`),
//! so a comparison that releases the GIL or re-enters the queue cannot see or change it
//! half-sifted; CPython's "list changed size during iteration" check has nothing to catch.

use pyo3::prelude::*;

pub type Item = Py<PyAny>;

/// `a < b`, as `PyObject_RichCompareBool(a, b, Py_LT)`: runs the items' `__lt__`.
#[inline]
fn lt(py: Python<'_>, a: &Item, b: &Item) -> PyResult<bool> {
    a.bind(py).lt(b.bind(py))
}

/// The position `up` levels above `pos` (`up` = 0: `pos` itself).
#[inline]
fn ancestor(pos: usize, up: u32) -> usize {
    ((pos + 1) >> up) - 1
}

/// Undoes `swaps` swaps that moved an item up towards the root from `from`, last first.
fn undo_up(heap: &mut [Item], from: usize, swaps: u32) {
    for s in (0..swaps).rev() {
        heap.swap(ancestor(from, s + 1), ancestor(from, s));
    }
}

/// Undoes `swaps` swaps that moved an item down from the root's side to `to`, last first.
fn undo_down(heap: &mut [Item], to: usize, swaps: u32) {
    for s in 0..swaps {
        heap.swap(ancestor(to, s + 1), ancestor(to, s));
    }
}

/// CPython's `siftdown(heap, startpos, pos)`: moves the item at `pos` up while it is `<` its
/// parent. Returns the swaps made, or the comparison's error with the swaps made so far.
fn siftdown(
    py: Python<'_>,
    heap: &mut [Item],
    startpos: usize,
    mut pos: usize,
) -> Result<u32, (PyErr, u32)> {
    let mut swaps = 0;
    while pos > startpos {
        let parentpos = (pos - 1) >> 1;
        match lt(py, &heap[pos], &heap[parentpos]) {
            Err(e) => return Err((e, swaps)),
            Ok(false) => break,
            Ok(true) => {}
        }
        heap.swap(parentpos, pos);
        swaps += 1;
        pos = parentpos;
    }
    Ok(swaps)
}

/// `heappush`: appends `item` and sifts it up. Returns the swaps made (for [`unpush`]). If a
/// comparison raises, the heap is as it was and the item comes back with the error.
pub fn push(py: Python<'_>, heap: &mut Vec<Item>, item: Item) -> Result<u32, (Item, PyErr)> {
    heap.push(item);
    let last = heap.len() - 1;
    match siftdown(py, heap, 0, last) {
        Ok(swaps) => Ok(swaps),
        Err((e, swaps)) => {
            undo_up(heap, last, swaps);
            let item = heap.pop().expect("the item just pushed");
            Err((item, e))
        }
    }
}

/// Undoes a successful [`push`] that made `swaps` swaps (the heap has not changed since):
/// the heap is as it was before, and the item pushed comes back.
pub fn unpush(heap: &mut Vec<Item>, swaps: u32) -> Item {
    let last = heap.len() - 1;
    undo_up(heap, last, swaps);
    heap.pop().expect("the item pushed")
}

/// `heappop`: removes and returns the smallest item (`None` if empty). The last item takes
/// the root's place and CPython's `siftup` moves it down: the smaller child moves up (on a
/// tie, the right one: `not left < right`) until a leaf, then `siftdown` back up. If a
/// comparison raises, the heap is as it was.
pub fn pop(py: Python<'_>, heap: &mut Vec<Item>) -> PyResult<Option<Item>> {
    let Some(last) = heap.pop() else {
        return Ok(None);
    };
    if heap.is_empty() {
        return Ok(Some(last));
    }
    let top = std::mem::replace(&mut heap[0], last);
    match siftup(py, heap) {
        Ok(()) => Ok(Some(top)),
        Err(e) => {
            let last = std::mem::replace(&mut heap[0], top);
            heap.push(last);
            Err(e)
        }
    }
}

/// CPython's `siftup(heap, 0)`; on an error, the swaps made are undone (the item moved is back
/// at the root).
fn siftup(py: Python<'_>, heap: &mut [Item]) -> PyResult<()> {
    let endpos = heap.len();
    let limit = endpos >> 1;
    let mut pos = 0;
    let mut down = 0u32;
    while pos < limit {
        let mut childpos = 2 * pos + 1;
        if childpos + 1 < endpos {
            match lt(py, &heap[childpos], &heap[childpos + 1]) {
                Ok(true) => {}
                Ok(false) => childpos += 1,
                Err(e) => {
                    undo_down(heap, pos, down);
                    return Err(e);
                }
            }
        }
        heap.swap(childpos, pos);
        down += 1;
        pos = childpos;
    }
    match siftdown(py, heap, 0, pos) {
        Ok(_) => Ok(()),
        Err((e, up)) => {
            // The item went down `down` levels to `pos`, then up `up` of them again.
            undo_up(heap, pos, up);
            undo_down(heap, pos, down);
            Err(e)
        }
    }
}
