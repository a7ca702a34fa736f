#!/usr/bin/env python3
"""Scenario 1, exactness: the Rust mh and the kernel's C mh, loaded one after
the other on the same kernel, send every flow to the same real server.

Random configurations (seeded): 1 to 64 destinations, IPv4 and IPv6,
weights including 0, quiesced destinations, with and without mh-port and
mh-fallback, destinations added in random order, table index 8, 12 and 16
(TEST_EXACTNESS_INDICES; the C module rebuilt from the kernel's own source
for sizes other than the kernel's; on Debian's kernel, its own signed C
module at its index). Each configuration is replayed with both modules and 1000 flows.
With TEST_RECORD_FIXTURES=DIR a sample is written there as golden fixtures
(userspace-tests/fixtures format) for the userspace tests.
"""
import os
import random
import sys
import time

from mhlab import Lab, dest_name, kernel_tab_index, random_flows

CONFIGS = int(os.environ.get("TEST_EXACTNESS_CONFIGS", "20"))
FLOWS = int(os.environ.get("TEST_EXACTNESS_FLOWS", "1000"))
SEED = int(os.environ.get("TEST_EXACTNESS_SEED", "20261125"))
# Table indices to compare at: the kernel's own C module covers its index,
# copies rebuilt from its source the others (on Debian's kernel only its own
# signed module is compared, at its index).
INDICES = [int(i) for i in os.environ.get("TEST_EXACTNESS_INDICES", "8 12 16").split()]
WEIGHTS = [0, 1, 1, 2, 3, 5, 10, 100, 1000, 65535]


def make_config(i):
    rng = random.Random(SEED * 1000 + i)
    af = 4 if i % 2 == 0 else 6
    index = INDICES[i % len(INDICES)]
    n = rng.choice([1, 2, 3, 4, 7, 10, 16, 33, 64])
    dests = [(dest_name(af, k), rng.choice(WEIGHTS)) for k in range(n)]
    rng.shuffle(dests)  # the order they are added in
    quiesce = [d for d, w in dests if w > 0 and rng.random() < 0.2]
    flags = [f for f in ("mh-port", "mh-fallback") if rng.random() < 0.5]
    return dict(af=af, index=index, dests=dests, quiesce=quiesce, flags=flags,
                flows=random_flows(rng, af, FLOWS))


def run(lab, kind, cfg):
    lab.load(kind, cfg["index"])
    lab.service(cfg["af"], cfg["flags"])
    lab.add_all(cfg["dests"])
    lab.quiesce_all(cfg["quiesce"])
    order = lab.list_order()
    result = lab.schedule(cfg["flows"])
    state = {d: list(w) for d, w in lab.weights.items()}
    lab.unload()
    return order, state, result


def write_fixture(path, cfg, order, state, result, clients=120):
    af = "inet" if cfg["af"] == 4 else "inet6"
    with open(path, "w") as f:
        f.write("# Recorded by tests/vm/exactness.py (scripts/record-fixtures.sh).\n")
        f.write(f"source Linux {os.uname().release} C ip_vs_mh (kernel source, "
                f"table index {cfg['index']}) in the test VM, real IPVS scheduling\n")
        f.write(f"index {cfg['index']}\naf {af}\nflags {','.join(cfg['flags']) or 'none'}\n")
        for dest in order:
            addr, port = dest.rsplit(":", 1)
            weight, last = state[dest]
            f.write(f"dest {addr.strip('[]')} {port} {weight} {last} 0\n")
        for (addr, port), got in list(zip(cfg["flows"], result))[:clients]:
            expected = "none" if got is None else str(order.index(got))
            f.write(f"client {addr} {port} {expected}\n")


def main():
    record = os.environ.get("TEST_RECORD_FIXTURES")
    lab = Lab()
    failed = 0
    totals = dict(flows=0, scheduled=0, none=0)
    try:
        for i in range(CONFIGS):
            cfg = make_config(i)
            t0 = time.monotonic()
            c_order, c_state, c = run(lab, "c", cfg)
            r_order, _, rust = run(lab, "rust", cfg)
            same = sum(1 for a, b in zip(c, rust) if a == b)
            scheduled = sum(1 for a in c if a is not None)
            totals["flows"] += len(c)
            totals["scheduled"] += scheduled
            totals["none"] += len(c) - scheduled
            ok = same == len(c) and c_order == r_order
            print(f"{'ok  ' if ok else 'FAIL'} config {i:2}: IPv{cfg['af']} index {cfg['index']:2} "
                  f"{len(cfg['dests']):2} dests ({len(cfg['quiesce'])} quiesced) "
                  f"flags {','.join(cfg['flags']) or '-':19} {same}/{len(c)} flows agree, "
                  f"{scheduled} scheduled ({time.monotonic() - t0:.0f}s)", flush=True)
            if not ok:
                failed += 1
                for (flow, a, b) in [(f, a, b) for f, a, b in zip(cfg["flows"], c, rust) if a != b][:5]:
                    print(f"     flow {flow}: C {a}, Rust {b}")
            if record and i < 6:
                os.makedirs(record, exist_ok=True)
                name = f"vm-c-mh-{i:02}-ipv{cfg['af']}-index{cfg['index']}.mhfx"
                write_fixture(os.path.join(record, name), cfg, c_order, c_state, c)
    finally:
        lab.close()
    print(f"{CONFIGS} configurations, {totals['flows']} flows: {totals['scheduled']} scheduled, "
          f"{totals['none']} with no destination; {failed} configuration(s) disagree")
    # Guard against a vacuous pass: flows were scheduled, and some were not.
    if totals["scheduled"] < totals["flows"] // 2:
        print("FAIL too few flows were scheduled for the comparison to mean anything")
        failed += 1
    return 1 if failed else 0


sys.exit(main())
