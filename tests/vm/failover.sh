#!/usr/bin/env bash
# Scenario 5, the headline: two directors behind an ECMP route, both running
# the Rust mh with the same real servers, sloppy_tcp and direct routing. One
# director goes away; every long-lived connection carries on through the
# other one, to the same real server, without a reset. Then the same with the
# real servers added in different orders on the two directors: without flag-3
# (what the C mh does) the connections whose slot differs between the two
# tables are reset; with flag-3 (order-independent table) none is.
#
#   client 10.9.0.2 --veth-- router 10.9.0.1, bridge "lan" 10.8.0.1/24
#   on lan: dir1 10.8.0.11, dir2 10.8.0.12, rs1..rs4 10.8.0.21..24
#   VIP 10.8.1.100 on lo of dir1 and dir2 (IPVS service: mh, -g to rs1..rs4
#   with weights 101, 103, 107, 109) and of rs1..rs4 (arp_ignore=1,
#   arp_announce=2); real servers answer the client directly through the
#   router. The router reaches the VIP over both directors (multipath, L4
#   hash, fixed seed), so one client's connections spread over both.
source "$(dirname "$0")/lib.sh"

VIP=10.8.1.100
N=${TEST_FAILOVER_CONNS:-200}
# Weights of rs1..rs4. With equal weights, tables built from different
# orders differ in only ~0.3% of the 4093 slots (no broken connection among
# a few hundred, typically); with these, in ~7% (computed with the core in
# userspace), so the C behaviour shows with N flows.
WEIGHTS=(101 103 107 109)
WORK=$(mktemp -d /tmp/failover.XXXXXX)
NAMESPACES=(client router dir1 dir2 rs1 rs2 rs3 rs4)
server_pids=()
client_pid=

