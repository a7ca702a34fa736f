// SPDX-License-Identifier: GPL-2.0

//! The C model's answers for fixture files.
//!
//! Usage:
//! - `fixture-oracle FILE > NEW_FILE`: fills in a hand-written fixture's
//!   expected destinations from the C model. Every `client ADDR PORT
//!   EXPECTED` line gets the C model's answer in place of EXPECTED (write `?`
//!   there while drafting); all other lines are copied. The fixture's
//!   `source` line should then say the values come from the C model.
//! - `fixture-oracle --digest FILE`: the digest of the C model's table for
//!   the file's service (`0x` and 16 hex digits).
//! - `fixture-oracle --answers FILE...`: for each file, a line `digest
//!   0x...` and then `client ADDR PORT ANSWER` per client line, ANSWER being
//!   the destination's index in the file's list or `none`: what the
//!   scenarios compare a director with, for many services in one run.
//!
//! Every mode fails if the Rust core disagrees with the C model on a client.

use std::process::ExitCode;
use userspace_tests::fixture::{c_digest, decide, parse, raw_ip, Decision, Fixture};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--digest") if args.len() == 2 => read(&args[1]).and_then(|(_, f)| {
            println!("{:#018x}", c_digest(&f)?);
            Ok(())
        }),
        Some("--answers") if args.len() > 1 => args[1..].iter().try_for_each(|path| answers(path)),
        Some(path) if args.len() == 1 && !path.starts_with("--") => fill(path),
        _ => {
            eprintln!("usage: fixture-oracle FILE | --digest FILE | --answers FILE...");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// The file's text and its fixture, with `?` answers read as `none`.
fn read(path: &str) -> Result<(String, Fixture), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let draft: String = text.lines().map(|l| draft_line(l) + "\n").collect();
    let f = parse(&draft).map_err(|e| format!("{path}: {e}"))?;
    Ok((text, f))
}

/// The C model's decisions, checked against the Rust core's.
fn decisions(path: &str, f: &Fixture) -> Result<Vec<Option<usize>>, String> {
    decide(f)
        .map_err(|e| format!("{path}: {e}"))?
        .into_iter()
        .zip(&f.probes)
        .map(|(Decision { rust, c }, p)| {
            if rust == c {
                Ok(c)
            } else {
                Err(format!(
                    "{path}: line {}: Rust {rust:?} differs from C {c:?}",
                    p.line
                ))
            }
        })
        .collect()
}

fn answers(path: &str) -> Result<(), String> {
    let (text, f) = read(path)?;
    println!("digest {:#018x}", c_digest(&f)?);
    let mut answers = decisions(path, &f)?.into_iter();
    for line in text.lines() {
        if let ["client", addr, port, ..] = line.split_whitespace().collect::<Vec<_>>()[..] {
            let answer = answers
                .next()
                .ok_or(format!("{path}: more client lines than probes"))?;
            let answer = answer.map_or_else(|| "none".to_string(), |i| i.to_string());
            println!("client {addr} {port} {answer}");
        }
    }
    Ok(())
}

fn fill(path: &str) -> Result<(), String> {
    let (text, f) = read(path)?;
    let mut answers = decisions(path, &f)?.into_iter();
    for line in text.lines() {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["client", addr, port, _, ..] => {
                let answer = answers
                    .next()
                    .ok_or(format!("{path}: more client lines than probes"))?;
                let want = answer.map_or_else(|| "none".to_string(), |i| i.to_string());
                println!("client {addr} {port} {want}");
            }
            _ => println!("{line}"),
        }
    }
    Ok(())
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
