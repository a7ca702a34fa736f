#!/usr/bin/env python3
"""The debugfs table view, its counters, and mh-tool, against the kernel.

Two directors (network namespaces, each with its own IPVS): the view lists
each one's service under its own namespace; with flag-3 they show the same
digest although their servers were added in opposite orders; mh-tool, fed
a director's destination list, predicts its digest, and the digest changes
when a server goes. The keep fast path: a change that leaves every input of
the table as it was (quiesce and back, a threshold, the forwarding method)
keeps the table, a weight change builds a new one, as the view's counters
show. mh-tool predicts the kernel's real server for sampled flows, and its
`view --json` and `metrics` (read by prometheus_client's own parser) say
what the live view says.
"""
import json
import os
import random
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

from mhlab import TOOL, Lab, check, dest_name, dests, finish, random_flows, sh, view


def ns_ipvsadm(ns, *args):
    return sh("ip", "netns", "exec", ns, "ipvsadm", *args)


def netns_inode(ns):
    return os.stat(f"/run/netns/{ns}").st_ino


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


def by_netns():
    """{netns inode: digest} from the view."""
    return {int(s["netns"]): s["digest"] for s in view()}


def pair(flags, order1, order2, label):
    weights = {d: 1 + i % 3 for i, d in enumerate(sorted(order1))}
    directors(flags, order1, order2, weights)
    d1, d2 = netns_inode("d1"), netns_inode("d2")
    seen = by_netns()
    check(sorted(seen) == sorted([d1, d2]),
          f"{label}: the view lists one service per director, under its namespace {sorted(seen)}")
    listed = [f"{d}:{weights[d]}" for d, _ in dests("d1")]
    predicted = tool_digest(listed, flags)
    check(predicted == seen.get(d1), f"{label}: mh-tool predicts dir1's digest ({predicted})")
    if "flag-3" in flags:
        check(seen.get(d1) == seen.get(d2),
              f"{label}: added in opposite orders, both directors show digest {seen.get(d1)}")
    victim = order1[1]
    for ns in ("d1", "d2"):
        ns_ipvsadm(ns, "-d", "-t", "10.0.0.100:80", "-r", victim)
    after = by_netns()
    check(after.get(d1) not in (None, seen.get(d1)),
          f"{label}: removing a server changes dir1's digest ({seen.get(d1)} -> {after.get(d1)})")
    for ns in ("d1", "d2"):
        ns_ipvsadm(ns, "-C")
        sh("ip", "netns", "del", ns)


def counters():
    """(rebuilds, kept, digest) of the only service."""
    (svc,) = view()
    return svc["table"]["rebuilds"], svc["table"]["kept"], svc["digest"]


def keep_fast_path(lab, flags, shuffled):
    """Changes that leave every input of the table unchanged keep it: with
    `flags`, the servers added in address order or `shuffled` (with flag-3
    the module finds each server in its sorted table where the list order
    reversed, or the list order, puts it, else by a binary search)."""
    lab.service(4, flags)
    names = [dest_name(4, k) for k in range(6)]
    added = list(names)
    if shuffled:
        random.Random(3).shuffle(added)
    lab.add_all([(d, 10) for d in added])
    built, kept, _ = counters()
    check((built, kept) == (7, 0),
          f"the service's first table and six adds: seven tables built, none kept ({built}, {kept})")
    steps = [
        ("quiesce a server (weight 0)", ["-e", lab.opt, lab.svc, "-r", names[2], "-m", "-w", "0"], True),
        ("bring it back to its weight", ["-e", lab.opt, lab.svc, "-r", names[2], "-m", "-w", "10"], True),
        ("set an upper connection threshold", ["-e", lab.opt, lab.svc, "-r", names[3], "-m", "-w", "10",
                                               "-x", "1000"], True),
        ("change the forwarding method", ["-e", lab.opt, lab.svc, "-r", names[4], "-g", "-w", "10"], True),
        ("change a weight", ["-e", lab.opt, lab.svc, "-r", names[5], "-g", "-w", "20"], False),
    ]
    for what, cmd, keeps in steps:
        before = counters()
        sh("ipvsadm", *cmd)
        after = counters()
        if keeps:
            ok = after == (before[0], before[1] + 1, before[2])
            expected = "keeps the table"
        else:
            ok = after[0] == before[0] + 1 and after[1] == 0 and after[2] != before[2]
            expected = "builds a new table"
        order = "a shuffled order" if shuffled else "address order"
        check(ok, f"{'+'.join(flags)}, servers added in {order}: {what} {expected}: "
                  f"rebuilds, kept, digest {before} -> {after}")
    lab.unload()


