#!/usr/bin/env python3
"""Model-based sequence test: random sequences of configuration changes,
each step checked three ways.

A sequence is a service (IPv4 or IPv6, mh-port and mh-fallback at random,
table index 8..17 through the module parameter) and a list of operations:
add (often bringing a deleted server back from IPVS's trash), delete,
reweight (weights up to 2147483647), quiesce (weight 0), -E flag flips, and
mh -> rr -> mh swaps. After every step:
  - the whole table: the digest the Rust module shows in debugfs must be
    the digest of the table the C model (userspace-tests/oracle, an
    independent implementation of the C scheduler) builds from a model of
    the service's state (list order newest first, last weights);
  - fresh flows must go where the C model sends them from that state (the
    tool checks the hashing core agrees), and where the kernel's C ip_vs_mh
    sends them replaying the same sequence: its own module at its table
    index, copies rebuilt from its source at every other one. A missing C
    module fails the run.
A failing sequence is shrunk (operations dropped while it still fails) and
the shortest one that reproduces it is printed. TEST_SEED picks other
sequences; TEST_SEQUENCES their number.
"""
import os
import random
import sys
import time

from mhlab import Lab, check, dest_name, finish, oracle, random_flows, table_index_order, view

SEED = int(os.environ.get("TEST_SEED", "20261202"))
SEQUENCES = int(os.environ.get("TEST_SEQUENCES", "30"))
STEPS = int(os.environ.get("TEST_SEQUENCE_STEPS", "6"))
FLOWS = int(os.environ.get("TEST_SEQUENCE_FLOWS", "100"))
POOL = 8
INT_MAX = 2147483647
WEIGHTS = [1, 2, 3, 7, 100, 65535, 1 << 30, INT_MAX]


class Model:
    """The service as IPVS keeps it: destinations newest first, each with
    its weight and last (non-zero) weight, and the flags."""

    def __init__(self, af, flags):
        self.af, self.flags, self.dests = af, set(flags), []  # [name, weight, last]
        self.deleted = []  # newest last: candidates for a re-add from the trash

    def find(self, name):
        return next((d for d in self.dests if d[0] == name), None)

    def apply(self, op):
        kind = op[0]
        if kind == "add":
            # IPVS sets the last weight on an add even when it is 0.
            self.dests.insert(0, [op[1], op[2], op[2]])
        elif kind == "delete":
            self.dests.remove(self.find(op[1]))
            self.deleted.append(op[1])
        elif kind == "weight":
            d = self.find(op[1])
            d[1] = op[2]
            if op[2] != 0:
                d[2] = op[2]
        elif kind == "flags":
            self.flags = set(op[1])

    def state(self):
        return [tuple(d) for d in self.dests]


def random_op(rng, model, af):
    present = [d[0] for d in model.dests]
    absent = [dest_name(af, k) for k in range(POOL) if dest_name(af, k) not in present]
    # A server deleted earlier and absent now: adding it back, IPVS takes
    # the same destination out of its trash.
    trash = [d for d in model.deleted if d in absent]
    choices = ["flags", "swap"]
    if absent:
        choices += ["add"] * 3
    if trash:
        choices += ["readd"] * 4
    if present:
        choices += ["delete", "delete", "weight", "weight", "quiesce"]
    kind = rng.choice(choices)
    if kind in ("add", "readd"):
        name = trash[-1] if kind == "readd" else rng.choice(absent)
        return ("add", name, rng.choice([0, 1, 1, 2, 3, 5, 100, INT_MAX]))
    if kind == "delete":
        return ("delete", rng.choice(present))
    if kind == "weight":
        return ("weight", rng.choice(present), rng.choice(WEIGHTS))
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


