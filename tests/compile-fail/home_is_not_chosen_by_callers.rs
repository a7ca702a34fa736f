// expect: E0603 E0624
// place: src/mh
// The scheduler side can neither reach the homes the callbacks use nor make
// a claim: only a registration claims a home (compare-exchange), and only
// it gives it back.
#[expect(dead_code)]
fn misuse() {
    let _claim = crate::ipvs::home::Claim::new(core::ptr::null());
}
