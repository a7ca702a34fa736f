#!/usr/bin/env python3
"""In-kernel benchmark of the Rust mh against the kernel's C mh.

Runs inside the release-kernel guest (scripts/bench.sh boots it). Both
schedulers are loaded one after the other in this one guest run, under the
same conditions, in alternating order. Each measurement is written as one
JSON line to $BENCH_RESULTS for bench/report.py.

What is measured:
- e2e: new connections per second through IPVS. pktgen (in the kernel, in a
  client namespace) sends UDP datagrams from ever new source addresses and
  ports to the VIP; every one is a new connection that IPVS schedules and
  forwards (direct routing) to a real-server namespace that drops it.
- memory: the slab allocator's events (kmalloc, kmem_cache_alloc and their
  frees) while S services with 10 destinations each are created: the bytes
  the scheduler allocated and still holds, divided by S.
- schedule: the function profiler's average time per call of ip_vs_schedule(),
  the IPVS function that calls the scheduler's schedule callback and then
  creates the connection. Rust code cannot be traced by ftrace with rustc
  1.96 (it emits no __fentry__ call), so the scheduler callbacks themselves
  are timed through the C function that calls them, identically for both.
- rebuild: the profiler's average per call of the IPVS function that edits a
  destination (it calls the scheduler's upd_dest, which rebuilds the table),
  with N destinations in the service: a weight 1 <-> 2, a real change.
- quiesce: the same for a weight w <-> 0 (quiesce and unquiesce), which
  leaves the table's inputs as they were: C rebuilds, Rust keeps its table.

The function profiler is enabled once for the whole run (a second enable in
one boot oopsed 7.3.4 here); each figure is the difference of its cumulative
counters around one measurement. The profiled functions live in ip_vs.ko,
which stays loaded throughout; only ip_vs_mh.ko is swapped.
"""
import glob
import json
import os
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
REPS = int(os.environ.get("BENCH_REPS", "3"))
QUICK = os.environ.get("BENCH_QUICK") == "1"  # a short run to try the bench
# Measurement groups to run (default all): e2e, memory, schedule, rebuild,
# quiesce.
ONLY = set(os.environ.get("BENCH_ONLY", "e2e memory schedule rebuild quiesce").split())
# BENCH_DEBUG=1: print every call site the memory trace saw, keep the traces.
TRACING = "/sys/kernel/tracing"
VIP, VPORT = "10.0.0.100", 53
SIZES = {12: 4093, 16: 65521}
IMPLS = ("c", "rust")
RS_COUNT = 10


def sh(*cmd, check=True, stdin=None):
    r = subprocess.run(cmd, capture_output=True, text=True, input=stdin)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


def alternating(rep):
    """C and Rust in turns: which goes first changes with every repetition."""
    return IMPLS if rep % 2 == 0 else IMPLS[::-1]


def emit(**row):
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
def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def unload():
    sh("ipvsadm", "-C")
    # The in-tree build beside the C module is ip_vs_mh_rs.ko.
    for name in ("ip_vs_mh", "ip_vs_mh_rs"):
        for _ in range(50):
            if not loaded(name) or subprocess.run(["rmmod", name]).returncode == 0:
                break
            time.sleep(0.2)
        if loaded(name):
            sh("rmmod", name)


def load(impl, index):
    unload()
    if impl == "rust":
        sh("insmod", RUST_KO, f"tab_index={index}")
    elif index == KERNEL_INDEX:
        sh("modprobe", "ip_vs_mh")
    else:
        sh("insmod", os.environ[f"IPVS_MH_REFERENCE_{index}"])
    # Only the Rust module has a debugfs directory.
    is_rust = os.path.isdir("/sys/kernel/debug/ip_vs_mh")
    if is_rust != (impl == "rust"):
        raise RuntimeError(f"loaded the wrong ip_vs_mh for {impl}")


def restore(lines):
    sh("ipvsadm", "-R", stdin="".join(line + "\n" for line in lines))


def service_lines(port, flags, weights, net="10.0.1"):
    svc = f"{VIP}:{port}"
    lines = [f"-A -u {svc} -s mh" + (f" -b {','.join(flags)}" if flags else "")]
    for k, w in enumerate(weights):
        addr = f"{net}.{k + 1}" if net == "10.0.1" else f"{net}.{k // 250}.{k % 250 + 1}"
        lines.append(f"-a -u {svc} -r {addr}:{port} -g -w {w}")
    return lines


