#!/usr/bin/env python3
"""Allocation failures, failed scheduler edits and bad input.

failslab fails every slab allocation whose call stack passes through one
module's code (the stack-trace filter), so IPVS's own allocations go on
working. In the Rust module's code: a destination change then leaves the
previous table in force, the failure is logged, nothing leaks (kmemleak
runs at the end of the guest), and the next change after the fault builds
the right table. In ip_vs_sh's: `ipvsadm -E -s sh` on an mh service fails,
and IPVS (since 7.1) binds mh again, so init_service runs on a service
after done_service did: the service must schedule exactly as before.
"""
import os
import random
import subprocess
import sys

from mhlab import Lab, check, dest_name, finish, random_flows, replay, sh, view

FS = "/sys/kernel/debug/failslab"


def failslab(on, module="ip_vs_mh"):
    """Fails every slab allocation made from `module`'s code (or none)."""
    def put(name, value):
        with open(os.path.join(FS, name), "w") as f:
            f.write(str(value))

    if not on:
        put("probability", 0)
        return
    with open(f"/sys/module/{module}/sections/.text") as f:
        start = int(f.read(), 16)
    size = next(int(line.split()[1]) for line in open("/proc/modules") if line.split()[0] == module)
    put("require-start", start)
    put("require-end", start + size)
    put("ignore-gfp-wait", "N")
    put("verbose", 0)
    put("interval", 1)
    put("times", -1)
    put("space", 0)
    put("probability", 100)


def dmesg_lines():
    return sh("dmesg").stdout.splitlines()


def main():
    rng = random.Random(8)
    lab = Lab()
    try:
        # Allocation failures during destination changes.
        lab.load("rust", 12)
        lab.service(4, [])
        dests = [dest_name(4, k) for k in range(5)]
        for d in dests[:4]:
            lab.add(d, 100)
        flows = random_flows(rng, 4, 600, port_base=10000)
        before = lab.schedule(flows)
        check(all(before) and len(set(before)) == 4, "4 servers share the flows before the fault")

        mark = len(dmesg_lines())
        failslab(True)
        try:
            lab.add(dests[4], 100)  # IPVS adds it; the table rebuild fails
            lab.delete(dests[0])
        finally:
            failslab(False)
        logged = [l for l in dmesg_lines()[mark:] if "rebuilding the table failed" in l]
        check(len(logged) == 2, f"both failed rebuilds were logged ({len(logged)})")
        during = lab.schedule(replay(flows, 20000))
        check(during == before, "the previous table stayed in force (no flow changed server)")

        lab.set_weight(dests[1], 50)  # a real change: a new table, now with memory
        after = lab.schedule(replay(flows, 30000))
        check(dests[4] in after, "after the fault, a rebuild includes the added server")
        check(dests[0] not in after, "after the fault, a rebuild drops the deleted server")

        # A failed scheduler edit: IPVS unbinds mh, cannot bind sh (failslab
        # fails its table's allocation) and binds mh back.
        before_edit = lab.schedule(replay(flows, 36000))
        digest = view()[0]["digest"]
        sh("modprobe", "ip_vs_sh")
        mark = len(dmesg_lines())
        failslab(True, "ip_vs_sh")
        try:
            r = sh("ipvsadm", "-E", "-u", lab.svc, "-s", "sh", check=False)
        finally:
            failslab(False)
        check(r.returncode != 0, f"ipvsadm -E -s sh fails when sh cannot allocate: {r.stderr.strip()}")
        logged = [l for l in dmesg_lines()[mark:] if "init error" in l]
        check(len(logged) == 1, f"IPVS says the new scheduler failed to initialise ({len(logged)} lines)")
        check(" mh" in [l for l in sh("ipvsadm", "-Ln").stdout.splitlines() if lab.svc in l][0],
              "the service is bound to mh again")
        rebound = view()
        check(len(rebound) == 1 and rebound[0]["digest"] == digest and rebound[0]["table"]["rebuilds"] == 1,
              f"mh built its table again from the same destinations (digest {rebound[0]['digest']})")
        after_edit = lab.schedule(replay(flows, 38000))
        check(after_edit == before_edit, "every flow goes where it went before the failed edit")
        sh("rmmod", "ip_vs_sh")

        # A new service whose first table cannot be allocated is refused.
        failslab(True)
        try:
            r = sh("ipvsadm", "-A", "-u", "10.0.0.100:54", "-s", "mh", check=False)
        finally:
            failslab(False)
        check(r.returncode != 0, f"ipvsadm -A fails when the table cannot be allocated: {r.stderr.strip()}")
        listing = sh("ipvsadm", "-Ln").stdout
        check("10.0.0.100:54" not in listing, "and leaves no half-made service behind")
        lab.unload()

        # More destinations than slots: -EINVAL, as in C.
        lab.load("rust", 8)  # M = 251
        with open("/tmp/many", "w") as f:
            f.write("-A -u 10.0.0.100:53 -s rr\n")
            for k in range(252):
                f.write(f"-a -u 10.0.0.100:53 -r {dest_name(4, k)} -m -w 1\n")
        with open("/tmp/many") as f:
            subprocess.run(["ipvsadm", "-R"], stdin=f, check=True)
        r = sh("ipvsadm", "-E", "-u", "10.0.0.100:53", "-s", "mh", check=False)
        check(r.returncode != 0, f"switching a 252-server service to mh with 251 slots is refused: {r.stderr.strip()}")
        check(" rr" in sh("ipvsadm", "-Ln").stdout, "the service keeps rr")
        sh("ipvsadm", "-d", "-u", "10.0.0.100:53", "-r", dest_name(4, 251))
        r = sh("ipvsadm", "-E", "-u", "10.0.0.100:53", "-s", "mh", check=False)
        check(r.returncode == 0, "with 251 servers it switches to mh")
        lab.af, lab.svc = 4, "10.0.0.100:53"
        many = lab.schedule(random_flows(rng, 4, 300, port_base=40000))
        check(all(many), "and schedules every flow")
        lab.unload()

        # The largest weight ipvsadm takes, next to a small one.
        lab.load("rust", 12)
        lab.service(4, [])
        r = sh("ipvsadm", "-a", "-u", "10.0.0.100:53", "-r", dest_name(4, 0), "-m", "-w", "2147483647", check=False)
        big = 2147483647 if r.returncode == 0 else 65535
        if r.returncode != 0:
            print(f"     ipvsadm refuses weight INT_MAX ({r.stderr.strip()}); using {big}")
            lab.add(dest_name(4, 0), big)
        else:
            lab.weights[dest_name(4, 0)] = [big, big]
        lab.add(dest_name(4, 1), 1)
        res = lab.schedule(random_flows(rng, 4, 400, port_base=50000))
        heavy = sum(1 for d in res if d == dest_name(4, 0))
        check(all(res), f"weight {big} next to weight 1: every flow scheduled")
        check(heavy > 300, f"the heavy server gets almost every flow ({heavy} of 400)")
    finally:
        failslab(False)
        lab.close()
    return finish()


sys.exit(main())
