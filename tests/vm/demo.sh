#!/usr/bin/env bash
# The main job's guest part: the Rust mh balancing real TCP traffic.
source "$(dirname "$0")/lib.sh"
VIP=10.0.0.100

reset_ipvs
echo "kernel: $(uname -r) ($(nproc) CPUs)"
echo "modprobe's ip_vs_mh: $(modinfo -n ip_vs_mh)"
setup_nat_topology 4
# No modprobe by hand: IPVS loads the scheduler the service names.
ipvsadm -A -t $VIP:80 -s mh -b mh-port,mh-fallback
rust_mh_loaded || { echo "ipvsadm -s mh did not load the Rust ip_vs_mh"; exit 1; }
dmesg | grep 'ip_vs_mh' | tail -n 2
for k in 1 2 3 4; do ipvsadm -a -t $VIP:80 -r 10.0.1.$k:80 -m -w 100; done
echo
ipvsadm -Ln
echo
echo "400 connections from the client namespace to $VIP:80:"
flows=$(client_flows $VIP 80 400 20000)
awk '{n[$2]++} END {for (s in n) printf "  %-4s %4d connections\n", s, n[s]}' <<<"$flows" | sort
echo
echo "rs2 quiesced (weight 0): its flows move, the others stay"
ipvsadm -e -t $VIP:80 -r 10.0.1.2:80 -m -w 0
flows2=$(client_flows $VIP 80 400 20000)
awk '{n[$2]++} END {for (s in n) printf "  %-4s %4d connections\n", s, n[s]}' <<<"$flows2" | sort
moved=$(join <(sort <<<"$flows") <(sort <<<"$flows2") | awk '$2 != $3' | wc -l)
moved_rs2=$(join <(sort <<<"$flows") <(sort <<<"$flows2") | awk '$2 != $3 && $2 == "rs2"' | wc -l)
echo "  flows that changed server: $moved, of which $moved_rs2 were rs2's"
echo
echo "the table in force (/sys/kernel/debug/ip_vs_mh/tables):"
sed 's/^/  /' /sys/kernel/debug/ip_vs_mh/tables
echo
ipvsadm -Ln --stats
ipvsadm -C
teardown_topology
rmmod ip_vs_mh
# Every connection answered, and only rs2's flows moved.
! grep -q ' -$' <<<"$flows$flows2" && ((moved == moved_rs2))
