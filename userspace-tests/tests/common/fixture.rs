// SPDX-License-Identifier: GPL-2.0

//! Reading the fixture directory.

use std::path::Path;
use userspace_tests::fixture::{parse, Fixture, ParseError};

/// Loads every `*.mhfx` file of `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Vec<(String, Result<Fixture, ParseError>)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "mhfx"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            (p.display().to_string(), parse(&text))
        })
        .collect()
}
