#!/usr/bin/env bash
# Scenarios 6 and 7: churn under load, and the module's lifecycle.
source "$(dirname "$0")/lib.sh"
VIP=10.0.0.100
CYCLES=${TEST_LIFECYCLE_CYCLES:-50}
CHURN=${TEST_CHURN_CHANGES:-1000}
# This run's files: a guest may run the scenario more than once.
WORK=$(mktemp -d /tmp/lifecycle.XXXXXX)

step "$CYCLES insmod/rmmod cycles, each with a service that answers a connection"
reset_ipvs
modprobe ip_vs
setup_nat_topology 4
# The name the real server answering one connection sends (bash starts
# faster than Python in the emulated guest).
answer() { timeout 10 ip netns exec client bash -c "exec 3<>/dev/tcp/$VIP/80 && head -n1 <&3"; }
cycle() {
	# One ipvsadm process for the service and its servers.
	insmod "$RUST_KO" &&
		ipvsadm -R <<-EOF &&
			-A -t $VIP:80 -s mh -b mh-port
			-a -t $VIP:80 -r 10.0.1.1:80 -m -w 1
			-a -t $VIP:80 -r 10.0.1.2:80 -m -w 2
		EOF
		[[ $(answer) =~ ^rs[12]$ ]] &&
		! rmmod ip_vs_mh 2>/dev/null &&
		ipvsadm -D -t $VIP:80 &&
		rmmod ip_vs_mh
}
ok=0
for ((i = 0; i < CYCLES; i++)); do
	cycle && ok=$((ok + 1))
done
check "$ok of $CYCLES cycles loaded, answered a connection from rs1 or rs2, refused rmmod while in use, and unloaded" \
	test "$ok" -eq "$CYCLES"
refuse "no module left loaded" module_loaded ip_vs_mh

step "churn: $CHURN destination changes while traffic runs"
load_rust_mh
ipvsadm -A -t $VIP:80 -s mh -b mh-port,mh-fallback
for k in 1 2 3 4; do ipvsadm -a -t $VIP:80 -r 10.0.1.$k:80 -m -w 10; done
# Traffic: new connections all along, from changing source ports.
(
	base=20000
	while [[ ! -e "$WORK/churn-done" ]]; do
		client_flows $VIP 80 50 $base
		base=$((base + 50))
		((base > 60000)) && base=20000
	done
) >"$WORK/churn-flows" &
traffic=$!
# One ipvsadm process applies the changes (ipvsadm -R reads commands), so
# the rebuilds come back to back. rs1 stays in the service throughout.
python3 - "$CHURN" >"$WORK/churn-cmds" <<'PY'
import random, sys
rng = random.Random(7)
present = {2, 3, 4}
for _ in range(int(sys.argv[1])):
    k = rng.choice([2, 3, 4])
    if k in present and rng.random() < 0.3:
        print(f"-d -t 10.0.0.100:80 -r 10.0.1.{k}:80"); present.discard(k)
    elif k not in present:
        print(f"-a -t 10.0.0.100:80 -r 10.0.1.{k}:80 -m -w {rng.randrange(0, 20)}"); present.add(k)
    else:
        print(f"-e -t 10.0.0.100:80 -r 10.0.1.{k}:80 -m -w {rng.randrange(0, 20)}")
    if rng.random() < 0.1:
        print(f"-e -t 10.0.0.100:80 -r 10.0.1.1:80 -m -w {rng.randrange(1, 20)}")
PY
changes=$(wc -l <"$WORK/churn-cmds")
t0=$SECONDS
check "$changes changes applied with ipvsadm -R" ipvsadm -R <"$WORK/churn-cmds"
echo "applied in $((SECONDS - t0))s"
touch "$WORK/churn-done"
wait "$traffic" || true
flows=$(cat "$WORK/churn-flows")
echo "$(wc -l <<<"$flows") connections during the churn: $(awk '{print $2}' <<<"$flows" | sort | uniq -c | tr '\n' ' ')"
check "connections ran during the churn" test "$(wc -l <<<"$flows")" -ge 50
# A connection opening while the churn deletes its real server is dropped
# by IPVS; only rs2-rs4 are ever deleted, so only their connections may be.
check "every connection was answered, refused, or dropped with its deleted server" \
	unanswered_only_on "$flows" '^10\.0\.1\.[234]:80$'
# That race needs a deletion between a connection's SYN and its ACK: rare.
# A scheduler that kept handing out deleted servers would lose far more.
lost=$(unanswered "$flows" | wc -l)
check "at most 10% of the connections were dropped that way ($lost)" \
	test $((lost * 10)) -le "$(wc -l <<<"$flows")"
after=$(client_flows $VIP 80 100 61000)
check "every connection is answered after the churn" all_answered "$after"
ipvsadm -Ln

step "switch a busy service between mh and rr 10 times"
(
	base=20000
	while [[ ! -e "$WORK/switch-done" ]]; do
		client_flows $VIP 80 20 $base
		base=$((base + 20))
		((base > 60000)) && base=20000
	done
) >"$WORK/switch-flows" &
traffic=$!
ok=0
for ((i = 0; i < 10; i++)); do
	ipvsadm -E -t $VIP:80 -s rr && ipvsadm -E -t $VIP:80 -s mh -b mh-port,mh-fallback && ok=$((ok + 1))
done
touch "$WORK/switch-done"
wait "$traffic" || true
check "10 switches mh -> rr -> mh" test "$ok" -eq 10
flows=$(cat "$WORK/switch-flows")
# While -E swaps schedulers, IPVS runs with none bound for one RCU grace
# period (ip_vs_edit_service) and refuses new connections with an ICMP
# error: that is the kernel's behaviour for any scheduler, so refusals are
# counted, not failed. A timeout or a wrong answer would be a defect.
answered=$(grep -cE ' rs[0-9]+$' <<<"$flows" || true)
echo "$(wc -l <<<"$flows") connections during the switches: $answered answered, $(grep -c ' refused$' <<<"$flows" || true) refused"
check "every connection during the switches reached a server or was refused cleanly" answered_or_refused "$flows"
check "connections were answered during the switches" test "$answered" -gt 0
after=$(client_flows $VIP 80 50 62000)
check "every connection is answered after the switches" all_answered "$after"
refuse "rmmod refused while the service uses mh" rmmod ip_vs_mh
ipvsadm -D -t $VIP:80
teardown_topology
check "rmmod" rmmod ip_vs_mh
rm -rf "$WORK"
finish
