"""A small lab for scheduling experiments inside the test guest.

One director (the guest's root namespace) with the VIPs 10.0.0.100 and
fd00::100 on the link to a client namespace. Flows are single UDP datagrams
sent by flowgen.py from any source address; which real server IPVS chose
for each is read back from its connection table (`ipvsadm -Lnc`). Real
servers need not exist: IPVS schedules and records the flow either way.
"""
import ipaddress
import os
import random
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
RUST_KO = os.environ.get("IPVS_MH_KO", os.path.join(PROJECT, "ip_vs_mh.ko"))
VIP = {4: "10.0.0.100", 6: "fd00::100"}
VPORT = 53


_failures = 0


def check(ok, what):
    """Prints one scenario check; a failed one makes status() non-zero."""
    global _failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        _failures += 1


def status():
    """Exit status of a scenario: 1 if any check failed."""
    return 1 if _failures else 0


def replay(flows, base):
    """The same clients from other source ports, so IPVS schedules them
    afresh instead of reusing its connection entries."""
    return [(addr, base + i) for i, (addr, _) in enumerate(flows)]


def sh(*cmd, check=True, stdin=None):
    r = subprocess.run(cmd, capture_output=True, text=True, input=stdin)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


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
            ["ip", "addr", "add", "10.0.0.1/24", "dev", "c0"],
            ["ip", "addr", "add", "10.0.0.100/32", "dev", "c0"],
            ["ip", "-6", "addr", "add", "fd00::1/64", "dev", "c0", "nodad"],
            ["ip", "-6", "addr", "add", "fd00::100/128", "dev", "c0", "nodad"],
            ["ip", "link", "set", "c0", "up"],
            ["ip", "-n", "client", "addr", "add", "10.0.0.2/24", "dev", "eth0"],
            ["ip", "-n", "client", "-6", "addr", "add", "fd00::2/64", "dev", "eth0", "nodad"],
            ["ip", "-n", "client", "link", "set", "eth0", "up"],
        ):
            sh(*cmd)
        with open("/sys/class/net/c0/address") as f:
            self.mac = f.read().strip()
        self.weights = {}
        # One flow generator for the whole lab (see flowgen.py --serve).
        self.flowgen = subprocess.Popen(
            ["ip", "netns", "exec", "client", "python3", os.path.join(HERE, "flowgen.py"),
             "--serve", "eth0", self.mac],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def close(self):
        self.flowgen.stdin.close()
        self.flowgen.wait()
        self.unload()
        sh("ip", "netns", "del", "client", check=False)
        sh("ip", "link", "del", "c0", check=False)

    # Schedulers -----------------------------------------------------------
    def load(self, kind, index):
        """Loads the C (kind "c") or Rust ("rust") mh with table index."""
        self.unload()
        sh("modprobe", "ip_vs")
        if kind == "rust":
            sh("insmod", RUST_KO, f"tab_index={index}")
        elif index == kernel_tab_index():
            sh("insmod", c_mh_ko())
        else:
            ko = os.environ.get(f"IPVS_MH_REFERENCE_{index}")
            if not ko:
                raise RuntimeError(f"no reference C ip_vs_mh for index {index}")
            sh("insmod", ko)

    def unload(self):
        """Removes every scheduler and IPVS itself, which drops all
        connection entries: the next run schedules every flow afresh."""
        sh("ipvsadm", "-C", check=False)
        for mod in ("ip_vs_mh", "ip_vs_rr", "ip_vs_sh", "ip_vs"):
            # Network namespaces being dismantled hold on for a while.
            for _ in range(50):
                if not loaded(mod) or sh("rmmod", mod, check=False).returncode == 0:
                    break
                time.sleep(0.2)
            if loaded(mod):
                sh("rmmod", mod)

    # Services -------------------------------------------------------------
    def service(self, af, flags):
        self.af = af
        self.weights = {}
        self.flags = list(flags)
        self.svc = f"{VIP[4]}:{VPORT}" if af == 4 else f"[{VIP[6]}]:{VPORT}"
        cmd = ["ipvsadm", "-A", "-u", self.svc, "-s", "mh"]
        if flags:
            cmd += ["-b", ",".join(flags)]
        sh(*cmd)

    def edit(self, scheduler, flags):
        """ipvsadm -E: another scheduler, or the mh flags."""
        cmd = ["ipvsadm", "-E", "-u", self.svc, "-s", scheduler]
        if scheduler == "mh":
            # No -b: ipvsadm clears the flags.
            if flags:
                cmd += ["-b", ",".join(flags)]
            self.flags = list(flags)
        sh(*cmd)

    def add(self, dest, weight):
        sh("ipvsadm", "-a", "-u", self.svc, "-r", dest, "-m", "-w", str(weight))
        self.weights[dest] = [weight, weight]

    def add_all(self, dests):
        """Adds (dest, weight) pairs in order, with one ipvsadm process."""
        self.restore(f"-a -u {self.svc} -r {dest} -m -w {weight}" for dest, weight in dests)
        for dest, weight in dests:
            self.weights[dest] = [weight, weight]

    def quiesce_all(self, dests):
        """Sets the weight of each of dests to 0, with one ipvsadm process."""
        self.restore(f"-e -u {self.svc} -r {dest} -m -w 0" for dest in dests)
        for dest in dests:
            self.weights[dest][0] = 0

    @staticmethod
    def restore(commands):
        sh("ipvsadm", "-R", stdin="".join(c + "\n" for c in commands))

    def set_weight(self, dest, weight):
        sh("ipvsadm", "-e", "-u", self.svc, "-r", dest, "-m", "-w", str(weight))
        self.weights[dest][0] = weight
        if weight > 0:
            self.weights[dest][1] = weight

    def delete(self, dest):
        sh("ipvsadm", "-d", "-u", self.svc, "-r", dest)
        del self.weights[dest]

    def list_order(self):
        """Destinations in the service's list order (what the table uses)."""
        out = sh("ipvsadm", "-Ln", "--nosort").stdout.splitlines()
        return [line.split()[1] for line in out if line.strip().startswith("->") and "RemoteAddress" not in line]

    # Flows ----------------------------------------------------------------
    def send(self, flows):
        with tempfile.NamedTemporaryFile("w", delete=False, dir="/tmp") as f:
            for addr, port in flows:
                f.write(f"{addr} {port}\n")
        try:
            self.flowgen.stdin.write(f"{VIP[self.af]} {VPORT} {f.name}\n")
            self.flowgen.stdin.flush()
            answer = self.flowgen.stdout.readline()
            if not answer:
                raise RuntimeError(f"the flow generator exited ({self.flowgen.wait()})")
            return int(answer)
        finally:
            os.unlink(f.name)

    def schedule(self, flows):
        """Sends the flows and returns each one's real server (None: none)."""
        self.send(flows)
        seen = conns()
        return [seen.get((str(ipaddress.ip_address(a)), p)) for a, p in flows]


def conns():
    """IPVS's connections: {(client addr, client port): real server "addr:port"}."""
    result = {}
    for line in sh("ipvsadm", "-Lnc").stdout.splitlines()[2:]:
        parts = line.split()
        if len(parts) < 6:
            continue
        addr, port = parts[3].rsplit(":", 1)
        result[(str(ipaddress.ip_address(addr.strip("[]"))), int(port))] = parts[5]
    return result


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
