#!/usr/bin/env bash
# The module on every Debian kernel upload that has Rust, one after the
# other:
#
#   scripts/debian-matrix.sh [DEBIAN_VERSION...]     (default: every upload)
#
# For each upload (Debian's 7.x kernels in trixie-backports, forky, sid and
# experimental) and each architecture of DEBIAN_ARCHS (default: amd64
# arm64; arm64 is cross-built here and its guest emulated by
# qemu-system-aarch64): its target (scripts/debian-kernel.sh: packages, a
# root of the suite with the toolchain it was built with, the Rust metadata
# rebuilt), the export match proved again (scripts/debian-metadata.sh: the
# count of `_R` exports and helpers equal to the upload's Module.symvers),
# the module built with that toolchain (any warning fails), and a guest of
# that signed kernel running the module and exactness scenarios (exactness
# against that upload's own signed C ip_vs_mh). An upload that fails a step
# gets its reason in one line and the matrix goes on. The last output is a
# markdown table; each upload's log is kept under the cache's matrix/ dir.
# About 6 minutes per upload on 2 cores when nothing is cached (3 when its
# target is), and about 3 GB of cache each.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

"$PROJECT_DIR/scripts/bootstrap.sh"
APT_ARCHS="amd64 arm64" debian_apt kernels "$KERNEL_SUITE" forky sid experimental
read -ra archs <<<"${DEBIAN_ARCHS:-amd64 arm64}"
# One line per upload and architecture: VERSION SUITE ABI ARCH.
uploads=$(for arch in "${archs[@]}"; do debian_kernel_uploads "$arch" | sed "s/\$/ $arch/"; done)
if (($#)); then
	wanted=$(printf '%s\n' "$@")
	uploads=$(awk 'NR == FNR { want[$1]; next } $1 in want' <(echo "$wanted") <(echo "$uploads"))
	for v in "$@"; do
		grep -q "^$v " <<<"$uploads" || die "no upload $v for ${archs[*]} (see scripts/debian-kernel.sh for the versions)"
	done
fi
[[ -n $uploads ]] || die "no Debian kernel upload found"
logs=$CACHE_DIR/matrix/$(date +%Y%m%d-%H%M%S)
mkdir -p "$logs"
# The guests' scenarios read the view with mh-tool, built for each
# architecture.
declare -A tool_of=()
cargo build --quiet --release --manifest-path "$PROJECT_DIR/tools/mh-tool/Cargo.toml" >&2
tool_of[amd64]=$PROJECT_DIR/tools/mh-tool/target/release/mh-tool

rows=()
# reason LOG: the step's own error line, else its last line.
reason() {
	local r
	r=$(grep -a '^error: ' "$1" | tail -n 1 | cut -c8-400)
	echo "${r:-$(tail -n 1 "$1" | cut -c1-400)}"
}
# scenario GUEST NAME: how scenario NAME ended in the guest's output.
scenario() {
	if grep -aq "######## FAILED: $2" "$1"; then
		echo fails
	elif grep -aq "^ *| $2 *[0-9]*s$" "$1"; then
		echo passes
	else
		echo "did not finish"
	fi
}

while read -r version suite _ arch; do
	t0=$SECONDS
	log=$logs/${version//[~:+]/_}-$arch.log
	toolchain=- exports=- build=- module=- exactness=- why=
	log "matrix: Debian $version ($suite), $arch; log in $log"
	[[ -n ${tool_of[$arch]:-} ]] || tool_of[$arch]=$("$PROJECT_DIR/scripts/cross-mh-tool.sh" "$arch" 2>>"$log") || tool_of[$arch]=
	if [[ -z ${tool_of[$arch]} ]]; then
		why="mh-tool for $arch: $(reason "$log")"
	elif ! target=$(DEBIAN_KERNEL=$version DEBIAN_ARCH=$arch "$PROJECT_DIR/scripts/debian-kernel.sh" 2>>"$log"); then
		why="target: $(reason "$log")"
	else
		read -r _ _ tool_suite <"$target/upload"
		root=$target/root headers=$(cat "$target/headers")
		toolchain="rustc $("$PROJECT_DIR/scripts/in-root.sh" "$root" -- rustc --version | awk '{print $2}') ($tool_suite)"
		# The proof again, whether or not the target was cached.
		"$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$PROJECT_DIR" -- \
			"$PROJECT_DIR/scripts/debian-metadata.sh" "$headers" >"$logs/proof" 2>&1 || true
		cat "$logs/proof" >>"$log"
		rust=$(sed -n 's/.*match: \([0-9]*\) Rust exports equal.*/\1/p' "$logs/proof")
		helpers=$(sed -n 's/.*match: \([0-9]*\) Rust helper exports equal.*/\1/p' "$logs/proof")
		if [[ -z $rust || -z $helpers ]]; then
			why="export match: $(reason "$logs/proof")"
		else
			exports="$rust + $helpers helpers"
			if ! ko=$("$PROJECT_DIR/scripts/build-module.sh" --out "$target/module" "$target" 2>>"$log"); then
				build=fails why="build: $(reason "$log")"
			else
				build=clean
				index=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$root$headers/.config")
				if ! c_renamed=$("$PROJECT_DIR/scripts/build-reference-mh.sh" --name ip_vs_mh_c "$target" "$index" 2>>"$log"); then
					why="C ip_vs_mh under another name: $(reason "$log")"
				else
					guest=$logs/${version//[~:+]/_}-$arch.guest
					env IPVS_MH_KO="$ko" IPVS_MH_KERNEL_TAB_INDEX="$index" TEST_EXACTNESS_INDICES="$index" \
						IPVS_MH_TOOL="${tool_of[$arch]}" \
						IPVS_MH_C_RENAMED="$(awk '{print $2}' <<<"$c_renamed")" \
						"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$target" --module "$ko" --cpus 2 --timeout 2400 -- \
						"$PROJECT_DIR/tests/vm/run_all.sh" module exactness 2>&1 | tr -d '\r' >"$guest" || true
					cat "$guest" >>"$log"
					module=$(scenario "$guest" module)
					exactness=$(scenario "$guest" exactness)
					agree=$(sed -n 's/.* flows: \([0-9]* of [0-9]*\) flows went to the same server.*/\1/p' "$guest" | tail -n 1)
					[[ $exactness == passes && -n $agree ]] && exactness="$agree flows agree"
					[[ $module == passes && $exactness == *agree ]] ||
						why="guest: $(grep -a -m1 -E '\| (FAIL |######## FAILED)|error: ' "$guest" | sed 's/^ *| //' | cut -c1-160)"
				fi
			fi
		fi
	fi
	minutes=$(((SECONDS - t0 + 30) / 60))
	rows+=("| $version ($suite) | $arch | $toolchain | $exports | $build | $module | $exactness | $minutes | ${why:--} |")
	log "matrix: $version: ${why:-passes} ($minutes min)"
done <<<"$uploads"

echo
echo "Debian kernels with Rust, $(date -u +%Y-%m-%d) (scripts/debian-matrix.sh; logs in $logs)"
echo
echo "| upload (suite) | arch | toolchain | exports matched | build | module scenario | exactness | minutes | why not |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
