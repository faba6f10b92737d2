//! Thread identifiers, the same numbers Python's `threading.get_ident()` and
//! `threading.get_native_id()` return.

/// The calling thread's identifier: `pthread_self()` on Unix, as CPython's `threading.get_ident()`.
/// Nonzero, and unique among the threads alive at one time.
///
/// ```
/// let me = threadkit::get_ident();
/// assert_ne!(me, 0);
/// assert_eq!(me, threadkit::get_ident());
/// let other = std::thread::spawn(threadkit::get_ident).join().unwrap();
/// assert_ne!(me, other);
/// ```
#[inline]
pub fn get_ident() -> u64 {
    #[cfg(loom)]
    {
        // loom runs its threads on one OS thread: number them itself.
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        loom::thread_local!(static IDENT: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
        IDENT.with(|i| *i)
    }
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(loom)))]
    {
        // The x86-64 ELF TLS ABI (variant II) keeps the thread pointer in the first word of the
        // thread control block, which %fs points to; glibc's and musl's `pthread_self()` return
        // that same pointer (the TCB starts their thread descriptor). One load instead of a call
        // through the GOT: `tests/ident.rs` checks it equals `pthread_self()` on every thread.
        let tp: u64;
        // SAFETY: reads 8 bytes at %fs:0, which the ABI requires to be mapped and to hold the
        // thread pointer on every thread; no memory is written, no flag or stack is touched.
        unsafe {
            std::arch::asm!(
                "mov {}, qword ptr fs:[0]",
                out(reg) tp,
                options(nostack, preserves_flags, readonly, pure)
            );
        }
        tp
    }
    #[cfg(all(unix, not(all(target_arch = "x86_64", target_os = "linux")), not(loom)))]
    {
        // SAFETY: pthread_self has no preconditions and always succeeds.
        (unsafe { libc::pthread_self() }) as u64
    }
    #[cfg(all(not(unix), not(loom)))]
    {
        fallback_ident()
    }
}

#[cfg(not(unix))]
fn fallback_ident() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    std::thread_local!(static IDENT: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    IDENT.with(|i| *i)
}

/// The calling thread's native (kernel) thread id, as `threading.get_native_id()`.
///
/// ```
/// assert!(threadkit::get_native_id() > 0);
/// ```
pub fn get_native_id() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // The raw system call, as CPython's own get_native_id: the gettid() wrapper only exists
        // from glibc 2.30, and the wheel targets glibc 2.17 (manylinux2014), where a call to the
        // missing wrapper would jump to a null address.
        // SAFETY: SYS_gettid takes no arguments and always succeeds.
        (unsafe { libc::syscall(libc::SYS_gettid) }) as u64
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        get_ident()
    }
    #[cfg(not(unix))]
    {
        fallback_ident()
    }
}
