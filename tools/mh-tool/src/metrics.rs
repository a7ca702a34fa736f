// SPDX-License-Identifier: GPL-2.0

//! `metrics`: a director's view in the Prometheus text exposition format
//! (version 0.0.4), for node_exporter's textfile collector. Every series
//! carries the service (`service="TCP 10.0.0.100:80"`) and, when the view
//! gives it, its network namespace; the digest is a label of an info
//! series, because a 64-bit value does not survive a float sample.

use crate::report::{DestReport, ServiceReport, ViewReport};
use std::fmt::Write;

/// A sample: its labels beyond the service's own, and its value.
type Sample = (Vec<(&'static str, String)>, f64);

/// One metric family: its name, type, help, and each service's samples.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: fn(&ServiceReport) -> Vec<Sample>,
}

/// The exposition of every service of `view`.
pub fn exposition(view: &ViewReport) -> String {
    let families = [
        Family {
            name: "ip_vs_mh_table_info",
            kind: "gauge",
            help: "A service's Maglev table: its digest (equal on directors that schedule every client alike), scheduler, flags and order; always 1.",
            samples: |s| {
                let labels = vec![
                    ("digest", s.digest.to_string()),
                    (
                        "scheduler",
                        s.scheduler.clone().unwrap_or_else(|| "mh".to_string()),
                    ),
                    ("flags", s.table.flags.to_string()),
                    ("order", s.table.order.to_string()),
                ];
                vec![(labels, 1.0)]
            },
        },
        Family {
            name: "ip_vs_mh_table_digest_as_computed",
            kind: "gauge",
            help: "1 when the kernel's digest is the one mh-tool computes from the view's inputs, else 0.",
            samples: |s| vec![(vec![], f64::from(u8::from(s.digest_as_computed)))],
        },
        Family {
            name: "ip_vs_mh_table_slots",
            kind: "gauge",
            help: "Slots of the service's table (M).",
            samples: |s| vec![(vec![], f64::from(s.table.slots))],
        },
        Family {
            name: "ip_vs_mh_table_empty_slots",
            kind: "gauge",
            help: "Slots no destination owns (all of them when no destination has a positive last weight).",
            samples: |s| vec![(vec![], f64::from(s.table.empty_slots))],
        },
        Family {
            name: "ip_vs_mh_table_builds_total",
            kind: "counter",
            help: "Tables built for the service since it was bound to the scheduler.",
            // Counters are u64 in the kernel; a float holds them exactly
            // up to 2^53.
            samples: |s| s.builds.map_or_else(Vec::new, |b| vec![(vec![], b.builds as f64)]),
        },
        Family {
            name: "ip_vs_mh_table_kept_total",
            kind: "counter",
            help: "Configuration changes that kept the service's table (nothing it is built from changed).",
            samples: |s| s.builds.map_or_else(Vec::new, |b| vec![(vec![], b.kept as f64)]),
        },
        Family {
            name: "ip_vs_mh_table_last_build_seconds",
            kind: "gauge",
            help: "How long the service's last table build took.",
            samples: |s| {
                s.builds.map_or_else(Vec::new, |b| {
                    vec![(vec![], b.last_build_us as f64 / 1e6)]
                })
            },
        },
        Family {
            name: "ip_vs_mh_dest_slots",
            kind: "gauge",
            help: "Slots of the service's table a real server owns.",
            samples: |s| per_dest(s, |d| f64::from(d.slots)),
        },
        Family {
            name: "ip_vs_mh_dest_share",
            kind: "gauge",
            help: "A real server's share of the service's slots, 0 to 1.",
            samples: |s| per_dest(s, |d| d.share),
        },
        Family {
            name: "ip_vs_mh_dest_weight",
            kind: "gauge",
            help: "A real server's weight (0: no new connections, its slots kept).",
            samples: |s| per_dest(s, |d| f64::from(d.weight)),
        },
        Family {
            name: "ip_vs_mh_dest_last_weight",
            kind: "gauge",
            help: "A real server's last non-zero weight, which shapes the table.",
            samples: |s| per_dest(s, |d| f64::from(d.last_weight)),
        },
    ];
    let mut out = String::new();
    for f in &families {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for s in &view.services {
            for (extra, value) in (f.samples)(s) {
                let mut labels = vec![("service", s.service.clone())];
                if let Some(netns) = &s.netns {
                    labels.push(("netns", netns.clone()));
                }
                labels.extend(extra);
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = writeln!(out, "{}{{{}}} {value}", f.name, labels.join(","));
            }
        }
    }
    out
}

/// One sample per destination, labelled with its `ADDR:PORT`.
fn per_dest(s: &ServiceReport, value: fn(&DestReport) -> f64) -> Vec<Sample> {
    s.destinations
        .iter()
        .map(|d| (vec![("server", d.endpoint.clone())], value(d)))
        .collect()
}

/// A label value as the format requires: backslash, double quote and line
/// feed escaped.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A help text as the format requires: backslash and line feed escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}