fo_cleanup() {
	local pid
	for pid in $client_pid "${server_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $client_pid "${server_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	client_pid=
	server_pids=()
	rm -rf "$WORK"
}
trap fo_cleanup EXIT
# A client that died must fail checks, not kill this script with SIGPIPE.
trap '' PIPE

# Process starts are slow under TCG: one `ip -batch` per namespace.
# fo_host NS ADDR [VIP]: eth0 (already moved in) with ADDR/24, default route
# via the router, and the VIP on lo if given.
fo_host() {
	local ns=$1 addr=$2 gw
	gw=${addr%.*}.1
	{
		echo "link set lo up"
		echo "addr add $addr/24 dev eth0"
		echo "link set eth0 up"
		echo "route add default via $gw"
		[[ -z ${3:-} ]] || echo "addr add $3/32 dev lo"
	} | ip -n "$ns" -batch -
}

fo_topology() {
	local ns k
	for ns in "${NAMESPACES[@]}"; do
		ip netns add "$ns"
	done
	{
		echo "link set lo up"
		echo "link add c0 type veth peer name eth0 netns client"
		echo "addr add 10.9.0.1/24 dev c0"
		echo "link set c0 up"
		echo "link add lan type bridge"
		echo "addr add 10.8.0.1/24 dev lan"
		echo "link set lan up"
		for ns in dir1 dir2 rs1 rs2 rs3 rs4; do
			echo "link add p-$ns type veth peer name eth0 netns $ns"
			echo "link set p-$ns master lan up"
		done
	} | ip -n router -batch -
	# ECMP on the 5-tuple with a fixed seed, so the same flows take the same
	# director on every run. Policy 3 (custom fields: addresses, protocol,
	# ports) rather than 1: policy 1 takes a forwarded packet's existing L4
	# hash when it has one, and our client's packets keep the socket's random
	# txhash across the veth, which would make the split random.
	ip netns exec router sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.fib_multipath_hash_policy=3 net.ipv4.fib_multipath_hash_fields=0x0037 \
		net.ipv4.fib_multipath_hash_seed=20260101 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	fo_host client 10.9.0.2
	for k in 1 2; do
		fo_host "dir$k" "10.8.0.1$k" "$VIP"
		ip netns exec "dir$k" sysctl -qw net.ipv4.vs.sloppy_tcp=1
	done
	for k in 1 2 3 4; do
		fo_host "rs$k" "10.8.0.2$k" "$VIP"
		ip netns exec "rs$k" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 \
			net.ipv4.conf.eth0.arp_announce=2
		ip netns exec "rs$k" python3 "$TESTS_DIR/rs_server.py" "rs$k" 80 &
		server_pids+=($!)
	done
	for k in 1 2 3 4; do
		fo_wait_listen "rs$k" "10.8.0.2$k"
	done
}

# Waits (up to 30 s) until NS accepts TCP connections on ADDR:80; bash's
# /dev/tcp starts much faster than a python3 probe.
fo_wait_listen() {
	ip netns exec "$1" bash -c 'for ((i = 0; i < 150; i++)); do
		(exec 3<>"/dev/tcp/$0/80") 2>/dev/null && exit 0
		sleep 0.2
	done
	echo "no server listens on $0:80"; exit 1' "$2"
}

# Predicates and probes (functions, so that check cannot pass vacuously).
fo_sysctl_is() { [[ $(ip netns exec "$1" sysctl -n "$2") == "$3" ]]; }
fo_route_multipath() {
	local r
	r=$(ip -n router route show "$VIP/32")
	[[ $r == *"nexthop via 10.8.0.11 "* && $r == *"nexthop via 10.8.0.12 "* ]]
}
fo_route_only_dir2() {
	local r
	r=$(ip -n router route show "$VIP/32")
	[[ $r == *"via 10.8.0.12 "* && $r != *nexthop* && $r != *10.8.0.11* ]]
}
fo_no_carrier() { [[ $(ip -n "$1" link show eth0) == *NO-CARRIER* ]]; }
fo_has_carrier() { [[ $(ip -n "$1" link show eth0) != *NO-CARRIER* ]]; }

# fo_service DIRECTOR FLAGS SERVER...: a fresh mh service, real servers added
# in the given order (IPVS keeps them newest first); one ipvsadm process.
fo_service() {
	local dir=$1 flags=$2 k
	shift 2
	{
		echo "-C"
		echo "-A -t $VIP:80 -s mh -b $flags"
		for k in "$@"; do
			echo "-a -t $VIP:80 -r 10.8.0.2$k:80 -g -w ${WEIGHTS[k - 1]}"
		done
	} | ip netns exec "$dir" ipvsadm -R
}
# "rsK:weight ..." as the director lists them (ipvsadm sorts by address).
fo_dests() {
	ip netns exec "$1" ipvsadm -Ln |
		awk '$1 == "->" && $2 ~ /^10\.8\.0\.2/ { split($2, a, ":"); sub(/^10\.8\.0\.2/, "rs", a[1]); o = o a[1] ":" $4 " " }
		     END { sub(/ $/, "", o); print o }'
}
# Packets the director's service has received so far.
fo_inpkts() { ip netns exec "$1" ipvsadm -Ln --stats --exact | awk -v vip="$VIP:80" '$1 == "TCP" && $2 == vip { print $4 }'; }
# "<client port> <real server>" for each IPVS connection of this case's
# client ports on DIRECTOR.
fo_conns() {
	ip netns exec "$1" ipvsadm -Lnc |
		awk -v lo="$2" -v hi="$(($2 + N))" '$1 == "TCP" {
			split($4, s, ":"); split($6, d, ":"); p = s[2] + 0
			if (s[1] == "10.9.0.2" && p >= lo && p < hi) { sub(/^10\.8\.0\.2/, "rs", d[1]); print p, d[1] }
		}' | sort -n
}
fo_count() { [[ -z $1 ]] && echo 0 || wc -l <<<"$1"; }
fo_distinct_ports() { awk '{ print $1 }' <<<"$1" | sort -u | wc -l; }
fo_same() { [[ $1 == "$2" ]]; }

# Waits until FILE has a line matching REGEX, while PID lives.
fo_wait_line() {
	local file=$1 regex=$2 pid=$3 limit=$4 start=$SECONDS
	while ((SECONDS - start < limit)); do
		grep -q -- "$regex" "$file" && return 0
		kill -0 "$pid" 2>/dev/null || { grep -q -- "$regex" "$file"; return; }
		sleep 0.2
	done
	return 1
}
fo_field() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' <<<"$1"; }

