#!/usr/bin/env python3
"""A table size per service: the schedulers mh-8 .. mh-17 beside mh.

1. With no scheduler loaded, `ipvsadm -A -s mh-11` loads the Rust module by
   itself (its alias ip_vs_mh-11), and the service gets 2039 slots.
2. Eleven IPv4 UDP services in one director at once: one per size, mh-8
   (251 slots) to mh-17 (131071), with mh-port, and mh-fallback on every
   other one, and mh (the load-time size) with mh-fallback; ten servers
   each with the same weights. The view names each service's scheduler and
   size; 500 flows each.
3. Each agrees on every flow with the C ip_vs_mh at its size (the kernel's
   own at its index, copies rebuilt from its source at the others),
   replayed one service at a time.
4. A live switch, `ipvsadm -E -s mh-9` on the mh-16 service: flows that
   have a connection entry keep their server (mh-tool predicts that some
   would move under mh-9), new flows go where mh-9 sends them (step 3's
   answers for the mh-9 service).
5. Balance with 100 servers of equal weight, the Maglev paper's case for a
   table much larger than the pool: the busiest server's share of slots
   (the view's `share`) is about 1.2 times its fair share with mh-8 (251
   slots: 2 or 3 each), within 0.1% of it with mh-17.
"""
import random
import sys

from mhlab import (VIP, Lab, check, dest_name, finish, kernel_tab_index, loaded, random_flows, sh,
                   unload_modules, view)

KERNEL = kernel_tab_index()
VIP4 = VIP[4]
WEIGHTS = [1, 2, 3, 5, 1, 2, 3, 5, 10, 100]
# Every service of steps 2 to 4 has these servers, added in this order.
DESTS = [(dest_name(4, k), w) for k, w in enumerate(WEIGHTS)]
# (port, scheduler, table index, flags): every size, and mh.
SERVICES = [(40 + i, f"mh-{i}", i, ["mh-port"] + (["mh-fallback"] if i % 2 else []))
            for i in range(8, 18)] + [(58, "mh", KERNEL, ["mh-fallback"])]
FLOWS = 500


def service_of(scheduler):
    """The entry of SERVICES that uses `scheduler`."""
    return next(s for s in SERVICES if s[1] == scheduler)


def service_view(port):
    """The view's entry for the service on `port` of the IPv4 VIP."""
    found = [s for s in view() if s["addr"] == f"{VIP4}:{port}"]
    return found[0] if len(found) == 1 else None


def autoload():
    unload_modules("ip_vs_mh")
    sh("modprobe", "ip_vs")
    r = sh("ipvsadm", "-A", "-u", f"{VIP4}:60", "-s", "mh-11", check=False)
    check(r.returncode == 0 and loaded("ip_vs_mh"),
          f"ipvsadm -A -s mh-11 loads the module by itself ({r.stderr.strip() or 'ok'})")
    sh("ipvsadm", "-a", "-u", f"{VIP4}:60", "-r", dest_name(4, 0), "-m", "-w", "1", check=False)
    seen = service_view(60)
    slots = seen["table"]["slots"] if seen and seen["table"] else None
    check(seen is not None and seen["scheduler"] == "mh-11" and slots == 2039,
          f"the view shows the service under mh-11 with 2039 slots ({seen and seen['scheduler']}, {slots})")
    sh("ipvsadm", "-D", "-u", f"{VIP4}:60")


def side_by_side(lab, flows):
    """Step 2: the Rust module's answers per port."""
    lab.load("rust", KERNEL)
    answers = {}
    for port, scheduler, index, flags in SERVICES:
        lab.service(4, flags, scheduler=scheduler, port=port)
        lab.add_all(DESTS)
        answers[port] = lab.schedule(flows[port])
    for port, scheduler, index, _ in SERVICES:
        seen = service_view(port)
        ok = (seen is not None and seen["scheduler"] == scheduler and seen["table"] is not None
              and seen["table"]["index"] == index)
        check(ok, f"port {port}: the view shows scheduler {scheduler}, table index {index} "
                  f"({seen and seen['scheduler']}, {seen and seen['table'] and seen['table']['index']})")
        got = answers[port]
        # 500 flows: a server of weight 1 (1/132 of the slots) may get none;
        # one of weight 5 or more expects 19 or more.
        heavy = {d for d, w in DESTS if w >= 5}
        check(all(a is not None for a in got) and heavy <= set(got),
              f"port {port} ({scheduler}): every flow scheduled, the {len(heavy)} servers of weight "
              f"5 or more among them ({sum(a is not None for a in got)} scheduled, "
              f"{len(set(got) - {None})} servers)")
    return answers


