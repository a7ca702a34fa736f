// expect: E0499
// Two writer slots for one service: `current()` from one and `replace()` on
// the other would leave a dangling borrow, so the second cannot be made
// while the first lives.
use super::{
    locked::LockedService,
    registration::Installed, //
};

#[expect(dead_code)]
fn misuse(svc: &mut LockedService<'_>) {
    // SAFETY: (this probe is never run: it must not compile).
    let first = unsafe { svc.sched_data::<Installed<()>>() };
    // SAFETY: (as above).
    let second = unsafe { svc.sched_data::<Installed<()>>() };
    drop((first, second));
}
