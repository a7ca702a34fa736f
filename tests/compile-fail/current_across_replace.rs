// expect: E0502
// The table in force cannot be held across the store that retires it.
use super::{
    locked::LockedService,
    registration::Installed, //
};

#[expect(dead_code)]
fn misuse(svc: &mut LockedService<'_>) {
    // SAFETY: (this probe is never run: it must not compile).
    let mut slot = unsafe { svc.sched_data::<Installed<()>>() };
    let current = slot.current();
    if let Some(old) = slot.replace(None) {
        old.retire(|_| ());
    }
    drop(current);
}
