#!/usr/bin/env bash
# The hashing core's KUnit suite (src/kunit.rs) inside the kernel: the test
# build of the module (IPVS_MH_KUNIT_KO) runs it when loaded, and its KTAP
# result must show every case of the source passing.
source "$(dirname "$0")/lib.sh"
KO=${IPVS_MH_KUNIT_KO:?the harness passes the test build of the module}

step "the core's KUnit suite, run at load by the kernel's KUnit"
reset_ipvs
modprobe ip_vs
cases=$(grep -c '^    #\[test\]' "$PROJECT_DIR/src/kunit.rs")
dmesg_mark
check "insmod of the test build" insmod "$KO"
ktap=$(dmesg_new_text)
grep -E 'KTAP|Subtest|^ *(not )?ok |# ip_vs_mh_core|# Totals' <<<"$ktap" | sed 's/^/  /'
totals=$(sed -n 's/.*# ip_vs_mh_core: pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\) total:\([0-9]*\).*/\1 \2 \3 \4/p' <<<"$ktap")
read -r pass fail skip total <<<"${totals:-x x x x}"
echo "src/kunit.rs has $cases cases; KTAP: pass $pass, fail $fail, skip $skip, total $total"
check "the suite reported its totals" test -n "$totals"
check "it ran every case of the source ($cases)" test "$total" = "$cases"
check "every case passed" test "$pass" = "$cases" -a "$fail" = 0 -a "$skip" = 0
check "KTAP says ok for the suite" grep -qE '^ok [0-9]+ ip_vs_mh_core' <<<"$ktap"
check "no case said not ok" bash -c '! grep -q "not ok" <<<"$1"' _ "$ktap"
check "the test build still registers mh" dmesg_new_has 'Maglev hashing scheduler mh registered'
check "rmmod" rmmod ip_vs_mh
finish
