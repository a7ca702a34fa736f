#!/usr/bin/env bash
# Smoke test of the harness: the in-tree C ip_vs_mh in the guest.
source "$(dirname "$0")/lib.sh"

step "in-tree C mh: load, service with mh-port,mh-fallback, two real servers"
reset_ipvs
check "modprobe picks the in-tree C ip_vs_mh" load_c_mh
check "add service" ipvsadm -A -t 10.0.0.100:80 -s mh -b mh-port,mh-fallback
check "add real server 1" ipvsadm -a -t 10.0.0.100:80 -r 10.0.1.1:80 -m -w 1
check "add real server 2" ipvsadm -a -t 10.0.0.100:80 -r 10.0.1.2:80 -m -w 2
listing=$(ipvsadm -Ln)
echo "$listing"
check "listing shows mh with both flags" grep -Eq 'mh \(mh-fallback,mh-port\)|mh \(mh-port,mh-fallback\)' <<<"$listing"
check "listing shows both real servers" bash -c "grep -c '10.0.1.[12]:80' <<<'$listing' | grep -qx 2"
check "delete service" ipvsadm -D -t 10.0.0.100:80
check "unload C ip_vs_mh" rmmod ip_vs_mh
finish