declare -A summary
# fo_case NAME FLAGS "DIR1 ORDER" "DIR2 ORDER" FIRST_PORT EXPECT
# EXPECT is "none" (no connection may break) or "some" (the connections
# whose real server differs between the two tables must break, and there
# must be some).
fo_case() {
	local name=$1 flags=$2 order1=$3 order2=$4 first=$5 expect=$6
	local out=$WORK/client-$first.out fifo=$WORK/client-$first.ctl ctl
	echo "[t=${SECONDS}s]"
	step "$name: -b $flags; dir1 adds ${order1// /,}, dir2 adds ${order2// /,}"
	check "router: VIP over both directors" ip -n router route replace "$VIP/32" \
		nexthop via 10.8.0.11 nexthop via 10.8.0.12
	check "dir1 on the lan" ip -n router link set p-dir1 up
	check "the route to the VIP is multipath" fo_route_multipath
	# shellcheck disable=SC2086
	check "dir1: service and real servers ($order1)" fo_service dir1 "$flags" $order1
	# shellcheck disable=SC2086
	check "dir2: service and real servers ($order2)" fo_service dir2 "$flags" $order2
	local dests1
	dests1=$(fo_dests dir1)
	echo "dir1: $(ip netns exec dir1 ipvsadm -Ln | awk '$1 == "TCP"'); real servers $dests1"
	check "both directors have the same real servers and weights" fo_same "$dests1" "$(fo_dests dir2)"
	check "dir1 has carrier" fo_has_carrier dir1

	mkfifo "$fifo"
	ip netns exec client python3 "$TESTS_DIR/failover_client.py" "$VIP" 80 "$N" "$first" <"$fifo" >"$out" 2>&1 &
	client_pid=$!
	exec {ctl}>"$fifo"
	check "client opened its connections" fo_wait_line "$out" '^ready ' "$client_pid" 240
	local ready established echo_ok
	ready=$(awk '$1 == "ready"' "$out")
	echo "client: $ready"
	established=$(fo_field "$ready" established)
	echo_ok=$(fo_field "$ready" echo_ok)
	check "all $N connections established" test "${established:-0}" -eq "$N"
	check "all $N connections echo before the failover" test "${echo_ok:-0}" -eq "$N"

	local greet via1 via2 n1 n2
	greet=$(awk '$1 == "conn" && $3 != "-" { print $2, $3 }' "$out" | sort -n)
	via1=$(fo_conns dir1 "$first")
	via2=$(fo_conns dir2 "$first")
	n1=$(fo_count "$via1")
	n2=$(fo_count "$via2")
	echo "ECMP: dir1 carries $n1 connections, dir2 carries $n2"
	check "dir1 carries some of the connections" test "$n1" -gt 0
	check "dir2 carries some of the connections" test "$n2" -gt 0
	check "each connection is on exactly one director" test "$(fo_distinct_ports "$via1"$'\n'"$via2")" -eq "$N" -a $((n1 + n2)) -eq "$N"
	check "the directors' tables name the server that greeted" fo_same "$greet" "$(sort -n <<<"$via1"$'\n'"$via2")"

	echo "[t=${SECONDS}s]"
	step "$name: dir1 goes away"
	local pkts1
	pkts1=$(fo_inpkts dir1)
	check "router: withdraw dir1's route" ip -n router route replace "$VIP/32" via 10.8.0.12
	check "dir1's link down" ip -n router link set p-dir1 down
	check "the route to the VIP is dir2 only" fo_route_only_dir2
	check "dir1 is cut off (no carrier)" fo_no_carrier dir1
	kill -0 "$client_pid" 2>/dev/null && echo go >&"$ctl" || true
	check "client tried every connection again" fo_wait_line "$out" '^summary ' "$client_pid" 120
	local after2 results sum
	after2=$(fo_conns dir2 "$first")
	check "dir1 received no packet after it went away" test "$(fo_inpkts dir1)" = "$pkts1"
	kill -0 "$client_pid" 2>/dev/null && echo close >&"$ctl" || true
	exec {ctl}>&-
	local rc=0
	wait "$client_pid" || rc=$?
	client_pid=
	check "client exited cleanly" test "$rc" -eq 0
	results=$(awk '$1 == "result" { print $2, $4 }' "$out" | sort -n)
	sum=$(awk '$1 == "summary"' "$out")
	echo "client: $sum"

	# dir1's connections as dir2 now schedules them: "<port> <dir1 server> <dir2 server>".
	local moved remapped broken ok reset
	moved=$(join <(sort <<<"$via1") <(sort <<<"$after2") | sort -n)
	remapped=$(awk '$2 != $3 { print $1 }' <<<"$moved")
	broken=$(awk '$2 != "ok" { print $1 }' <<<"$results")
	ok=$(fo_field "$sum" ok)
	reset=$(fo_field "$sum" reset)
	echo "dir2 took over $(fo_count "$moved") of dir1's $n1 connections; $(fo_count "$remapped") went to another real server"
	awk '$2 != $3 { printf "  port %s: %s through dir1, %s through dir2\n", $1, $2, $3 }' <<<"$moved"
	check "dir2 took over every connection of dir1" test "$(fo_count "$moved")" -eq "$n1"
	check "the connections that broke are exactly those dir2 sent elsewhere" fo_same "$broken" "$remapped"
	check "no connection that stayed on dir2 broke" test "$(join <(sort <<<"$via2") <(sort <<<"$broken") | wc -l)" -eq 0
	check "no timeouts, EOFs or wrong servers" test "$(fo_field "$sum" timeout)$(fo_field "$sum" eof)$(fo_field "$sum" wrong)" = 000
	if [[ $expect == none ]]; then
		check "every connection goes on: $N ok" test "${ok:-0}" -eq "$N"
		check "zero resets" test "${reset:-x}" = 0
	else
		check "some of dir1's connections are reset (count > 0)" test "${reset:-0}" -gt 0
		check "every reset is one that dir2 sent to another server" test "${reset:-0}" -eq "$(fo_count "$remapped")"
		check "all the others go on" test "${ok:-0}" -eq $((N - ${reset:-0}))
	fi
	summary[$name]="dir1=$n1 dir2=$n2 moved=$(fo_count "$moved") ok=${ok:-?} reset=${reset:-?}"
}

