#!/usr/bin/env bash
# The talk's architecture with keepalived managing the real servers: two
# directors (failover_lib.sh's topology), each with Debian's keepalived,
# unchanged, in its namespace: `lvs_sched mh` with `mh-port`, direct
# routing, TCP_CHECK health checks on the four real servers (each director
# checks its own port on them, 8081 or 8082, so that one director alone can
# see a server fail). Both directors start with the same digest. Then rs2's
# check fails for dir1 only, and recovers:
#   - keepalived removes the server and adds it back, at the head of IPVS's
#     list: with the default (C) order the two tables differ afterwards, and
#     a failover to dir2 resets exactly the connections whose slot moved
#     (mh-tool predicts which from the two directors' debugfs views); with
#     the module parameter canonical_order=1 the digests are equal again and
#     a failover resets none;
#   - with inhibit_on_failure (weight 0 instead of removal) the digests stay
#     equal in both modes.
# Each case with a failover first checks that dir1's connections went where
# its table sends them (mh-tool's lookup on the view). A last case gives
# each keepalived two virtual servers of `lvs_sched mh` and the module the
# parameter service_tab_index (VIP:80 at index 16, VIP:81 at index 9): both
# directors build each service at its size, agree, and fail over with no
# connection reset.
: "${TEST_FAILOVER_CONNS:=300}"
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/failover_lib.sh"
VIEW=/sys/kernel/debug/ip_vs_mh/tables

