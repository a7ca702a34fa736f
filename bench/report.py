#!/usr/bin/env python3
"""Turns the guest's benchmark results into Markdown tables, C and Rust side
by side: min / median / max over the runs of every boot, the ratio of the
medians, and the goal with its verdict.

usage: report.py RESULTS.jsonl [--only GROUP...]
--only reports the named groups of a run that measured only those
(BENCH_ONLY); without it every group must be in the results.
Profiled costs are the scheduler's own: the IPVS function's cost with the
scheduler, minus its cost with rr (see bench/guest_bench.py). Under the
"instructions" clock they are guest instructions per call; under "time",
emulated nanoseconds. A goal row is "met" only when the ratio of the
medians meets the goal and the C and Rust ranges do not overlap. Exits 1
when a measurement is missing or a run saw too little traffic.
"""
import json
import statistics
import sys

import guest_bench


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Stat:
    """min, median, max of some values."""

    def __init__(self, values):
        self.values = sorted(values)

    def __bool__(self):
        return bool(self.values)

    @property
    def lo(self):
        return self.values[0]

    @property
    def hi(self):
        return self.values[-1]

    @property
    def mid(self):
        return statistics.median(self.values)

    def minus(self, base):
        """This cost less a baseline's: the median's difference, and the
        widest range the two ranges allow."""
        out = Stat([self.mid - base.mid])
        out.values = [self.lo - base.hi, self.mid - base.mid, self.hi - base.lo]
        return out


def fmt(value, unit):
    if unit == "instr":
        return f"{value:,.0f}"
    if unit == "ns":
        return f"{value / 1000:,.2f} us" if value >= 1000 else f"{value:.0f} ns"
    if unit == "bytes":
        return f"{value / 1024:,.1f} KiB"
    if unit == "rate":
        return f"{value:,.0f}/s"
    return f"{value:,.0f}"


def cell(stat, unit):
    if not stat:
        return "missing"
    if len({round(v, 6) for v in stat.values}) == 1:
        return fmt(stat.mid, unit)
    return f"{fmt(stat.lo, unit)} / {fmt(stat.mid, unit)} / {fmt(stat.hi, unit)}"


# Every group the guest measures.
GROUPS = tuple(guest_bench.ALL.split())


