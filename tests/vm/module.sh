#!/usr/bin/env bash
# The Rust ip_vs_mh module on a real kernel: load, parameters, a service
# with real traffic, destinations added, edited and deleted, unload rules.
source "$(dirname "$0")/lib.sh"
VIP=10.0.0.100

shares() { awk '{print $2}' <<<"$1" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1} END {print ""}'; }
# Whether a line of the module's modinfo matches the extended regex $1
# (modinfo read once: a process costs up to a second on the sanitizers'
# kernel).
modinfo_text=$(modinfo "$RUST_KO") || modinfo_text=
modinfo_has() {
	local line
	while IFS= read -r line; do
		[[ $line =~ $1 ]] && return 0
	done <<<"$modinfo_text"
	return 1
}
tab_param_is() { [[ $(cat /sys/module/ip_vs_mh/parameters/service_tab_index) == "$1" ]]; }

step "module parameters: a bad value fails the load with one line in the kernel log"
reset_ipvs
modprobe ip_vs
refused_load() {
	local what=$1
	shift
	dmesg_mark
	refuse "$what is refused" insmod "$RUST_KO" "$what"
	check "$what: the kernel log says why, in one line" logged_exactly "$@"
}
refused_load tab_index=7 'ip_vs_mh: tab_index=7 is out of range: it must be 8 to 17 (table sizes 251 to 131071)'
refused_load tab_index=18 'ip_vs_mh: tab_index=18 is out of range: it must be 8 to 17 (table sizes 251 to 131071)'
refused_load tab_index=abc "ip_vs_mh: \`abc' invalid for parameter \`tab_index'"
refused_load tab_index=-1 "ip_vs_mh: \`-1' invalid for parameter \`tab_index'"
refused_load canonical_order=2 'ip_vs_mh: canonical_order=2 is out of range: it must be 0 or 1'
refused_load canonical_order=yes "ip_vs_mh: \`yes' invalid for parameter \`canonical_order'"
refused_load service_tab_index=tcp:10.0.0.1:80=18 \
	'ip_vs_mh: service_tab_index: entry 1: index 18 is out of range: it must be 8 to 17'
refused_load 'service_tab_index=udp:10.0.0.1:53=9,fwm:0=9' \
	'ip_vs_mh: service_tab_index: entry 2: the firewall mark must be 1 to 4294967295'
refuse "no module left loaded after refused loads" module_loaded ip_vs_mh
check "service_tab_index given twice at load: the last value wins (a bad one before it is forgotten)" \
	insmod "$RUST_KO" service_tab_index=tcp:10.0.0.1:80=18 service_tab_index=tcp:10.0.0.1:80=9
check "  and reads back" tab_param_is 'tcp:10.0.0.1:80=9'
check "  unload" rmmod ip_vs_mh
check "modinfo: description" modinfo_has '^description:.*Maglev'
check "modinfo: license" modinfo_has '^license:.*GPL'
check "modinfo: author" modinfo_has '^author:'
check "modinfo: parameter tab_index" modinfo_has '^parm:.*tab_index'
check "modinfo: parameter canonical_order" modinfo_has '^parm:.*canonical_order:.*canonical order'
check "modinfo: parameter service_tab_index, a string" modinfo_has '^parm:.*service_tab_index:.*SERVICE=INDEX.*\(string\)$'

step "the C and the Rust mh cannot be loaded at once"
check "load C ip_vs_mh" load_c_mh
dmesg_mark
refuse "insmod of the Rust module is refused while the C ip_vs_mh is loaded" insmod "$RUST_KO"
# Same module name: the kernel refuses it before any of our code runs.
check "by the kernel (same module name): nothing logged" logged_exactly
check "the C ip_vs_mh stays in force" c_mh_loaded
check "unload C ip_vs_mh" rmmod ip_vs_mh
# Under another name the C scheduler registers "mh" first, and ours is the
# registration IPVS refuses: nothing of it stays registered.
C_RENAMED=${IPVS_MH_C_RENAMED:?the harness passes the C ip_vs_mh built as another module}
check "load the C mh as $(basename "$C_RENAMED" .ko)" insmod "$C_RENAMED"
dmesg_mark
refuse "insmod of the Rust module is refused while the C mh scheduler is registered" insmod "$RUST_KO"
check "the kernel log shows IPVS's refusal and ours, and no unregistration" logged_exactly \
	'IPVS: register_ip_vs_scheduler(): [mh] scheduler already existed in the system' \
	'ip_vs_mh: cannot register scheduler mh (error -22): is the C ip_vs_mh loaded?'
check "the C mh still schedules a new service" ipvsadm -A -t $VIP:82 -s mh
check "delete that service" ipvsadm -D -t $VIP:82
check "unload it" rmmod "$(basename "$C_RENAMED" .ko)"

step "installed in updates/ (as make install does): modprobe and ipvsadm pick the Rust mh"
check "modprobe resolves ip_vs_mh to updates/" bash -c 'modinfo -n ip_vs_mh | grep -q "/updates/ip_vs_mh.ko$"'
check "ipvsadm -A -s mh loads the scheduler by itself" ipvsadm -A -t $VIP:81 -s mh
check "and it is the Rust one" rust_mh_loaded
check "delete that service" ipvsadm -D -t $VIP:81
check "rmmod" rmmod ip_vs_mh

step "load with tab_index=8"
dmesg_mark
check "insmod tab_index=8" insmod "$RUST_KO" tab_index=8
check "dmesg reports table size 251" dmesg_new_has 'table size 251 (index 8), list order'
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
