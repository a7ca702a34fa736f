#!/usr/bin/env bash
# The module as the kernel tree builds it (scripts/intree.sh, checked by
# scripts/check-intree.sh): it loads, reports the table size kconfig chose
# (CONFIG_IP_VS_MH_RS_TAB_INDEX=9) and schedules. Its file is ip_vs_mh_rs.ko
# because that tree builds the C ip_vs_mh as a module too.
source "$(dirname "$0")/lib.sh"
KO=${IPVS_MH_INTREE_KO:?the harness passes the module built in the tree}
name=$(basename "$KO" .ko)

step "the module built in the kernel tree, CONFIG_IP_VS_MH_RS_TAB_INDEX=9"
reset_ipvs
modprobe ip_vs
dmesg_mark
check "insmod $name.ko" insmod "$KO"
check "it reports the table size kconfig chose: 509 slots (index 9)" dmesg_new_has 'table size 509 (index 9)'
check "it is loaded as $name" module_loaded "$name"
check "a service uses its mh" ipvsadm -A -u 10.0.0.100:53 -s mh -b mh-port
check "with a real server" ipvsadm -a -u 10.0.0.100:53 -r 10.0.1.1:53 -m -w 1
check "the debugfs view shows the table at index 9" grep -q '509 slots (index 9)' /sys/kernel/debug/ip_vs_mh/tables
check "delete the service" ipvsadm -D -u 10.0.0.100:53
check "rmmod $name" rmmod "$name"
finish
