// expect: unused_must_use
// Dropping an unpublished table without retiring it would leak it and its
// destination references: the build (warnings are errors) refuses it.
use super::{
    locked::LockedService,
    registration::Installed, //
};

#[expect(dead_code)]
fn misuse(svc: &mut LockedService<'_>) {
    // SAFETY: (this probe is never run: it must not compile).
    let mut slot = unsafe { svc.sched_data::<Installed<()>>() };
    slot.replace(None);
}
