// SPDX-License-Identifier: GPL-2.0

//! `mh-tool`: IPVS Maglev (`mh`) tables offline, as the `ip_vs_mh`
//! scheduler builds them.
//!
//! [`maglev`] is the module's own hashing core (`src/maglev/` of the
//! repository), included by path, not copied, so the tool computes exactly
//! the tables, lookups and digests the kernel does. [`cli`] declares the
//! command line and [`args`] checks it; [`service`] reads destinations and
//! builds tables; [`view`] reads a director's live state (the module's
//! debugfs view); [`commands`] finds each report ([`report`]) and prints it
//! as text or JSON, and [`metrics`] prints a view for Prometheus. [`run`]
//! ties them together; the binary only prints its result.

#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms)]

// The core's userspace face (`OwnedTable`) builds on `alloc`.
extern crate alloc;

#[path = "../../../src/maglev/mod.rs"]
pub mod maglev;

pub mod args;
pub mod cli;
pub mod commands;
pub mod metrics;
pub mod report;
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
        args::Invocation::Text(text) => Ok(text),
        args::Invocation::Summary(svc, digest, format) => commands::summary(&svc, digest, format),
        args::Invocation::Lookup(svc, clients, format) => commands::lookup(&svc, &clients, format),
        args::Invocation::Plan(svc, plan) => commands::plan(&svc, &plan),
        args::Invocation::Compare(directors, sampling, format) => {
            commands::compare(&directors, sampling, format)
        }
        args::Invocation::View(view, format) => commands::view(&view, format),
        args::Invocation::Metrics(view) => Ok(metrics::exposition(&commands::view_report(&view)?)),
    }
}
