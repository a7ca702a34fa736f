# shellcheck shell=bash
# The two-director topology of the failover scenarios (failover.sh with
# hand-made routes, keepalived.sh, bgp.sh), long-lived client connections,
# and the checks of what a director's loss did to them. Sourced after
# lib.sh.
#
#   client 10.9.0.2 --veth-- router 10.9.0.1, bridge "lan" 10.8.0.1/24
#   on lan: dir1 10.8.0.11, dir2 10.8.0.12, rs1..rs4 10.8.0.21..24
#   VIP 10.8.1.100 on lo of dir1 and dir2 (IPVS service: mh, -g to rs1..rs4
#   with weights 101, 103, 107, 109) and of rs1..rs4 (arp_ignore=1,
#   arp_announce=2); real servers answer the client directly through the
#   router. The router reaches the VIP over both directors (multipath, L4
#   hash, fixed seed), so one client's connections spread over both.

VIP=10.8.1.100
# The operator tool, which reads the module's debugfs view.
MH_TOOL=${IPVS_MH_TOOL:-$PROJECT_DIR/tools/mh-tool/target/release/mh-tool}
N=${TEST_FAILOVER_CONNS:-200}
# Weights of rs1..rs4. With equal weights, tables built from different
# orders differ in few of the 4093 slots (no broken connection among a few
# hundred, typically); with these in more (the keepalived scenario prints
# the share mh-tool computes from the two directors' views), so the C
# behaviour shows with N flows.
WEIGHTS=(101 103 107 109)
WORK=$(mktemp -d /tmp/failover.XXXXXX)
NAMESPACES=(client router dir1 dir2 rs1 rs2 rs3 rs4)
server_pids=()
client_pid=
# Extra cleanup of a scenario (its daemons), run first.
fo_extra_cleanup=:

