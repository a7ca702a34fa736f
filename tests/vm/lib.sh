# shellcheck shell=bash
# Helpers for the scenarios that run inside the test guest. Sourced.
set -euo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_DIR=$(cd "$TESTS_DIR/../.." && pwd)
RUST_KO=${IPVS_MH_KO:-$PROJECT_DIR/ip_vs_mh.ko}

source "$TESTS_DIR/../checks.sh"

# Flow-list predicates (input: client_flows output in $1).
all_answered() { [[ -n $1 ]] && ! grep -qv ' rs[0-9]*$' <<<"$1"; }
some_failed() { grep -qv ' rs[0-9]*$' <<<"$1"; }
# The flows neither answered by a real server nor refused cleanly.
unanswered() { awk '$2 !~ /^(rs[0-9]+|refused)$/' <<<"$1"; }
# Every flow answered by a real server or refused cleanly (no timeout).
answered_or_refused() { [[ -n $1 ]] && (($(unanswered "$1" | wc -l) == 0)); }
# Every flow that was neither answered nor refused ("lost": connected, then
# no answer; "-": no connection) is one IPVS had sent to a real server whose
# address matches the regex $2. A test that deletes those servers while
# connections open allows exactly that: IPVS drops the packets of a
# connection whose server was deleted (net.ipv4.vs.expire_nodest_conn=0),
# whatever the scheduler. No IPVS entry, or another server, fails it.
unanswered_only_on() {
	local conns port dest
	[[ -n $1 ]] || return 1
	conns=$(python3 "$TESTS_DIR/mhlab.py" conns)
	for port in $(unanswered "$1" | awk '{print $1}'); do
		dest=$(awk -v src="10.0.0.2:$port" '$1 == src {print $2}' <<<"$conns")
		if ! [[ $dest =~ $2 ]]; then
			echo "connection from port $port: $(awk -v p="$port" '$1 == p {print $2}' <<<"$1") on '${dest:-no IPVS entry}'"
			return 1
		fi
	done
}
reaches() { grep -q " $2$" <<<"$1"; }
never_reaches() { [[ -n $1 ]] && ! grep -q " $2$" <<<"$1"; }
# Number of distinct servers that answered.
server_count() { awk '$2 ~ /^rs[0-9]+$/ {print $2}' <<<"$1" | sort -u | wc -l; }
# Flows (same source port) whose server differs between two runs, ignoring
# those that were on server $3 in the first run.
moved_flows() { join <(sort <<<"$1") <(sort <<<"$2") | awk -v skip="${3:-}" '$2 != skip && $2 != $3' | wc -l; }

