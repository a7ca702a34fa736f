// SPDX-License-Identifier: GPL-2.0

//! `mh-tool`: IPVS Maglev (`mh`) tables offline, as the `ip_vs_mh`
//! scheduler builds them.
//!
//! [`maglev`] is the module's own hashing core (`src/maglev/` of the
//! repository), included by path, not copied, so the tool computes exactly
//! the tables, lookups and digests the kernel does. [`args`] parses the
//! command line, [`service`] reads destinations and builds tables, and
//! [`view`] reads a director's live state (the
//! module's debugfs view), and [`commands`] prints the four reports. [`run`] ties them together; the
//! binary only prints its result.

#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms)]

// The core's userspace face (`OwnedTable`) builds on `alloc`.
extern crate alloc;

#[path = "../../../src/maglev/mod.rs"]
pub mod maglev;

pub mod args;
pub mod commands;
pub mod service;
pub mod view;

use std::fmt;

/// A usage or input error: the tool prints it as one line and exits with
/// status 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs the tool on its arguments (without the program name) and returns
/// what it prints on standard output.
pub fn run(argv: &[String]) -> Result<String, UsageError> {
    match args::parse(argv)? {
        args::Invocation::Help(text) => Ok(text),
        args::Invocation::Version => Ok(format!("mh-tool {}\n", env!("CARGO_PKG_VERSION"))),
        args::Invocation::Summary(svc, digest) => commands::summary(&svc, digest),
        args::Invocation::Lookup(svc, clients) => commands::lookup(&svc, &clients),
        args::Invocation::Plan(svc, plan) => commands::plan(&svc, &plan),
        args::Invocation::Compare(directors, sampling) => commands::compare(&directors, sampling),
    }
}
