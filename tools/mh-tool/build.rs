// SPDX-License-Identifier: GPL-2.0

//! Compiles the shared core (src/maglev/) with its full face and its
//! allocating helpers: the tool uses both (see src/maglev/mod.rs). And
//! writes the man pages and the bash, zsh and fish completions from the
//! command-line grammar (src/cli.rs) into OUT_DIR, or into
//! MH_TOOL_ASSETS_DIR when set (the Debian package build installs them from
//! there).

use clap::CommandFactory;
use clap_complete::Shell;
use std::path::PathBuf;

#[path = "src/cli.rs"]
mod cli;

fn main() -> std::io::Result<()> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/cli.rs");
    println!("cargo::rerun-if-env-changed=MH_TOOL_ASSETS_DIR");
    println!("cargo::rustc-check-cfg=cfg(maglev_full)");
    println!("cargo::rustc-check-cfg=cfg(maglev_alloc)");
    println!("cargo::rustc-cfg=maglev_full");
    println!("cargo::rustc-cfg=maglev_alloc");

    let dir = match std::env::var_os("MH_TOOL_ASSETS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")),
    };
    let mut cmd = cli::Cli::command();
    let man = dir.join("man");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(cmd.clone(), &man)?;
    let completions = dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd, "mh-tool", &completions)?;
    }
    Ok(())
}
