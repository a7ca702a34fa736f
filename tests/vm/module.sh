#!/usr/bin/env bash
# The Rust ip_vs_mh module on a real kernel: load, parameters, a service
# with real traffic, destinations added, edited and deleted, unload rules.
source "$(dirname "$0")/lib.sh"
VIP=10.0.0.100

shares() { awk '{print $2}' <<<"$1" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1} END {print ""}'; }
modinfo_has() { modinfo "$RUST_KO" | grep -q "$1"; }

step "module parameters"
reset_ipvs
modprobe ip_vs
dmesg_mark
refuse "tab_index=7 is refused" insmod "$RUST_KO" tab_index=7
check "dmesg says why tab_index=7 failed" dmesg_new_has 'tab_index=7 is out of range: it must be 8 to 17'
refuse "tab_index=18 is refused" insmod "$RUST_KO" tab_index=18
check "dmesg says why tab_index=18 failed" dmesg_new_has 'tab_index=18 is out of range'
refuse "tab_index=abc is refused" insmod "$RUST_KO" tab_index=abc
check "dmesg says why tab_index=abc failed" dmesg_new_has "\`abc' invalid for parameter \`tab_index'"
refuse "tab_index=-1 is refused" insmod "$RUST_KO" tab_index=-1
refuse "no module left loaded after refused loads" module_loaded ip_vs_mh
check "modinfo: description" modinfo_has '^description:.*Maglev'
check "modinfo: license" modinfo_has '^license:.*GPL'
check "modinfo: author" modinfo_has '^author:'
check "modinfo: parameter tab_index" modinfo_has '^parm:.*tab_index'

step "the C and the Rust mh cannot be loaded at once"
check "load C ip_vs_mh" load_c_mh
refuse "insmod of the Rust module is refused while C mh is loaded" insmod "$RUST_KO"
check "the C ip_vs_mh stays in force" c_mh_loaded
check "unload C ip_vs_mh" rmmod ip_vs_mh

step "load with tab_index=8"
dmesg_mark
check "insmod tab_index=8" insmod "$RUST_KO" tab_index=8
check "dmesg reports table size 251" dmesg_new_has 'table size 251 (index 8)'
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
check "the module is still loaded" module_loaded ip_vs_mh

flows=$(client_flows $VIP 80 200 20000)
echo "shares of 200 flows: $(shares "$flows")"
check "every connection got an answer" all_answered "$flows"
check "all 4 servers got flows" test "$(server_count "$flows")" -eq 4
again=$(client_flows $VIP 80 200 20000)
check "the same flows again reach the same servers" test "$(moved_flows "$flows" "$again")" -eq 0

step "edit: weight 0 on rs2 with mh-fallback"
check "set rs2 weight 0" ipvsadm -e -t $VIP:80 -r 10.0.1.2:80 -m -w 0
flows0=$(client_flows $VIP 80 200 20000)
check "rs2 had flows before" reaches "$flows" rs2
check "no new flow goes to rs2" never_reaches "$flows0" rs2
check "every flow is still answered" all_answered "$flows0"
check "flows of rs1, rs3, rs4 did not move" test "$(moved_flows "$flows" "$flows0" rs2)" -eq 0
check "rs2 back to weight 100" ipvsadm -e -t $VIP:80 -r 10.0.1.2:80 -m -w 100
back=$(client_flows $VIP 80 200 20000)
check "restoring the weight restores every flow's server" test "$(moved_flows "$flows" "$back")" -eq 0

step "edit: weights 1:2:3:4"
for k in 1 2 3 4; do
	check "rs$k weight $k" ipvsadm -e -t $VIP:80 -r 10.0.1.$k:80 -m -w $k
done
flowsw=$(client_flows $VIP 80 200 40000)
echo "shares of 200 flows: $(shares "$flowsw")"
check "service answers every flow after reweighting" all_answered "$flowsw"

step "delete: rs3 goes away"
check "delete rs3" ipvsadm -d -t $VIP:80 -r 10.0.1.3:80
flows3=$(client_flows $VIP 80 200 40000)
check "rs3 had flows before" reaches "$flowsw" rs3
check "no flow goes to the deleted rs3" never_reaches "$flows3" rs3
check "every flow is answered" all_answered "$flows3"

step "without mh-fallback, a quiesced server's flows get no destination"
check "edit service: mh-port only" ipvsadm -E -t $VIP:80 -s mh -b mh-port
check "set rs1 weight 0" ipvsadm -e -t $VIP:80 -r 10.0.1.1:80 -m -w 0
dmesg_mark
flowsq=$(client_flows $VIP 80 100 60000)
check "some flows fail (they hash to rs1)" some_failed "$flowsq"
check "none reaches rs1" never_reaches "$flowsq" rs1
check "IPVS logs 'no destination available'" dmesg_new_has 'mh: TCP 10.0.0.100:80 - no destination available'

step "switch a busy service between mh and rr and back"
check "mh -> rr" ipvsadm -E -t $VIP:80 -s rr
flowsrr=$(client_flows $VIP 80 30 61000)
check "rr answers" all_answered "$flowsrr"
check "rr -> mh" ipvsadm -E -t $VIP:80 -s mh -b mh-port,mh-fallback
flowsmh=$(client_flows $VIP 80 50 62000)
check "mh answers every flow after switching back" all_answered "$flowsmh"

step "unload"
check "delete the service" ipvsadm -D -t $VIP:80
teardown_topology
check "rmmod succeeds once no service uses mh" rmmod ip_vs_mh
refuse "module is gone" module_loaded ip_vs_mh
finish
