// SPDX-License-Identifier: GPL-2.0

//! Runs the `mh-tool` binary: help and version, every input error, summary
//! digests against the core, lookups against every fixture of
//! userspace-tests, and plan numbers.

use mh_tool::maglev::{table_digest, Addr, Dest, Family, OwnedTable, TableSize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Exit status, standard output and standard error of one run.
struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run<S: AsRef<str>>(args: &[S]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_mh-tool"))
        .args(args.iter().map(AsRef::as_ref))
        .output()
        .expect("runs mh-tool");
    Run {
        code: o.status.code().expect("exit status"),
        out: String::from_utf8(o.stdout).expect("UTF-8 stdout"),
        err: String::from_utf8(o.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs and expects success.
fn ok<S: AsRef<str>>(args: &[S]) -> String {
    let r = run(args);
    assert_eq!(r.code, 0, "stderr: {}", r.err);
    assert!(r.err.is_empty(), "stderr: {}", r.err);
    r.out
}

/// The value after `key` on the line that starts with it.
fn value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no line {key:?} in:\n{out}"))
        .trim()
}

/// The `digest:` line's value.
fn digest(out: &str) -> u64 {
    let v = value(out, "digest:");
    u64::from_str_radix(v.strip_prefix("0x").expect("0x"), 16).expect("hex digest")
}

/// A percentage `N.NN%` in parentheses after `key`, as a fraction.
fn percent(out: &str, key: &str) -> f64 {
    let v = value(out, key);
    let start = v.find('(').expect("(") + 1;
    let end = v.find("%)").expect("%)");
    v[start..end].parse::<f64>().expect("a percentage") / 100.0
}

/// The fixture directory of userspace-tests.
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../userspace-tests/fixtures")
}

/// The example fixture's destinations as `--dest` arguments.
const EXAMPLE_V4: [&str; 5] = [
    "10.0.1.5:8080:1",
    "10.0.1.4:8080:0:3",
    "10.0.1.3:8080:2",
    "10.0.1.2:8080:2",
    "10.0.1.1:8080:1",
];

fn with_dests(mut args: Vec<String>, dests: &[&str]) -> Vec<String> {
    for d in dests {
        args.push("--dest".into());
        args.push(d.to_string());
    }
    args
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The digest computed with the core directly.
fn core_digest(index: u32, family: Family, dests: &[(IpAddr, u16, i32)]) -> u64 {
    let size = TableSize::new(index).expect("valid index");
    let dests: Vec<Dest> = dests
        .iter()
        .map(|&(ip, port, last_weight)| {
            let raw = match ip {
                IpAddr::V4(a) => {
                    let mut raw = [0u8; 16];
                    raw[..4].copy_from_slice(&a.octets());
                    raw
                }
                IpAddr::V6(a) => a.octets(),
            };
            Dest {
                addr: Addr::from_nf_inet_addr(family, &raw),
                port,
                last_weight,
            }
        })
        .collect();
    let table = OwnedTable::<u16>::build(size, &dests).expect("builds");
    table_digest(size, &dests, &table.slots)
}

#[test]
fn help_and_version() {
    // The tool's help lists the commands; each command's help its options.
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let out = ok(args);
        assert!(out.starts_with("IPVS Maglev (mh) tables offline"), "{out}");
        assert!(out.contains("\nUsage: mh-tool <COMMAND>\n"), "{out}");
        for word in [
            "summary",
            "lookup",
            "plan",
            "compare",
            "view",
            "metrics",
            "--version",
            "Exit status",
        ] {
            assert!(out.contains(word), "help lacks {word}:\n{out}");
        }
    }
    let options: [(&[&str], &[&str]); 6] = [
        (
            &["summary", "--help"],
            &[
                "--dest",
                "--file",
                "--index",
                "--af",
                "--flags",
                "--view",
                "--service",
                "--json",
            ],
        ),
        (&["help", "lookup"], &["--client", "--dest", "--json"]),
        (
            &["plan", "--dest", "10.0.0.1:80", "-h"],
            &["--add", "--remove", "--reweight", "--sample", "--seed"],
        ),
        (
            &["compare", "--help"],
            &["--view", "--service", "--sample", "--json"],
        ),
        (
            &["view", "--help"],
            &["--view", "--json", "/sys/kernel/debug/ip_vs_mh/tables"],
        ),
        (&["metrics", "--help"], &["--view", "Prometheus"]),
    ];
    for (args, words) in options {
        let out = ok(args);
        assert!(out.contains("Usage: mh-tool "), "{args:?}: {out}");
        for word in words {
            assert!(out.contains(word), "{args:?}: help lacks {word}:\n{out}");
        }
    }
    for args in [["--version"], ["-V"]] {
        assert_eq!(
            ok(&args),
            format!("mh-tool {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn every_input_error_is_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("mh-tool-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let too_many = dir.join("too-many.mhfx");
    let text: String = std::iter::once("index 8\n".to_string())
        .chain((0..252).map(|i| format!("dest 10.0.{}.{} 80 1 1 0\n", i / 200, i % 200)))
        .collect();
    std::fs::write(&too_many, text).expect("write");
    let bad_line = dir.join("bad-line.mhfx");
    std::fs::write(
        &bad_line,
        "index 8\ndest 10.0.0.1 80 1 1 0\ndest 10.0.0.2 99999 1 1 0\n",
    )
    .expect("write");
    let too_many = too_many.display().to_string();
    let bad_line = bad_line.display().to_string();
    let many_dests: Vec<String> = (0..252)
        .flat_map(|i| {
            [
                "--dest".to_string(),
                format!("10.0.{}.{}:80", i / 200, i % 200),
            ]
        })
        .collect();

    let mut cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "missing command"),
        (strings(&["frob"]), "unknown command 'frob'"),
        (strings(&["--frob"]), "unknown option '--frob'"),
        (
            strings(&["summary", "--dest", "10.0.0.300:80"]),
            "--dest 10.0.0.300:80: bad address '10.0.0.300'",
        ),
        (
            strings(&["summary", "--dest", "[2001:db8::g]:80"]),
            "--dest [2001:db8::g]:80: bad IPv6 address",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1"]),
            "--dest 10.0.0.1: missing port",
        ),
        (
            strings(&["summary", "--dest", "2001:db8::1:80"]),
            "--dest 2001:db8::1:80: missing port",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1:65536"]),
            "--dest 10.0.0.1:65536: port 65536 out of range",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1:http"]),
            "--dest 10.0.0.1:http: bad port 'http'",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1:80:-1"]),
            "--dest 10.0.0.1:80:-1: bad weight '-1'",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1:80:2147483648"]),
            "weight 2147483648 out of range",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1:80:1:x"]),
            "--dest 10.0.0.1:80:1:x: bad last weight 'x'",
        ),
        (
            strings(&["summary", "--dest", "10.0.0.1:80:1:1:1"]),
            "--dest 10.0.0.1:80:1:1:1: too many fields",
        ),
        (
            strings(&[
                "summary",
                "--dest",
                "10.0.0.1:80",
                "--flags",
                "mh-port,mh-bogus",
            ]),
            "--flags mh-port,mh-bogus: unknown flag 'mh-bogus'",
        ),
        (
            strings(&[
                "summary",
                "--dest",
                "10.0.0.1:80",
                "--dest",
                "10.0.0.1:80:5",
            ]),
            "--dest 10.0.0.1:80:5: duplicate destination 10.0.0.1:80",
        ),
        (
            strings(&["summary", "--index", "7"]),
            "--index 7: table index 7 out of range (8 to 17)",
        ),
        (
            strings(&["summary", "--index", "18"]),
            "--index 18: table index 18 out of range (8 to 17)",
        ),
        (
            strings(&["summary", "--index", "twelve"]),
            "--index twelve: bad table index",
        ),
        (
            strings(&["summary", "--index", "8", "--index", "9"]),
            "option --index given twice",
        ),
        (
            strings(&["summary", "--af", "inet7"]),
            "--af inet7: unknown family",
        ),
        (
            strings(&["summary", "--dest"]),
            "option --dest needs a value",
        ),
        (
            strings(&["summary", "--bogus", "1"]),
            "unknown option '--bogus' for summary",
        ),
        (
            strings(&["summary", "--bogus=1"]),
            "unknown option '--bogus' for summary",
        ),
        (
            strings(&["summary", "stray"]),
            "unexpected argument 'stray' for summary",
        ),
        (
            strings(&["summary", "--client", "10.0.0.1"]),
            "unknown option '--client' for summary",
        ),
        (
            strings(&["summary", "--file", "/nonexistent/x.mhfx"]),
            "--file /nonexistent/x.mhfx: cannot read",
        ),
        (
            strings(&["summary", "--file", &bad_line]),
            "line 3: port 99999 out of range",
        ),
        (
            strings(&["summary", "--file", &too_many]),
            "252 destinations, more than the 251 slots of table index 8",
        ),
        (
            strings(&["summary", "--file", &bad_line, "--dest", "10.0.0.1:80"]),
            "--dest and --file cannot be combined",
        ),
        (
            strings(&["lookup", "--dest", "10.0.0.1:80"]),
            "lookup needs at least one --client",
        ),
        (
            strings(&["lookup", "--dest", "10.0.0.1:80", "--client", "2001:db8::1"]),
            "--client 2001:db8::1: an inet6 client, but the service is inet",
        ),
        (
            strings(&[
                "lookup",
                "--dest",
                "10.0.0.1:80",
                "--client",
                "10.0.0.2:99999",
            ]),
            "--client 10.0.0.2:99999: port 99999 out of range",
        ),
        (
            strings(&["lookup", "--dest", "10.0.0.1:80", "--client", "nowhere"]),
            "--client nowhere: bad address 'nowhere'",
        ),
        (
            strings(&["plan", "--dest", "10.0.0.1:80"]),
            "plan needs at least one --add, --remove or --reweight",
        ),
        (
            strings(&["plan", "--dest", "10.0.0.1:80", "--remove", "10.0.0.2:80"]),
            "--remove 10.0.0.2:80: no such destination",
        ),
        (
            strings(&[
                "plan",
                "--dest",
                "10.0.0.1:80",
                "--reweight",
                "10.0.0.2:80:3",
            ]),
            "--reweight 10.0.0.2:80:3: no such destination",
        ),
        (
            strings(&["plan", "--dest", "10.0.0.1:80", "--reweight", "10.0.0.1:80"]),
            "--reweight 10.0.0.1:80: missing weight",
        ),
        (
            strings(&["plan", "--dest", "10.0.0.1:80", "--add", "10.0.0.1:80:2"]),
            "--add 10.0.0.1:80:2: duplicate destination 10.0.0.1:80",
        ),
        (
            strings(&["plan", "--dest", "10.0.0.1:80", "--add", "10.0.0.2:80:x"]),
            "--add 10.0.0.2:80:x: bad weight 'x'",
        ),
        (
            strings(&[
                "plan",
                "--dest",
                "10.0.0.1:80",
                "--remove",
                "10.0.0.1:80",
                "--sample",
                "-5",
            ]),
            "--sample -5: bad sample size",
        ),
        (
            strings(&[
                "plan",
                "--dest",
                "10.0.0.1:80",
                "--remove",
                "10.0.0.1:80",
                "--seed",
                "x",
            ]),
            "--seed x: bad seed",
        ),
    ];
    let mut full = strings(&["summary", "--index", "8"]);
    full.extend(many_dests.iter().cloned());
    cases.push((
        full,
        "--dest: 252 destinations, more than the 251 slots of table index 8",
    ));
    let mut add_one_too_many = strings(&["plan", "--index", "8"]);
    add_one_too_many.extend(many_dests[2..].iter().cloned());
    add_one_too_many.extend(strings(&["--add", "192.0.2.1:80"]));
    cases.push((add_one_too_many, "--add 192.0.2.1:80: 252 destinations"));

    for (args, want) in cases {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.err);
        assert!(r.out.is_empty(), "{args:?} printed {}", r.out);
        assert!(r.err.starts_with("mh-tool: "), "{args:?}: {}", r.err);
        assert_eq!(r.err.lines().count(), 1, "{args:?}: {}", r.err);
        assert!(r.err.contains(want), "{args:?}: {} lacks {want:?}", r.err);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn summary_of_a_known_config() {
    let out = ok(&with_dests(
        strings(&["summary", "--index", "8", "--flags", "mh-port,mh-fallback"]),
        &EXAMPLE_V4,
    ));
    assert_eq!(value(&out, "table size:"), "251 slots (index 8)");
    assert_eq!(value(&out, "family:"), "inet");
    assert_eq!(value(&out, "flags:"), "mh-fallback,mh-port");
    assert!(value(&out, "order:").starts_with("list order"));
    assert_eq!(value(&out, "destinations:"), "5");
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let expect = core_digest(
        8,
        Family::Inet,
        &[
            (ip("10.0.1.5"), 8080, 1),
            (ip("10.0.1.4"), 8080, 3),
            (ip("10.0.1.3"), 8080, 2),
            (ip("10.0.1.2"), 8080, 2),
            (ip("10.0.1.1"), 8080, 1),
        ],
    );
    assert_eq!(digest(&out), expect);
    // The known answer of userspace-tests/tests/digest.rs.
    assert_eq!(digest(&out), 0xac7b_515b_4096_c49a);
    assert!(
        out.ends_with(&format!("\ndigest: {expect:#018x}\n")),
        "{out}"
    );

    // The destination rows: slots add up to M, weights and shares shown.
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 5, "{out}");
    let slots: u32 = rows
        .iter()
        .map(|r| r[6].parse::<u32>().expect("slots"))
        .sum();
    assert_eq!(slots, 251);
    assert_eq!(&rows[1][..6], ["1", "10.0.1.4", "8080", "0", "3", "3"]);
    assert!(rows.iter().all(|r| r[7].ends_with('%')));

    // The same service from the fixture file gives the same digest.
    let file = fixtures_dir().join("example-v4.mhfx");
    let from_file = ok(&["summary", "--file", &file.display().to_string()]);
    assert_eq!(digest(&from_file), expect);
}

#[test]
fn summary_ipv6_and_defaults() {
    let out = ok(&[
        "summary",
        "--dest",
        "[2001:db8::1]:443",
        "--dest",
        "[2001:db8::2]:443:3",
    ]);
    assert_eq!(value(&out, "family:"), "inet6");
    assert_eq!(value(&out, "table size:"), "4093 slots (index 12)");
    assert_eq!(value(&out, "flags:"), "none");
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    assert_eq!(
        digest(&out),
        core_digest(
            12,
            Family::Inet6,
            &[(ip("2001:db8::1"), 443, 1), (ip("2001:db8::2"), 443, 3)]
        )
    );
    // No destination at all: an empty table.
    let out = ok(&["summary", "--index", "8"]);
    assert!(value(&out, "empty slots:").starts_with("251"), "{out}");
}

#[test]
fn canonical_order_digest_ignores_the_given_order() {
    let reversed: Vec<&str> = EXAMPLE_V4.iter().rev().copied().collect();
    let base = strings(&["summary", "--index", "8", "--flags", "flag-3"]);
    let a = ok(&with_dests(base.clone(), &EXAMPLE_V4));
    let b = ok(&with_dests(base, &reversed));
    assert!(value(&a, "order:").starts_with("canonical"));
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(a, b);
    // In list order the given order matters (here it changes the table).
    let base = strings(&["summary", "--index", "8"]);
    let c = ok(&with_dests(base.clone(), &EXAMPLE_V4));
    let d = ok(&with_dests(base, &reversed));
    assert_ne!(digest(&c), digest(&d));
}

/// A fixture's destinations and clients, read the way its format says.
struct Fixture {
    dests: Vec<SocketAddr>,
    /// (client as `--client` takes it, expected server or `None`).
    clients: Vec<(String, Option<SocketAddr>)>,
}

fn read_fixture(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let mut dests = Vec::new();
    let mut raw_clients = Vec::new();
    for l in text.lines() {
        let l = l.split('#').next().unwrap_or("");
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.first() {
            Some(&"dest") => {
                let ip: IpAddr = f[1].parse().expect("dest address");
                dests.push(SocketAddr::new(ip, f[2].parse().expect("dest port")));
            }
            Some(&"client") => raw_clients.push((
                f[1].parse::<IpAddr>().expect("client address"),
                f[2].parse::<u16>().expect("client port"),
                f[3].to_string(),
            )),
            _ => {}
        }
    }
    let clients = raw_clients
        .into_iter()
        .map(|(ip, port, expect)| {
            let expect = if expect == "none" {
                None
            } else if let Ok(i) = expect.parse::<usize>() {
                Some(dests[i])
            } else {
                Some(expect.parse::<SocketAddr>().expect("expected addr:port"))
            };
            (SocketAddr::new(ip, port).to_string(), expect)
        })
        .collect();
    Fixture { dests, clients }
}

#[test]
fn lookup_agrees_with_every_fixture() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "mhfx"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let mut checked = 0;
    for path in &paths {
        let fx = read_fixture(path);
        assert!(!fx.dests.is_empty(), "{}", path.display());
        let mut args = strings(&["lookup", "--file", &path.display().to_string()]);
        for (c, _) in &fx.clients {
            args.push("--client".into());
            args.push(c.clone());
        }
        if fx.clients.is_empty() {
            continue;
        }
        let out = ok(&args);
        // Rows: client, slot, real server, note.
        let rows: Vec<Vec<&str>> = out
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("client  "))
            .skip(1)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(rows.len(), fx.clients.len(), "{}:\n{out}", path.display());
        for ((client, expect), row) in fx.clients.iter().zip(&rows) {
            assert_eq!(row[0], client);
            let got = match row[2] {
                "none" => None,
                s => Some(s.parse::<SocketAddr>().expect("server addr:port")),
            };
            assert_eq!(got, *expect, "{} client {client}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} clients checked");
}

#[test]
fn lookup_notes_fallback_and_unavailable() {
    // 10.0.1.4 has weight 0 (last weight 3) and owns a third of the slots.
    let base = strings(&["lookup", "--index", "8", "--flags", "mh-port"]);
    let mut args = with_dests(base, &EXAMPLE_V4);
    for port in 40000..40030 {
        args.push("--client".into());
        args.push(format!("192.0.2.1:{port}"));
    }
    let without = ok(&args);
    let with_fallback = ok(&args
        .iter()
        .map(|a| {
            if a == "mh-port" {
                "mh-port,mh-fallback".to_string()
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>());
    assert!(without.lines().any(|l| {
        l.split_whitespace().nth(2) == Some("none")
            && l.ends_with("slot owner 10.0.1.4:8080 unavailable (no mh-fallback)")
    }));
    assert!(with_fallback.contains("mh-fallback: slot owner 10.0.1.4:8080 unavailable"));
    assert!(!with_fallback.contains(" none "));
    // Without mh-port the port is not hashed: every client is alike.
    let no_port = ok(&args
        .iter()
        .map(|a| {
            if a == "mh-port" {
                "none".to_string()
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>());
    let servers: std::collections::BTreeSet<&str> = no_port
        .lines()
        .filter(|l| l.trim_start().starts_with("192.0.2.1:"))
        .map(|l| l.split_whitespace().nth(2).expect("server"))
        .collect();
    assert_eq!(servers.len(), 1, "{no_port}");
}

/// Ten equal destinations, newest first.
fn ten() -> Vec<String> {
    (1..=10).rev().map(|i| format!("10.0.0.{i}:80")).collect()
}

#[test]
fn plan_remove_one_of_ten_moves_about_a_tenth() {
    let dests = ten();
    let dests: Vec<&str> = dests.iter().map(String::as_str).collect();
    let summary = ok(&with_dests(strings(&["summary"]), &dests));
    for removed in ["10.0.0.10:80", "10.0.0.5:80", "10.0.0.1:80"] {
        let mut args = with_dests(strings(&["plan"]), &dests);
        args.extend(strings(&["--remove", removed]));
        let out = ok(&args);
        let slots = percent(&out, "slots moved:");
        let flows = percent(&out, "flows moved:");
        // The removed tenth must move; a few percent more may (M / N = 409).
        assert!((0.099..0.125).contains(&slots), "{removed}: {slots}\n{out}");
        // 10000 sampled flows: within a few points of the slot share.
        assert!(
            (flows - slots).abs() < 0.02,
            "{removed}: {flows} vs {slots}"
        );
        assert!(value(&out, "flows moved:").contains("of 10000 sampled"));
        assert_eq!(
            value(&out, "old digest:"),
            format!("{:#018x}", digest(&summary))
        );
        assert_ne!(value(&out, "old digest:"), value(&out, "new digest:"));
        // Deterministic: the same seed gives the same report.
        assert_eq!(out, ok(&args));
    }
}

#[test]
fn plan_add_reweight_and_quiesce() {
    let dests = ten();
    let dests: Vec<&str> = dests.iter().map(String::as_str).collect();
    let run_plan = |extra: &[&str]| {
        let mut args = with_dests(
            strings(&["plan", "--sample", "4000", "--seed", "7"]),
            &dests,
        );
        args.extend(strings(extra));
        ok(&args)
    };
    // An eleventh destination takes about 1/11 of the slots.
    let out = run_plan(&["--add", "10.0.0.11:80"]);
    let slots = percent(&out, "slots moved:");
    assert!((0.09..0.12).contains(&slots), "{slots}\n{out}");
    // The new digest is the summary's of the list with the new one first.
    let mut added = vec!["10.0.0.11:80"];
    added.extend(&dests);
    let after = ok(&with_dests(strings(&["summary"]), &added));
    assert_eq!(
        value(&out, "new digest:"),
        format!("{:#018x}", digest(&after))
    );
    // Weight 0 keeps the last weight: no slot moves, the digest stays, but
    // without mh-fallback that server's flows get no destination.
    let out = run_plan(&["--reweight", "10.0.0.3:80:0"]);
    assert_eq!(value(&out, "slots moved:"), "0 of 4093 (0.00%)");
    assert_eq!(value(&out, "old digest:"), value(&out, "new digest:"));
    let flows = percent(&out, "flows moved:");
    assert!((0.07..0.13).contains(&flows), "{flows}\n{out}");
    assert!(value(&out, "no server:").starts_with("0 sampled flows before"));
    // Doubling one weight moves slots to it.
    let out = run_plan(&["--reweight", "10.0.0.3:80:2"]);
    let slots = percent(&out, "slots moved:");
    assert!((0.05..0.2).contains(&slots), "{slots}\n{out}");
    // Changes apply in order: remove and add back the same server is the
    // old list with that server moved to the head.
    let out = run_plan(&["--remove", "10.0.0.1:80", "--add", "10.0.0.1:80"]);
    assert!(out.contains("change: --remove 10.0.0.1:80\nchange: --add 10.0.0.1:80\n"));
    // --sample 0 skips the flows.
    let mut args = with_dests(strings(&["plan", "--sample", "0"]), &dests);
    args.extend(strings(&["--remove", "10.0.0.1:80"]));
    let out = ok(&args);
    assert_eq!(value(&out, "flows moved:"), "not sampled (--sample 0)");
}

/// A view in the format of the module's debugfs file, for a service of
/// `index` with destinations `(endpoint, weight, last weight)` in table
/// order, and the digest the kernel would report (computed with the core).
fn view_text(
    label: &str,
    flags: &str,
    index: u32,
    order: &str,
    dests: &[(&str, i32, i32)],
) -> String {
    let parsed: Vec<(IpAddr, u16, i32)> = dests
        .iter()
        .map(|&(e, _, lw)| {
            let sa: SocketAddr = e.parse().expect("endpoint");
            (sa.ip(), sa.port(), lw)
        })
        .collect();
    let family = if label.contains('[') {
        Family::Inet6
    } else {
        Family::Inet
    };
    let size = TableSize::new(index).expect("index");
    let mut text = format!(
        "service {label} netns 4026531840 scheduler mh flags {flags}\n  table: {} slots (index {index}), order: {order}, rebuilds: 3, kept: 1, last build: 17 us\n  digest: {:#018x}\n",
        size.slots(),
        core_digest(index, family, &parsed)
    );
    for (e, w, lw) in dests {
        text += &format!("  dest {e} weight {w} last-weight {lw} turns 1 slots 1 share 0.40%\n");
    }
    text
}

fn write_view(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("mh-tool-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write view");
    path.display().to_string()
}

#[test]
fn view_summary_checks_the_kernels_digest() {
    let dests = [
        ("10.0.1.4:80", 1, 1),
        ("10.0.1.3:80", 0, 2),
        ("10.0.1.2:80", 1, 1),
    ];
    let text = view_text(
        "TCP 10.0.0.100:80",
        "mh-port,mh-fallback",
        8,
        "list",
        &dests,
    );
    let a = write_view("summary.tables", &text);
    let out = ok(&["summary", "--view", &a]);
    assert!(out.contains("(the same as computed here)"), "{out}");
    // The last weight comes from the view: the quiesced server keeps 2.
    let listed = ok(&strings(&[
        "summary",
        "--index",
        "8",
        "--flags",
        "mh-port,mh-fallback",
        "--dest",
        "10.0.1.4:80:1",
        "--dest",
        "10.0.1.3:80:0:2",
        "--dest",
        "10.0.1.2:80:1",
    ]));
    assert_eq!(digest(&out), digest(&listed));
    // A view whose digest is not the table's own is flagged.
    let forged = write_view(
        "forged.tables",
        &text.replace("last-weight 2", "last-weight 3"),
    );
    assert!(ok(&["summary", "--view", &forged]).contains("DIFFERENT"));
}

#[test]
fn view_names_the_scheduler_and_older_views_still_parse() {
    let text = view_text(
        "UDP 10.0.0.100:53",
        "mh-port",
        16,
        "list",
        &[("10.0.1.1:53", 1, 1), ("10.0.1.2:53", 2, 2)],
    );
    // A service of its own table size (`ipvsadm -s mh-16`): the scheduler
    // is not part of the label.
    let sized = write_view(
        "sized.tables",
        &text.replace("scheduler mh ", "scheduler mh-16 "),
    );
    let out = ok(&[
        "summary",
        "--view",
        &sized,
        "--service",
        "UDP 10.0.0.100:53 netns 4026531840",
    ]);
    assert!(out.contains("(the same as computed here)"), "{out}");
    assert!(out.contains("65521"), "{out}");
    // Views from before the scheduler was shown.
    let old = write_view("old.tables", &text.replace(" scheduler mh ", " "));
    let out = ok(&["summary", "--view", &old]);
    assert!(out.contains("(the same as computed here)"), "{out}");
}

#[test]
fn view_with_several_services_and_errors() {
    let one = view_text(
        "TCP 10.0.0.100:80",
        "none",
        8,
        "list",
        &[("10.0.1.1:80", 1, 1)],
    );
    let two = view_text(
        "UDP [fd00::100]:53",
        "mh-port",
        9,
        "canonical (flag-3)",
        &[("[fd00:1::1]:53", 1, 1)],
    );
    let both = write_view(
        "both.tables",
        &format!("{one}service TCP 10.0.0.100:81 netns 4026531840 flags none\n  no table\n{two}"),
    );
    // The same service in two namespaces: named by its netns.
    let twice = write_view(
        "twice.tables",
        &format!(
            "{one}{}",
            one.replace("netns 4026531840", "netns 4026532001")
        ),
    );
    let second = ok(&[
        "summary",
        "--view",
        &twice,
        "--service",
        "TCP 10.0.0.100:80 netns 4026532001",
    ]);
    assert!(second.contains("(the same as computed here)"), "{second}");
    // One file, two namespaces (two directors of one test host): a
    // --service per side.
    let pair = ok(&[
        "compare",
        "--view",
        &twice,
        "--view",
        &twice,
        "--service",
        "TCP 10.0.0.100:80 netns 4026531840",
        "--service",
        "TCP 10.0.0.100:80 netns 4026532001",
    ]);
    assert!(pair.contains("equal digests"), "{pair}");
    let r = run(&[
        "summary",
        "--view",
        &twice,
        "--service",
        "TCP 10.0.0.100:80",
    ]);
    assert!(
        r.code == 2 && r.err.contains("is in several namespaces"),
        "{}",
        r.err
    );
    let r = run(&["summary", "--view", &both]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("several services, pick one with --service"),
        "{}",
        r.err
    );
    let v6 = ok(&[
        "summary",
        "--view",
        &both,
        "--service",
        "UDP [fd00::100]:53",
    ]);
    assert!(
        v6.contains("family:       inet6") && v6.contains("canonical"),
        "{v6}"
    );
    assert!(v6.contains("(the same as computed here)"), "{v6}");
    for (args, message) in [
        (
            vec!["summary", "--view", &both, "--service", "TCP 10.0.0.100:81"],
            "no service 'TCP 10.0.0.100:81'",
        ),
        (
            vec!["summary", "--view", "/nonexistent/view"],
            "cannot read",
        ),
        (
            vec!["summary", "--view", &both, "--dest", "10.0.0.1:80"],
            "--view gives the whole service",
        ),
        (vec!["compare", "--view", &both], "compare needs two --view"),
        (
            vec!["compare", "--view", &both, "--view", &both, "--index", "8"],
            "unknown option '--index' for compare",
        ),
        (
            vec!["summary", "--service", "TCP 10.0.0.100:80"],
            "--service picks a service of a --view",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.err.contains(message), "{args:?}: {}", r.err);
        assert_eq!(r.err.lines().count(), 1, "{args:?}: {}", r.err);
    }
    let broken = write_view(
        "broken.tables",
        &one.replace("  dest 10.0.1.1:80 weight", "  dest 10.0.1.1:80 wight"),
    );
    let r = run(&["summary", "--view", &broken]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("line 4"), "{}", r.err);
}

#[test]
fn compare_tells_equal_directors_and_what_differs() {
    let order_a = [
        ("10.0.1.4:80", 1, 1),
        ("10.0.1.3:80", 1, 1),
        ("10.0.1.2:80", 1, 1),
        ("10.0.1.1:80", 1, 1),
    ];
    // B saw 10.0.1.2 fail its health check and come back: IPVS re-added it
    // at the head of its list.
    let order_b = [
        ("10.0.1.2:80", 1, 1),
        ("10.0.1.4:80", 1, 1),
        ("10.0.1.3:80", 1, 1),
        ("10.0.1.1:80", 1, 1),
    ];
    let a = write_view(
        "a.tables",
        &view_text("TCP 10.0.0.100:80", "mh-port", 12, "list", &order_a),
    );
    let b = write_view(
        "b.tables",
        &view_text("TCP 10.0.0.100:80", "mh-port", 12, "list", &order_b),
    );
    let same = ok(&["compare", "--view", &a, "--view", &a]);
    assert!(same.contains("equal digests"), "{same}");
    let out = ok(&["compare", "--view", &a, "--view", &b]);
    assert!(out.contains("digests differ"), "{out}");
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("10.0.1.2:80"))
        .expect("a row for 10.0.1.2");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["10.0.1.2:80", "3", "1", "1", "1"]
    );
    assert!(
        !out.contains("10.0.1.1:80  "),
        "10.0.1.1 keeps its position: {out}"
    );
    let slots = percent(&out, "slots differing:");
    let flows = percent(&out, "flows differing:");
    assert!(slots > 0.0 && slots < 0.5, "{out}");
    assert!(
        (flows - slots).abs() < 0.02,
        "sampled flows follow the slots: {out}"
    );
    // The same two lists in canonical order (flag-3, or the module
    // parameter) agree.
    let ca = write_view(
        "ca.tables",
        &view_text(
            "TCP 10.0.0.100:80",
            "mh-port",
            12,
            "canonical (module parameter canonical_order)",
            &[order_a[3], order_a[2], order_a[1], order_a[0]],
        ),
    );
    let equal = ok(&["compare", "--view", &ca, "--view", &ca]);
    assert!(equal.contains("equal digests"), "{equal}");
    // A weight difference is named.
    let w = write_view(
        "w.tables",
        &view_text(
            "TCP 10.0.0.100:80",
            "mh-port",
            12,
            "list",
            &[order_a[0], order_a[1], ("10.0.1.2:80", 0, 3), order_a[3]],
        ),
    );
    let out = ok(&["compare", "--view", &a, "--view", &w]);
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("10.0.1.2:80"))
        .expect("a row");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["10.0.1.2:80", "3", "3", "1", "3"]
    );
}

/// `args` with `--json`, parsed.
fn json(args: &[&str]) -> serde_json::Value {
    let mut args = strings(args);
    args.push("--json".to_string());
    let out = ok(&args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
}

#[test]
fn json_says_what_the_text_says() {
    let service = [
        "--index",
        "8",
        "--flags",
        "mh-port,mh-fallback",
        "--dest",
        "10.0.1.5:8080:1",
        "--dest",
        "10.0.1.4:8080:0:3",
        "--dest",
        "[fd00::1]:8080:2",
    ];
    let mut args = vec!["summary"];
    args.extend(&service[..8]);
    let text = ok(&args);
    let j = json(&args);
    assert_eq!(j["digest"], format!("{:#018x}", digest(&text)));
    assert_eq!(j["table"]["slots"], 251);
    assert_eq!(j["table"]["index"], 8);
    assert_eq!(j["table"]["family"], "inet");
    assert_eq!(
        j["table"]["flags"],
        serde_json::json!(["mh-fallback", "mh-port"])
    );
    assert_eq!(j["table"]["order"], "list");
    assert!(j["view_digest"].is_null());
    let d = j["destinations"].as_array().expect("destinations");
    assert_eq!(d.len(), 2);
    assert_eq!(d[1]["address"], "10.0.1.4");
    assert_eq!(d[1]["port"], 8080);
    assert_eq!(d[1]["weight"], 0);
    assert_eq!(d[1]["last_weight"], 3);
    assert_eq!(d[1]["available"], false);
    assert_eq!(d[1]["unavailable_because"], "weight 0");
    let slots: u64 = d.iter().map(|x| x["slots"].as_u64().expect("slots")).sum();
    assert_eq!(slots, 251);
    let share: f64 = d.iter().map(|x| x["share"].as_f64().expect("share")).sum();
    assert!((share - 1.0).abs() < 1e-9, "{share}");

    // lookup: the same server as the text report, for every client.
    let mut args = vec!["lookup"];
    args.extend(&service[..8]);
    let clients = ["192.0.2.1:40000", "192.0.2.2:40001", "198.51.100.7:5"];
    for c in clients {
        args.extend(["--client", c]);
    }
    let text = ok(&args);
    let j = json(&args);
    assert_eq!(j["ports_hashed"], true);
    let rows = j["clients"].as_array().expect("clients");
    assert_eq!(rows.len(), clients.len());
    for (row, c) in rows.iter().zip(clients) {
        assert_eq!(row["client"], c);
        let server = row["server"].as_str().unwrap_or("none");
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(c) && l.contains(server)),
            "{c} -> {server} not in:\n{text}"
        );
    }

    // An error under --json is the same one line on stderr, no JSON.
    let r = run(&["summary", "--index", "7", "--json"]);
    assert_eq!(r.code, 2);
    assert!(r.out.is_empty(), "{}", r.out);
    assert!(
        r.err.contains("--index 7: table index 7 out of range"),
        "{}",
        r.err
    );
}

#[test]
fn compare_json_names_the_differences() {
    let a = view_text(
        "TCP 10.0.0.100:80",
        "none",
        8,
        "list",
        &[("10.0.1.2:80", 1, 1), ("10.0.1.1:80", 1, 1)],
    );
    let b = view_text(
        "TCP 10.0.0.100:80",
        "none",
        8,
        "list",
        &[("10.0.1.2:80", 1, 2), ("10.0.1.1:80", 1, 1)],
    );
    let (fa, fb) = (
        write_view("cmp-a.tables", &a),
        write_view("cmp-b.tables", &b),
    );
    let same = json(&["compare", "--view", &fa, "--view", &fa]);
    assert_eq!(same["equal_digests"], true);
    assert_eq!(same["differences"], serde_json::json!([]));
    assert!(same["flows"].is_null());
    let j = json(&["compare", "--view", &fa, "--view", &fb, "--sample", "2000"]);
    assert_eq!(j["equal_digests"], false);
    assert_eq!(j["same_family_and_size"], true);
    assert_eq!(j["directors"][0]["digest_as_computed"], true);
    assert_eq!(j["directors"][1]["digest_as_computed"], true);
    assert_eq!(
        j["differences"],
        serde_json::json!([{
            "server": "10.0.1.2:80",
            "position_a": 1,
            "position_b": 1,
            "last_weight_a": 1,
            "last_weight_b": 2
        }])
    );
    let moved = j["slots_differing"].as_u64().expect("slots_differing");
    assert!(moved > 0 && moved < 251, "{moved}");
    assert_eq!(j["flows"]["sampled"], 2000);
    let changed = j["flows"]["changed"].as_u64().expect("changed");
    assert!(changed > 0 && changed < 2000, "{changed}");
    // The text report says the same numbers.
    let text = ok(&["compare", "--view", &fa, "--view", &fb, "--sample", "2000"]);
    assert!(
        text.contains(&format!("slots differing: {moved} of 251")),
        "{text}"
    );
    assert!(
        text.contains(&format!("flows differing: {changed} of 2000")),
        "{text}"
    );
}

/// A view of two services in two namespaces, one of them without a table,
/// and one with a forged digest.
fn two_service_view() -> String {
    let one = view_text(
        "TCP 10.0.0.100:80",
        "mh-port",
        8,
        "list",
        &[("10.0.1.2:80", 1, 1), ("10.0.1.1:80", 0, 3)],
    );
    let two = view_text(
        "UDP [fd00::100]:53",
        "none",
        9,
        "canonical (flag-3)",
        &[("[fd00:1::1]:53", 2, 2)],
    )
    .replace(
        "netns 4026531840 scheduler mh",
        "netns 4026532001 scheduler mh-9",
    );
    let forged = one
        .replace("10.0.0.100:80", "10.0.0.101:80")
        .replace("last-weight 3", "last-weight 4");
    write_view(
        "two.tables",
        &format!("{one}service TCP 10.0.0.100:81 netns 4026531840 scheduler mh flags none\n  no table\n{two}{forged}"),
    )
}

#[test]
fn view_lists_every_service_with_its_counters() {
    let file = two_service_view();
    let j = json(&["view", "--view", &file]);
    assert_eq!(j["file"], file.as_str());
    let s = j["services"].as_array().expect("services");
    assert_eq!(s.len(), 3, "the service without a table is left out: {j}");
    assert_eq!(s[0]["service"], "TCP 10.0.0.100:80");
    assert_eq!(s[0]["netns"], "4026531840");
    assert_eq!(s[0]["scheduler"], "mh");
    assert_eq!(s[0]["digest_as_computed"], true);
    assert_eq!(
        s[0]["builds"],
        serde_json::json!({"builds": 3, "kept": 1, "last_build_us": 17})
    );
    assert_eq!(s[0]["destinations"][1]["last_weight"], 3);
    assert_eq!(s[1]["service"], "UDP [fd00::100]:53");
    assert_eq!(s[1]["netns"], "4026532001");
    assert_eq!(s[1]["scheduler"], "mh-9");
    assert_eq!(s[1]["table"]["slots"], 509);
    assert_eq!(s[1]["table"]["family"], "inet6");
    assert_eq!(s[1]["table"]["order"], "canonical");
    assert_eq!(s[1]["digest_as_computed"], true);
    assert_eq!(s[2]["digest_as_computed"], false);
    let text = ok(&["view", "--view", &file]);
    assert!(text.contains("3 services with a table"), "{text}");
    assert!(
        text.contains("service UDP [fd00::100]:53 netns 4026532001 (mh-9)"),
        "{text}"
    );
    assert!(
        text.contains("builds: 3, kept: 1, last build: 17 us"),
        "{text}"
    );
    assert_eq!(text.matches("(as computed here)").count(), 2, "{text}");
    assert_eq!(text.matches("(NOT as computed here)").count(), 1, "{text}");
    // The debugfs file is the default; a missing one is one line.
    let r = run(&["view", "--view", "/nonexistent/tables"]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("--view /nonexistent/tables: cannot read"),
        "{}",
        r.err
    );
    // Counters given only in part are refused.
    let partial = write_view(
        "partial.tables",
        &std::fs::read_to_string(&file)
            .expect("view")
            .replacen(", kept: 1", "", 1),
    );
    let r = run(&["view", "--view", &partial]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("some of rebuilds, kept and last build"),
        "{}",
        r.err
    );
}

#[test]
fn metrics_expose_every_service() {
    let file = two_service_view();
    let out = ok(&["metrics", "--view", &file]);
    // Every family is declared once, before its samples.
    let mut declared = Vec::new();
    for l in out.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            declared.push(rest.split(' ').next().expect("name").to_string());
        } else if !l.starts_with("# HELP ") {
            let name = l.split('{').next().expect("name");
            assert_eq!(declared.last().map(String::as_str), Some(name), "{l}");
        }
    }
    for family in [
        "ip_vs_mh_table_info",
        "ip_vs_mh_table_digest_as_computed",
        "ip_vs_mh_table_slots",
        "ip_vs_mh_table_builds_total",
        "ip_vs_mh_table_kept_total",
        "ip_vs_mh_dest_slots",
        "ip_vs_mh_dest_share",
    ] {
        assert!(
            declared.iter().any(|d| d == family),
            "{family} missing:\n{out}"
        );
    }
    let j = json(&["view", "--view", &file]);
    let digest = j["services"][0]["digest"].as_str().expect("digest");
    assert!(
        out.contains(&format!(
            "ip_vs_mh_table_info{{service=\"TCP 10.0.0.100:80\",netns=\"4026531840\",digest=\"{digest}\",scheduler=\"mh\",flags=\"mh-port\",order=\"list\"}} 1\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "ip_vs_mh_table_slots{service=\"UDP [fd00::100]:53\",netns=\"4026532001\"} 509\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "ip_vs_mh_table_builds_total{service=\"TCP 10.0.0.100:80\",netns=\"4026531840\"} 3\n"
        ),
        "{out}"
    );
    assert!(out.contains("ip_vs_mh_table_digest_as_computed{service=\"TCP 10.0.0.101:80\",netns=\"4026531840\"} 0\n"), "{out}");
    let slots = j["services"][1]["destinations"][0]["slots"]
        .as_u64()
        .expect("slots");
    assert_eq!(slots, 509);
    assert!(out.contains("ip_vs_mh_dest_slots{service=\"UDP [fd00::100]:53\",netns=\"4026532001\",server=\"[fd00:1::1]:53\"} 509\n"), "{out}");
    assert!(out.contains("ip_vs_mh_dest_share{service=\"UDP [fd00::100]:53\",netns=\"4026532001\",server=\"[fd00:1::1]:53\"} 1\n"), "{out}");
}
