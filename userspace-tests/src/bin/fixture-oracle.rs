// SPDX-License-Identifier: GPL-2.0

//! Fills in a hand-written fixture's expected destinations from the C model.
//!
//! Usage: `cargo run --bin fixture-oracle -- FILE > NEW_FILE`
//!
//! Every `client ADDR PORT EXPECTED` line gets the C model's answer in place
//! of EXPECTED (write `?` there while drafting); all other lines are copied.
//! Fails if the Rust core disagrees with the model. The fixture's `source`
//! line should then say the values come from the C model.

use std::process::ExitCode;
use userspace_tests::fixture::{decide, parse, raw_ip, Decision};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: fixture-oracle FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Drafts may leave the answers open.
    let draft: String = text.lines().map(|l| draft_line(l) + "\n").collect();
    let f = match parse(&draft) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let answers = match decide(&f) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut answers = answers.into_iter();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            ["client", addr, port, _, ..] => {
                let Some(Decision { rust, c }) = answers.next() else {
                    eprintln!("{path}: more client lines than probes");
                    return ExitCode::FAILURE;
                };
                if rust != c {
                    eprintln!("{path}: {line}: Rust {rust:?} differs from C {c:?}");
                    return ExitCode::FAILURE;
                }
                let want = c.map_or_else(|| "none".to_string(), |i| i.to_string());
                println!("client {addr} {port} {want}");
            }
            _ => println!("{line}"),
        }
    }
    ExitCode::SUCCESS
}

/// A client line with `?` (or anything unparsable) as answer reads as `none`.
fn draft_line(line: &str) -> String {
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields[..] {
        ["client", addr, port, expect, ..] if expect == "?" && addr.parse().map(raw_ip).is_ok() => {
            format!("client {addr} {port} none")
        }
        _ => line.to_string(),
    }
}
