"""A small lab for scheduling experiments inside the test guest, and the
one home of what the Python scenarios share: their checks, the parsing of
ipvsadm's listings, module unloading and mh-tool's predictions.

One director with the VIPs 10.0.0.100 and fd00::100 on the link to a
client namespace. The director is a namespace of its own, and the Lab's
process (with every command it starts) lives in it: a load gives it a new
one, with an empty connection table and destination trash, which is what
unloading IPVS gave at a fraction of the cost. Flows are single packets (a
UDP datagram, a TCP SYN or an SCTP INIT) sent by flowgen.py from any source
address; which real server IPVS chose for each is read back from its
connection table (/proc/net/ip_vs_conn, the file `ipvsadm -Lnc` prints).
Real servers need not exist: IPVS schedules and records the flow either
way.
"""
import ctypes
import ipaddress
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
RUST_KO = os.environ.get("IPVS_MH_KO", os.path.join(PROJECT, "ip_vs_mh.ko"))
TOOL = os.environ.get("IPVS_MH_TOOL", os.path.join(PROJECT, "tools/mh-tool/target/release/mh-tool"))
VIP = {4: "10.0.0.100", 6: "fd00::100"}
VPORT = 53
# The director's addresses on its end of the link (c0), as `ip -batch` lines.
DIRECTOR_SETUP = """link set lo up
addr add 10.0.0.1/24 dev c0
addr add 10.0.0.100/32 dev c0
addr add fd00::1/64 dev c0 nodad
addr add fd00::100/128 dev c0 nodad
link set c0 up
"""
CLONE_NEWNET = 0x40000000
# ipvsadm's option for a service of each protocol.
SERVICE_OPTION = {"udp": "-u", "tcp": "-t", "sctp": "--sctp-service"}


_failures = 0


def check(ok, what):
    """Prints one scenario check as tests/checks.sh does ("ok   ..." or
    "FAIL ..."); a failed one makes finish() fail the scenario."""
    global _failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        _failures += 1


def finish():
    """The scenario's verdict line, as tests/checks.sh prints it, and its
    exit status."""
    name = os.path.basename(sys.argv[0])
    if _failures:
        print(f"\n{_failures} check(s) failed in {name}", flush=True)
        return 1
    print(f"\nall checks passed in {name}", flush=True)
    return 0


def replay(flows, base):
    """The same clients from other source ports, so IPVS schedules them
    afresh instead of reusing its connection entries."""
    return [(addr, base + i) for i, (addr, _) in enumerate(flows)]