def main():
    args = sys.argv[1:]
    # RESULTS alone, or RESULTS --only and at least one group.
    if not args or (len(args) > 1 and (args[1] != "--only" or len(args) == 2)):
        print(next(line for line in __doc__.splitlines() if line.startswith("usage:")), file=sys.stderr)
        return 2
    expected = args[2:] or GROUPS
    rows = [r for r in load(args[0]) if r["group"] in expected or r["group"] in ("info", "profiled")]
    absent = [g for g in expected if not any(r["group"] == g for r in rows)]
    info = next((r for r in rows if r["group"] == "info"), {})
    prof = next((r for r in rows if r["group"] == "profiled"), {})
    missing = False

    def values(clock, group, impl, key, **match):
        return Stat([r[key] for r in rows if r["group"] == group and r.get("impl") == impl
                     and r.get("clock") == clock and all(r.get(k) == v for k, v in match.items())])

    def table(title, clock, lines):
        """lines: (what, c Stat, rust Stat, unit, goal "<= x" / ">= x" or None)."""
        nonlocal missing
        if not any(c or r for _, c, r, _, _ in lines):
            return
        print(f"### {title}\n")
        print("| Measurement | C (min / median / max) | Rust (min / median / max) | Rust/C | Goal | |")
        print("|---|---:|---:|---:|---:|---|")
        for what, c, rust, unit, goal in lines:
            ratio = rust.mid / c.mid if c and rust and c.mid else None
            verdict = ""
            if goal:
                op, target = goal.split()
                target = float(target)
                if ratio is None:
                    verdict = "not measured"
                else:
                    apart = rust.hi < c.lo if op == "<=" else rust.lo > c.hi
                    good = ratio <= target if op == "<=" else ratio >= target
                    verdict = "met" if good and apart else "**not met**"
            missing |= not (c and rust)
            print(f"| {what} | {cell(c, unit)} | {cell(rust, unit)} | "
                  f"{f'{ratio:.3f}' if ratio is not None else 'n/a'} | {goal or ''} | {verdict} |")
        print()

    def wanted(group):
        """Whether the run measured `group` (rows of the others are left out)."""
        return group in expected

    def net(clock, group, impl, key="ns_per_call", **match):
        own = values(clock, group, impl, key, **match)
        base = values(clock, group, "rr", key, **match)
        return own.minus(base) if own and base else own

    sizes = sorted({r["M"] for r in rows if "M" in r and r["group"] not in ("bulk", "memory-sizes")})
    cases = []
    for r in rows:
        if r["group"] == "schedule" and r["case"] not in cases:
            cases.append(r["case"])
    for clock, unit in (("instructions", "instr"), ("time", "ns")):
        lines = []
        for m in sizes:
            for case in cases:
                # rr has no baseline where nothing is available: raw costs.
                sub = "100% unavailable" not in case
                get = (lambda i, m=m, case=case: net(clock, "schedule", i, M=m, case=case)) if sub \
                    else (lambda i, m=m, case=case: values(clock, "schedule", i, "ns_per_call", M=m, case=case))
                goal = ("<= 0.01" if "100%" in case else "<= 1.0") if clock == "instructions" else None
                lines.append((f"schedule per new connection, M={m}, {case}"
                              + ("" if sub else " (whole ip_vs_schedule)"), get("c"), get("rust"), unit, goal))
        for m in sizes if wanted("rebuild") else ():
            for n in (10, 100, 1000):
                goal = "<= 0.5" if clock == "instructions" else None
                lines.append((f"table rebuild per destination change, M={m}, N={n}",
                              net(clock, "rebuild", "c", M=m, N=n), net(clock, "rebuild", "rust", M=m, N=n),
                              unit, goal))
        for m in sizes if wanted("quiesce") else ():
            for n in (10, 100, 1000):
                goal = "<= 0.05" if clock == "instructions" else None
                lines.append((f"quiesce or unquiesce (weight w <-> 0), M={m}, N={n}",
                              net(clock, "quiesce", "c", M=m, N=n), net(clock, "quiesce", "rust", M=m, N=n),
                              unit, goal))
        # Runs before the servers' order was recorded added them in address
        # order only (their rows have no order).
        recorded = any("order" in r for r in rows if r["group"] == "canonical")
        orders = (("address", "added in address order"), ("shuffled", "added in random order"))
        for order, added in (orders if recorded else orders[:1]) if wanted("canonical") else ():
            rust = net(clock, "canonical", "rust", M=4093, N=1000, order=order if recorded else None)
            lines.append((f"rebuild in canonical order (Rust flag-3; C: its list-order rebuild), M=4093, N=1000, "
                          f"servers {added}", net(clock, "rebuild", "c", M=4093, N=1000), rust, unit, None))
        if wanted("bulk"):
            lines.append(("bulk restore, per server added (ipvsadm -R, 100 services x 100 servers), M=4093",
                          net(clock, "bulk", "c"), net(clock, "bulk", "rust"), unit,
                          "<= 0.5" if clock == "instructions" else None))
        if wanted("during"):
            lines.append(("ip_vs_schedule while another CPU rewrites the table (M=65521, mh-fallback)",
                          values(clock, "during", "c", "ns_per_call"), values(clock, "during", "rust", "ns_per_call"),
                          unit, None))
        title = ("Deterministic cost: guest instructions per call (QEMU icount)" if clock == "instructions"
                 else "Emulated time per call (QEMU TCG, the host's load skews it)")
        table(title, clock, lines)

    lines = []
    for m in sizes:
        for n in (10, 100, 1000):
            goal = {10: "<= 0.3", 1000: "<= 1.0"}.get(n)
            lines.append((f"kernel memory per service, M={m}, N={n}",
                          values("instructions", "memory", "c", "bytes_per_service", M=m, N=n),
                          values("instructions", "memory", "rust", "bytes_per_service", M=m, N=n),
                          "bytes", goal))
    table("Memory the scheduler holds per service (every allocation with its module on the stack)",
          "instructions", lines)

    lines = []
    for index, m in sorted({(r["index"], r["M"]) for r in rows if r["group"] == "memory-sizes"}):
        lines.append((f"kernel memory per service, M={m} (index {index}; Rust: -s mh-{index}), N=100",
                      values("instructions", "memory-sizes", "c", "bytes_per_service", M=m),
                      values("instructions", "memory-sizes", "rust", "bytes_per_service", M=m),
                      "bytes", None))
    table("Memory per service at every table size (Rust: the sized scheduler a service names; "
          "C: the C mh built at that index)", "instructions", lines)

    lines = []
    for group, what in (("e2e", "new connections per second, one vCPU sending"),
                        ("e2e-churn", "new connections per second, every vCPU sending, servers changing")):
        for m in sizes:
            lines.append((f"{what}, M={m}", values("time", group, "c", "conns_per_s", M=m),
                          values("time", group, "rust", "conns_per_s", M=m), "rate", None))
    table("End to end (pktgen, UDP, direct routing; higher is better)", "time", lines)

    # Misrouted flows are counted on the emulated clock only (an icount-only
    # run has none to show).
    if "during" in expected and any(r["group"] == "during" and r.get("clock") == "time" for r in rows):
        during = [(impl, values("time", "during", impl, "mixed")) for impl in ("c", "rust")]
        print("### Flows sent to a server that neither table gives them, while the table is rewritten\n")
        for impl, stat in during:
            print(f"- {impl}: {cell(stat, 'count')} per run of "
                  f"{next((r['sent'] for r in rows if r['group'] == 'during'), '?')} flows")
        print()

    accelerators = sorted({r.get("accelerator", "?") for r in rows if r["group"] == "info"})
    print(f"Accelerator: {', '.join(accelerators)}. "
          f"Guest kernel {info.get('kernel', '?')}, {info.get('cpus', '?')} vCPU(s); Rust module "
          f"{info.get('rust_module', '?')} (default table index {info.get('rust_default_index')}); "
          f"profiled functions {prof.get('schedule', '?')}() and {prof.get('rebuild', '?')}(); boots: "
          + ", ".join(f"{c} {len({r['boot'] for r in rows if r.get('clock') == c})}"
                      for c in ("instructions", "time")) + ".")

    # pktgen sends faster than the guest receives, so the backlog drops
    # some datagrams; a row for which few reached the scheduler means
    # nothing, though: fail it.
    problems = [r for r in rows if r["group"] in ("schedule", "e2e", "e2e-churn")
                and r.get("calls", r.get("conns")) < r["sent"] * 0.25]
    for r in problems:
        print(f"\nerror: {r['group']} M={r['M']} {r.get('case', '')} {r['impl']}: only "
              f"{r.get('calls', r.get('conns'))} of {r['sent']} datagrams reached the scheduler")
    if missing:
        print("\nerror: a measurement is missing (see the tables)")
    for group in absent:
        print(f"\nerror: the results have no measurement of {group}")
    return 1 if problems or missing or absent else 0


sys.exit(main())