fo_cleanup() {
	local pid
	$fo_extra_cleanup
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

# fo_topology [PORT...]: the namespaces and links; every real server
# answers on port 80 and on each extra PORT (health checks).
fo_topology() {
	local ns k port
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
	done
	for k in 1 2 3 4; do
		fo_host "rs$k" "10.8.0.2$k" "$VIP"
		ip netns exec "rs$k" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 \
			net.ipv4.conf.eth0.arp_announce=2
		for port in 80 "$@"; do
			fo_listen "rs$k" "$port"
		done
	done
	for k in 1 2 3 4; do
		for port in 80 "$@"; do
			fo_wait_listen "rs$k" "10.8.0.2$k" "$port"
		done
	done
}

# fo_sloppy: both directors schedule mid-connection packets (sloppy_tcp),
# as a director taking over another's connections must.
fo_sloppy() {
	local k
	for k in 1 2; do
		ip netns exec "dir$k" sysctl -qw net.ipv4.vs.sloppy_tcp=1
		check "dir$k: sloppy_tcp" fo_sysctl_is "dir$k" net.ipv4.vs.sloppy_tcp 1
	done
}

# fo_setup [PORT...]: the Rust mh loaded, the topology (fo_topology PORT...),
# sloppy_tcp on both directors.
fo_setup() {
	reset_ipvs
	check "load the Rust ip_vs_mh" load_rust_mh
	check "the mh scheduler is the Rust module" fo_rust_mh
	((failures == 0)) || finish
	fo_topology "$@"
	fo_sloppy
}

# fo_listen RS PORT: RS answers on PORT (its pid in listener_pid[RS:PORT]).
declare -A listener_pid
fo_listen() {
	ip netns exec "$1" python3 "$TESTS_DIR/rs_server.py" "$1" "$2" &
	server_pids+=($!)
	listener_pid[$1:$2]=$!
}

# Waits (up to 30 s) until NS accepts TCP connections on ADDR:PORT; bash's
# /dev/tcp starts much faster than a python3 probe.
fo_wait_listen() {
	ip netns exec "$1" bash -c 'for ((i = 0; i < 150; i++)); do
		(exec 3<>"/dev/tcp/$0/$1") 2>/dev/null && exit 0
		sleep 0.2
	done
	echo "no server listens on $0:$1"; exit 1' "$2" "${3:-80}"
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
# The mh scheduler is the Rust module (out of tree: taint flag O): ipvsadm
# -s mh would load the in-tree C ip_vs_mh if ours were missing.
fo_rust_mh() { [[ $(cat /sys/module/ip_vs_mh/taint 2>/dev/null) == *O* ]]; }

# fo_service DIRECTOR FLAGS SERVER...: a fresh mh service (FO_SCHEDULER
# names another, mh-16 say), real servers added in the given order (IPVS
# keeps them newest first); one ipvsadm process.
fo_service() {
	local dir=$1 flags=$2 k
	shift 2
	{
		echo "-C"
		echo "-A -t $VIP:80 -s ${FO_SCHEDULER:-mh} -b $flags"
		for k in "$@"; do
			echo "-a -t $VIP:80 -r 10.8.0.2$k:80 -g -w ${WEIGHTS[k - 1]}"
		done
	} | ip netns exec "$dir" ipvsadm -R
}
# fo_dests DIRECTOR [list]: "rsK:weight ..." of the director's real
# servers, sorted by name, or in IPVS's list order (newest first).
fo_dests() {
	python3 "$TESTS_DIR/mhlab.py" dests "$1" |
		awk '$1 ~ /^10\.8\.0\.2/ { split($1, a, ":"); sub(/^10\.8\.0\.2/, "rs", a[1]); print a[1] ":" $2 }' |
		if [[ ${2:-} == list ]]; then cat; else sort; fi | paste -sd ' '
}
# "<client port> <real server>" for each IPVS connection of this case's
# client ports on DIRECTOR.
fo_conns() {
	python3 "$TESTS_DIR/mhlab.py" conns "$1" |
		awk -v lo="$2" -v hi="$(($2 + N))" '{
			split($1, s, ":"); split($2, d, ":"); p = s[2] + 0
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

# fo_open NAME FIRST_PORT: N long-lived connections from the client, from
# the source ports FIRST_PORT...; checks they are all established, echo, and
# spread over both directors. Sets fo_out, fo_ctl, fo_first, fo_via1
# ("<port> <server>" of dir1's connections), fo_via2, fo_n1, fo_n2.
# A scenario whose routes a daemon keeps sets fo_watch_routes=1: if the
# router's route to the VIP changed while the connections opened (a session
# flap of a starved emulated guest moves connections between the directors
# mid-handshake, which says nothing of the scheduler), they are closed and
# opened once more from the next N ports, and the scenario says why.
fo_open() {
	local name=$1 fifo=$WORK/client-$2.ctl ready established echo_ok greet moved
	fo_first=$2 fo_out=$WORK/client-$2.out
	mkfifo "$fifo"
	[[ -n ${fo_watch_routes:-} ]] && fo_routes_watch
	ip netns exec client python3 "$TESTS_DIR/failover_client.py" "$VIP" 80 "$N" "$fo_first" <"$fifo" >"$fo_out" 2>&1 &
	client_pid=$!
	exec {fo_ctl}>"$fifo"
	check "$name: client opened its connections" fo_wait_line "$fo_out" '^ready ' "$client_pid" 240
	if [[ -n ${fo_watch_routes:-} ]]; then
		moved=$(fo_routes_unwatch)
		if [[ -n $moved ]]; then
			echo "$name: the router's route to the VIP changed while the connections opened${3:+ ($3)}:"
			sed 's/^/  /' <<<"$moved"
		fi
		if [[ -n $moved && ${3:-} != again ]]; then
			echo "$name: closing them and opening $N more from port $((fo_first + N))"
			kill -0 "$client_pid" 2>/dev/null && echo close >&"$fo_ctl" || true
			exec {fo_ctl}>&-
			wait "$client_pid" || true
			fo_open "$name" $((fo_first + N)) again
			return
		fi
	fi
	ready=$(awk '$1 == "ready"' "$fo_out")
	echo "client: $ready"
	established=$(fo_field "$ready" established)
	echo_ok=$(fo_field "$ready" echo_ok)
	check "$name: all $N connections established" test "${established:-0}" -eq "$N"
	check "$name: all $N connections echo before the failover" test "${echo_ok:-0}" -eq "$N"
	greet=$(awk '$1 == "conn" && $3 != "-" { print $2, $3 }' "$fo_out" | sort -n)
	fo_via1=$(fo_conns dir1 "$fo_first")
	fo_via2=$(fo_conns dir2 "$fo_first")
	fo_n1=$(fo_count "$fo_via1")
	fo_n2=$(fo_count "$fo_via2")
	echo "ECMP: dir1 carries $fo_n1 connections, dir2 carries $fo_n2"
	check "$name: dir1 carries some of the connections" test "$fo_n1" -gt 0
	check "$name: dir2 carries some of the connections" test "$fo_n2" -gt 0
	check "$name: each connection is on exactly one director" \
		test "$(fo_distinct_ports "$fo_via1"$'\n'"$fo_via2")" -eq "$N" -a $((fo_n1 + fo_n2)) -eq "$N"
	check "$name: the directors' tables name the server that greeted" \
		fo_same "$greet" "$(sort -n <<<"$fo_via1"$'\n'"$fo_via2")"
}

# fo_routes_watch / fo_routes_unwatch: the router's route changes of the
# VIP between the two (ip monitor), printed by the second.
fo_routes_watch() {
	ip -n router monitor route >"$WORK/route-changes" 2>/dev/null &
	fo_routes_pid=$!
}
fo_routes_unwatch() {
	kill "$fo_routes_pid" 2>/dev/null || true
	wait "$fo_routes_pid" 2>/dev/null || true
	grep -F "$VIP" "$WORK/route-changes" || true
}

# fo_go: the client sends a second message on every connection now.
fo_go() { kill -0 "$client_pid" 2>/dev/null && echo go >&"$fo_ctl" || true; }

# fo_verify NAME EXPECT [PREDICTED]: after dir1 went away and fo_go, what
# became of the connections. EXPECT "none": no connection may break;
# "some": exactly those dir2 sent to another real server broke, and there
# are some; PREDICTED (client ports, one per line) must equal them too.
# Sets fo_summary.
fo_verify() {
	local name=$1 expect=$2 predicted=${3-} after2 results sum moved remapped broken ok reset rc=0
	check "$name: client tried every connection again" fo_wait_line "$fo_out" '^summary ' "$client_pid" 120
	after2=$(fo_conns dir2 "$fo_first")
	kill -0 "$client_pid" 2>/dev/null && echo close >&"$fo_ctl" || true
	exec {fo_ctl}>&-
	wait "$client_pid" || rc=$?
	client_pid=
	check "$name: client exited cleanly" test "$rc" -eq 0
	results=$(awk '$1 == "result" { print $2, $4 }' "$fo_out" | sort -n)
	sum=$(awk '$1 == "summary"' "$fo_out")
	echo "client: $sum"
	# dir1's connections as dir2 now schedules them: "<port> <dir1 server> <dir2 server>".
	moved=$(join <(sort <<<"$fo_via1") <(sort <<<"$after2") | sort -n)
	remapped=$(awk '$2 != $3 { print $1 }' <<<"$moved")
	broken=$(awk '$2 != "ok" { print $1 }' <<<"$results")
	ok=$(fo_field "$sum" ok)
	reset=$(fo_field "$sum" reset)
	echo "dir2 took over $(fo_count "$moved") of dir1's $fo_n1 connections; $(fo_count "$remapped") went to another real server"
	awk '$2 != $3 { printf "  port %s: %s through dir1, %s through dir2\n", $1, $2, $3 }' <<<"$moved"
	check "$name: dir2 took over every connection of dir1" test "$(fo_count "$moved")" -eq "$fo_n1"
	check "$name: the connections that broke are exactly those dir2 sent elsewhere" fo_same "$broken" "$remapped"
	check "$name: no connection that stayed on dir2 broke" \
		test "$(join <(sort <<<"$fo_via2") <(sort <<<"$broken") | wc -l)" -eq 0
	check "$name: no timeouts, EOFs or wrong servers" \
		test "$(fo_field "$sum" timeout)$(fo_field "$sum" eof)$(fo_field "$sum" wrong)" = 000
	if [[ $expect == none ]]; then
		check "$name: every connection goes on: $N ok" test "${ok:-0}" -eq "$N"
		check "$name: zero resets" test "${reset:-x}" = 0
	else
		check "$name: some of dir1's connections are reset (count > 0)" test "${reset:-0}" -gt 0
		check "$name: every reset is one that dir2 sent to another server" test "${reset:-0}" -eq "$(fo_count "$remapped")"
		check "$name: all the others go on" test "${ok:-0}" -eq $((N - ${reset:-0}))
	fi
	if [[ -n $predicted ]]; then
		check "$name: the resets are the connections mh-tool predicted from the two views" \
			fo_same "$broken" "$(sort -n <<<"$predicted")"
	fi
	fo_summary="dir1=$fo_n1 dir2=$fo_n2 moved=$(fo_count "$moved") ok=${ok:-?} reset=${reset:-?}"
}

# The label the debugfs view gives DIR's service (its netns inode).
fo_label() {
	local inum
	inum=$(ip netns exec "$1" readlink /proc/self/ns/net)
	inum=${inum#net:[}
	echo "TCP $VIP:80 netns ${inum%]}"
}

# fo_lookup VIEW DIR PORT...: the real server mh-tool says DIR's table (in
# the debugfs view VIEW, or a copy of it) sends each of the client's PORTs
# to, "<port> rsK" per line.
fo_lookup() {
	local view=$1 dir=$2 args=() port
	shift 2
	for port in "$@"; do
		args+=(--client "10.9.0.2:$port")
	done
	"$MH_TOOL" lookup --view "$view" --service "$(fo_label "$dir")" "${args[@]}" |
		awk '$1 ~ /^10\.9\.0\.2:/ { split($1, c, ":"); split($3, d, ":"); sub(/^10\.8\.0\.2/, "rs", d[1]); print c[2], d[1] }'
}

# fo_verify_kept NAME: after fo_go with both directors still there, every
# connection carried on, to the same real server, through the same
# director, with the same connection entry.
fo_verify_kept() {
	local name=$1 sum rc=0
	check "$name: client tried every connection again" fo_wait_line "$fo_out" '^summary ' "$client_pid" 120
	check "$name: dir1 keeps its connection entries" fo_same "$(fo_conns dir1 "$fo_first")" "$fo_via1"
	check "$name: dir2 keeps its connection entries" fo_same "$(fo_conns dir2 "$fo_first")" "$fo_via2"
	kill -0 "$client_pid" 2>/dev/null && echo close >&"$fo_ctl" || true
	exec {fo_ctl}>&-
	wait "$client_pid" || rc=$?
	client_pid=
	check "$name: client exited cleanly" test "$rc" -eq 0
	sum=$(awk '$1 == "summary"' "$fo_out")
	echo "client: $sum"
	check "$name: every connection goes on: $N ok" test "$(fo_field "$sum" ok)" -eq "$N"
	check "$name: no resets, timeouts, EOFs or wrong servers" \
		test "$(fo_field "$sum" reset)$(fo_field "$sum" timeout)$(fo_field "$sum" eof)$(fo_field "$sum" wrong)" = 0000
	fo_summary="dir1=$fo_n1 dir2=$fo_n2 ok=$(fo_field "$sum" ok) reset=$(fo_field "$sum" reset)"
}

# fo_teardown: the namespaces go; the module is free once they are
# dismantled (asynchronously).
fo_teardown() {
	local ns i
	fo_cleanup
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		rmmod ip_vs_mh 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
