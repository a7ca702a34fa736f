#!/usr/bin/env bash
# Scenario 5, the headline, with hand-made routes (the fast variant of
# bgp.sh): two directors behind an ECMP route, both running the Rust mh
# with the same real servers, sloppy_tcp and direct routing
# (failover_lib.sh has the topology). One director goes away; every
# long-lived connection carries on through the other one, to the same real
# server, without a reset. Then the same with the real servers added in
# different orders on the two directors: without flag-3 (what the C mh
# does) the connections whose slot differs between the two tables are
# reset; with flag-3 (order-independent table) none is. Last, a live size
# switch: both directors' service goes from mh-16 to mh-9 (`ipvsadm -E`)
# under long-lived connections, which all carry on, though the new tables
# would send some of them elsewhere (mh-tool says how many).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/failover_lib.sh"

declare -A summary
# fo_case NAME FLAGS "DIR1 ORDER" "DIR2 ORDER" FIRST_PORT EXPECT
fo_case() {
	local name=$1 flags=$2 order1=$3 order2=$4 first=$5 expect=$6 dests1 pkts1
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
	dests1=$(fo_dests dir1)
	echo "dir1: $(python3 "$TESTS_DIR/mhlab.py" services dir1); real servers $dests1"
	check "both directors have the same real servers and weights" fo_same "$dests1" "$(fo_dests dir2)"
	check "dir1 has carrier" fo_has_carrier dir1
	fo_open "$name" "$first"

	echo "[t=${SECONDS}s]"
	step "$name: dir1 goes away"
	check "router: withdraw dir1's route" ip -n router route replace "$VIP/32" via 10.8.0.12
	check "dir1's link down" ip -n router link set p-dir1 down
	check "the route to the VIP is dir2 only" fo_route_only_dir2
	check "dir1 is cut off (no carrier)" fo_no_carrier dir1
	fo_go
	fo_verify "$name" "$expect"
	summary[$name]=$fo_summary
}

step "setup: Rust mh, router, two directors, four real servers (DR)"
fo_setup
check "router: custom multipath hash" fo_sysctl_is router net.ipv4.fib_multipath_hash_policy 3
check "router: multipath hash on the 5-tuple (fields 0x37)" fo_sysctl_is router net.ipv4.fib_multipath_hash_fields 55

fo_case "same order" mh-port,mh-fallback "1 2 3 4" "1 2 3 4" 30000 none
fo_case "different orders, no flag-3" mh-port,mh-fallback "1 2 3 4" "4 3 2 1" 31000 some
fo_case "different orders, flag-3" mh-port,mh-fallback,flag-3 "1 2 3 4" "4 3 2 1" 32000 none

# fo_elsewhere DIR CONNS: how many of CONNS ("<port> rsK" lines) DIR's
# table, as its view shows it now, would send to another real server.
fo_elsewhere() {
	# shellcheck disable=SC2046 # a list of ports
	fo_lookup /sys/kernel/debug/ip_vs_mh/tables "$1" $(awk '{print $1}' <<<"$2") |
		sort | join - <(sort <<<"$2") | awk '$2 != $3' | wc -l
}
# A live size switch: mh-16 to mh-9 on both directors, under N connections.
# For a name other than mh, ipvsadm knows mh-port only as flag-2.
size_switch() {
	local name="size switch mh-16 -> mh-9" first=33000 moved1 moved2 dir
	echo "[t=${SECONDS}s]"
	step "$name: both directors on mh-16, then ipvsadm -E -s mh-9, under $N connections"
	check "router: VIP over both directors" ip -n router route replace "$VIP/32" \
		nexthop via 10.8.0.11 nexthop via 10.8.0.12
	check "dir1 on the lan" ip -n router link set p-dir1 up
	FO_SCHEDULER=mh-16 check "dir1: mh-16 service and real servers" fo_service dir1 flag-2 1 2 3 4
	FO_SCHEDULER=mh-16 check "dir2: mh-16 service and real servers" fo_service dir2 flag-2 1 2 3 4
	fo_open "$name" "$first"
	for dir in dir1 dir2; do
		check "$dir: ipvsadm -E -s mh-9" ip netns exec "$dir" ipvsadm -E -t "$VIP:80" -s mh-9 -b flag-2
		check "$dir: the service is on mh-9 now" \
			bash -c "[[ \$(python3 '$TESTS_DIR/mhlab.py' services $dir) == 'TCP $VIP:80 mh-9 flag-2' ]]"
	done
	moved1=$(fo_elsewhere dir1 "$fo_via1")
	moved2=$(fo_elsewhere dir2 "$fo_via2")
	echo "mh-9's tables would send $moved1 of dir1's $fo_n1 and $moved2 of dir2's $fo_n2 connections elsewhere"
	check "$name: mh-9 would send some of them elsewhere (more than none)" test $((moved1 + moved2)) -gt 0
	fo_go
	fo_verify_kept "$name"
	summary[$name]="$fo_summary; mh-9 would move $((moved1 + moved2))"
}
size_switch

echo "[t=${SECONDS}s]"
step "results ($N connections per case)"
for name in "same order" "different orders, no flag-3" "different orders, flag-3" "size switch mh-16 -> mh-9"; do
	printf '%-28s %s\n' "$name:" "${summary[$name]:-not run}"
done

step "cleanup"
check "dir1: delete the service" ip netns exec dir1 ipvsadm -C
check "dir2: delete the service" ip netns exec dir2 ipvsadm -C
check "namespaces removed, rmmod ip_vs_mh" fo_teardown
finish
