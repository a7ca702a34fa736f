// SPDX-License-Identifier: GPL-2.0

//! Golden fixtures: every `fixtures/*.mhfx` file, whether recorded from the
//! in-tree C module in a VM or hand-written, must be reproduced by the Rust
//! core (and by the C model, which keeps the oracle honest).

mod common;

use std::path::Path;
use userspace_tests::fixture::{decide, parse};

#[test]
fn every_fixture_matches() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let all = common::fixture::load_dir(&dir);
    assert!(!all.is_empty(), "no fixture in {}", dir.display());
    let mut failures = Vec::new();
    for (path, parsed) in &all {
        let f = match parsed {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{path}: {e}"));
                continue;
            }
        };
        let got = match decide(f) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{path}: {e}"));
                continue;
            }
        };
        for (p, d) in f.probes.iter().zip(got) {
            let (rust, c) = (d.rust, d.c);
            if rust != p.expect {
                failures.push(format!(
                    "{path}:{}: Rust core chose {rust:?}, expected {:?}",
                    p.line, p.expect
                ));
            }
            if c != p.expect {
                failures.push(format!(
                    "{path}:{}: C model chose {c:?}, expected {:?}",
                    p.line, p.expect
                ));
            }
        }
        eprintln!("fixture {path}: {} probes ({})", f.probes.len(), f.source);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parser_rejects_bad_input() {
    let good = "source test\nindex 8\naf inet\nflags none\ndest 10.0.0.1 80 1 1 0\n";
    assert!(parse(good).is_ok());
    for (bad, why) in [
        ("index 8\naf inet\n", "missing source"),
        ("source s\naf inet\n", "missing index"),
        ("source s\nindex 8\naf ipx\n", "bad af"),
        (
            "source s\nindex 8\naf inet\nflags mh-nope\n",
            "unknown flag",
        ),
        (
            "source s\nindex 8\naf inet\ndest 10.0.0.1 80 1\n",
            "short dest",
        ),
        (
            "source s\nindex 8\naf inet\ndest 10.0.0.1 80 1 1 2\n",
            "overload 2",
        ),
        (
            "source s\nindex 8\naf inet\nclient 1.2.3.4 5 0\n",
            "index out of range",
        ),
        (
            "source s\nindex 8\naf inet\nclient 1.2.3.4 5 9.9.9.9:1\n",
            "unknown dest",
        ),
        ("source s\nindex 8\naf inet\nbogus 1\n", "unknown key"),
    ] {
        assert!(parse(bad).is_err(), "accepted: {why}");
    }
    let f = parse(&format!("{good}dest [::1]:1 1 1 1 0\n"));
    assert!(f.is_err(), "bracketed address in dest line");
    let f = parse(&format!(
        "{good}x-note anything\nclient 192.0.2.1 1000 10.0.0.1:80 # comment\nclient 192.0.2.2 1000 none\n"
    ))
    .expect("parses");
    assert_eq!(f.probes[0].expect, Some(0));
    assert_eq!(f.probes[1].expect, None);
}