def sh(*cmd, check=True, stdin=None):
    r = subprocess.run(cmd, capture_output=True, text=True, input=stdin)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def enter_netns(path):
    """Moves this process into the network namespace at `path`; the
    commands it starts from then on run there too. (Python 3.11, the
    guest's, has no os.setns.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


# ipvsadm names the mh flags so for `mh` only; for another scheduler name
# it takes their generic names (as keepalived does).
GENERIC_FLAGS = {"mh-fallback": "flag-1", "mh-port": "flag-2", "flag-3": "flag-3"}


def sched_flags(scheduler, flags):
    """The `-b` argument of ipvsadm for `flags` (named as for `mh`)."""
    if scheduler != "mh":
        flags = [GENERIC_FLAGS[f] for f in flags]
    return ",".join(flags)


def kernel_tab_index():
    """CONFIG_IP_VS_MH_TAB_INDEX of the test kernel's own C ip_vs_mh (the
    harness passes it in; the guest has no kernel config to read)."""
    return int(os.environ.get("IPVS_MH_KERNEL_TAB_INDEX", "12"))


def c_mh_ko():
    """The kernel's own C ip_vs_mh, by path: modprobe would prefer a Rust
    ip_vs_mh installed in updates/."""
    base = f"/lib/modules/{os.uname().release}/kernel/net/netfilter/ipvs/ip_vs_mh.ko"
    for ko in (base, base + ".xz", base + ".zst"):
        if os.path.exists(ko):
            return ko
    raise RuntimeError("the kernel has no C ip_vs_mh module")


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


class Lab:
    def __init__(self):
        sh("sysctl", "-qw", "net.core.netdev_max_backlog=10000")
        sh("ip", "netns", "add", "client")
        sh("ip", "link", "add", "c0", "type", "veth", "peer", "name", "eth0", "netns", "client")
        for cmd in (
            ["ip", "-n", "client", "addr", "add", "10.0.0.2/24", "dev", "eth0"],
            ["ip", "-n", "client", "-6", "addr", "add", "fd00::2/64", "dev", "eth0", "nodad"],
            ["ip", "-n", "client", "link", "set", "eth0", "up"],
        ):
            sh(*cmd)
        # c0 keeps its address when it moves to another namespace.
        with open("/sys/class/net/c0/address") as f:
            self.mac = f.read().strip()
        self.director = None
        self.directors = 0
        self.loaded_as = None  # (kind, index, params) of Lab.load's module
        self.new_director()
        self.weights = {}
        # One flow generator for the whole lab (see flowgen.py --serve).
        self.flowgen = subprocess.Popen(
            ["ip", "netns", "exec", "client", "python3", os.path.join(HERE, "flowgen.py"),
             "--serve", "eth0", self.mac, "10.0.0.1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def close(self):
        try:
            self.flowgen.stdin.close()
        except BrokenPipeError:
            pass  # it exited already, and said why on stderr
        self.flowgen.wait()
        self.unload()
        enter_netns("/proc/1/ns/net")
        sh("ip", "netns", "del", self.director, check=False)
        sh("ip", "netns", "del", "client", check=False)

    def new_director(self):
        """A new namespace for the director: c0 moves there (from the one in
        use, which goes) with the director's addresses, and so does this
        process."""
        old = self.director
        self.directors += 1
        new = f"director{self.directors}"
        sh("ip", "netns", "add", new)
        sh("ip", "link", "set", "c0", "netns", new)
        sh("ip", "-n", new, "-batch", "-", stdin=DIRECTOR_SETUP)
        enter_netns(f"/run/netns/{new}")
        self.director = new
        # The move took the link's carrier away; a frame sent before the
        # client's end is operational again may be lost.
        for _ in range(250):
            link = sh("ip", "-n", "client", "link", "show", "eth0").stdout
            if " state UP " in link:
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"the client's link did not come back: {link.strip()}")
        # Whether IPVS may hold connection entries or trashed destinations
        # of this director.
        self.used = False
        if old:
            sh("ip", "netns", "del", old)

    # Schedulers -----------------------------------------------------------
    def load(self, kind, index, params=(), keep=False):
        """Loads the C (kind "c") or Rust ("rust") mh with table index, for
        a director with no services, connection entries or trashed
        destinations: the flows sent from now on are all scheduled afresh.
        `params` are more parameters of the Rust module. With `keep`, a
        module this lab loaded last with the same arguments stays loaded
        (only its services go): a scenario that runs many configurations
        of one scheduler then loads it once, not once per configuration
        (an unload costs half a second in the emulated guest)."""
        wanted = (kind, index, tuple(params))
        kept = keep and self.loaded_as == wanted and loaded("ip_vs_mh")
        if kept:
            sh("ipvsadm", "-C")
        else:
            self.remove_schedulers()
            sh("modprobe", "ip_vs")
        if self.used:
            self.new_director()
        # Else a replay would find the last run's entries and agree with
        # it whatever this scheduler says.
        left = len(conns())
        if left:
            raise RuntimeError(f"the director starts with {left} connection entries")
        self.used = True
        if kept:
            return
        if kind == "rust":
            sh("insmod", RUST_KO, f"tab_index={index}", *params)
        elif index == kernel_tab_index():
            sh("insmod", c_mh_ko())
        else:
            ko = os.environ.get(f"IPVS_MH_REFERENCE_{index}")
            if not ko:
                raise RuntimeError(f"no reference C ip_vs_mh for index {index}")
            sh("insmod", ko)
        self.loaded_as = wanted

    def remove_schedulers(self):
        """Removes every service and unloads the schedulers; IPVS and its
        connection entries stay."""
        sh("ipvsadm", "-C", check=False)
        unload_modules("ip_vs_mh", "ip_vs_rr", "ip_vs_sh")
        self.loaded_as = None

    def unload(self):
        """Removes every scheduler and IPVS itself, which drops all
        connection entries."""
        self.remove_schedulers()
        unload_modules("ip_vs")
        self.used = False

    # Services -------------------------------------------------------------
    def service(self, af, flags, proto="udp", scheduler="mh", port=VPORT):
        """A new service, the one the other methods act on from now on (the
        earlier ones stay). `scheduler` is `mh` or a name of one table size
        (`mh-8` .. `mh-17`); `flags` are named as for `mh`."""
        self.af = af
        self.proto = proto
        self.port = port
        self.opt = SERVICE_OPTION[proto]
        self.weights = {}
        self.thresholds = {}
        self.flags = list(flags)
        self.svc = f"{VIP[4]}:{port}" if af == 4 else f"[{VIP[6]}]:{port}"
        cmd = ["ipvsadm", "-A", self.opt, self.svc, "-s", scheduler]
        if flags:
            cmd += ["-b", sched_flags(scheduler, flags)]
        sh(*cmd)

    def edit(self, scheduler, flags):
        """ipvsadm -E: another scheduler, or the mh flags."""
        cmd = ["ipvsadm", "-E", self.opt, self.svc, "-s", scheduler]
        if scheduler == "mh" or scheduler.startswith("mh-"):
            # No -b: ipvsadm clears the flags.
            if flags:
                cmd += ["-b", sched_flags(scheduler, flags)]
            self.flags = list(flags)
        sh(*cmd)

    def add(self, dest, weight):
        sh("ipvsadm", "-a", self.opt, self.svc, "-r", dest, "-m", "-w", str(weight))
        self.weights[dest] = [weight, weight]

    def add_all(self, dests, thresholds=None):
        """Adds (dest, weight) pairs in order, with one ipvsadm process;
        `thresholds` gives some an upper connection threshold (-x)."""
        thresholds = thresholds or {}
        self.restore(f"-a {self.opt} {self.svc} -r {dest} -m -w {weight}"
                     + (f" -x {thresholds[dest]}" if dest in thresholds else "")
                     for dest, weight in dests)
        for dest, weight in dests:
            self.weights[dest] = [weight, weight]
        self.thresholds.update(thresholds)

    def quiesce_all(self, dests):
        """Sets the weight of each of dests to 0, with one ipvsadm process."""
        self.restore(f"-e {self.opt} {self.svc} -r {dest} -m -w 0" for dest in dests)
        for dest in dests:
            self.weights[dest][0] = 0

    @staticmethod
    def restore(commands):
        sh("ipvsadm", "-R", stdin="".join(c + "\n" for c in commands))

    def set_weight(self, dest, weight):
        sh("ipvsadm", "-e", self.opt, self.svc, "-r", dest, "-m", "-w", str(weight))
        self.weights[dest][0] = weight
        if weight > 0:
            self.weights[dest][1] = weight

    def delete(self, dest):
        sh("ipvsadm", "-d", self.opt, self.svc, "-r", dest)
        del self.weights[dest]

    def list_order(self):
        """Destinations in the service's list order (what the table uses)."""
        return [d for d, _ in dests()]

    def state(self):
        """[(dest, weight, last weight)] in list order, as the table sees
        them (IPVS keeps the last weight; the lab tracks it)."""
        return [(d, *self.weights[d]) for d in self.list_order()]

    # Flows ----------------------------------------------------------------
    def send(self, flows):
        with tempfile.NamedTemporaryFile("w", delete=False, dir="/tmp") as f:
            for addr, port in flows:
                f.write(f"{addr} {port}\n")
        try:
            try:
                self.flowgen.stdin.write(f"{VIP[self.af]} {self.port} {f.name} {self.proto}\n")
                self.flowgen.stdin.flush()
                answer = self.flowgen.stdout.readline()
            except BrokenPipeError:
                answer = ""
            if not answer:
                raise RuntimeError(f"the flow generator exited ({self.flowgen.wait()})")
            return int(answer)
        finally:
            os.unlink(f.name)

    resent = 0
    recovered = 0

    def schedule(self, flows):
        """Sends the flows and returns each one's real server (None: none).

        A flow that got no connection entry is sent once more before it
        counts as "no destination": the table has not changed, so a second
        "no destination available" is IPVS's answer, while a packet lost on
        the way in the guest is not. Lab.resent and Lab.recovered count
        them."""
        self.send(flows)
        seen = conns()
        got = [seen.get((canonical(a), p)) for a, p in flows]
        missing = [i for i, d in enumerate(got) if d is None]
        if missing:
            Lab.resent += len(missing)
            self.send([flows[i] for i in missing])
            seen = conns()
            for i in missing:
                a, p = flows[i]
                got[i] = seen.get((canonical(a), p))
                Lab.recovered += got[i] is not None
        return got

    def predict(self, index, flows):
        """The real server the hashing core (mh-tool) predicts for each flow
        from the service's state, or None."""
        return predict(self.af, index, self.flags, self.state(), flows)


