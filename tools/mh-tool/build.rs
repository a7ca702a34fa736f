// SPDX-License-Identifier: GPL-2.0

//! Compiles the shared core (src/maglev/) with its full face and its
//! allocating helpers: the tool uses both (see src/maglev/mod.rs).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(maglev_full)");
    println!("cargo::rustc-check-cfg=cfg(maglev_alloc)");
    println!("cargo::rustc-cfg=maglev_full");
    println!("cargo::rustc-cfg=maglev_alloc");
}
