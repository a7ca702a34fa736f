#!/usr/bin/env python3
"""Exactness: the Rust mh and the kernel's C mh, loaded one after the other
on the same kernel, send every flow to the same real server.

Random configurations (seeded): 1 to 64 destinations, IPv4 and IPv6, UDP,
TCP and SCTP services, several destinations on one address with different
ports, weights from 0 to 2147483647 (INT_MAX beside 1, several INT_MAX, gcd
and shift edge cases), quiesced destinations, destinations with a low upper
connection threshold (IPVS marks them overloaded as the flows come in, and
both modules must skip them alike), with and without mh-port and
mh-fallback, destinations added in random order, table index 8, 12 and 16
(TEST_EXACTNESS_INDICES; the C module rebuilt from the kernel's own source
for sizes other than the kernel's own). Each configuration is replayed with
both modules and 1000 flows.

A flow without a connection entry is sent once more before it counts as
"no destination". Two "no destination" answers count as agreement only
where the configuration has none for that client: the hashing core's
prediction (mh-tool, from the service's state) must say so too, in every
configuration whose destinations do not become overloaded on the way. Each
configuration must schedule flows unless its weights leave no destination.
With TEST_RECORD_FIXTURES=DIR a sample is written there as golden fixtures
(userspace-tests/fixtures format) for the userspace tests.
"""
import os
import random
import sys
import time

from mhlab import Lab, check, dest_name, finish, kernel_tab_index, random_flows, table_index_order

CONFIGS = int(os.environ.get("TEST_EXACTNESS_CONFIGS", "24"))
FLOWS = int(os.environ.get("TEST_EXACTNESS_FLOWS", "1000"))
SEED = int(os.environ.get("TEST_EXACTNESS_SEED", "20261205"))
INDICES = [int(i) for i in os.environ.get("TEST_EXACTNESS_INDICES", "8 12 16").split()]
PROTOCOLS = os.environ.get("TEST_EXACTNESS_PROTOCOLS", "udp tcp sctp").split()
INT_MAX = 2147483647
WEIGHTS = [0, 1, 1, 2, 3, 5, 10, 100, 1000, 65535, INT_MAX]
# Weight sets at the edges of the gcd and the shift (C's arithmetic on int).
EXTREMES = [
    [INT_MAX, 1],
    [INT_MAX, INT_MAX, INT_MAX],
    [INT_MAX, INT_MAX - 1, 1],
    [1 << 30, 3 << 29, 1 << 29],
    [INT_MAX, 0, 7],
    [65536, 131072, 3],
]