def parse_services(listing):
    """[(protocol, "addr:port" or fwmark, scheduler, flags)] of an `ipvsadm
    -Ln` listing; flags as ipvsadm prints them between parentheses ("" when
    none)."""
    found = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("TCP", "UDP", "SCTP", "FWM"):
            flags = parts[3].strip("()") if len(parts) > 3 and parts[3].startswith("(") else ""
            found.append((parts[0], parts[1], parts[2], flags))
    return found


def services(ns=None):
    """The services in namespace `ns`, as parse_services gives them."""
    cmd = ["ipvsadm", "-Ln"]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return parse_services(sh(*cmd).stdout)


def canonical(addr):
    """`addr` as inet_ntop writes it, the form ipvsadm prints and the
    scenarios compare (IPv6 compressed, lower case)."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.inet_ntop(family, socket.inet_pton(family, addr))


def proc_address(text):
    """An address as IPVS's /proc/net files write it (IPv4 as 8 hex digits,
    IPv6 in full, either maybe in brackets), canonical."""
    text = text.strip("[]")
    return canonical(text) if ":" in text else socket.inet_ntoa(bytes.fromhex(text))


def proc_net(name, ns=None):
    """/proc/net/NAME of namespace `ns` (this process's by default). Reading
    it costs no process, which matters in the emulated guest: ipvsadm -Lnc
    prints the same file."""
    if ns:
        return sh("ip", "netns", "exec", ns, "cat", f"/proc/net/{name}").stdout
    with open(f"/proc/net/{name}") as f:
        return f.read()


def dests(ns=None):
    """[(dest "addr:port", weight)] of the first service in namespace `ns`
    (this process's by default), in IPVS's list order."""
    found, services_seen = [], 0
    for line in proc_net("ip_vs", ns).splitlines()[3:]:
        parts = line.split()
        if parts[0] != "->":
            services_seen += 1
            if services_seen > 1:
                break
            continue
        addr, port = parts[1].rsplit(":", 1)
        found.append((endpoint(proc_address(addr), int(port, 16)), int(parts[3])))
    return found


def conns(ns=None):
    """IPVS's connections in namespace `ns` (this process's by default):
    {(client addr, client port): real server "addr:port"}."""
    result = {}
    for line in proc_net("ip_vs_conn", ns).splitlines()[1:]:
        parts = line.split()
        server = endpoint(proc_address(parts[5]), int(parts[6], 16))
        result[(proc_address(parts[1]), int(parts[2], 16))] = server
    return result


def unload_modules(*modules):
    """Unloads the modules once nothing uses them (tests/vm/unload-modules.sh)."""
    sh(os.path.join(HERE, "unload-modules.sh"), *modules)


def mhfx(af, index, flags, state):
    """A service file for mh-tool (userspace-tests/README.md): `state` is
    [(dest, weight, last weight)] in list order."""
    lines = ["source the scenario's model of the service", f"index {index}",
             f"af {'inet' if af == 4 else 'inet6'}",
             f"flags {','.join(sorted(flags)) or 'none'}"]
    for name, weight, last in state:
        addr, port = name.rsplit(":", 1)
        lines.append(f"dest {addr.strip('[]')} {port} {weight} {last} 0")
    return "\n".join(lines) + "\n"


def endpoint(addr, port):
    """"addr:port", the address bracketed when it is IPv6, as ipvsadm and
    mh-tool write it."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def predict(af, index, flags, state, flows):
    """The hashing core's decision (mh-tool lookup) for each flow of a
    service in `state` ([(dest, weight, last weight)] in list order)."""
    with tempfile.NamedTemporaryFile("w", suffix=".mhfx", dir="/tmp", delete=False) as f:
        f.write(mhfx(af, index, flags, state))
    try:
        args = [TOOL, "lookup", "--file", f.name]
        for addr, port in flows:
            args += ["--client", endpoint(addr, port)]
        text = sh(*args).stdout
    finally:
        os.unlink(f.name)
    rows = [line.split() for line in text.splitlines()
            if line.startswith("  ") and ":" in line.split()[0]]
    decisions = [None if r[2] == "none" else r[2] for r in rows if r[0] != "client"]
    if len(decisions) != len(flows):
        raise RuntimeError(f"mh-tool answered for {len(decisions)} of {len(flows)} clients")
    return decisions


def table_index_order(items):
    """The positions of `items` (each with an "index", its table index) in
    the order of their table index: runs of one scheduler in that order,
    each loaded with Lab.load(..., keep=True), load each module once per
    index instead of once per run."""
    return sorted(range(len(items)), key=lambda i: items[i]["index"])


def random_flows(rng, af, count, port_base=None):
    flows = set()
    while len(flows) < count:
        if af == 4:
            addr = str(ipaddress.ip_address((10 << 24) | (64 << 16) | rng.getrandbits(16)))
        else:
            addr = str(ipaddress.ip_address((0xFD01 << 112) | rng.getrandbits(64)))
        port = rng.randrange(1024, 65536) if port_base is None else port_base + len(flows)
        flows.add((addr, port))
    flows = sorted(flows)
    rng.shuffle(flows)
    return flows


def dest_name(af, k):
    return f"10.0.{1 + k // 250}.{1 + k % 250}:{VPORT}" if af == 4 else f"[fd00:1::{k + 1:x}]:{VPORT}"


VIEW = "/sys/kernel/debug/ip_vs_mh/tables"
_VIEW_LINES = [
    ("service", re.compile(r"^service (?P<proto>TCP|UDP|SCTP|FWM) (?P<addr>\S+) netns (?P<netns>\d+) "
                           r"scheduler (?P<scheduler>\S+) flags (?P<flags>\S+)$")),
    ("table", re.compile(r"^  table: (?P<slots>\d+) slots \(index (?P<index>\d+)\), order: (?P<order>.+), "
                         r"rebuilds: (?P<rebuilds>\d+), kept: (?P<kept>\d+), last build: (?P<us>\d+) us$")),
    ("digest", re.compile(r"^  digest: (?P<digest>0x[0-9a-f]{16})$")),
    ("dest", re.compile(r"^  dest (?P<dest>\S+) weight (?P<weight>-?\d+) last-weight (?P<last>-?\d+) "
                        r"turns (?P<turns>\d+) slots (?P<slots>\d+) share (?P<share>\d+\.\d\d)%$")),
    ("none", re.compile(r"^  no table$")),
]


def parse_view(text):
    """The services of the module's debugfs view, each a dict of its
    service line's fields plus "table" (its fields, or None), "digest" and
    "dests" (a list of dicts); ValueError on any line the view should not
    have, so a garbled read fails."""
    services = []
    for line in text.splitlines():
        for kind, rx in _VIEW_LINES:
            m = rx.match(line)
            if m:
                break
        else:
            raise ValueError(f"unexpected line in the view: {line!r}")
        if kind == "service":
            services.append(dict(m.groupdict(), table=None, digest=None, dests=[]))
        elif not services:
            raise ValueError(f"{line!r} before any service")
        elif kind == "table":
            services[-1]["table"] = {k: (v if k == "order" else int(v)) for k, v in m.groupdict().items()}
        elif kind == "digest":
            services[-1]["digest"] = m.group("digest")
        elif kind == "dest":
            services[-1]["dests"].append(m.groupdict())
    return services


def view():
    """The module's debugfs view, parsed (parse_view)."""
    with open(VIEW) as f:
        return parse_view(f.read())


def oracle(af, index, services):
    """What the C model (userspace-tests/oracle, an independent
    implementation of the C scheduler) says of each of `services`, a list of
    (flags, state, flows) with `state` [(dest, weight, last weight)] in list
    order: [(digest of its table, [real server of each flow or None])]. The
    tool also checks every answer against the Rust core. One process for
    all: starting one is slow in the emulated guest."""
    tool = os.environ.get("IPVS_MH_ORACLE",
                          os.path.join(PROJECT, "userspace-tests/target/release/fixture-oracle"))
    paths = []
    try:
        for flags, state, flows in services:
            with tempfile.NamedTemporaryFile("w", suffix=".mhfx", dir="/tmp", delete=False) as f:
                f.write(mhfx(af, index, flags, state))
                for addr, port in flows:
                    f.write(f"client {addr} {port} ?\n")
            paths.append(f.name)
        lines = sh(tool, "--answers", *paths).stdout.splitlines()
    finally:
        for path in paths:
            os.unlink(path)
    results = []
    lines.reverse()
    for _, state, flows in services:
        digest = lines.pop().split()[1]
        answers = [lines.pop().split()[3] for _ in flows]
        results.append((digest, [None if a == "none" else state[int(a)][0] for a in answers]))
    return results


def view_sizes(ns=None):
    """[(virtual port, scheduler, table index or None)] of the services of
    namespace `ns` (this process's by default) in the view, by port."""
    inum = os.stat(f"/run/netns/{ns}" if ns else "/proc/self/ns/net").st_ino
    found = [(int(s["addr"].rsplit(":", 1)[1]), s["scheduler"], s["table"] and s["table"]["index"])
             for s in view() if int(s["netns"]) == inum and s["proto"] != "FWM"]
    return sorted(found)


def main(argv):
    """The listings for the bash scenarios, one record per line:
    `services [NS]` prints "PROTO VIP SCHEDULER [FLAGS]", `dests [NS]`
    "DEST WEIGHT" in IPVS's list order, `conns [NS]` "CLIENT SERVER",
    `sizes [NS]` "PORT:SCHEDULER:INDEX" (the view's, by port)."""
    if len(argv) not in (2, 3) or argv[1] not in ("services", "dests", "conns", "sizes"):
        print(f"usage: {os.path.basename(argv[0])} services|dests|conns|sizes [NETNS]", file=sys.stderr)
        return 2
    ns = argv[2] if len(argv) == 3 else None
    if argv[1] == "sizes":
        for port, scheduler, index in view_sizes(ns):
            print(f"{port}:{scheduler}:{index}")
    elif argv[1] == "services":
        for record in services(ns):
            print(" ".join(field for field in record if field))
    elif argv[1] == "dests":
        for dest, weight in dests(ns):
            print(dest, weight)
    else:
        for (addr, port), server in conns(ns).items():
            print(endpoint(addr, port), server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
