#!/usr/bin/env bash
# Smoke test of the harness: the in-tree C ip_vs_mh in the guest.
source "$(dirname "$0")/lib.sh"

step "in-tree C mh: load, service with mh-port,mh-fallback, two real servers"
reset_ipvs
check "modprobe picks the in-tree C ip_vs_mh" load_c_mh
check "add service" ipvsadm -A -t 10.0.0.100:80 -s mh -b mh-port,mh-fallback
check "add real server 1" ipvsadm -a -t 10.0.0.100:80 -r 10.0.1.1:80 -m -w 1
check "add real server 2" ipvsadm -a -t 10.0.0.100:80 -r 10.0.1.2:80 -m -w 2
ipvsadm -Ln
services=$(python3 "$TESTS_DIR/mhlab.py" services)
dests=$(python3 "$TESTS_DIR/mhlab.py" dests)
check "listing shows mh with both flags" \
	bash -c "[[ '$services' == 'TCP 10.0.0.100:80 mh mh-fallback,mh-port' || '$services' == 'TCP 10.0.0.100:80 mh mh-port,mh-fallback' ]]"
check "listing shows both real servers, newest first" test "$dests" = $'10.0.1.2:80 2\n10.0.1.1:80 1'
check "delete service" ipvsadm -D -t 10.0.0.100:80
check "unload C ip_vs_mh" rmmod ip_vs_mh
finish