def make_config(i):
    rng = random.Random(SEED * 1000 + i)
    af = 4 if i % 2 == 0 else 6
    index = INDICES[i % len(INDICES)]
    proto = PROTOCOLS[(i // 2) % len(PROTOCOLS)]
    if i % 4 == 3:
        weights = list(rng.choice(EXTREMES))
    else:
        weights = [rng.choice(WEIGHTS) for _ in range(rng.choice([1, 2, 3, 4, 7, 10, 16, 33, 64]))]
    # Every third configuration puts two or three servers on one address.
    names = [dest_name(af, k) for k in range(len(weights))]
    if i % 3 == 1 and len(names) > 2:
        host = names[0].rsplit(":", 1)[0]
        names[1] = f"{host}:{5301}"
        names[2] = f"{host}:{5302}"
    dests = list(zip(names, weights))
    rng.shuffle(dests)  # the order they are added in
    quiesce = [d for d, w in dests if w > 0 and rng.random() < 0.2]
    # Every fifth configuration gives some servers an upper threshold low
    # enough for the flows to reach.
    thresholds = {}
    if i % 5 == 2:
        for d, w in dests:
            if w > 0 and d not in quiesce and rng.random() < 0.5:
                thresholds[d] = rng.choice([3, 10, 40])
    flags = [f for f in ("mh-port", "mh-fallback") if rng.random() < 0.5]
    return dict(af=af, index=index, proto=proto, dests=dests, quiesce=quiesce,
                thresholds=thresholds, flags=flags, flows=random_flows(rng, af, FLOWS))


def run(lab, kind, cfg):
    """One configuration with scheduler `kind`: the service's state, each
    flow's real server, and (Rust, without thresholds) the core's
    prediction. The module stays loaded from the last configuration of
    the same table index (see run_all)."""
    lab.load(kind, cfg["index"], keep=True)
    lab.service(cfg["af"], cfg["flags"], cfg["proto"])
    lab.add_all(cfg["dests"], cfg["thresholds"])
    lab.quiesce_all(cfg["quiesce"])
    state = lab.state()
    result = lab.schedule(cfg["flows"])
    prediction = None
    if kind == "rust" and not cfg["thresholds"]:
        prediction = lab.predict(cfg["index"], cfg["flows"])
    return state, result, prediction


def run_all(lab, configs):
    """Every configuration with C, then with Rust, each scheduler's runs in
    table-index order (mhlab.table_index_order; each run still gets a
    director of its own). Returns {(kind, i): (run's result, seconds)}."""
    runs = {}
    for kind in ("c", "rust"):
        start = time.monotonic()
        for i in table_index_order(configs):
            t0 = time.monotonic()
            runs[kind, i] = run(lab, kind, configs[i]), time.monotonic() - t0
        print(f"{len(configs)} configurations run with the {kind.upper()} mh "
              f"({time.monotonic() - start:.0f}s)", flush=True)
    return runs


def none_possible(cfg):
    """Whether any client can get "no destination" in this configuration:
    some destination unavailable (weight 0, quiesced, or overloaded on the
    way), or none with a positive weight. With mh-fallback, only when no
    destination is available at all."""
    available = [d for d, w in cfg["dests"] if w > 0 and d not in cfg["quiesce"]]
    if "mh-fallback" in cfg["flags"]:
        return not available or bool(cfg["thresholds"])
    return len(available) < len(cfg["dests"]) or bool(cfg["thresholds"])


def write_fixture(path, cfg, state, result, clients=120):
    af = "inet" if cfg["af"] == 4 else "inet6"
    order = [d for d, _, _ in state]
    with open(path, "w") as f:
        f.write("# Recorded by tests/vm/exactness.py (scripts/record-fixtures.sh).\n")
        own = cfg["index"] == kernel_tab_index()
        f.write(f"source Linux {os.uname().release} C ip_vs_mh ("
                + ("the kernel's own module" if own else "rebuilt from the kernel's source")
                + f", table index {cfg['index']}) in the test VM, real IPVS scheduling, "
                f"{cfg['proto'].upper()} service\n")
        f.write(f"index {cfg['index']}\naf {af}\nflags {','.join(cfg['flags']) or 'none'}\n")
        for dest, weight, last in state:
            addr, port = dest.rsplit(":", 1)
            f.write(f"dest {addr.strip('[]')} {port} {weight} {last} 0\n")
        for (addr, port), got in list(zip(cfg["flows"], result))[:clients]:
            expected = "none" if got is None else str(order.index(got))
            f.write(f"client {addr} {port} {expected}\n")


def main():
    record = os.environ.get("TEST_RECORD_FIXTURES")
    recorded = 0
    lab = Lab()
    totals = dict(flows=0, same=0, scheduled=0, none=0, failed=0)
    try:
        configs = [make_config(i) for i in range(CONFIGS)]
        runs = run_all(lab, configs)
        for i, cfg in enumerate(configs):
            (c_state, c, _), c_time = runs["c", i]
            (_, rust, predicted), rust_time = runs["rust", i]
            same = sum(1 for a, b in zip(c, rust) if a == b)
            scheduled = sum(1 for a in rust if a is not None)
            both_none = sum(1 for a, b in zip(c, rust) if a is None and b is None)
            totals["flows"] += len(c)
            totals["same"] += same
            totals["scheduled"] += scheduled
            totals["none"] += len(c) - scheduled
            problems = []
            if same != len(c):
                bad = [(f, a, b) for f, a, b in zip(cfg["flows"], c, rust) if a != b][:5]
                problems.append(f"C and Rust differ on {len(c) - same} flows: {bad}")
            if predicted is not None and predicted != rust:
                bad = [(f, a, b) for f, a, b in zip(cfg["flows"], predicted, rust) if a != b][:5]
                problems.append(f"the core predicts otherwise (flow, core, Rust): {bad}")
            if both_none and not none_possible(cfg):
                problems.append(f"{both_none} flows got no destination from both, "
                                "where every client has an available one")
            if scheduled == 0 and any(w > 0 and d not in cfg["quiesce"] for d, w in cfg["dests"]):
                problems.append("nothing was scheduled, though a destination is available")
            if cfg["thresholds"]:
                over = [d for d, x in cfg["thresholds"].items() if rust.count(d) > x]
                if over:
                    problems.append(f"servers took more flows than their threshold: {over}")
            check(not problems,
                  f"config {i:2}: IPv{cfg['af']} {cfg['proto']:4} index {cfg['index']:2} "
                  f"{len(cfg['dests']):2} dests ({len(cfg['quiesce'])} quiesced, "
                  f"{len(cfg['thresholds'])} with a threshold) "
                  f"flags {','.join(cfg['flags']) or '-':19} {same}/{len(c)} flows agree, "
                  f"{scheduled} scheduled, "
                  f"{'checked against the core' if predicted is not None else 'overload: C only'} "
                  f"({c_time + rust_time:.0f}s)")
            for p in problems:
                print(f"     {p}")
            totals["failed"] += bool(problems)
            # Golden fixtures: configurations with several answers.
            answers = len(set(c))
            if record and recorded < 6 and not cfg["thresholds"] and answers >= 3:
                os.makedirs(record, exist_ok=True)
                name = f"vm-c-mh-{recorded:02}-ipv{cfg['af']}-index{cfg['index']}.mhfx"
                write_fixture(os.path.join(record, name), cfg, c_state, c)
                recorded += 1
    finally:
        lab.close()
    print(f"{CONFIGS} configurations, {totals['flows']} flows: {totals['same']} of {totals['flows']} "
          f"flows went to the same server under C and Rust, {totals['scheduled']} scheduled, "
          f"{totals['none']} with no destination; {totals['failed']} configuration(s) failed; "
          f"{Lab.resent} flows without a connection entry sent again, {Lab.recovered} got one then")
    if record:
        check(recorded == 6, f"{recorded} golden fixtures recorded (6 wanted)")
    return finish()


sys.exit(main())
