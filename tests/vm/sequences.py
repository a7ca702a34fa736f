#!/usr/bin/env python3
"""Model-based sequence test: random sequences of configuration changes,
each step checked by fresh flows.

A sequence is a service (IPv4 or IPv6, mh-port and mh-fallback at random,
table index 8..17 through the module parameter) and a list of operations:
add (also bringing a deleted server back from IPVS's trash), delete,
reweight, quiesce (weight 0), -E flag flips, and mh -> rr -> mh swaps.
After every step, fresh flows are scheduled, and their real servers must be
  - what the userspace core predicts from the service's state as a model
    of IPVS keeps it (list order newest first, last weights), computed by
    mh-tool on the model's state;
  - what the kernel's own C ip_vs_mh chooses replaying the same sequence,
    where a C module of that table index is there (the kernel's own, or a
    copy rebuilt from its source).
A failing sequence is shrunk (operations dropped while it still fails) and
the shortest one that reproduces it is printed. TEST_SEED picks other
sequences; TEST_SEQUENCES their number (at least 30 in the suite).
"""
import os
import random
import subprocess
import sys
import tempfile
import time

from mhlab import PROJECT, Lab, check, dest_name, random_flows, replay, sh, status

SEED = int(os.environ.get("TEST_SEED", "20261202"))
SEQUENCES = int(os.environ.get("TEST_SEQUENCES", "30"))
STEPS = int(os.environ.get("TEST_SEQUENCE_STEPS", "6"))
FLOWS = int(os.environ.get("TEST_SEQUENCE_FLOWS", "40"))
POOL = 8
TOOL = os.environ.get("IPVS_MH_TOOL", os.path.join(PROJECT, "tools/mh-tool/target/release/mh-tool"))


def c_available(index):
    from mhlab import kernel_tab_index
    return index == kernel_tab_index() or bool(os.environ.get(f"IPVS_MH_REFERENCE_{index}"))


class Model:
    """The service as IPVS keeps it: destinations newest first, each with
    its weight and last (non-zero) weight, and the flags."""

    def __init__(self, af, flags):
        self.af, self.flags, self.dests = af, set(flags), []  # [name, weight, last]

    def find(self, name):
        return next((d for d in self.dests if d[0] == name), None)

    def apply(self, op):
        kind = op[0]
        if kind == "add":
            self.dests.insert(0, [op[1], op[2], op[2]])
        elif kind == "delete":
            self.dests.remove(self.find(op[1]))
        elif kind == "weight":
            d = self.find(op[1])
            d[1] = op[2]
            if op[2] != 0:
                d[2] = op[2]
        elif kind == "flags":
            self.flags = set(op[1])

    def mhfx(self, index):
        lines = [f"index {index}", f"af {'inet' if self.af == 4 else 'inet6'}",
                 f"flags {','.join(sorted(self.flags)) or 'none'}"]
        for name, weight, last in self.dests:
            addr, port = name.rsplit(":", 1)
            lines.append(f"dest {addr.strip('[]')} {port} {weight} {last} 0")
        return "\n".join(lines) + "\n"


def random_op(rng, model, af):
    present = [d[0] for d in model.dests]
    absent = [dest_name(af, k) for k in range(POOL) if dest_name(af, k) not in present]
    choices = ["flags", "swap"]
    if absent:
        choices += ["add"] * 3
    if present:
        choices += ["delete", "weight", "weight", "quiesce"]
    kind = rng.choice(choices)
    if kind == "add":
        return ("add", rng.choice(absent), rng.choice([0, 1, 1, 2, 3, 5, 100]))
    if kind == "delete":
        return ("delete", rng.choice(present))
    if kind == "weight":
        return ("weight", rng.choice(present), rng.choice([1, 2, 3, 7, 100]))
    if kind == "quiesce":
        return ("weight", rng.choice(present), 0)
    if kind == "flags":
        return ("flags", tuple(f for f in ("mh-port", "mh-fallback") if rng.random() < 0.5))
    return ("swap",)


def make_sequence(i):
    rng = random.Random(SEED * 1000 + i)
    af = 4 if i % 2 == 0 else 6
    index = rng.randint(8, 17)
    flags = tuple(f for f in ("mh-port", "mh-fallback") if rng.random() < 0.5)
    model, ops = Model(af, flags), []
    for _ in range(rng.randint(1, 3)):
        op = random_op(rng, model, af)
        while op[0] != "add":
            op = random_op(rng, model, af)
        ops.append(op)
        model.apply(op)
    for _ in range(STEPS):
        op = random_op(rng, model, af)
        ops.append(op)
        model.apply(op)
    flows = [random_flows(rng, af, FLOWS, port_base=20000 + s * FLOWS) for s in range(len(ops))]
    return dict(af=af, index=index, flags=flags, ops=ops, flows=flows)


def valid(seq, ops):
    """Whether `ops` can run from the sequence's start (a shrunk sequence
    must not delete a server it never added)."""
    model = Model(seq["af"], seq["flags"])
    for op in ops:
        if op[0] == "add" and model.find(op[1]):
            return False
        if op[0] in ("delete", "weight") and not model.find(op[1]):
            return False
        model.apply(op)
    return True


