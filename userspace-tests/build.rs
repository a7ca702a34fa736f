// SPDX-License-Identifier: GPL-2.0

//! Compiles the C model of the in-tree scheduler (the test oracle and
//! benchmark baseline) at -O2, like the kernel, and the shared core
//! (src/maglev/) with its full face and allocating helpers (see
//! src/maglev/mod.rs).
//!
//! The object is linked by path under a name that ends neither in `.o` nor
//! in `.a`: the module's `make clean` (kbuild, run from the repository
//! root) deletes every such file below it, including in this crate's
//! `target/`, and cargo would not notice that a build script's output went
//! missing.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(maglev_full)");
    println!("cargo::rustc-check-cfg=cfg(maglev_alloc)");
    println!("cargo::rustc-cfg=maglev_full");
    println!("cargo::rustc-cfg=maglev_alloc");
    println!("cargo:rerun-if-changed=oracle/mh_model.c");
    println!("cargo:rerun-if-changed=oracle/mh_model.h");
    let objects = cc::Build::new()
        .file("oracle/mh_model.c")
        .opt_level(2)
        .debug(false)
        .flag_if_supported("-std=gnu11")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile_intermediates();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (i, obj) in objects.iter().enumerate() {
        // Any suffix the compiler driver does not know is linked as an object.
        let kept = out.join(format!("mh_model-{i}.oracle-obj"));
        std::fs::rename(obj, &kept).expect("renaming the C model's object");
        // Tests and binaries are the only targets that link.
        println!("cargo:rustc-link-arg={}", kept.display());
    }
}