# The kernel log since the last mark, each helper with a single dmesg
# process (on the sanitizers' kernel a process costs up to a second).
dmesg_mark() {
	local lines
	mapfile -t lines < <(dmesg)
	dmesg_lines=${#lines[@]}
}
# Sets the array dmesg_since to the lines that appeared since the mark.
dmesg_read_new() {
	local lines
	mapfile -t lines < <(dmesg)
	dmesg_since=("${lines[@]:dmesg_lines}")
}
# Whether a new line contains the string $1.
dmesg_new_has() {
	local line
	dmesg_read_new
	for line in "${dmesg_since[@]}"; do
		[[ $line == *"$1"* ]] && return 0
	done
	return 1
}
# The new lines without timestamps, and without the notices the first
# out-of-tree (unsigned) module of a boot prints, whichever load that is,
# and the clocksource watchdog's, which an emulated CPU's stalls trigger at
# any time ("clocksource: Watchdog remote CPU 1 read timed out" landed
# between two insmods once).
dmesg_new_text() {
	local line stamp='^\[ *[0-9.]+\] (.*)$'
	local noise='loading out-of-tree module taints kernel|module verification failed: signature|^clocksource: '
	dmesg_read_new
	for line in "${dmesg_since[@]}"; do
		[[ $line =~ $stamp ]] && line=${BASH_REMATCH[1]}
		[[ $line =~ $noise ]] || printf '%s\n' "$line"
	done
}
# logged_exactly LINE...: the new log lines are exactly these, in order.
logged_exactly() {
	local got want
	got=$(dmesg_new_text)
	want=$(printf '%s\n' "$@")
	[[ $got == "$want" ]] && return 0
	echo "expected in the kernel log:"
	printf '  %s\n' "$@"
	echo "got:"
	sed 's/^/  /' <<<"$got"
	return 1
}
# Whether module $1 is loaded, read without a child process (the scenarios
# ask between every two runs, and a process costs tens of milliseconds in
# the emulated guest).
module_loaded() {
	local name
	while read -r name _; do
		[[ $name == "$1" ]] && return 0
	done </proc/modules
	return 1
}

# Unloads every mh scheduler (C or Rust) and IPVS state.
reset_ipvs() {
	ipvsadm -C 2>/dev/null || true
	"$TESTS_DIR/unload-modules.sh" ip_vs_mh
}

load_rust_mh() {
	[[ -f $RUST_KO ]] || {
		echo "missing $RUST_KO: build the module first"
		return 1
	}
	modprobe ip_vs
	insmod "$RUST_KO" "$@"
}

# The kernel's own C ip_vs_mh (Debian's signed one on Debian's kernel), by
# path: the guest's modules may also hold the Rust one in updates/, which
# modprobe prefers.
c_mh_ko() {
	local ko
	for ko in "/lib/modules/$(uname -r)/kernel/net/netfilter/ipvs/ip_vs_mh.ko"{,.xz,.zst}; do
		[[ -f $ko ]] && echo "$ko" && return 0
	done
	echo "the kernel has no C ip_vs_mh module" >&2
	return 1
}

load_c_mh() {
	local ko
	ko=$(c_mh_ko) || return 1
	modprobe ip_vs && insmod "$ko"
}

# Which mh scheduler is loaded: an in-tree module carries no out-of-tree
# taint (O), the Rust one does.
c_mh_loaded() {
	module_loaded ip_vs_mh && ! grep -q O /sys/module/ip_vs_mh/taint
}
rust_mh_loaded() {
	module_loaded ip_vs_mh && grep -q O /sys/module/ip_vs_mh/taint
}

# Topology: a client namespace and N real servers behind the director, which
# is the guest's root namespace. Real servers answer with their own name.
#   client  10.0.0.2  --veth--  director 10.0.0.1 (VIP 10.0.0.100)
#   rsK     10.0.1.K  --veth--  director 10.0.1.254 (NAT: default route back)
setup_nat_topology() {
	local n=$1 k
	echo 1 >/proc/sys/net/ipv4/ip_forward
	[[ ! -e /proc/sys/net/ipv4/vs/conntrack ]] || echo 0 >/proc/sys/net/ipv4/vs/conntrack
	# One ip process per namespace: a process costs tens of milliseconds in
	# the emulated guest (hundreds on the sanitizers' kernel).
	{
		echo "netns add client"
		echo "link add c0 type veth peer name eth0 netns client"
		echo "addr add 10.0.0.1/24 dev c0"
		echo "addr add 10.0.0.100/32 dev c0"
		echo "link set c0 up"
		echo "link add rsbr type bridge"
		echo "addr add 10.0.1.254/24 dev rsbr"
		echo "link set rsbr up"
		for ((k = 1; k <= n; k++)); do
			echo "netns add rs$k"
			echo "link add rs$k type veth peer name eth0 netns rs$k"
			echo "link set rs$k master rsbr up"
		done
	} | ip -batch -
	ip -n client -batch - <<-EOF
		addr add 10.0.0.2/24 dev eth0
		link set eth0 up
		link set lo up
		route add default via 10.0.0.1
	EOF
	for ((k = 1; k <= n; k++)); do
		ip -n "rs$k" -batch - <<-EOF
			addr add 10.0.1.$k/24 dev eth0
			link set eth0 up
			link set lo up
			route add default via 10.0.1.254
		EOF
		ip netns exec "rs$k" python3 "$TESTS_DIR/rs_server.py" "rs$k" 80 &
	done
	for ((k = 1; k <= n; k++)); do
		wait_server "10.0.1.$k" 80
	done
}

# Waits until a server listens at ADDR:PORT, reached from here (the
# director) with bash's own /dev/tcp: no process to start per attempt.
wait_server() {
	local addr=$1 port=$2 i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null && return 0
		sleep 0.2
	done
	echo "no server listens at $addr:$port"
	return 1
}

teardown_topology() {
	local ns
	pkill -f rs_server.py 2>/dev/null || true
	for ns in $(ip netns list | awk '{print $1}'); do
		ip netns del "$ns"
	done
	ip link del rsbr 2>/dev/null || true
	ip link del c0 2>/dev/null || true
}

# Opens COUNT connections from the client to VIP:PORT; prints one line per
# connection: "<client port> <server name>" (server "-" if it failed).
client_flows() {
	ip netns exec client python3 "$TESTS_DIR/client.py" "$@"
}