def against_c(lab, flows, rust):
    """Step 3: the C module at each size, one service at a time."""
    for port, scheduler, index, flags in SERVICES:
        lab.load("c", index)
        lab.service(4, flags, port=port)
        lab.add_all(DESTS)
        c = lab.schedule(flows[port])
        same = sum(1 for a, b in zip(c, rust[port]) if a == b)
        check(same == len(c), f"port {port}: {scheduler} and the C mh at index {index} agree on "
                              f"{same} of {len(c)} flows")


def live_switch(lab, flows, rust):
    """Step 4."""
    lab.load("rust", KERNEL)
    port, scheduler, _, flags = service_of("mh-16")
    lab.service(4, flags, scheduler=scheduler, port=port)
    lab.add_all(DESTS)
    before = lab.schedule(flows[port])
    check(before == rust[port], f"{scheduler} again: the same answers as in step 2")
    would_move = sum(1 for a, b in zip(before, lab.predict(9, flows[port])) if a != b)
    check(would_move > 0, f"under mh-9, {would_move} of these flows would go to another server")
    # With the flags of mh-9's own service, whose answers new flows must get.
    nine, _, _, nine_flags = service_of("mh-9")
    lab.edit("mh-9", nine_flags)
    seen = service_view(port)
    check(seen is not None and seen["scheduler"] == "mh-9" and seen["table"]["index"] == 9,
          "after ipvsadm -E -s mh-9 the view shows mh-9, index 9")
    again = lab.schedule(flows[port])
    kept = sum(1 for a, b in zip(before, again) if a == b)
    check(kept == len(before), f"flows with a connection entry keep their server ({kept} of {len(before)})")
    new = lab.schedule(flows[nine])
    same = sum(1 for a, b in zip(new, rust[nine]) if a == b)
    check(same == len(new), f"new flows go where mh-9 sends them ({same} of {len(new)})")


def balance(lab):
    """Step 5."""
    lab.load("rust", KERNEL)
    servers = [dest_name(4, k) for k in range(100)]
    busiest = {}
    for port, scheduler in ((70, "mh-8"), (71, "mh-17")):
        lab.service(4, [], scheduler=scheduler, port=port)
        lab.add_all([(d, 1) for d in servers])
        seen = service_view(port)
        shares = [float(d["share"]) for d in seen["dests"]] if seen else []
        busiest[scheduler] = max(shares) if shares else None
        check(len(shares) == 100, f"{scheduler}: the view shows 100 servers ({len(shares)})")
    print(f"busiest server's share of slots, fair share 1%: mh-8 {busiest['mh-8']}%, "
          f"mh-17 {busiest['mh-17']}%")
    check(busiest["mh-8"] is not None and busiest["mh-8"] > 1.15,
          "mh-8: the busiest server gets more than 1.15 times its fair share")
    check(busiest["mh-17"] is not None and busiest["mh-17"] < 1.001,
          "mh-17: the busiest server gets within 0.1% of its fair share")


def main():
    lab = Lab()
    try:
        autoload()
        rng = random.Random(21)
        flows = {port: random_flows(rng, 4, FLOWS, port_base=20000 + i * FLOWS)
                 for i, (port, _, _, _) in enumerate(SERVICES)}
        rust = side_by_side(lab, flows)
        against_c(lab, flows, rust)
        live_switch(lab, flows, rust)
        balance(lab)
    finally:
        lab.close()
    return finish()


sys.exit(main())
