#!/usr/bin/env bash
# The failover scenario with a real routing daemon: BIRD 2 (Debian's) on the
# router and on both directors (failover_lib.sh's topology). Each director
# announces the VIP over eBGP, with BFD, to the router, whose BIRD installs
# a multipath route from both sessions. The client opens long-lived
# connections over both; then dir1 is killed: its link goes away and its
# daemon with it, and nothing withdraws by hand. The router's BGP removes
# the path by itself (BFD notices; the time is measured), and every
# connection carries on through dir2, to the same real server, with zero
# resets, its packets of the withdrawal window retransmitted.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/failover_lib.sh"

declare -A bird_pid
bird_stop() {
	local pid=${bird_pid[$1]:-}
	[[ -n $pid ]] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "bird_pid[$1]"
}
bgp_cleanup() {
	local ns
	for ns in router dir1 dir2; do
		bird_stop "$ns"
	done
	if ((failures)) && [[ -d /run/job ]]; then
		mkdir -p /run/job/logs && cp "$WORK"/*/bird.log /run/job/logs/ 2>/dev/null
	fi
}
fo_extra_cleanup=bgp_cleanup

# Timers: BGP hold 3 s (BIRD's least), BFD 100 ms x 5; graceful restart off
# (the router must drop a dead director's routes, not keep them stale).
BGP_TIMERS="hold time 3; keepalive time 1; connect delay time 1; connect retry time 2;
    error wait time 1, 5; graceful restart off; bfd on;"
BFD="protocol bfd { interface \"*\" { min rx interval 100 ms; min tx interval 100 ms; multiplier 5; }; }"

# bird_start NS: BIRD in NS with the config in $WORK/NS/bird.conf.
bird_start() {
	ip netns exec "$1" bird -f -c "$WORK/$1/bird.conf" -s "$WORK/$1/bird.ctl" -P "$WORK/$1/bird.pid" \
		2>>"$WORK/$1/bird.log" &
	bird_pid[$1]=$!
}
birdc_in() { birdc -s "$WORK/$1/bird.ctl" "${@:2}"; }

bgp_configs() {
	local k
	mkdir -p "$WORK/router" "$WORK/dir1" "$WORK/dir2"
	cat >"$WORK/router/bird.conf" <<-EOF
		router id 10.8.0.1;
		log stderr all;
		protocol device { scan time 10; }
		protocol kernel {
		    ipv4 { import none; export all; };
		    merge paths on limit 16;
		}
		$BFD
		template bgp director {
		    local 10.8.0.1 as 65000;
		    $BGP_TIMERS
		    ipv4 { import where net = $VIP/32; export none; };
		}
		protocol bgp dir1 from director { neighbor 10.8.0.11 as 65001; }
		protocol bgp dir2 from director { neighbor 10.8.0.12 as 65002; }
	EOF
	for k in 1 2; do
		cat >"$WORK/dir$k/bird.conf" <<-EOF
			router id 10.8.0.1$k;
			log stderr all;
			protocol device { scan time 10; }
			protocol static vip {
			    ipv4;
			    route $VIP/32 blackhole;
			}
			$BFD
			protocol bgp uplink {
			    local 10.8.0.1$k as 6500$k;
			    neighbor 10.8.0.1 as 65000;
			    $BGP_TIMERS
			    ipv4 { import none; export where proto = "vip"; };
			}
		EOF
	done
}

bgp_established() { [[ $(birdc_in router show protocols "$1") == *Established* ]]; }
bgp_wait() {
	local start=$SECONDS
	while ((SECONDS - start < ${2:-60})); do
		"$1" && return 0
		sleep 0.2
	done
	return 1
}
both_established() { bgp_established dir1 && bgp_established dir2; }

step "setup: Rust mh, router and two directors with BIRD, four real servers (DR)"
check "BIRD is installed" test -x /usr/sbin/bird
fo_setup
for k in 1 2; do
	check "dir$k: service and real servers" fo_service "dir$k" mh-port,mh-fallback 1 2 3 4
done
check "both directors have the same real servers and weights" fo_same "$(fo_dests dir1)" "$(fo_dests dir2)"
bgp_configs
for ns in router dir1 dir2; do
	bird_start "$ns"
done
check "the router's BGP sessions with both directors are established" bgp_wait both_established 90
check "the router's BIRD installed the VIP over both directors (multipath)" bgp_wait fo_route_multipath 30
echo "router: $(ip -n router route show "$VIP/32" | tr '\n' ' ')"
birdc_in router show bfd sessions | sed 's/^/  /'

echo "[t=${SECONDS}s]"
step "long-lived connections over both directors"
# BFD's 500 ms can pass unanswered in a starved emulated guest: a session
# flap while the connections open is reported and they are opened again.
fo_watch_routes=1
fo_open "BGP" 37000
fo_watch_routes=

echo "[t=${SECONDS}s]"
step "dir1 is killed: its link and its daemon go away, nothing is withdrawn by hand"
# A watcher notes when the router's route loses dir1 (polled every 50 ms),
# started before anything happens, so the time is the router's, not ours.
(
	while ! fo_route_only_dir2; do sleep 0.05; done
	date +%s%N >"$WORK/withdrawn"
) &
watcher=$!
# Why the router's session with dir1 went down, read when it first shows
# dir1 out of Established: BIRD shows the reason until its next connect
# attempt replaces it (a slow guest was seen reading "Socket: No route to
# host" there after the withdrawal).
(
	for ((i = 0; i < 600; i++)); do
		info=$(birdc_in router show protocols dir1)
		# A reply without dir1's row (seen once, with the header only, in
		# a guest on one host thread) says nothing: ask again.
		[[ $info == *$'\n'"dir1 "* && $info != *Established* ]] && break
		sleep 0.05
	done
	printf '%s\n' "$info" >"$WORK/dir1-down"
) &
reason_watcher=$!
start_ns=$(date +%s%N)
check "dir1's link is gone" ip -n router link del p-dir1
bird_stop dir1 KILL
# The client talks on every connection at once: its packets to dir1 are
# lost until the router's BGP has withdrawn the path, then retransmitted.
fo_go
watched() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -s $WORK/withdrawn ]] && return 0
		sleep 0.1
	done
	kill "$watcher" 2>/dev/null
	return 1
}
check "the router's BGP removes dir1's path by itself" watched
wait "$watcher" 2>/dev/null || true
took_ms=$((($(cat "$WORK/withdrawn" 2>/dev/null || date +%s%N) - start_ns) / 1000000))
echo "the router withdrew dir1's path ${took_ms} ms after dir1 went away (BFD 100 ms x 5, hold 3 s)"
echo "router: $(ip -n router route show "$VIP/32")"
birdc_in router show protocols dir1 | sed 's/^/  /'
dir1_session_down() { ! bgp_established dir1; }
check "the router's session with dir1 is down" dir1_session_down
wait "$reason_watcher" 2>/dev/null || true
echo "the router's session with dir1 when it left Established:"
sed 's/^/  /' "$WORK/dir1-down" 2>/dev/null
check "BFD took it down (not the hold timer)" grep -q 'BFD session down' "$WORK/dir1-down"
fo_verify "BGP" none
echo "summary: $fo_summary; withdrawal ${took_ms} ms"

step "cleanup"
check "dir2: delete the service" ip netns exec dir2 ipvsadm -C
check "dir1: delete the service" ip netns exec dir1 ipvsadm -C
check "daemons ended, namespaces removed, rmmod ip_vs_mh" fo_teardown
finish