def trash_readds(ops):
    """How many adds bring back a server this sequence deleted."""
    deleted, count = set(), 0
    for op in ops:
        if op[0] == "delete":
            deleted.add(op[1])
        elif op[0] == "add" and op[1] in deleted:
            count += 1
    return count


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
    the decisions of that step's flows, the kernel's list order and (Rust
    only) the digest the module shows."""
    lab.load(kind, seq["index"], keep=True)
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
        digest = None
        if kind == "rust":
            services = view()
            digest = services[0]["digest"] if len(services) == 1 else f"{len(services)} services"
        out.append((lab.schedule(seq["flows"][step]), lab.list_order(), digest))
    return out


def expect(seq, ops):
    """From the model: each step's list order, and the C model's digest and
    decisions for that step's flows (checked against the core's)."""
    model, steps = Model(seq["af"], seq["flags"]), []
    for step, op in enumerate(ops):
        model.apply(op)
        steps.append((sorted(model.flags), model.state(), seq["flows"][step]))
    answers = oracle(seq["af"], seq["index"], steps)
    return [([d[0] for d in state], digest, decisions)
            for (_, state, _), (digest, decisions) in zip(steps, answers)]


def run_all(lab, seqs):
    """Every sequence with Rust, then with C, each scheduler's runs in
    table-index order (mhlab.table_index_order; each run still gets a
    director of its own). Returns {(kind, i): run's steps, or the
    RuntimeError that stopped it (a missing C module, a tool that failed)}."""
    runs = {}
    for kind in ("rust", "c"):
        for i in table_index_order(seqs):
            try:
                runs[kind, i] = run(lab, kind, seqs[i], seqs[i]["ops"])
            except RuntimeError as e:
                runs[kind, i] = e
                lab.unload()
    return runs


def compare(seq, ops, rust, c):
    """(step, what) of the first disagreement between the runs `rust` and
    `c` of `ops` and the model, or None."""
    model = expect(seq, ops)
    for step in range(len(ops)):
        (r, r_order, r_digest), (c_flows, _, _) = rust[step], c[step]
        order, digest, predicted = model[step]
        if r_order != order:
            return step, f"the kernel lists {r_order}, the model {order}"
        if r_digest != digest:
            return step, f"the module's digest is {r_digest}, the C model's table's {digest}"
        if r != predicted:
            bad = [(f, a, b) for f, a, b in zip(seq["flows"][step], r, predicted) if a != b][:3]
            return step, f"Rust and the C model (and core) differ: {bad}"
        if c_flows != r:
            bad = [(f, a, b) for f, a, b in zip(seq["flows"][step], c_flows, r) if a != b][:3]
            return step, f"C and Rust differ: {bad}"
    return None


def first_failure(lab, seq, ops):
    """(step, what) of the first disagreement of `ops` run now, or None."""
    return compare(seq, ops, run(lab, "rust", seq, ops), run(lab, "c", seq, ops))


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
    totals = dict(steps=0, flows=0, compared=0, readds=0)
    t0 = time.monotonic()
    try:
        seqs = [make_sequence(i) for i in range(SEQUENCES)]
        runs = run_all(lab, seqs)
        for i, seq in enumerate(seqs):
            ops = seq["ops"]
            rust, c = runs["rust", i], runs["c", i]
            stopped = [r for r in (rust, c) if isinstance(r, RuntimeError)]
            if stopped:
                # Not compared.
                check(False, f"sequence {i:2}: {describe(seq, ops)}: {stopped[0]}")
                continue
            failure = compare(seq, ops, rust, c)
            totals["compared"] += 1
            totals["steps"] += len(ops)
            totals["flows"] += len(ops) * FLOWS
            totals["readds"] += trash_readds(ops)
            check(failure is None, f"sequence {i:2}: {describe(seq, ops)}: {len(ops)} steps, "
                  "each against the C model's whole table and answers, and the C module")
            if failure is not None:
                step, what = failure
                print(f"     step {step} ({' '.join(str(x) for x in ops[step])}): {what}", flush=True)
                short = shrink(lab, seq, ops[:step + 1])
                print(f"     shortest failing sequence: {describe(seq, short)}", flush=True)
    finally:
        lab.close()
    print(f"{SEQUENCES} sequences (seed {SEED}), {totals['steps']} steps, {totals['flows']} flows, "
          f"{totals['readds']} re-adds from IPVS's trash; {Lab.resent} flows without a destination "
          f"sent again, {Lab.recovered} of them got one then; {time.monotonic() - t0:.0f}s")
    check(totals["compared"] == SEQUENCES,
          f"{totals['compared']} of {SEQUENCES} sequences were compared with C, the C model and the core")
    check(totals["readds"] >= SEQUENCES // 2, f"re-adds from IPVS's trash happened ({totals['readds']})")
    return finish()


sys.exit(main())