declare -A ka_pid
ka_stop() {
	local pid=${ka_pid[$1]:-}
	[[ -n $pid ]] || return 0
	# SIGTERM: keepalived removes its virtual servers on the way out.
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "ka_pid[$1]"
}
ka_cleanup() {
	ka_stop dir1
	ka_stop dir2
	if ((failures)) && [[ -d /run/job ]]; then
		mkdir -p /run/job/logs && cp "$WORK"/*/keepalived.log /run/job/logs/ 2>/dev/null
	fi
}
fo_extra_cleanup=ka_cleanup

# ka_start DIR MODE [VPORT...]: DIR's keepalived.conf (MODE "removal" or
# "inhibit"), one virtual server per VPORT (default 80), each with the four
# real servers, and keepalived on it, in the foreground, logging to a file
# of its own.
ka_start() {
	local dir=$1 mode=$2 k port vport
	shift 2
	port=808${dir#dir}
	mkdir -p "$WORK/$dir"
	{
		echo "global_defs {"
		echo "    router_id $dir"
		echo "}"
		for vport in "${@:-80}"; do
			echo "virtual_server $VIP $vport {"
			echo "    lvs_sched mh"
			echo "    mh-port"
			echo "    lvs_method DR"
			echo "    protocol TCP"
			echo "    delay_loop 0.5"
			[[ $mode == inhibit ]] && echo "    inhibit_on_failure"
			for k in 1 2 3 4; do
				echo "    real_server 10.8.0.2$k $vport {"
				echo "        weight ${WEIGHTS[k - 1]}"
				echo "        TCP_CHECK {"
				echo "            connect_port $port"
				echo "            connect_timeout 1"
				echo "            retry 1"
				echo "            delay_before_retry 0.5"
				echo "        }"
				echo "    }"
			done
			echo "}"
		done
	} >"$WORK/$dir/keepalived.conf"
	# -n foreground, -l log to stderr, -D details, -C checkers only (no
	# VRRP), -G no syslog; pid files of its own (two instances on a host).
	ip netns exec "$dir" keepalived -n -l -D -C -G -f "$WORK/$dir/keepalived.conf" \
		-p "$WORK/$dir/keepalived.pid" -c "$WORK/$dir/checkers.pid" \
		-r "$WORK/$dir/vrrp.pid" -b "$WORK/$dir/bfd.pid" 2>>"$WORK/$dir/keepalived.log" &
	ka_pid[$dir]=$!
}

# "rsK:weight ..." of DIR in IPVS list order (newest first).
ka_list() { fo_dests "$1" list; }
# ka_wait DIR LIST [SECONDS]: until DIR's list (ka_list) is LIST.
ka_wait() {
	local start=$SECONDS
	while ((SECONDS - start < ${3:-60})); do
		[[ $(ka_list "$1") == "$2" ]] && return 0
		sleep 0.2
	done
	echo "$1 lists '$(ka_list "$1")', not '$2'"
	return 1
}
ka_compare() { "$MH_TOOL" compare --view "$1" --view "$1" --service "$(fo_label dir1)" --service "$(fo_label dir2)"; }
ka_equal() { grep -q '^equal digests' <<<"$1"; }
ka_differ() { grep -q '^digests differ' <<<"$1"; }

# "PORT:SCHEDULER:INDEX ..." of DIR's services (the view), by port.
ka_sizes() { python3 "$TESTS_DIR/mhlab.py" sizes "$1" | paste -sd ' '; }
# ka_sizes_are DIR SIZES: until DIR's services are SIZES (ka_sizes; 30 s):
# keepalived may still be creating the later ones.
ka_sizes_are() {
	local start=$SECONDS
	while ((SECONDS - start < 30)); do
		[[ $(ka_sizes "$1") == "$2" ]] && return 0
		sleep 0.2
	done
	echo "$1's services: '$(ka_sizes "$1")', not '$2'"
	return 1
}

declare -A summary
# ka_case NAME MODULE_PARAMETERS MODE DIGESTS FAILOVER FIRST_PORT [SIZES]
#   DIGESTS: after the flap, "equal" or "differ"; FAILOVER: "yes" or "no";
#   SIZES: "PORT:INDEX ...", each a virtual server of keepalived (default
#   "80:<tab_index>") and the table index its service must get.
ka_case() {
	local name=$1 params=$2 mode=$3 digests=$4 failover=$5 first=$6
	local sizes=${7:-80:${IPVS_MH_KERNEL_TAB_INDEX:-12}}
	local all view cmp t0 down up vports=() services size dir
	for size in $sizes; do
		vports+=("${size%%:*}")
		services+="TCP $VIP:${size%%:*} mh mh-port"$'\n'
	done
	all="rs4:${WEIGHTS[3]} rs3:${WEIGHTS[2]} rs2:${WEIGHTS[1]} rs1:${WEIGHTS[0]}"
	echo "[t=${SECONDS}s]"
	step "$name: keepalived ($mode on failure), ip_vs_mh ${params:-with default parameters}"
	fo_teardown_module
	# shellcheck disable=SC2086 # the module's parameters
	check "load the Rust ip_vs_mh $params" insmod "$RUST_KO" $params
	check "router: VIP over both directors" ip -n router route replace "$VIP/32" \
		nexthop via 10.8.0.11 nexthop via 10.8.0.12
	check "dir1 on the lan" ip -n router link set p-dir1 up
	ka_start dir1 "$mode" "${vports[@]}"
	ka_start dir2 "$mode" "${vports[@]}"
	check "dir1's keepalived configures rs1..rs4 (IPVS lists them newest first)" ka_wait dir1 "$all"
	check "dir2's keepalived does the same" ka_wait dir2 "$all"
	for dir in dir1 dir2; do
		check "$dir: its services of mh have the table sizes they should (${sizes// /, })" \
			ka_sizes_are "$dir" "$(sed -E 's/([0-9]+):([0-9]+)/\1:mh:\2/g' <<<"$sizes")"
	done
	check "the scheduler keepalived asked for is mh, with mh-port (virtual ports ${vports[*]})" \
		fo_same "$(python3 "$TESTS_DIR/mhlab.py" services dir1 | sort)" "$(sort <<<"${services%$'\n'}")"
	check "the module that schedules is the Rust one" fo_rust_mh
	view=$WORK/view-$first-start
	cat "$VIEW" >"$view"
	cmp=$(ka_compare "$view")
	check "both directors show the same digest" ka_equal "$cmp"

	echo "[t=${SECONDS}s]"
	step "$name: rs2 fails dir1's health check, then recovers"
	t0=$SECONDS
	kill "${listener_pid[rs2:8081]}"
	wait "${listener_pid[rs2:8081]}" 2>/dev/null || true
	if [[ $mode == inhibit ]]; then
		check "dir1's keepalived sets rs2's weight to 0" ka_wait dir1 "rs4:${WEIGHTS[3]} rs3:${WEIGHTS[2]} rs2:0 rs1:${WEIGHTS[0]}"
	else
		check "dir1's keepalived removes rs2" ka_wait dir1 "rs4:${WEIGHTS[3]} rs3:${WEIGHTS[2]} rs1:${WEIGHTS[0]}"
	fi
	down=$((SECONDS - t0))
	check "dir2 still has all four (its check of rs2 passes)" fo_same "$(ka_list dir2)" "$all"
	t0=$SECONDS
	fo_listen rs2 8081
	check "rs2 answers dir1's check again" fo_wait_listen rs2 10.8.0.22 8081
	if [[ $mode == inhibit ]]; then
		check "dir1's keepalived restores rs2's weight, in place" ka_wait dir1 "$all"
	else
		check "dir1's keepalived adds rs2 back, at the head of the list" \
			ka_wait dir1 "rs2:${WEIGHTS[1]} rs4:${WEIGHTS[3]} rs3:${WEIGHTS[2]} rs1:${WEIGHTS[0]}"
	fi
	up=$((SECONDS - t0))
	echo "keepalived: rs2 out of dir1's service ${down}s after its check failed, back ${up}s after it recovered"
	view=$WORK/view-$first-after
	cat "$VIEW" >"$view"
	cmp=$(ka_compare "$view")
	sed 's/^/  /' <<<"$cmp"
	if [[ $digests == equal ]]; then
		check "the directors' digests are equal again" ka_equal "$cmp"
	else
		check "the directors' digests differ" ka_differ "$cmp"
		check "mh-tool counts the slots that differ (more than none)" \
			bash -c '[[ $(sed -n "s/^slots differing: \([0-9]*\) of .*/\1/p" <<<"$1") -gt 0 ]]' _ "$cmp"
	fi
	summary[$name]="rs2 out ${down}s, back ${up}s; $(grep -E '^(equal|digests|slots differing)' <<<"$cmp" | tr '\n' ' ')"

	if [[ $failover == yes ]]; then
		echo "[t=${SECONDS}s]"
		step "$name: $N long-lived connections, then dir1 goes away"
		fo_open "$name" "$first"
		local ports predicted
		ports=$(awk '{print $1}' <<<"$fo_via1")
		# shellcheck disable=SC2086 # a list of ports
		check "$name: dir1's connections went where its table sends them (mh-tool on its view)" \
			fo_same "$(fo_lookup "$view" dir1 $ports | sort -n)" "$fo_via1"
		# shellcheck disable=SC2086 # a list of ports
		predicted=$(join <(fo_lookup "$view" dir1 $ports | sort) <(fo_lookup "$view" dir2 $ports | sort) |
			awk '$2 != $3 { print $1 }')
		echo "mh-tool predicts $(fo_count "$predicted") of dir1's $fo_n1 connections go elsewhere through dir2"
		check "router: withdraw dir1's route" ip -n router route replace "$VIP/32" via 10.8.0.12
		check "dir1's link down" ip -n router link set p-dir1 down
		fo_go
		if [[ $digests == equal ]]; then
			fo_verify "$name" none
		else
			fo_verify "$name" some "$predicted"
		fi
		summary[$name]+="; $fo_summary"
	fi
	ka_stop dir1
	ka_stop dir2
	check "keepalived removed its services on the way out" \
		test -z "$(python3 "$TESTS_DIR/mhlab.py" services dir1)$(python3 "$TESTS_DIR/mhlab.py" services dir2)"
}

