#!/usr/bin/env bash
# Runs every test of the project (the README's test command; CI runs it):
# the hashing core under std; the module built with the kernel's lints for
# the debug test kernel (rustc-web 1.96) and for Debian's own kernel
# (trixie's rustc 1.85.1, against Debian's headers and the Rust metadata
# rebuilt for them); the operator's install paths in a trixie root; the
# Debian packages, built, linted, installed and removed with apt; and the
# end-to-end scenarios in QEMU guests, on the debug kernel (sanitizers),
# on Debian's signed stock kernel (with the module DKMS built from the
# package), on sid's and on Debian's arm64 kernel (cross-built, emulated).
source "$(dirname "$0")/common.sh"
start=$SECONDS
# This run's own files (what later steps hand to the guests).
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/ipvs-mh-test.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT

"$PROJECT_DIR/scripts/bootstrap.sh"
log "userspace tests of the hashing core"
"$PROJECT_DIR/userspace-tests/run.sh"

# The debug test kernel: KASAN, lockdep, kmemleak and the rest.
kdir=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
"$PROJECT_DIR/scripts/check-install.sh" "$kdir"
debug_ko=$("$PROJECT_DIR/scripts/build-module.sh" "$kdir")
# The test build with the core's KUnit suite; the production module has none.
kunit_ko=$("$PROJECT_DIR/scripts/build-module.sh" --out "$CACHE_DIR/kunit-module" --kunit "$kdir")
objdump -h "$kunit_ko" | grep -q '\.kunit_test_suites' || die "the KUnit build has no KUnit suite"
if objdump -h "$debug_ko" | grep -q '\.kunit_test_suites'; then
	die "the production module carries the KUnit suite"
fi
debug_index=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$kdir/.config")
# The misuses the adapter's types rule out must not compile.
"$PROJECT_DIR/scripts/check-compile-fail.sh" "$kdir"
# The in-tree build path: hook-up, patch, kconfig, the module built in the
# tree (a guest loads it below).
intree_ko=$("$PROJECT_DIR/scripts/check-intree.sh" "$kdir" "$run_dir/intree")
# The C mh under another module name, so that the Rust one's registration
# is what IPVS refuses (tests/vm/module.sh).
renamed() { "$PROJECT_DIR/scripts/build-reference-mh.sh" --name ip_vs_mh_c "$1" "$2" | awk '{print $2}'; }
debug_c_renamed=$(renamed "$kdir" "$debug_index")

