#!/usr/bin/env python3
"""Turns the guest's benchmark results into one Markdown table, C and Rust
side by side with the ratio per row.

usage: report.py RESULTS.jsonl
Each row is the median over the repetitions of that measurement.
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median(rows, impl, key):
    values = [r[key] for r in rows if r["impl"] == impl]
    return statistics.median(values) if values else None


def fmt(value, unit):
    if value is None:
        return "missing"
    if unit == "us":
        return f"{value:.2f} us" if value < 1000 else f"{value / 1000:.2f} ms"
    if unit == "bytes":
        return f"{value / 1024:.1f} KiB"
    return f"{value:,.0f}"


def main():
    rows = load(sys.argv[1])
    info = next((r for r in rows if r["group"] == "info"), {})
    prof = next((r for r in rows if r["group"] == "profiled"), {})
    table = []  # (what, c, rust, ratio)

    def add(what, group_rows, key, unit):
        c, rust = median(group_rows, "c", key), median(group_rows, "rust", key)
        ratio = f"{rust / c:.2f}" if c and rust is not None else "n/a"
        table.append((what, fmt(c, unit), fmt(rust, unit), ratio))

    def select(group, **match):
        return [r for r in rows if r["group"] == group and all(r.get(k) == v for k, v in match.items())]

    sizes = sorted({r["M"] for r in rows if "M" in r})
    cases = []
    for r in rows:
        if r["group"] == "schedule" and r["case"] not in cases:
            cases.append(r["case"])
    for m in sizes:
        for case in cases:
            add(f"{prof.get('schedule', 'schedule')}() per new connection, M={m}, {case}",
                select("schedule", M=m, case=case), "us_per_call", "us")
    for m in sizes:
        for n in sorted({r["N"] for r in select("rebuild", M=m)}):
            add(f"table rebuild per destination change ({prof.get('rebuild', 'edit')}), M={m}, N={n}",
                select("rebuild", M=m, N=n), "us_per_call", "us")
    for m in sizes:
        for n in sorted({r["N"] for r in select("quiesce", M=m)}):
            add(f"quiesce or unquiesce a server (weight 0 <-> 1), per change, M={m}, N={n}",
                select("quiesce", M=m, N=n), "us_per_call", "us")
    for m in sizes:
        add(f"kernel memory per service (10 destinations), M={m}",
            select("memory", M=m), "bytes_per_service", "bytes")
    # The rate as a cost (time per new connection), so that lower is
    # better in every row; the rates themselves follow the table.
    for r in rows:
        if r["group"] == "e2e":
            r["us_per_conn"] = 1e6 / r["conns_per_s"] if r["conns_per_s"] else float("inf")
    for m in sizes:
        add(f"end to end: time per new connection, 1 / rate (pktgen, UDP, DR), M={m}",
            select("e2e", M=m), "us_per_conn", "us")

    reps = {g: len({r["rep"] for r in rows if r["group"] == g and "rep" in r})
            for g in ("schedule", "rebuild", "quiesce", "memory", "e2e")}
    if info.get("rust_module"):
        print(f"Rust module: {info['rust_module']} as the kernel tree built it, default table "
              f"index {info.get('rust_default_index')} (from Kconfig).")
        print()
    print(f"Guest kernel {info.get('kernel', '?')}, {info.get('cpus', '?')} vCPU(s); each row is "
          f"the median of C and Rust runs taken in turns (runs per side: "
          + ", ".join(f"{g} {n}" for g, n in reps.items()) + ").")
    print()
    print("| Measurement | C ip_vs_mh | Rust ip_vs_mh | Rust/C |")
    print("|---|---:|---:|---:|")
    for what, c, rust, ratio in table:
        print(f"| {what} | {c} | {rust} | {ratio} |")
    for m in sizes:
        e2e = select("e2e", M=m)
        c, rust = median(e2e, "c", "conns_per_s"), median(e2e, "rust", "conns_per_s")
        if c and rust:
            print(f"\nEnd to end at M={m}: C {c:,.0f}, Rust {rust:,.0f} new connections per second.")

    # pktgen sends faster than the guest receives, so the backlog drops
    # some datagrams; a row for which few reached the scheduler means
    # nothing, though: fail it.
    problems = [r for r in rows if r["group"] in ("schedule", "e2e")
                and r.get("calls", r.get("conns")) < r["sent"] * 0.25]
    for r in problems:
        print(f"\nerror: {r['group']} M={r['M']} {r.get('case', '')} {r['impl']}: only "
              f"{r.get('calls', r.get('conns'))} of {r['sent']} datagrams reached the scheduler")
    return 1 if problems or any(c == "missing" or rust == "missing" for _, c, rust, _ in table) else 0


sys.exit(main())
