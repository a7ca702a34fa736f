// SPDX-License-Identifier: GPL-2.0

//! Compiles the C model of the in-tree scheduler (the test oracle and
//! benchmark baseline) at -O2, like the kernel.

fn main() {
    println!("cargo:rerun-if-changed=oracle/mh_model.c");
    println!("cargo:rerun-if-changed=oracle/mh_model.h");
    cc::Build::new()
        .file("oracle/mh_model.c")
        .opt_level(2)
        .debug(false)
        .flag_if_supported("-std=gnu11")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("mh_model");
}