step "setup: Rust mh, router, two directors, four real servers (DR)"
reset_ipvs
check "load the Rust ip_vs_mh" load_rust_mh
# ipvsadm -s mh would load the in-tree C ip_vs_mh if ours were missing (and
# the C one ignores flag-3): make sure every service below uses ours.
# (Ours is out of tree: taint flag O.)
fo_rust_mh() { [[ $(cat /sys/module/ip_vs_mh/taint 2>/dev/null) == *O* ]]; }
check "the mh scheduler is the Rust module" fo_rust_mh
((failures == 0)) || finish
fo_topology
check "router: custom multipath hash" fo_sysctl_is router net.ipv4.fib_multipath_hash_policy 3
check "router: multipath hash on the 5-tuple (fields 0x37)" fo_sysctl_is router net.ipv4.fib_multipath_hash_fields 55
check "dir1: sloppy_tcp" fo_sysctl_is dir1 net.ipv4.vs.sloppy_tcp 1
check "dir2: sloppy_tcp" fo_sysctl_is dir2 net.ipv4.vs.sloppy_tcp 1

fo_case "same order" mh-port,mh-fallback "1 2 3 4" "1 2 3 4" 30000 none
fo_case "different orders, no flag-3" mh-port,mh-fallback "1 2 3 4" "4 3 2 1" 31000 some
fo_case "different orders, flag-3" mh-port,mh-fallback,flag-3 "1 2 3 4" "4 3 2 1" 32000 none

echo "[t=${SECONDS}s]"
step "results ($N connections per case)"
for name in "same order" "different orders, no flag-3" "different orders, flag-3"; do
	printf '%-28s %s\n' "$name:" "${summary[$name]:-not run}"
done

step "cleanup"
check "dir1: delete the service" ip netns exec dir1 ipvsadm -C
check "dir2: delete the service" ip netns exec dir2 ipvsadm -C
fo_cleanup
for ns in "${NAMESPACES[@]}"; do
	ip netns del "$ns"
done
# Namespaces are dismantled asynchronously; the module is free once they are.
fo_rmmod() {
	local i
	for ((i = 0; i < 50; i++)); do
		rmmod ip_vs_mh 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
check "rmmod ip_vs_mh" fo_rmmod
finish
