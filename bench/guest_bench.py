#!/usr/bin/env python3
"""In-kernel benchmark of the Rust mh against the kernel's C mh.

Runs inside the release-kernel guest (scripts/bench.sh boots it). The
schedulers are loaded one after the other in one guest run, under the same
conditions, in alternating order. Each measurement is one JSON line in
$BENCH_RESULTS for bench/report.py.

BENCH_CLOCK says what the guest's clock counts. "instructions": the guest
runs under QEMU's icount (scripts/run-vm.sh --icount), so every duration it
measures is the number of guest instructions executed, one per nanosecond,
whatever the host does; the profiled rows are then deterministic costs.
"time": the clock is the emulated machine's, which the host's load skews.

Costs come from the ftrace function profiler (Rust code built with rustc
1.96 has no __fentry__, so the scheduler callbacks are timed through the C
function of IPVS that calls them, identically for both), minus the same
function's cost with the rr scheduler (impl "rr"), whose callbacks do next
to nothing: what is left is the scheduler's own cost.
- schedule: ip_vs_schedule() per new connection (pktgen datagrams from ever
  new sources), with plain, mh-port and mh-fallback services, 0, 50 and
  100% of the servers unavailable.
- rebuild: __ip_vs_update_dest() per weight edit 1 <-> 2 of one server of N
  (the table changes); canonical: the same with flag-3 (Rust only; C has
  no canonical order, its plain rebuild is the reference).
- quiesce: the same with weight w <-> 0, which leaves the table's inputs as
  they were: C rebuilds, Rust compares and keeps.
- bulk: __ip_vs_update_dest() per server added while `ipvsadm -R` creates
  100 services of 100 servers (every add rebuilds).
- memory: every allocation made with the scheduler module's code on the
  stack (the allocator's events with a stack trace each), still held after
  S services of N servers were created, per service.
- memory-sizes: the same at every table size, 5 services of 100 servers:
  the Rust module's sized schedulers (`-s mh-8` .. `-s mh-17`, the size a
  service chooses) against the C mh built at each index.
- during: while one CPU rewrites a table back and forth between two weight
  sets (M=65521, mh-fallback, half the servers quiesced), the other sends
  new connections: their cost, and how many went to a server that neither
  table gives them (a lookup that saw a half-rewritten table).
- e2e: new connections per second end to end (pktgen, UDP, DR); e2e-churn:
  the same from both vCPUs while servers are added, removed and reweighted.

The function profiler is enabled once for the whole run (a second enable in
one boot oopsed 7.3.4 here); each figure is the difference of its cumulative
counters around one measurement.
"""
import glob
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
RUST_KO = os.environ.get("IPVS_MH_KO", os.path.join(PROJECT, "ip_vs_mh.ko"))
KERNEL_INDEX = int(os.environ.get("IPVS_MH_KERNEL_TAB_INDEX", "12"))
RESULTS = os.environ.get("BENCH_RESULTS", "/run/job/bench-results.jsonl")
CLOCK = os.environ.get("BENCH_CLOCK", "time")
BOOT = int(os.environ.get("BENCH_BOOT", "1"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
QUICK = os.environ.get("BENCH_QUICK") == "1"  # a short run to try the bench
ALL = "schedule rebuild quiesce canonical bulk memory memory-sizes during e2e e2e-churn"
ONLY = set(os.environ.get("BENCH_ONLY", ALL).split())
TRACING = "/sys/kernel/tracing"
VIP, VPORT = "10.0.0.100", 53
# The slots of table indices 8 to 17.
TABLE_SLOTS = (251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071)
# The sizes most groups compare at: index -> slots.
SIZES = {index: TABLE_SLOTS[index - 8] for index in (12, 16)}
IMPLS = ("c", "rust", "rr")
RS_COUNT = 10


def sh(*cmd, check=True, stdin=None):
    r = subprocess.run(cmd, capture_output=True, text=True, input=stdin)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


def rotation(rep, impls=IMPLS):
    """The schedulers in turns: who goes first changes with every run."""
    k = rep % len(impls)
    return impls[k:] + impls[:k]


def emit(**row):
    row.update(clock=CLOCK, boot=BOOT)
    with open(RESULTS, "a") as f:
        f.write(json.dumps(row) + "\n")
    print("  " + " ".join(f"{k}={v}" for k, v in row.items()), flush=True)


# Topology ----------------------------------------------------------------
def topology():
    """client ns --veth-- director (root ns, VIP) --veth-- rs ns (drops)."""
    for cmd in (
        "netns add client",
        "netns add rs",
        "link add c0 type veth peer name eth0 netns client",
        "link add r0 type veth peer name eth0 netns rs",
        "addr add 10.0.0.1/24 dev c0",
        f"addr add {VIP}/32 dev c0",
        "link set c0 up",
        "addr add 10.0.1.254/24 dev r0",
        "addr add 10.2.0.254/16 dev r0",
        "link set r0 up",
        "-n client addr add 10.0.0.2/24 dev eth0",
        "-n client link set eth0 up",
        "-n rs link set eth0 up",
        # Datagrams for the VIP are not the real servers' business here:
        # they are dropped without an ICMP answer.
        "-n rs route add blackhole default",
    ):
        sh("ip", *cmd.split())
    for k in range(1, RS_COUNT + 1):
        sh("ip", "-n", "rs", "addr", "add", f"10.0.1.{k}/24", "dev", "eth0")
    # Resolve the real servers' neighbour entries once, before timing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for k in range(1, RS_COUNT + 1):
            s.sendto(b"arp", (f"10.0.1.{k}", 9))
    time.sleep(1)
    with open("/sys/class/net/c0/address") as f:
        return f.read().strip()


# Schedulers and services -------------------------------------------------
MODULES = {"c": "ip_vs_mh", "rust": os.path.basename(RUST_KO)[:-3], "rr": "ip_vs_rr"}


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def unload():
    sh("ipvsadm", "-C")
    sh(os.path.join(PROJECT, "tests/vm/unload-modules.sh"), "ip_vs_mh", "ip_vs_mh_rs", "ip_vs_rr")


def load(impl, index):
    unload()
    if impl == "rust":
        sh("insmod", RUST_KO, f"tab_index={index}")
    elif impl == "rr":
        sh("modprobe", "ip_vs_rr")
    elif index == KERNEL_INDEX:
        sh("modprobe", "ip_vs_mh")
    else:
        sh("insmod", os.environ[f"IPVS_MH_REFERENCE_{index}"])
    # Only the Rust module has a debugfs directory.
    is_rust = os.path.isdir("/sys/kernel/debug/ip_vs_mh")
    if is_rust != (impl == "rust"):
        raise RuntimeError(f"loaded the wrong scheduler for {impl}")


def restore(lines):
    sh("ipvsadm", "-R", stdin="".join(line + "\n" for line in lines))


def scheduler(impl):
    return "rr" if impl == "rr" else "mh"


def service_lines(impl, port, flags, weights, net="10.0.1", sched=None):
    """ipvsadm -R lines of a service and its servers; `sched` names the
    scheduler instead of impl's."""
    svc = f"{VIP}:{port}"
    lines = [f"-A -u {svc} -s {sched or scheduler(impl)}"
             + (f" -b {','.join(flags)}" if flags and impl != "rr" else "")]
    for k, w in enumerate(weights):
        lines.append(f"-a -u {svc} -r {dest(net, k)}:{port} -g -w {w}")
    return lines


def dest(net, k):
    return f"{net}.{k + 1}" if net == "10.0.1" else f"{net}.{k // 250}.{k % 250 + 1}"


# Traffic -----------------------------------------------------------------
class Pktgen:
    """pktgen on the client's veth, one kernel thread per vCPU: one UDP
    datagram per new flow."""

    def __init__(self, dst_mac):
        self.dst_mac = dst_mac
        self.run_no = 0
        self.threads = min(os.cpu_count() or 1, 2)
        for t in range(self.threads):
            self.ctl(f"kpktgend_{t}", "rem_device_all")
            self.ctl(f"kpktgend_{t}", f"add_device eth0@{t}")

    @staticmethod
    def ctl(name, command):
        sh("ip", "netns", "exec", "client", "sh", "-c", f"echo '{command}' > /proc/net/pktgen/{name}")

    def send(self, count, threads=1, net=None):
        """Sends count datagrams from fresh sources (or from the /16 `net`,
        the same flows again), from `threads` vCPUs; returns elapsed us."""
        if net is None:
            net = 64 + self.run_no % 128
            self.run_no += 1
        for t in range(self.threads):
            self.configure(t, count if t < threads else 0, net, t)
        self.ctl("pgctrl", "start")
        elapsed = 0
        for t in range(threads):
            out = sh("ip", "netns", "exec", "client", "cat", f"/proc/net/pktgen/eth0@{t}")
            m = re.search(r"Result: OK: (\d+)\(", out)
            if not m:
                raise RuntimeError(f"pktgen did not report a result:\n{out}")
            elapsed = max(elapsed, int(m.group(1)))
        return elapsed

    def configure(self, t, count, net, part):
        # A /16 of sources per run (its quarters per thread) and 5000 ports:
        # every datagram of a run is a new flow.
        lo, hi = part * 64, part * 64 + 63
        for command in (
            f"count {max(count, 1)}", "clone_skb 0", "pkt_size 64", "delay 0",
            f"dst {VIP}", f"dst_mac {self.dst_mac}",
            f"src_min 10.{net}.{lo}.0", f"src_max 10.{net}.{hi}.255",
            f"udp_dst_min {VPORT}", f"udp_dst_max {VPORT}",
            "udp_src_min 1024", "udp_src_max 6023",
        ):
            self.ctl(f"eth0@{t}", command)
        if not count:
            self.ctl(f"kpktgend_{t}", "rem_device_all")
            self.ctl(f"kpktgend_{t}", f"add_device eth0@{t}")


def ipvs_conns():
    """Connections IPVS has created since it was loaded.

    The totals in /proc/net/ip_vs_stats are summed from the per-CPU
    counters by the rate estimator every 2 s, so a reading is only final
    once two readings 2 s apart agree (no traffic runs meanwhile)."""
    last = None
    while True:
        with open("/proc/net/ip_vs_stats") as f:
            now = int(f.read().splitlines()[2].split()[0], 16)
        if now == last:
            return now
        last = now
        time.sleep(2.2)


def conn_table():
    """{client "addr:port": real server} of IPVS's connections."""
    out = {}
    for line in sh("ipvsadm", "-Lnc").splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 6:
            out[parts[3]] = parts[5]
    return out


# Function profiler ---------------------------------------------------------
def traceable(candidates):
    with open(f"{TRACING}/available_filter_functions") as f:
        names = {line.split()[0] for line in f}
    for name in candidates:
        if name in names:
            return name
    raise RuntimeError(f"none of {candidates} can be traced")


def profile_start(functions):
    write(f"{TRACING}/options/sleep-time", "0")
    write(f"{TRACING}/set_ftrace_filter", "\n".join(functions) + "\n")
    write(f"{TRACING}/function_profile_enabled", "1")


def profile_read():
    """{function: (calls, total us)} summed over the CPUs."""
    totals = {}
    for path in glob.glob(f"{TRACING}/trace_stat/function*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4 and parts[3] == "us" and parts[1].isdigit():
                    calls, us = totals.get(parts[0], (0, 0.0))
                    totals[parts[0]] = (calls + int(parts[1]), us + float(parts[2]))
    return totals


def profiled(function, action):
    """Runs action(); returns (calls, ns per call) of function meanwhile:
    instructions per call under icount."""
    before = profile_read().get(function, (0, 0.0))
    action()
    after = profile_read().get(function, (0, 0.0))
    calls = after[0] - before[0]
    return calls, (after[1] - before[1]) * 1000 / calls if calls else float("nan")


# Measurements --------------------------------------------------------------
SCHEDULE_CASES = [
    # (case, flags, destinations quiesced out of RS_COUNT)
    ("plain", [], 0),
    ("mh-port", ["mh-port"], 0),
    ("mh-fallback, 0% unavailable", ["mh-fallback"], 0),
    ("mh-fallback, 50% unavailable", ["mh-fallback"], RS_COUNT // 2),
    ("mh-fallback, 100% unavailable", ["mh-fallback"], RS_COUNT),
]


def runs(measure):
    """A warm-up run, not kept, then REPS runs: [(calls, ns per call)]."""
    measure()
    return [measure() for _ in range(REPS)]


def bench_schedule(pktgen, index, function):
    for n, (case, flags, quiesced) in enumerate(SCHEDULE_CASES):
        # With nothing available C rehashes M times per connection: fewer
        # datagrams keep that row's run time near the others'.
        count = 5000 if quiesced < RS_COUNT else {12: 500, 16: 100}[index]
        if QUICK:
            count //= 10
        for impl in rotation(n + index):
            if impl == "rr" and quiesced == RS_COUNT:
                continue  # rr has nothing to schedule then: no baseline
            load(impl, index)
            restore(service_lines(impl, VPORT, flags, [1] * RS_COUNT))
            # Quiesce the first servers after adding them: last_weight stays
            # 1, so the table still gives them their slots, as in production.
            restore([f"-e -u {VIP}:{VPORT} -r 10.0.1.{k + 1}:{VPORT} -g -w 0"
                     for k in range(quiesced)])

            def measure():
                calls, ns = profiled(function, lambda: pktgen.send(count))
                time.sleep(3)  # the connections expire (UDP timeout 2 s)
                return calls, ns

            for rep, (calls, ns) in enumerate(runs(measure)):
                emit(group="schedule", M=SIZES[index], case=case, impl=impl, rep=rep,
                     sent=count, calls=calls, ns_per_call=ns)


def bench_changes(index, function, groups, ns=(10, 100, 1000), flags=(), shuffled=False):
    """One destination edited again and again in a service of N; the
    profiler's average per edit, for each of `groups`: "rebuild" (weight
    1 <-> 2: the table changes), "quiesce" (weight 1 <-> 0: a server
    quiesced and back, the blue-green switch; no input of the table changes,
    since its last weight stays, which C rebuilds for and Rust only
    compares), "canonical" (as rebuild, for a flag-3 service). The servers
    are added in address order (IPVS lists them newest first: the reverse),
    or `shuffled` (a fixed random order; the row says which)."""
    edits = 6 if QUICK else 12
    svc, first = f"{VIP}:{VPORT}", "10.2.0.1"
    weight = {"rebuild": lambda i: 2 - i % 2, "canonical": lambda i: 2 - i % 2, "quiesce": lambda i: i % 2}
    for k, n in enumerate(ns):
        for impl in rotation(k + index):
            if "canonical" in groups and impl == "c":
                continue  # no canonical order in C: its rebuild row is the reference
            load(impl, index)
            lines = service_lines(impl, VPORT, list(flags), [1] * n, net="10.2")
            if shuffled:
                servers = lines[1:]
                random.Random(7).shuffle(servers)
                lines = lines[:1] + servers
            restore(lines)
            for group in groups:
                lines = [f"-e -u {svc} -r {first}:{VPORT} -g -w {weight[group](i)}" for i in range(edits)]
                measured = runs(lambda: profiled(function, lambda: restore(lines)))
                for rep, (calls, per) in enumerate(measured):
                    emit(group=group, M=SIZES[index], N=n, impl=impl, rep=rep, edits=edits,
                         calls=calls, ns_per_call=per,
                         order="shuffled" if shuffled else "address")


def bench_bulk(function):
    """ipvsadm -R of 100 services of 100 servers: every add rebuilds."""
    services, servers = (20, 20) if QUICK else (100, 100)
    for rep in range(REPS):
        for impl in rotation(rep):
            load(impl, 12)
            lines = []
            for s in range(services):
                lines += service_lines(impl, 2000 + s, [], [1] * servers, net="10.2")
            calls, per = profiled(function, lambda: restore(lines))
            emit(group="bulk", M=4093, services=services, servers=servers, impl=impl, rep=rep,
                 calls=calls, ns_per_call=per)
            unload()


ALLOC = re.compile(r"\b(kmalloc|kmem_cache_alloc|kfree|kmem_cache_free): .*?ptr=(\S+)"
                   r"(?:.*? bytes_alloc=(\d+))?")
STACK_FRAME = re.compile(r"^ => (\S+)(?: \[(\S+)\])?")


def traced_allocations(module, action):
    """Runs action() with the allocator's events and a stack trace for each
    allocation; returns {call site: bytes} of what was allocated with
    `module`'s code on the stack and is still held afterwards."""
    write(f"{TRACING}/buffer_size_kb", "65536")
    # Stack frames with their module: "name+0x1f/0x80 [module]".
    write(f"{TRACING}/options/sym-offset", "1")
    write(f"{TRACING}/trace", "")
    allocs, frees = ("kmalloc", "kmem_cache_alloc"), ("kfree", "kmem_cache_free")
    for event in allocs:
        write(f"{TRACING}/events/kmem/{event}/trigger", "stacktrace")
    for event in allocs + frees:
        write(f"{TRACING}/events/kmem/{event}/enable", "1")
    try:
        action()
    finally:
        for event in allocs + frees:
            write(f"{TRACING}/events/kmem/{event}/enable", "0")
        for event in allocs:
            write(f"{TRACING}/events/kmem/{event}/trigger", "!stacktrace")
    live = {}  # ptr -> (site, bytes), for allocations with the module on the stack
    pending = None  # the last allocation, until its stack trace is read
    with open(f"{TRACING}/trace") as f:
        for line in f:
            m = ALLOC.search(line)
            if m:
                event, ptr, size = m.groups()
                if event in frees:
                    live.pop(ptr, None)
                    pending = None
                else:
                    pending = [ptr, int(size or 0), None]
                continue
            frame = STACK_FRAME.match(line)
            if frame and pending is not None and frame.group(2) == module and pending[2] is None:
                pending[2] = frame.group(1).split("+")[0]
                live[pending[0]] = (pending[2], pending[1])
    with open(f"{TRACING}/per_cpu/cpu0/stats") as f:
        overrun = int(re.search(r"overrun: (\d+)", f.read()).group(1))
    if overrun:
        raise RuntimeError(f"the trace buffer overran ({overrun} events lost)")
    sites = {}
    for site, size in live.values():
        sites[site] = sites.get(site, 0) + size
    return sites


def memory_row(group, impl, load_index, n, services, sched=None, **row):
    """Creates `services` services of `n` servers under `impl` (loaded at
    table index `load_index`; `sched` names the Rust scheduler instead of
    mh) and emits what the module holds per service, with `row`."""
    load(impl, load_index)
    lines = []
    for s in range(services):
        lines += service_lines(impl, 1000 + s, [], [1] * n, net="10.2", sched=sched)
    # Retired Rust tables are freed after an RCU grace period: wait for
    # those frees before the tracing stops.
    sites = traced_allocations(MODULES[impl], lambda: (restore(lines), time.sleep(2)))
    if not sites:
        raise RuntimeError(f"no allocation of {MODULES[impl]} was seen: the memory "
                           "measure would read 0 for it")
    top = sorted(sites.items(), key=lambda kv: -kv[1])[:4]
    emit(group=group, N=n, impl=impl, services=services, module=MODULES[impl],
         bytes_per_service=sum(sites.values()) / services,
         top_sites=";".join(f"{site}={b // services}" for site, b in top), **row)
    unload()


def bench_memory(index):
    for n, services in ((10, 20), (100, 5), (1000, 2)):
        for rep in range(REPS):
            for impl in rotation(rep, ("c", "rust")):
                memory_row("memory", impl, index, n, services, M=SIZES[index], rep=rep)


def bench_memory_sizes():
    """Per service at every table size: the Rust module loaded at the
    kernel's index serves each size under its sized name."""
    for index, slots in enumerate(TABLE_SLOTS, start=8):
        for rep in range(REPS):
            for impl in rotation(rep, ("c", "rust")):
                if impl == "rust":
                    memory_row("memory-sizes", impl, KERNEL_INDEX, 100, 5, sched=f"mh-{index}",
                               M=slots, index=index, rep=rep)
                else:
                    memory_row("memory-sizes", impl, index, 100, 5, M=slots, index=index, rep=rep)


def bench_during(pktgen, function):
    """New connections while another CPU rewrites the table between two
    weight sets; flows sent to a server neither table gives them."""
    index, count = 16, (2000 if QUICK else 20000)
    flags = ["mh-fallback"]
    # A and B differ in one server's weight: a flip is one edit, so no
    # configuration lies between them and every flow's server is A's or B's
    # unless a lookup saw a table half-way through its rewrite.
    weights = {"A": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5], "B": [1, 2, 3, 4, 5, 1, 2, 3, 4, 1]}
    svc = f"{VIP}:{VPORT}"

    def flip(old, new):
        """The edits that take weight set `old` to `new`."""
        return [e for e, o in zip(set_weights(new), set_weights(old)) if e != o]

    def set_weights(name):
        return [f"-e -u {svc} -r 10.0.1.{k + 1}:{VPORT} -g -w {w if k >= RS_COUNT // 2 else 0}"
                for k, w in enumerate(weights[name])]

    for rep in range(REPS):
        for impl in rotation(rep, ("c", "rust")):
            load(impl, index)
            restore(service_lines(impl, VPORT, flags, weights["A"]))
            # The same flows (one /16) under table A, under table B, then
            # while the table flips between them.
            answers = {}
            for name in ("A", "B"):
                restore(set_weights(name))
                pktgen.send(count, net=200)
                answers[name] = conn_table()
                time.sleep(3)  # the UDP timeout (2 s) empties the table
            flips = subprocess.Popen(
                ["sh", "-c", "while :; do ipvsadm -R <" + " && ipvsadm -R <".join(
                    [flip_file(flip("B", "A"), "A"), flip_file(flip("A", "B"), "B")]) + "; done"])
            try:
                calls, ns = profiled(function, lambda: pktgen.send(count, net=200))
            finally:
                flips.kill()
                flips.wait()
            # Only flows that had a connection under both A and B tell.
            during = conn_table()
            known = [c for c in during if c in answers["A"] and c in answers["B"]]
            mixed = sum(1 for c in known if during[c] not in (answers["A"][c], answers["B"][c]))
            emit(group="during", M=SIZES[index], impl=impl, rep=rep, sent=count, calls=calls,
                 ns_per_call=ns, flows=len(known), mixed=mixed)
            time.sleep(3)


def flip_file(lines, name):
    path = f"/tmp/flip-{name}"
    write(path, "".join(line + "\n" for line in lines))
    return path


def bench_e2e(pktgen, index, churn):
    count = 20000 if QUICK else 100000
    threads = pktgen.threads if churn else 1
    # The end-to-end rate varies more from run to run than the profiled
    # figures: more alternating runs.
    for rep in range(REPS if QUICK else max(REPS, 5)):
        for impl in rotation(rep, ("c", "rust")):
            load(impl, index)
            restore(service_lines(impl, VPORT, ["mh-port"], [1] * RS_COUNT))
            changer = None
            if churn:
                # Servers 11..14 come and go and 1 is reweighted, as fast as
                # ipvsadm can, while both vCPUs send.
                svc = f"{VIP}:{VPORT}"
                cycle = ([f"-a -u {svc} -r 10.0.1.{k}:{VPORT} -g -w 1" for k in range(11, 15)]
                         + [f"-e -u {svc} -r 10.0.1.1:{VPORT} -g -w 2"]
                         + [f"-d -u {svc} -r 10.0.1.{k}:{VPORT}" for k in range(11, 15)]
                         + [f"-e -u {svc} -r 10.0.1.1:{VPORT} -g -w 1"])
                changer = subprocess.Popen(
                    ["sh", "-c", f"while :; do ipvsadm -R <{flip_file(cycle, 'churn')}; done"])
            before = ipvs_conns()
            try:
                us = pktgen.send(count, threads=threads)
            finally:
                if changer:
                    changer.kill()
                    changer.wait()
            conns = ipvs_conns() - before
            emit(group="e2e-churn" if churn else "e2e", M=SIZES[index], impl=impl, rep=rep,
                 sent=count * threads, conns=conns, seconds=us / 1e6, conns_per_s=conns / (us / 1e6))


def main():
    print(f"bench: kernel {os.uname().release}, {os.cpu_count()} CPUs, clock {CLOCK}, "
          f"boot {BOOT}, reps {REPS}", flush=True)
    sh("sysctl", "-qw", "net.core.netdev_max_backlog=10000")
    # "no destination available" is logged (rate-limited) by both schedulers;
    # keep it off the slow serial console so it costs both the same little.
    sh("dmesg", "-n", "1")
    dst_mac = topology()
    sh("modprobe", "pktgen")
    # A large connection table keeps lookups flat; a short UDP timeout
    # keeps it small between runs.
    sh("modprobe", "ip_vs", "conn_tab_bits=18")
    sh("ipvsadm", "--set", "0", "0", "2")
    pktgen = Pktgen(dst_mac)
    # The table size the Rust module was built with, as it reports it when
    # loaded without tab_index (the release kernel's Kconfig chose it).
    unload()
    sh("dmesg", "-C")
    sh("insmod", RUST_KO)
    built = re.search(r"table size (\d+) \(index (\d+)\)", sh("dmesg"))
    unload()
    # Under TCG, QEMU names the CPU it emulates so; under KVM the guest sees
    # the host's CPU.
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    emit(group="info", kernel=os.uname().release, cpus=os.cpu_count(), reps=REPS,
         accelerator="TCG" if "TCG" in model else f"KVM ({model})",
         rust_module=MODULES["rust"],
         rust_default_index=int(built.group(2)) if built else None)

    if CLOCK == "time":
        for churn, group in ((False, "e2e"), (True, "e2e-churn")):
            for index in SIZES if group in ONLY else ():
                print(f"== {group}, M={SIZES[index]}", flush=True)
                bench_e2e(pktgen, index, churn)
    for index in SIZES if "memory" in ONLY else ():
        print(f"== memory, M={SIZES[index]}", flush=True)
        bench_memory(index)
    if "memory-sizes" in ONLY:
        print("== memory at every table size, N=100", flush=True)
        bench_memory_sizes()

    # Profiling comes last: it slows the functions it times.
    schedule_fn = traceable(["ip_vs_schedule"])
    change_fn = traceable(["__ip_vs_update_dest", "ip_vs_edit_dest"])
    emit(group="profiled", schedule=schedule_fn, rebuild=change_fn)
    profile_start([schedule_fn, change_fn])
    for index in SIZES if "schedule" in ONLY else ():
        print(f"== schedule, M={SIZES[index]}", flush=True)
        bench_schedule(pktgen, index, schedule_fn)
    changes = [g for g in ("rebuild", "quiesce") if g in ONLY]
    for index in SIZES if changes else ():
        print(f"== {' and '.join(changes)}, M={SIZES[index]}", flush=True)
        bench_changes(index, change_fn, changes)
    if "canonical" in ONLY:
        print("== rebuild in canonical order (flag-3), M=4093, N=1000", flush=True)
        for shuffled in (False, True):
            bench_changes(12, change_fn, ["canonical"], ns=(1000,), flags=["flag-3"], shuffled=shuffled)
    if "bulk" in ONLY:
        print("== bulk restore", flush=True)
        bench_bulk(change_fn)
    if "during" in ONLY:
        print("== schedule while the table is rewritten", flush=True)
        bench_during(pktgen, schedule_fn)
    unload()
    print("bench: done", flush=True)
    return 0


# bench/report.py imports the list of groups (ALL) from here.
if __name__ == "__main__":
    sys.exit(main())