def run(lab, kind, seq, ops):
    """Replays `ops` with scheduler `kind` ("rust" or "c"); after each step,
    the decisions of that step's flows, and the kernel's list order."""
    lab.load(kind, seq["index"])
    lab.service(seq["af"], list(seq["flags"]))
    out = []
    for step, op in enumerate(ops):
        if op[0] == "add":
            lab.add(op[1], op[2])
        elif op[0] == "delete":
            lab.delete(op[1])
        elif op[0] == "weight":
            lab.set_weight(op[1], op[2])
        elif op[0] == "flags":
            lab.edit("mh", list(op[1]))
        elif op[0] == "swap":
            lab.edit("rr", [])
            lab.edit("mh", list(lab.flags))
        out.append((schedule(lab, seq["flows"][step]), lab.list_order()))
    lab.unload()
    return out


resent = recovered = 0


def schedule(lab, flows):
    """The real server of each flow. A flow that got none is sent once more
    (the table has not changed, and no connection entry exists for it): a
    datagram lost on the way in the guest is not a scheduling decision,
    "no destination available" twice is."""
    global resent, recovered
    got = lab.schedule(flows)
    missing = [i for i, d in enumerate(got) if d is None]
    if missing:
        resent += len(missing)
        again = lab.schedule([flows[i] for i in missing])
        for i, d in zip(missing, again):
            got[i] = d
            recovered += d is not None
    return got


def predict(seq, ops):
    """The core's decisions for every step's flows, from the model's state
    (mh-tool on the state as a service file), and the model's list order."""
    model, out = Model(seq["af"], seq["flags"]), []
    for step, op in enumerate(ops):
        model.apply(op)
        with tempfile.NamedTemporaryFile("w", suffix=".mhfx", dir="/tmp", delete=False) as f:
            f.write(model.mhfx(seq["index"]))
        try:
            args = [TOOL, "lookup", "--file", f.name]
            for addr, port in seq["flows"][step]:
                args += ["--client", f"[{addr}]:{port}" if seq["af"] == 6 else f"{addr}:{port}"]
            text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        finally:
            os.unlink(f.name)
        rows = [line.split() for line in text.splitlines() if line.startswith("  ") and ":" in line.split()[0]]
        decisions = [None if r[2] == "none" else r[2] for r in rows if r[0] != "client"]
        out.append((decisions, [d[0] for d in model.dests]))
    return out


def first_failure(lab, seq, ops):
    """(step, what) of the first disagreement of this sequence, or None."""
    rust = run(lab, "rust", seq, ops)
    core = predict(seq, ops)
    c = run(lab, "c", seq, ops) if c_available(seq["index"]) else None
    for step in range(len(ops)):
        (r, r_order), (p, p_order) = rust[step], core[step]
        if r_order != p_order:
            return step, f"the kernel lists {r_order}, the model {p_order}"
        if r != p:
            bad = [(f, a, b) for f, a, b in zip(seq["flows"][step], r, p) if a != b][:3]
            return step, f"Rust and the core's prediction differ: {bad}"
        if c is not None and c[step][0] != r:
            bad = [(f, a, b) for f, a, b in zip(seq["flows"][step], c[step][0], r) if a != b][:3]
            return step, f"C and Rust differ: {bad}"
    return None


def shrink(lab, seq, ops):
    """Drops operations while the sequence still fails; the shortest found."""
    tries = 0
    changed = True
    while changed and tries < 25:
        changed = False
        for i in range(len(ops)):
            candidate = ops[:i] + ops[i + 1:]
            if not candidate or not valid(seq, candidate):
                continue
            tries += 1
            if first_failure(lab, seq, candidate) is not None:
                ops, changed = candidate, True
                break
    return ops


def describe(seq, ops):
    return (f"IPv{seq['af']} index {seq['index']} flags {','.join(seq['flags']) or 'none'}: "
            + "; ".join(" ".join(str(x) for x in op) for op in ops))


def main():
    lab = Lab()
    totals = dict(steps=0, flows=0, with_c=0, scheduled=0)
    failed = 0
    t0 = time.monotonic()
    try:
        for i in range(SEQUENCES):
            seq = make_sequence(i)
            ops = seq["ops"]
            failure = first_failure(lab, seq, ops)
            with_c = c_available(seq["index"])
            totals["steps"] += len(ops)
            totals["flows"] += len(ops) * FLOWS
            totals["with_c"] += with_c
            check(failure is None,
                  f"sequence {i:2}: {describe(seq, ops)}: {len(ops)} steps, compared with the core"
                  + (" and with C" if with_c else " (no C module at this index)"))
            if failure is not None:
                failed += 1
                step, what = failure
                print(f"     step {step} ({' '.join(str(x) for x in ops[step])}): {what}", flush=True)
                short = shrink(lab, seq, ops[:step + 1])
                print(f"     shortest failing sequence: {describe(seq, short)}", flush=True)
    finally:
        lab.close()
    print(f"{SEQUENCES} sequences (seed {SEED}), {totals['steps']} steps, {totals['flows']} flows checked "
          f"against the core, {totals['with_c']} sequences also against C; {failed} failed; "
          f"{resent} flows without a destination sent again, {recovered} of them got one then; {time.monotonic() - t0:.0f}s")
    check(SEQUENCES >= 30 or os.environ.get("TEST_SEQUENCES"), "at least 30 sequences ran")
    return status()


sys.exit(main())
