// expect: E0599
// An unpublished table gives out no reference: its destination references
// are dropped when it is retired, and only RCU readers may still look.
use super::{
    locked::LockedService,
    registration::Installed, //
};

#[expect(dead_code)]
fn misuse(svc: &mut LockedService<'_>) {
    // SAFETY: (this probe is never run: it must not compile).
    let mut slot = unsafe { svc.sched_data::<Installed<()>>() };
    if let Some(old) = slot.replace(None) {
        let _table = old.get();
        old.retire(|_| ());
    }
}