# Traffic -----------------------------------------------------------------
class Pktgen:
    """pktgen on the client's veth: one UDP datagram per new flow."""

    def __init__(self, dst_mac):
        self.dst_mac = dst_mac
        self.run_no = 0
        self.ctl("kpktgend_0", "rem_device_all")
        self.ctl("kpktgend_0", "add_device eth0")

    @staticmethod
    def ctl(name, command):
        sh("ip", "netns", "exec", "client", "sh", "-c", f"echo '{command}' > /proc/net/pktgen/{name}")

    def send(self, count):
        """Sends count datagrams from fresh sources; returns elapsed us."""
        # A /16 of sources per run and 5000 ports: every datagram of a run
        # is a new flow, and no run reuses another's flows.
        net = 64 + self.run_no % 128
        self.run_no += 1
        for command in (
            f"count {count}", "clone_skb 0", "pkt_size 64", "delay 0",
            f"dst {VIP}", f"dst_mac {self.dst_mac}",
            f"src_min 10.{net}.0.0", f"src_max 10.{net}.255.255",
            f"udp_dst_min {VPORT}", f"udp_dst_max {VPORT}",
            "udp_src_min 1024", "udp_src_max 6023",
        ):
            self.ctl("eth0", command)
        self.ctl("pgctrl", "start")
        out = sh("ip", "netns", "exec", "client", "cat", "/proc/net/pktgen/eth0")
        m = re.search(r"Result: OK: (\d+)\(", out)
        if not m:
            raise RuntimeError(f"pktgen did not report a result:\n{out}")
        return int(m.group(1))


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
    """Runs action(); returns (calls, us per call) of function meanwhile."""
    before = profile_read().get(function, (0, 0.0))
    action()
    after = profile_read().get(function, (0, 0.0))
    calls = after[0] - before[0]
    return calls, (after[1] - before[1]) / calls if calls else float("nan")


# Measurements --------------------------------------------------------------
def bench_e2e(pktgen, index):
    count = 20000 if QUICK else 100000
    # The end-to-end rate varies more from run to run than the profiled
    # figures: more alternating runs.
    for rep in range(REPS if QUICK else max(REPS, 5)):
        for impl in alternating(rep):
            load(impl, index)
            restore(service_lines(VPORT, ["mh-port"], [1] * RS_COUNT))
            before = ipvs_conns()
            us = pktgen.send(count)
            conns = ipvs_conns() - before
            emit(group="e2e", M=SIZES[index], impl=impl, rep=rep, sent=count,
                 conns=conns, seconds=us / 1e6, conns_per_s=conns / (us / 1e6))


ALLOC_EVENT = re.compile(r"\b(kmalloc|kmem_cache_alloc|kfree|kmem_cache_free): "
                         r"call_site=(\S+)(?: \[(\S+)\])? ptr=(\S+)(?:.*? bytes_alloc=(\d+))?")
# Where the kernel's Rust allocators (KVec, KVVec) enter the slab allocator:
# allocations there during the measurement are the Rust module's.
RUST_ALLOC_SITES = ("kvrealloc_node_align_noprof", "krealloc_node_align_noprof")


def traced_allocations(action):
    """Runs action() with the slab allocator's events on; returns the
    bytes still allocated afterwards, per call site."""
    write(f"{TRACING}/buffer_size_kb", "32768")
    write(f"{TRACING}/trace", "")
    for event in ("kmalloc", "kmem_cache_alloc", "kfree", "kmem_cache_free"):
        write(f"{TRACING}/events/kmem/{event}/enable", "1")
    try:
        action()
    finally:
        for event in ("kmalloc", "kmem_cache_alloc", "kfree", "kmem_cache_free"):
            write(f"{TRACING}/events/kmem/{event}/enable", "0")
    live = {}  # ptr -> (call site, bytes)
    with open(f"{TRACING}/trace") as f:
        for line in f:
            m = ALLOC_EVENT.search(line)
            if not m:
                continue
            event, site, module, ptr, size = m.groups()
            if event in ("kfree", "kmem_cache_free"):
                live.pop(ptr, None)
            else:
                # A large kmalloc is reported twice, by the allocator and
                # for its caller: the later report names the caller.
                live[ptr] = (f"{site.split('+')[0]} [{module or 'kernel'}]", int(size or 0))
    with open(f"{TRACING}/per_cpu/cpu0/stats") as f:
        overrun = int(re.search(r"overrun: (\d+)", f.read()).group(1))
    if overrun:
        raise RuntimeError(f"the trace buffer overran ({overrun} events lost)")
    sites = {}
    for site, size in live.values():
        sites[site] = sites.get(site, 0) + size
    return sites


def bench_memory(index):
    services = 20
    for rep in range(REPS):
        for impl in alternating(rep):
            load(impl, index)
            lines = []
            for s in range(services):
                lines += service_lines(1000 + s, [], [1] * RS_COUNT)
            # Retired Rust tables are freed after an RCU grace period: wait
            # for those frees before the tracing stops.
            sites = traced_allocations(lambda: (restore(lines), time.sleep(2)))
            # What the scheduler keeps per service: allocations from its
            # module's code, or from the allocators Rust code goes through,
            # not freed. IPVS's own service and destination structures are
            # the same for both (and destinations come back from its trash
            # when a run reuses addresses), so they are left out.
            kept = {site: b for site, b in sites.items()
                    if site.endswith("[ip_vs_mh]") or site.split()[0] in RUST_ALLOC_SITES}
            top = sorted(kept.items(), key=lambda kv: -kv[1])[:4]
            if os.environ.get("BENCH_DEBUG"):
                print(sorted(sites.items(), key=lambda kv: -kv[1])[:15])
                sh("cp", f"{TRACING}/trace", f"/run/job/trace-{impl}-{index}")
            emit(group="memory", M=SIZES[index], impl=impl, rep=rep, services=services,
                 bytes_per_service=sum(kept.values()) / services,
                 top_sites=";".join(f"{site[:60]}={b // services}" for site, b in top))
            unload()