def lookups(lab, rng):
    """mh-tool lookup agrees with the kernel for sampled flows, with a
    quiesced server and mh-fallback."""
    lab.service(4, ["mh-fallback"])
    names = [dest_name(4, k) for k in range(6)]
    lab.add_all([(d, 1 + i % 4) for i, d in enumerate(names)])
    lab.quiesce_all([names[2]])
    flows = random_flows(rng, 4, 300, port_base=10000)
    kernel = lab.schedule(flows)
    predicted = lab.predict(12, flows)
    agree = sum(1 for k, p in zip(kernel, predicted) if k == p)
    check(agree == len(flows), f"mh-tool predicts the kernel's real server for {agree} of {len(flows)} flows")
    check(names[2] not in kernel and len(set(kernel)) == 5,
          f"the flows went to the five available servers ({len(set(kernel))}), none to the quiesced one")


def machine_readable():
    """mh-tool's JSON and Prometheus output of the live view (its default
    file) agree with the view: digests, sizes, counters, slots."""
    services = view()
    check(len(services) >= 1, f"the view has services ({len(services)})")
    report = json.loads(sh(TOOL, "view", "--json").stdout)
    by_label = {(s["service"], s["netns"]): s for s in report["services"]}
    for v in services:
        label = f"{v['proto']} {v['addr']}"
        j = by_label.get((label, v["netns"]))
        check(j is not None and j["digest"] == v["digest"] and j["digest_as_computed"]
              and j["table"]["slots"] == v["table"]["slots"]
              and j["builds"]["builds"] == v["table"]["rebuilds"]
              and [d["slots"] for d in j["destinations"]] == [int(d["slots"]) for d in v["dests"]],
              f"view --json of {label}: digest {v['digest']}, {v['table']['slots']} slots, "
              f"{v['table']['rebuilds']} builds, each server's slots, as the kernel shows them")
    text = sh(TOOL, "metrics").stdout
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # prometheus_client drops a counter's _total from the family name.
    for name in ("ip_vs_mh_table_info", "ip_vs_mh_table_slots", "ip_vs_mh_table_builds",
                 "ip_vs_mh_table_kept", "ip_vs_mh_table_digest_as_computed", "ip_vs_mh_dest_slots",
                 "ip_vs_mh_dest_share"):
        check(name in families, f"metrics: prometheus_client parses family {name}")
    for v in services:
        label = f"{v['proto']} {v['addr']}"

        def samples(family, **labels):
            want = dict(service=label, netns=v["netns"], **labels)
            return [s for s in families[family].samples
                    if all(s.labels.get(k) == x for k, x in want.items())]
        info = samples("ip_vs_mh_table_info")
        slots = samples("ip_vs_mh_dest_slots")
        builds = samples("ip_vs_mh_table_builds")
        check(len(info) == 1 and info[0].labels["digest"] == v["digest"]
              and info[0].labels["scheduler"] == v["scheduler"]
              and samples("ip_vs_mh_table_digest_as_computed")[0].value == 1
              and samples("ip_vs_mh_table_slots")[0].value == v["table"]["slots"]
              and len(builds) == 1 and builds[0].value == v["table"]["rebuilds"]
              and sorted((s.labels["server"], s.value) for s in slots)
              == sorted((d["dest"], float(d["slots"])) for d in v["dests"]),
              f"metrics of {label}: digest, scheduler, size, builds and every server's slots as the view shows")


def main():
    rng = random.Random(7)
    lab = Lab()
    try:
        lab.load("rust", 12)
        names = [dest_name(4, k) for k in range(5)]
        pair([], names, names, "list order")
        pair(["flag-3"], names, list(reversed(names)), "flag-3")
        for flags, shuffled in ((["mh-fallback"], False), (["mh-fallback", "flag-3"], False),
                                (["mh-fallback", "flag-3"], True)):
            keep_fast_path(lab, flags, shuffled)
            lab.load("rust", 12)
        lookups(lab, rng)
        machine_readable()
        print(open("/sys/kernel/debug/ip_vs_mh/tables").read())
    finally:
        for ns in ("d1", "d2"):
            sh("ip", "netns", "del", ns, check=False)
        lab.close()
    return finish()


sys.exit(main())
