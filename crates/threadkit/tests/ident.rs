//! `get_ident()` is `pthread_self()`, the number Python's `threading.get_ident()` returns, on
//! every thread (on x86-64 Linux it is read from the thread pointer without calling libc).
#![cfg(all(unix, not(loom)))]

#[test]
fn get_ident_is_pthread_self_on_every_thread() {
    fn check() -> u64 {
        // SAFETY: pthread_self has no preconditions and always succeeds.
        let expected = unsafe { libc::pthread_self() } as u64;
        assert_eq!(threadkit::get_ident(), expected);
        expected
    }
    let mine = check();
    let others: Vec<u64> = (0..8)
        .map(|_| std::thread::spawn(check))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(others.iter().all(|&o| o != mine));
    let inner = threadkit::spawn(check).join().unwrap();
    assert_ne!(inner, mine);
}
