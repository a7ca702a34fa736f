#!/usr/bin/env python3
"""Issue 7's end-to-end checks: the debugfs table view and mh-tool.

Two directors (network namespaces, each with its own IPVS) configured alike
show the same digest; after the same change both show the same new digest;
mh-tool, fed the destination list, predicts the kernel's digest and the
real server of sampled flows.
"""
import os
import random
import re
import sys

from mhlab import Lab, check, dest_name, random_flows, sh, status

VIEW = "/sys/kernel/debug/ip_vs_mh/tables"
TOOL = os.environ.get("IPVS_MH_TOOL", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "../../tools/mh-tool/target/release/mh-tool"))


def view():
    """[(service line, digest)] from the debugfs view."""
    text = open(VIEW).read()
    return re.findall(r"^(service .*)\n  table: .*\n  digest: (0x[0-9a-f]{16})$", text, re.M)


def ns_ipvsadm(ns, *args):
    return sh("ip", "netns", "exec", ns, "ipvsadm", *args)


def tool_digest(dests, flags):
    args = [TOOL, "summary"]
    if flags:
        args += ["--flags", ",".join(flags)]
    for d in dests:
        args += ["--dest", d]
    out = sh(*args).stdout
    return re.search(r"^digest: (0x[0-9a-f]{16})$", out, re.M).group(1)


def directors(flags, order1, order2, weights):
    for ns, order in (("d1", order1), ("d2", order2)):
        sh("ip", "netns", "add", ns)
        # IPVS wants destinations it can route to.
        sh("ip", "-n", ns, "link", "add", "dum0", "type", "dummy")
        sh("ip", "-n", ns, "addr", "add", "10.0.0.1/8", "dev", "dum0")
        sh("ip", "-n", ns, "link", "set", "dum0", "up")
        ns_ipvsadm(ns, "-A", "-t", "10.0.0.100:80", "-s", "mh", *(["-b", ",".join(flags)] if flags else []))
        for d in order:
            ns_ipvsadm(ns, "-a", "-t", "10.0.0.100:80", "-r", d, "-m", "-w", str(weights[d]))


def pair(flags, order1, order2, label):
    weights = {d: 1 + i % 3 for i, d in enumerate(sorted(order1))}
    directors(flags, order1, order2, weights)
    seen = view()
    digests = [d for _, d in seen]
    check(len(seen) == 2 and digests[0] == digests[1], f"{label}: both directors show digest {digests}")
    listed = [l.split()[1] for l in ns_ipvsadm("d1", "-Ln", "--nosort").stdout.splitlines()
              if l.strip().startswith("->") and "RemoteAddress" not in l]
    predicted = tool_digest([f"{d}:{weights[d]}" for d in listed], flags)
    check(predicted == digests[0], f"{label}: mh-tool predicts the kernel's digest ({predicted})")
    victim = order1[1]
    for ns in ("d1", "d2"):
        ns_ipvsadm(ns, "-d", "-t", "10.0.0.100:80", "-r", victim)
    after = [d for _, d in view()]
    check(len(after) == 2 and after[0] == after[1] and after[0] != digests[0],
          f"{label}: after the same change both show the same new digest {after}")
    for ns in ("d1", "d2"):
        ns_ipvsadm(ns, "-C")
        sh("ip", "netns", "del", ns)


def lookups(lab, rng):
    """mh-tool lookup agrees with the kernel for sampled flows, with a
    quiesced server and mh-fallback."""
    lab.service(4, ["mh-fallback"])
    dests = [dest_name(4, k) for k in range(6)]
    lab.add_all([(d, 1 + i % 4) for i, d in enumerate(dests)])
    lab.quiesce_all([dests[2]])
    listed = lab.list_order()
    flows = random_flows(rng, 4, 300, port_base=10000)
    kernel = lab.schedule(flows)
    args = [TOOL, "lookup", "--flags", "mh-fallback"]
    for d in listed:
        weight, last = lab.weights[d]
        args += ["--dest", f"{d}:{weight}:{last}"]
    for addr, port in flows:
        args += ["--client", f"{addr}:{port}"]
    out = sh(*args).stdout
    predicted = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1].isdigit() and ":" in parts[0]:
            predicted[parts[0]] = parts[2]
    agree = sum(1 for (addr, port), k in zip(flows, kernel) if predicted.get(f"{addr}:{port}") == (k or "none"))
    check(len(predicted) == len(flows), f"mh-tool answered for {len(predicted)} of {len(flows)} clients")
    check(agree == len(flows), f"mh-tool predicts the kernel's real server for {agree} of {len(flows)} flows")
    check(dests[2] not in kernel, "no flow goes to the quiesced server")


def main():
    rng = random.Random(7)
    lab = Lab()
    try:
        lab.load("rust", 12)
        check(os.path.exists(VIEW), f"{VIEW} exists")
        names = [dest_name(4, k) for k in range(5)]
        pair([], names, names, "same order")
        pair(["flag-3"], names, list(reversed(names)), "different orders with flag-3")
        lookups(lab, rng)
        text = open(VIEW).read()
        print(text)
        check("share" in text and "rebuilds:" in text, "the view shows shares and rebuild counts")
    finally:
        for ns in ("d1", "d2"):
            sh("ip", "netns", "del", ns, check=False)
        lab.close()
    return status()


sys.exit(main())
