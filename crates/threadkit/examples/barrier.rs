//! Three threads compute in phases; a `Barrier(3)` keeps them in step: nobody starts phase
//! N+1 before all finished phase N. `wait` returns each thread's arrival index; one of them
//! (index 0) reports the phase.
//!
//! Run: `cargo run -p threadkit --example barrier`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use threadkit::{Barrier, Builder};

const PHASES: usize = 3;
const PARTIES: usize = 3;

fn main() {
    let barrier = Arc::new(Barrier::new(PARTIES));
    let done_in_phase: Arc<Vec<AtomicUsize>> =
        Arc::new((0..PHASES).map(|_| AtomicUsize::new(0)).collect());

    let threads: Vec<_> = (0..PARTIES)
        .map(|i| {
            let (barrier, done) = (barrier.clone(), done_in_phase.clone());
            Builder::new()
                .name(format!("stage-{i}"))
                .spawn(move || {
                    for phase in 0..PHASES {
                        // Everyone finished the previous phase before anyone got here.
                        if phase > 0 {
                            assert_eq!(done[phase - 1].load(Ordering::SeqCst), PARTIES);
                        }
                        done[phase].fetch_add(1, Ordering::SeqCst);
                        let index = barrier.wait().expect("barrier not broken");
                        if index == 0 {
                            println!("phase {phase}: all {PARTIES} threads arrived");
                        }
                    }
                })
                .expect("spawn")
        })
        .collect();
    for t in threads {
        t.join().expect("ok");
    }
    println!("all {PHASES} phases completed in step");
}