# debian_target TARGET ENV [INDEX...]: for a Debian kernel target of
# scripts/debian-kernel.sh (its metadata proven to match), the module built
# with that kernel's toolchain, Debian's C mh renamed, and copies of the C
# mh rebuilt from the same upload's source at the table sizes INDEX (default:
# all ten; the exactness, sequences and sizes scenarios compare with
# Debian's own signed C mh at its size and with these at the others); ENV
# (an array's name) gets the guests' settings for it.
debian_target() {
	local target=$1 index ko built references=() sizes others
	local -n env_of=$2
	shift 2
	sizes=("$@")
	((${#sizes[@]})) || sizes=(8 9 10 11 12 13 14 15 16 17)
	ko=$("$PROJECT_DIR/scripts/build-module.sh" --out "$target/module" "$target")
	index=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$target/root$(cat "$target/headers")/.config")
	# Every table size asked for must have its C module: a failed build
	# stops the run.
	built=$("$PROJECT_DIR/scripts/build-reference-mh.sh" "$target" "${sizes[@]}") ||
		die "building the C ip_vs_mh at table sizes ${sizes[*]} failed for $(cat "$target/release")"
	while read -r i c_ko; do
		[[ -f $c_ko ]] || die "no C ip_vs_mh for table index $i ($c_ko)"
		[[ $i == "$index" ]] || references+=("IPVS_MH_REFERENCE_$i=$c_ko")
	done <<<"$built"
	others=$(printf '%s\n' "${sizes[@]}" | grep -cvx "$index")
	((${#references[@]} == others)) || die "C ip_vs_mh modules for ${#references[@]} of the $others other table sizes"
	env_of=(IPVS_MH_KO="$ko" IPVS_MH_KERNEL_TAB_INDEX="$index" "${references[@]}"
		TEST_EXACTNESS_INDICES="8 $index 16" IPVS_MH_C_RENAMED="$(renamed "$target" "$index")")
}
# Debian's own kernel: the newest 7.3 upload of trixie-backports (rustc
# 1.85.1, gcc-14).
stock=$("$PROJECT_DIR/scripts/debian-kernel.sh")
release=$(cat "$stock/release")
debian_target "$stock" stock_env
# And the newest upload of the other toolchain: sid's (rustc 1.97.1,
# gcc-16), or DEBIAN_OTHER_KERNEL (a suite or a Debian version).
other=$(DEBIAN_KERNEL=${DEBIAN_OTHER_KERNEL:-sid} "$PROJECT_DIR/scripts/debian-kernel.sh")
other_kind=$(awk '{print $2}' "$other/upload")
debian_target "$other" other_env
# It runs fewer exactness configurations (12 of 24, all three sizes): the
# newest 7.3 upload runs them all.
other_env+=(TEST_EXACTNESS_CONFIGS=12)
# And arm64: the same upload as the stock kernel (DEBIAN_ARM64_KERNEL
# another), its metadata and module cross-built here, its guest emulated;
# it runs the module, exactness (12 configurations, at sizes 8, its own and
# 16, against arm64's own signed C mh and copies) and balance scenarios,
# with mh-tool built for arm64.
arm64=$(DEBIAN_KERNEL=${DEBIAN_ARM64_KERNEL:-$(awk '{print $1}' "$stock/upload")} DEBIAN_ARCH=arm64 \
	"$PROJECT_DIR/scripts/debian-kernel.sh")
debian_target "$arm64" arm64_env 8 16
arm64_env+=(TEST_EXACTNESS_CONFIGS=12 IPVS_MH_TOOL="$("$PROJECT_DIR/scripts/cross-mh-tool.sh" arm64)")
# The clone-and-make install paths, in each target's root: trixie with the
# backports kernel, sid with its own, and trixie with the arm64 headers
# (cross: kbuild's amd64 tools, the arm64 cross compiler).
for target in "$stock" "$other" "$arm64"; do
	target_release=$(cat "$target/release")
	target_modules=$target/modroot/lib/modules/$target_release
	log "the clone-and-make install paths on $target_release (make debian-install, signing) in its $(awk '{print $3}' "$target/upload") root"
	"$PROJECT_DIR/scripts/in-root.sh" "$target/root" --bind "$PROJECT_DIR" --bind "$target_modules" -- \
		"$PROJECT_DIR/tests/debian/operator-install.sh" "$PROJECT_DIR" "$target_release" "$target_modules"
done

# The Debian packages: built with dpkg-buildpackage in a clean trixie
# system, lintian-clean, then installed, upgraded to a second kernel and
# removed with apt as an operator does, on the newest 7.3 upload of
# trixie-backports (scripts/package-test.sh; sid and arm64 systems by hand,
# README). The stock guest below runs the module DKMS built there.
installed=$("$PROJECT_DIR/scripts/package-test.sh" trixie amd64)
[[ $(modinfo -F vermagic "$installed/ip_vs_mh.ko" | cut -d' ' -f1) == "$release" ]] ||
	die "the package test installs the newest $KERNEL_SERIES upload of $KERNEL_SUITE, not the stock guest's $release: DEBIAN_KERNEL must name that upload"
stock_env[0]=IPVS_MH_KO=$installed/ip_vs_mh.ko
log "the stock guest runs the module DKMS built ($(modinfo -F signer "$installed/ip_vs_mh.ko"), $(modinfo -F vermagic "$installed/ip_vs_mh.ko"))"


# Guests: a kernel, its vCPUs and how QEMU runs them, the scenarios, their
# settings; the module is installed into updates/ of the guest's modules,
# as `make install` does. TEST_SCENARIOS runs the scenarios named there in
# one guest instead, on the debug kernel or TEST_KERNEL=stock (or sid,
# arm64), with TEST_CPUS vCPUs (4), a host thread each.
# The sanitizers' kernel loads and unloads the module 25 times (Debian's 50):
# a cycle costs it four times as much.
debug_env=(IPVS_MH_KO="$debug_ko" IPVS_MH_KERNEL_TAB_INDEX="$debug_index"
	IPVS_MH_C_RENAMED="$debug_c_renamed" IPVS_MH_KUNIT_KO="$kunit_ko" IPVS_MH_INTREE_KO="$intree_ko"
	TEST_LIFECYCLE_CYCLES="${TEST_LIFECYCLE_CYCLES:-25}")
# The sanitizers' kernel runs what exercises the module's concurrency,
# lifecycle and failure paths, and one daemon (BIRD); Debian's kernels, four
# times faster under emulation, the comparisons with C, the balance and
# keepalived (80 s there alone, 555 s on the sanitizers' kernel: the same
# netlink commands as ipvsadm's, which the debug guests run): the newest
# 7.3 upload module, exactness and sequences, the other toolchain's upload
# the rest.
# "one": the guest's vCPUs take turns on one host thread (run-vm.sh
# --one-thread), and two such guests run at a time, one per host core; a
# thread per vCPU on two cores shared by two guests halved what each got
# done. "own": a host thread per vCPU, for concurrency, whose checks are
# about CPUs scheduling at the same instant; such a guest runs alone,
# first. The others start in the order listed, each when a core is free,
# an order that ends the two cores' queues close together with the guest
# times of 2026-12-07 (488, 365, 265, 286 and 166 s).
jobs=(
	"debug 4 own|concurrency"
	"debug 2 one|kunit module lifecycle smoke_c_mh"
	"sid 2 one|exactness keepalived balance lifecycle observe failover sizes"
	"stock 2 one|module exactness sequences"
	"debug 2 one|faults intree_module bgp"
	"arm64 2 one|module exactness balance"
)
[[ -n ${TEST_SCENARIOS:-} ]] && jobs=("${TEST_KERNEL:-debug} ${TEST_CPUS:-4} own|$TEST_SCENARIOS")

# How many of the two host cores job $1 takes: 1 with its vCPUs on one
# thread, 2 (all) with a thread each.
cores_of() {
	local kind cpus threads
	read -r kind cpus threads <<<"${jobs[$1]%%|*}"
	[[ $threads == one ]] && echo 1 || echo 2
}

run_job() {
	local i=$1 spec=${jobs[$1]%%|*} scenarios=${jobs[$1]#*|} kind cpus threads target ko env one_thread=()
	read -r kind cpus threads <<<"$spec"
	[[ $threads == one ]] && one_thread=(--one-thread)
	case $kind in
	stock) target=$stock env=("${stock_env[@]}") ;;
	"$other_kind") target=$other env=("${other_env[@]}") ;;
	arm64) target=$arm64 env=("${arm64_env[@]}") ;;
	*) target=$kdir env=("${debug_env[@]}") ;;
	esac
	ko=${env[0]#IPVS_MH_KO=}
	# shellcheck disable=SC2086 # a job's scenarios are a list of names
	env "${env[@]}" "$PROJECT_DIR/scripts/run-vm.sh" --kernel "$target" --module "$ko" --cpus "$cpus" \
		"${one_thread[@]}" --timeout 3000 -- "$PROJECT_DIR/tests/vm/run_all.sh" $scenarios 2>&1 |
		sed -u "s/^/[vm$((i + 1)) $kind] /" | tee "$guest_logs/vm$((i + 1))"
	return "${PIPESTATUS[0]}"
}

# A failed guest's failing checks and errors, again: two guests' consoles
# interleave, and a CI log may keep only its tail.
failure_digest() {
	tr -d '\r' <"$guest_logs/$1" |
		grep -E '\| (FAIL |######## (FAILED|[a-z_]+$))|\] error: |\| Traceback|\|   File |Error: |BUG:|WARNING:' |
		head -n 60 >&2 || true
}
guest_logs=$run_dir/guests
mkdir -p "$guest_logs"

# The runner's own detectors, each made to fire once on purpose, beside the
# scenarios: its guests are short, or idle while a timeout runs out.
log "the runner's self-test, beside the scenarios"
("$PROJECT_DIR/tests/harness/self-test.sh" "$stock" "$kdir" 2>&1 | sed -u 's/^/[self-test] /') &
self_test=$!
log "scenarios in ${#jobs[@]} guest(s), on the two host cores: $(printf '[%s] ' "${jobs[@]}")"
declare -A job_of=()
failed=()
next=0
busy=0
while ((next < ${#jobs[@]} || ${#job_of[@]})); do
	# In order: a job waits until its cores are free.
	while ((next < ${#jobs[@]})) && ((busy + $(cores_of "$next") <= 2)); do
		run_job "$next" &
		job_of[$!]=$next
		busy=$((busy + $(cores_of "$next")))
		next=$((next + 1))
	done
	status=0
	wait -n -p done_pid "${!job_of[@]}" || status=$?
	i=${job_of[$done_pid]}
	unset "job_of[$done_pid]"
	busy=$((busy - $(cores_of "$i")))
	if ((status)); then
		log "guest vm$((i + 1)) failed: ${jobs[$i]}"
		failed+=("vm$((i + 1))")
	fi
done
for vm in "${failed[@]}"; do
	log "what failed in $vm:"
	failure_digest "$vm"
done

wait "$self_test" || failed+=("the runner's self-test")
((${#failed[@]} == 0)) || die "failed: ${failed[*]} (see the [vmN] and [self-test] lines above)"
log "all tests passed in $((SECONDS - start))s"