# The module goes between cases (its parameter changes): no service may
# use it then.
fo_teardown_module() {
	local i
	module_loaded ip_vs_mh || return 0
	for ((i = 0; i < 50; i++)); do
		rmmod ip_vs_mh 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

step "setup: router, two directors with keepalived, four real servers (DR)"
reset_ipvs
modprobe ip_vs
check "keepalived is installed" test -x /usr/sbin/keepalived
fo_topology 8081 8082
fo_sloppy

ka_case "list order, removal" "" removal differ yes 33000
ka_case "canonical_order=1, removal" "canonical_order=1" removal equal yes 34000
ka_case "list order, inhibit_on_failure" "" inhibit equal no 35000
ka_case "canonical_order=1, inhibit_on_failure" "canonical_order=1" inhibit equal no 36000
# Sizes per service for a client that can only name mh: two virtual servers
# of each keepalived, at index 16 and 9 by the module parameter.
ka_case "service_tab_index, inhibit_on_failure" "service_tab_index=tcp:$VIP:80=16,tcp:$VIP:81=9" \
	inhibit equal yes 37000 "80:16 81:9"

echo "[t=${SECONDS}s]"
step "results ($N connections per failover)"
for name in "list order, removal" "canonical_order=1, removal" "list order, inhibit_on_failure" \
	"canonical_order=1, inhibit_on_failure" "service_tab_index, inhibit_on_failure"; do
	printf '%-40s %s\n' "$name:" "${summary[$name]:-not run}"
done
step "cleanup"
check "namespaces removed, rmmod ip_vs_mh" fo_teardown
finish