SCHEDULE_CASES = [
    # (case, flags, destinations quiesced out of RS_COUNT)
    ("plain", [], 0),
    ("mh-port", ["mh-port"], 0),
    ("mh-fallback, 0% unavailable", ["mh-fallback"], 0),
    ("mh-fallback, 50% unavailable", ["mh-fallback"], RS_COUNT // 2),
    ("mh-fallback, 100% unavailable", ["mh-fallback"], RS_COUNT),
]


def bench_schedule(pktgen, index, function):
    for case, flags, quiesced in SCHEDULE_CASES:
        # With nothing available C rehashes M times per connection: fewer
        # datagrams keep that row's run time near the others'.
        count = 20000 if quiesced < RS_COUNT else {12: 2000, 16: 300}[index]
        if QUICK:
            count //= 10
        for rep in range(REPS):
            for impl in alternating(rep):
                load(impl, index)
                restore(service_lines(VPORT, flags, [1] * RS_COUNT))
                # Quiesce the first servers after adding them: last_weight
                # stays 1, so the table still gives them their slots, as in
                # production.
                restore([f"-e -u {VIP}:{VPORT} -r 10.0.1.{k + 1}:{VPORT} -g -w 0"
                         for k in range(quiesced)])
                calls, us = profiled(function, lambda: pktgen.send(count))
                emit(group="schedule", M=SIZES[index], case=case, impl=impl, rep=rep,
                     sent=count, calls=calls, us_per_call=us)
                time.sleep(3)


def bench_changes(index, function, group, weight_of_edit):
    """One destination edited again and again in a service of N; the
    profiler's average per edit. weight_of_edit(i) is the i-th weight."""
    edits = 10 if QUICK else 20
    for n in (10, 100, 1000):
        for rep in range(REPS):
            for impl in alternating(rep):
                load(impl, index)
                restore(service_lines(VPORT, [], [1] * n, net="10.2"))
                svc, first = f"{VIP}:{VPORT}", "10.2.0.1"
                lines = [f"-e -u {svc} -r {first}:{VPORT} -g -w {weight_of_edit(i)}"
                         for i in range(edits)]
                calls, us = profiled(function, lambda: restore(lines))
                emit(group=group, M=SIZES[index], N=n, impl=impl, rep=rep, edits=edits,
                     calls=calls, us_per_call=us)


def bench_rebuild(index, function):
    """A weight 1 <-> 2: the table changes; both rebuild."""
    bench_changes(index, function, "rebuild", lambda i: 2 - i % 2)


def bench_quiesce(index, function):
    """A server quiesced (weight 0) and back, the blue-green switch: no
    input of the table changes (its last weight stays), which C rebuilds
    for and Rust only compares."""
    bench_changes(index, function, "quiesce", lambda i: i % 2)


def main():
    if os.path.exists(RESULTS):
        os.unlink(RESULTS)
    print(f"bench: kernel {os.uname().release}, {os.cpu_count()} CPUs, reps {REPS}", flush=True)
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
    emit(group="info", kernel=os.uname().release, cpus=os.cpu_count(), reps=REPS,
         rust_module=os.path.basename(RUST_KO),
         rust_default_index=int(built.group(2)) if built else None)

    for index in SIZES if "e2e" in ONLY else ():
        print(f"== end to end, M={SIZES[index]}", flush=True)
        bench_e2e(pktgen, index)
    for index in SIZES if "memory" in ONLY else ():
        print(f"== memory, M={SIZES[index]}", flush=True)
        bench_memory(index)

    # Profiling comes last: it slows the functions it times.
    schedule_fn = traceable(["ip_vs_schedule"])
    rebuild_fn = traceable(["ip_vs_edit_dest", "__ip_vs_update_dest"])
    emit(group="profiled", schedule=schedule_fn, rebuild=rebuild_fn)
    profile_start([schedule_fn, rebuild_fn])
    for index in SIZES if "schedule" in ONLY else ():
        print(f"== schedule, M={SIZES[index]}", flush=True)
        bench_schedule(pktgen, index, schedule_fn)
    for index in SIZES if "rebuild" in ONLY else ():
        print(f"== rebuild, M={SIZES[index]}", flush=True)
        bench_rebuild(index, rebuild_fn)
    for index in SIZES if "quiesce" in ONLY else ():
        print(f"== quiesce and unquiesce, M={SIZES[index]}", flush=True)
        bench_quiesce(index, rebuild_fn)
    unload()
    print("bench: done", flush=True)
    return 0


sys.exit(main())
