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
6. Sizes by service for clients that can only name `mh` (keepalived): the
   module parameter service_tab_index gives two services of `mh` index 16
   and 9; each answers as step 2's mh-16 and mh-9 services (which agree
   with C at those sizes), the view shows each under mh with its size,
   another service of mh keeps tab_index. Rewritten through sysfs, a
   service's table takes its new size at its next destination change
   (`ipvsadm -e` at the same weight), not before, and then answers as step
   2's service of that size; a bad value is refused
   with one line saying why, and the old value stays; a bad value given at
   load fails the load with one line.
"""
import os
import random
import sys

from mhlab import (RUST_KO, VIP, Lab, check, dest_name, finish, kernel_tab_index, loaded, random_flows,
                   sh, unload_modules, view)

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


PARAM = "/sys/module/ip_vs_mh/parameters/service_tab_index"


def kernel_log_mark(what):
    """Writes a unique line about `what` into the kernel log, and returns
    it for kernel_log_after."""
    marker = f"sizes.py: {what} {random.random()}"
    with open("/dev/kmsg", "w") as kmsg:
        kmsg.write(marker + "\n")
    return marker


def kernel_log_after(marker):
    """The kernel log's lines after the line `marker` (kernel_log_mark)."""
    lines = sh("dmesg").stdout.splitlines()
    at = max((i for i, line in enumerate(lines) if line.endswith(marker)), default=len(lines))
    return lines[at + 1:]


def read_param():
    with open(PARAM) as f:
        return f.read().strip()


def write_param(text):
    """Writes `text` to service_tab_index as root would: (accepted, the
    kernel's lines about it)."""
    marker = kernel_log_mark("writing service_tab_index")
    # One write(2), as `echo` makes: a buffered file would write again
    # when it is closed after a refusal.
    fd = os.open(PARAM, os.O_WRONLY)
    try:
        os.write(fd, (text + "\n").encode())
        accepted = True
    except OSError:
        accepted = False
    finally:
        os.close(fd)
    return accepted, kernel_log_after(marker)


def by_parameter(lab, flows, rust):
    """Step 6."""
    p16, _, _, f16 = service_of("mh-16")
    p9, _, _, f9 = service_of("mh-9")
    p12, _, _, f12 = service_of("mh")
    given = f"udp:{VIP4}:{p16}=16,udp:{VIP4}:{p9}=9"
    lab.load("rust", KERNEL, [f"service_tab_index={given}"])
    shown = read_param()
    check(shown == given, f"service_tab_index reads back as given ({shown})")
    for port, flags, index in ((p16, f16, 16), (p9, f9, 9), (p12, f12, KERNEL)):
        lab.service(4, flags, port=port)
        lab.add_all(DESTS)
        got = lab.schedule(flows[port])
        seen = service_view(port)
        check(seen is not None and seen["scheduler"] == "mh" and seen["table"]["index"] == index,
              f"port {port}: the view shows scheduler mh, table index {index} "
              f"({seen and seen['scheduler']}, {seen and seen['table']['index']})")
        same = sum(1 for a, b in zip(got, rust[port]) if a == b)
        check(same == len(got), f"port {port}: mh at index {index} answers as step 2's service "
                                f"there ({same} of {len(got)} flows)")
    # Rewritten: the mh-16 service is to get index 11, and the mh-9 one is
    # named no more. Every server is available, so flows go where step 2's
    # mh-11 service sent them whatever mh-fallback says; those flows were
    # not sent in this step, so no connection entry answers for them.
    p11 = service_of("mh-11")[0]
    accepted, lines = write_param(f"udp:{VIP4}:{p16}=11")
    check(accepted and not lines, f"service_tab_index rewritten through sysfs ({lines})")
    seen = service_view(p16)
    check(seen["table"]["index"] == 16, "the table in force keeps index 16 until a destination changes")
    rebuilds = seen["table"]["rebuilds"]
    dest, weight = DESTS[0]
    sh("ipvsadm", "-e", "-u", f"{VIP4}:{p16}", "-r", dest, "-m", "-w", str(weight))
    seen = service_view(p16)
    check(seen["table"]["index"] == 11 and seen["table"]["rebuilds"] == rebuilds + 1,
          f"ipvsadm -e at the same weight rebuilds it at index 11 ({seen['table']['index']}, "
          f"rebuilds {rebuilds} -> {seen['table']['rebuilds']})")
    lab.port = p16  # the service flows go to (lab.service made p12's last)
    new = lab.schedule(flows[p11])
    same = sum(1 for a, b in zip(new, rust[p11]) if a == b)
    check(same == len(new), f"new flows go where the mh-11 service sent them ({same} of {len(new)})")
    check(service_view(p9)["table"]["index"] == 9,
          "the service named no more keeps its table until its own next change")
    for bad, why in ((f"udp:{VIP4}:{p16}=18", "index 18 is out of range: it must be 8 to 17"),
                     (f"udp:{VIP4}:{p16}=9,UDP:{VIP4}:{p16}=10", "entry 2: the service is named twice"),
                     (f"icmp:{VIP4}:1=9", "the service must start with tcp:, udp:, sctp: or fwm:")):
        accepted, lines = write_param(bad)
        kept = read_param()
        check(not accepted and len(lines) == 1 and why in lines[0] and kept == f"udp:{VIP4}:{p16}=11",
              f"'{bad}' is refused with one line ({lines}), the old value stays ({kept})")
    lab.remove_schedulers()
    marker = kernel_log_mark("loading with a bad value")
    r = sh("insmod", RUST_KO, f"service_tab_index=udp:{VIP4}:{p16}=99", check=False)
    lines = kernel_log_after(marker)
    check(r.returncode != 0 and not loaded("ip_vs_mh") and len(lines) == 1
          and "service_tab_index: entry 1: index 99 is out of range" in lines[0],
          f"a bad value at load fails the load with one line ({lines})")


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
        by_parameter(lab, flows, rust)
    finally:
        lab.close()
    return finish()


sys.exit(main())
