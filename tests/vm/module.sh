#!/usr/bin/env bash
# The Rust ip_vs_mh module on a real kernel: load, parameters, a service
# with real traffic, destinations added, edited and deleted, unload rules.
source "$(dirname "$0")/lib.sh"
VIP=10.0.0.100

# Counts, per server name, the connections in client_flows output.
shares() { awk '{print $2}' | sort | uniq -c | sort -k2 | awk '{printf "%s=%s ", $2, $1} END {print ""}'; }

step "module parameters"
reset_ipvs
modprobe ip_vs
dmesg_mark
refuse "tab_index=7 is refused" insmod "$RUST_KO" tab_index=7
check "dmesg says why tab_index=7 failed" bash -c "dmesg | tail -n +$((dmesg_lines + 1)) | grep -q 'tab_index=7 is out of range'"
refuse "tab_index=18 is refused" insmod "$RUST_KO" tab_index=18
refuse "tab_index=abc is refused" insmod "$RUST_KO" tab_index=abc
check "dmesg says why tab_index=abc failed" bash -c "dmesg | grep -q \"invalid for parameter \\\`tab_index'\""
check "no module left loaded after refused loads" bash -c "! grep -q '^ip_vs_mh ' /proc/modules"
check "modinfo shows description, license, author and parameter" bash -c \
	"modinfo '$RUST_KO' | grep -q '^description:.*Maglev' && modinfo '$RUST_KO' | grep -q '^license:.*GPL' && modinfo '$RUST_KO' | grep -q '^author:' && modinfo '$RUST_KO' | grep -q '^parm:.*tab_index'"

step "the C and the Rust mh cannot be loaded at once"
check "load C ip_vs_mh" load_c_mh
refuse "insmod of the Rust module is refused while C mh is registered" insmod "$RUST_KO"
check "unload C ip_vs_mh" rmmod ip_vs_mh

step "load with tab_index=8"
check "insmod tab_index=8" insmod "$RUST_KO" tab_index=8
check "dmesg reports table size 251" bash -c "dmesg | tail -n 5 | grep -q 'table size 251 (index 8)'"
check "rmmod" rmmod ip_vs_mh

step "service with real traffic"
check "insmod (default table size)" load_rust_mh
setup_nat_topology 4
check "add service -s mh -b mh-port,mh-fallback" ipvsadm -A -t $VIP:80 -s mh -b mh-port,mh-fallback
for k in 1 2 3 4; do
	check "add real server rs$k" ipvsadm -a -t $VIP:80 -r 10.0.1.$k:80 -m -w 100
done
ipvsadm -Ln
refuse "rmmod is refused while a service uses mh" rmmod ip_vs_mh

flows=$(client_flows $VIP 80 200 20000)
echo "shares: $(shares <<<"$flows")"
check "every connection got an answer" bash -c "! grep -q ' -$' <<<'$flows'"
for k in 1 2 3 4; do
	check "rs$k got some of 200 flows" grep -q " rs$k$" <<<"$flows"
done
again=$(client_flows $VIP 80 200 30000)
check "a repeat from fresh ports still reaches all servers" bash -c "[[ \$(awk '{print \$2}' <<<'$again' | sort -u | grep -c rs) == 4 ]]"

step "edit: weight 0 on rs2 with mh-fallback"
check "set rs2 weight 0" ipvsadm -e -t $VIP:80 -r 10.0.1.2:80 -m -w 0
flows0=$(client_flows $VIP 80 200 20000 | sed 's/^/x /' | awk '{print $2, $3}')
check "no new flow goes to rs2" bash -c "! grep -q ' rs2$' <<<'$flows0'"
check "every flow is still answered" bash -c "! grep -q ' -$' <<<'$flows0'"
# Flows of the other servers keep their server (same source ports as before).
moved=$(join <(sort <<<"$flows") <(sort <<<"$flows0") | awk '$2 != "rs2" && $2 != $3' | wc -l)
check "flows of rs1, rs3, rs4 did not move ($moved moved)" test "$moved" -eq 0

step "edit: weights 1:2:3:4"
for k in 1 2 3 4; do ipvsadm -e -t $VIP:80 -r 10.0.1.$k:80 -m -w $k; done
check "service still answers after reweighting" bash -c "! client_flows $VIP 80 50 40000 | grep -q ' -$'"

step "delete: rs3 goes away"
check "delete rs3" ipvsadm -d -t $VIP:80 -r 10.0.1.3:80
flows3=$(client_flows $VIP 80 200 50000)
check "no flow goes to the deleted rs3" bash -c "! grep -q ' rs3$' <<<'$flows3'"
check "every flow is answered" bash -c "! grep -q ' -$' <<<'$flows3'"

step "without mh-fallback, a quiesced server's flows get no destination"
check "edit service: mh-port only" ipvsadm -E -t $VIP:80 -s mh -b mh-port
check "set rs1 weight 0" ipvsadm -e -t $VIP:80 -r 10.0.1.1:80 -m -w 0
dmesg_mark
flowsq=$(client_flows $VIP 80 100 60000)
check "some flows fail (they hash to rs1)" grep -q ' -$' <<<"$flowsq"
check "none reaches rs1" bash -c "! grep -q ' rs1$' <<<'$flowsq'"
check "IPVS logs 'no destination available'" bash -c "dmesg | tail -n +$((dmesg_lines + 1)) | grep -q 'MH: no destination available'"

step "switch a busy service between mh and rr and back"
check "mh -> rr" ipvsadm -E -t $VIP:80 -s rr
check "rr -> mh" ipvsadm -E -t $VIP:80 -s mh -b mh-port,mh-fallback
check "traffic after switching back" bash -c "! client_flows $VIP 80 50 61000 | grep -q ' -$'"

step "unload"
check "delete the service" ipvsadm -D -t $VIP:80
teardown_topology
check "rmmod succeeds once no service uses mh" rmmod ip_vs_mh
check "module is gone" bash -c "! grep -q '^ip_vs_mh ' /proc/modules"
finish
