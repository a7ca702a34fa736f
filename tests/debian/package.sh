#!/usr/bin/env bash
# What a Debian operator does with the project's packages, with apt, in a
# system of `scripts/package-root.sh operator SUITE ARCH` (dpkg, maintainer
# scripts, DKMS hooks: all real; trixie with the trixie-backports kernels,
# sid, arm64):
#
#   1. linux-image-RELEASE and its headers installed, then `apt install
#      ./ip-vs-mh-rs-dkms_*.deb`: apt brings rustc, bindgen, gcc and
#      linux-source from the dependencies; DKMS builds the module for
#      RELEASE (the Rust metadata of that upload first) and installs it into
#      updates/dkms, where modprobe prefers it to Debian's C ip_vs_mh;
#   2. a kernel upgrade (unless UPGRADE is "-"): the headers of upload
#      UPGRADE (7.2.12, say: an upstream version of trixie-backports)
#      installed afterwards, first
#      without its linux-source: the DKMS hook of the headers package fails
#      with one line naming what is missing; with it, the hook builds and
#      installs the module for that kernel too;
#   3. `apt install ./ip-vs-mh-tool_*.deb`: mh-tool, its man pages and
#      completions (where DEBS_DIR has it for the system's architecture);
#   4. `apt remove`: no module, DKMS state, source or metadata overlay is
#      left; purging takes the metadata cache too.
#
#   tests/debian/package.sh PROJECT_DIR DEBS_DIR RELEASE UPGRADE OUT
#
# The module built for RELEASE is copied to OUT/ip_vs_mh.ko before the
# removal: the stock-kernel guest runs the scenarios with it. Runs in the
# root (scripts/in-root.sh), as root; scripts/package-test.sh runs it.
set -uo pipefail
project=$1 debs=$2 release=$3 upgrade=$4 out=$5
source "$project/tests/checks.sh"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -y --no-install-recommends "$@"; }
series() { sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$1"; }
# What DKMS calls the architecture (uname -m: x86_64, aarch64) and what
# Debian calls it (amd64, arm64: the kernel flavour).
machine=$(uname -m) arch=$(dpkg --print-architecture)
cache=/var/cache/ip-vs-mh-rs
# The metadata of both uploads, from this test's last run (saved below
# before the purge): an operator rebuilds it once per upload, and so does
# a fresh cache here.
saved=$out/metadata-cache
release2=
if [[ $upgrade != - ]]; then
	release2=$(apt-cache pkgnames linux-headers- | sed -nE "s/^linux-headers-(${upgrade//./\\.}\+deb[0-9]+-$arch)\$/\1/p" |
		sort -V | tail -n 1)
	[[ -n $release2 ]] || {
		fail "the archive has $arch headers of $upgrade"
		finish
	}
fi

start="a clean start: neither package"
[[ -z $release2 ]] || start+=", nor the headers and source of $release2"
step "$start"
dpkg --purge ip-vs-mh-rs-dkms ip-vs-mh-tool >/dev/null 2>&1
[[ -z $release2 ]] || apt_get purge "linux-headers-$release2" "linux-source-$(series "$release2")" >/dev/null 2>&1
# Nor another kernel's headers (an interrupted run's): DKMS builds for
# every kernel that has them. Nor any kernel source: the package's
# dependencies must bring RELEASE's (another series' would satisfy them,
# and the build would stop with one line asking for the right one).
others=$(dpkg-query -W -f '${Package}\n' 'linux-headers-*' 'linux-source-*' 2>/dev/null |
	grep -v -e "^linux-headers-${release%-*}-")
# shellcheck disable=SC2086 # a list of package names
[[ -z $others ]] || apt_get purge $others >/dev/null 2>&1
apt_get autoremove --purge >/dev/null 2>&1
check "no ip-vs-mh-rs package is installed" \
	bash -c "! dpkg-query -W -f '\${Status}\n' ip-vs-mh-rs-dkms ip-vs-mh-tool 2>/dev/null | grep -q ' installed\$'"
if [[ -d $saved ]]; then
	mkdir -p "$cache"
	cp -a "$saved/." "$cache/"
fi

step "apt install linux-image-$release and its headers, then ./ip-vs-mh-rs-dkms"
# A backports kernel as Debian's backports instructions say: -t
# trixie-backports. libelf-dev with them (README says so): the headers'
# kbuild tools bring backports' libelf (through pahole), which trixie's
# libelf-dev cannot sit beside (seen 2026-12-06: elfutils 0.196 in
# trixie-backports, 0.192 in trixie).
from=$(apt-cache madison "linux-headers-$release" | awk -F ' [|] ' '{split($3, w, " "); sub(/\/.*/, "", w[2]); print w[2]; exit}')
target=() extra=()
[[ $from != *-backports ]] || target=(-t "$from")
# arm64's `make prepare` builds the 32-bit compat vDSO, whose compiler
# Debian's arm64 headers do not depend on (nor can an Architecture: all
# package name it for arm64 alone): README says to install it, and without
# it the DKMS build fails with one line naming it (seen 2026-12-06).
[[ $arch != arm64 ]] || extra=(gcc-arm-linux-gnueabihf)
check "linux-image-$release, linux-headers-$release, libelf-dev${extra:+ ${extra[*]}} install (apt ${target[*]:-from $from})" \
	apt_get install "${target[@]}" "linux-image-$release" "linux-headers-$release" libelf-dev "${extra[@]}"
dkms_deb=$(compgen -G "$debs/ip-vs-mh-rs-dkms_*_all.deb") tool_deb=$(compgen -G "$debs/ip-vs-mh-tool_*_$arch.deb")
[[ -f $dkms_deb ]] || {
	fail "the packages are in $debs (scripts/debian-package.sh)"
	finish
}
version=$(dpkg-deb -f "$dkms_deb" Version)
log=/tmp/install.log
apt_get install "$dkms_deb" >"$log" 2>&1
status=$?
sed 's/^/  | /' "$log"
check "apt install ./$(basename "$dkms_deb") succeeds" test "$status" = 0
((status == 0)) || sed 's/^/  make.log | /' "/var/lib/dkms/ip-vs-mh-rs/$version/build/make.log"
# Installed, not only known to dpkg (-W alone also lists purged packages).
installed() { [[ $(dpkg-query -W -f '${db:Status-Status}\n' "$@" 2>/dev/null | grep -cx installed) == "$#" ]]; }
check "apt brought the kernel's toolchain and source from the dependencies" \
	installed rustc rust-src bindgen "linux-source-$(series "$release")"
check "its DKMS step built for $release" grep -q "Building initial module ip-vs-mh-rs/$version for $release" "$log"
status=$(dkms status ip-vs-mh-rs)
echo "dkms status: $status"
check "dkms status: installed for $release" grep -q "ip-vs-mh-rs/$version, $release, $machine: installed" <<<"$status"
build_log=/var/lib/dkms/ip-vs-mh-rs/$version/$release/$machine/log/make.log
[[ -f $build_log ]] || build_log=/var/lib/dkms/ip-vs-mh-rs/$version/build/make.log
check "DKMS's build log ($build_log) shows the module linked" grep -q 'ip_vs_mh.ko' "$build_log"
refuse "and no compiler warning" grep -qiE '(^|[^-])warning:' "$build_log"
ko=$(find "/lib/modules/$release/updates/dkms" -name 'ip_vs_mh.ko*' 2>/dev/null | head -n 1)
echo "installed: ${ko:-nothing}"
check "the module is in /lib/modules/$release/updates/dkms" test -n "$ko"
if [[ -n $ko ]]; then
	info=$(modinfo "$ko")
	grep -E '^(filename|license|description|vermagic|parm|alias|signer):' <<<"$info" | head -n 20
	check "modinfo: vermagic of $release" test "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$release"
	check "modinfo: GPL, with its tab_index parameter" \
		bash -c "grep -q '^license: *GPL' <<<\"\$0\" && grep -q '^parm: *tab_index' <<<\"\$0\"" "$info"
	check "modinfo: the per-size scheduler aliases (ip_vs_mh-8 .. ip_vs_mh-17)" \
		bash -c "grep -q '^alias: *ip_vs_mh-17' <<<\"\$0\"" "$info"
	check "depmod indexed it" grep -q "^updates/dkms/ip_vs_mh.ko" "/lib/modules/$release/modules.dep"
	check "modprobe ip_vs_mh resolves to it, not to Debian's C module, after Debian's ip_vs" bash -c \
		"modprobe -S '$release' --show-depends ip_vs_mh | tail -n 1 | grep -q 'updates/dkms/ip_vs_mh.ko' &&
		 modprobe -S '$release' --show-depends ip_vs_mh | grep -q 'kernel/net/netfilter/ipvs/ip_vs.ko'"
	check "the metadata step proved the match on the way" \
		test -s "/usr/src/linux-headers-$release/rust/.ip-vs-mh-rs-metadata"
	mkdir -p "$out"
	# Uncompressed for the guest's installer.
	case $ko in
	*.xz) xz -dc "$ko" >"$out/ip_vs_mh.ko" ;;
	*.zst) zstd -qdc "$ko" >"$out/ip_vs_mh.ko" ;;
	*) cp "$ko" "$out/ip_vs_mh.ko" ;;
	esac
fi

if [[ -n $release2 ]]; then
	step "a kernel upgrade: $release2's headers, first without linux-source-$(series "$release2")"
	upload2=$(apt-cache show "linux-headers-$release2" | sed -n 's/^Version: //p' | head -n 1)
	apt_get install "linux-headers-$release2" >"$log" 2>&1
	status=$?
	sed 's/^/  | /' "$log"
	refuse "the DKMS hook fails without the source" test "$status" = 0
	# DKMS keeps what its build step printed in make.log and points there.
	build_log=/var/lib/dkms/ip-vs-mh-rs/$version/build/make.log
	check "apt's output points at DKMS's make.log" grep -q "Consult $build_log" "$log"
	sed 's/^/  make.log | /' "$build_log"
	check "which holds one error line, naming what is missing, and no compiler output" \
		bash -c "test \"\$(grep -c '^error: ' '$build_log')\" = 1 &&
			grep -q '^error: no kernel source for $release2: install linux-source-$(series "$release2")' '$build_log' &&
			! grep -qE '^(make|gcc|rustc|cc)' '$build_log'"
	check "linux-source-$(series "$release2") of the same upload installs ($upload2)" \
		apt_get install "linux-source-$(series "$release2")=$upload2"
	apt_get install --reinstall "linux-headers-$release2" >"$log" 2>&1
	status=$?
	sed 's/^/  | /' "$log"
	check "then the headers' DKMS hook builds and installs for $release2" test "$status" = 0
	status=$(dkms status ip-vs-mh-rs)
	echo "dkms status: $status"
	check "dkms status: installed for $release2" grep -q "ip-vs-mh-rs/$version, $release2, $machine: installed" <<<"$status"
	check "and still for $release" grep -q "ip-vs-mh-rs/$version, $release, $machine: installed" <<<"$status"
	ko2=$(find "/lib/modules/$release2/updates/dkms" -name 'ip_vs_mh.ko*' 2>/dev/null | head -n 1)
	check "its module has $release2's vermagic" bash -c "test -n '$ko2' && modinfo -F vermagic '$ko2' | grep -q '^$release2 '"
else
	echo "(no kernel upgrade in this system: UPGRADE is -)"
fi

# The packages this system got, which the removal takes away.
packages=(ip-vs-mh-rs-dkms)
if [[ -n $tool_deb ]]; then
	packages+=(ip-vs-mh-tool)
	step "apt install ./ip-vs-mh-tool"
	check "it installs" apt_get install "$tool_deb"
	check "mh-tool runs" bash -c "mh-tool --version | grep -qx 'mh-tool $version'"
	check "its man pages are installed" bash -c "man -w mh-tool && man -w mh-tool-metrics"
	check "and its bash, zsh and fish completions" test -f /usr/share/bash-completion/completions/mh-tool \
		-a -f /usr/share/zsh/vendor-completions/_mh-tool -a -f /usr/share/fish/vendor_completions.d/mh-tool.fish
	# What bash does on "mh-tool me<TAB>".
	completes() {
		# shellcheck disable=SC1091 # the installed file
		source /usr/share/bash-completion/completions/mh-tool
		local COMP_WORDS=(mh-tool me) COMP_CWORD=1 COMP_LINE="mh-tool me" COMP_POINT=10 COMPREPLY=()
		_mh-tool mh-tool me mh-tool
		[[ ${COMPREPLY[*]} == metrics ]]
	}
	check "bash completes its commands (mh-tool me<TAB>: metrics)" completes
else
	echo "(not checked in this system: $debs has no ip-vs-mh-tool for $arch)"
fi

step "apt remove, then purge (dpkg --purge)"
rm -rf "$saved"
cp -a "$cache" "$saved"
apt_get remove "${packages[@]}" >"$log" 2>&1
status=$?
sed 's/^/  | /' "$log"
check "apt remove succeeds" test "$status" = 0
left=$(find /lib/modules/*/updates -name 'ip_vs_mh.ko*' 2>/dev/null)
check "no module is left in any kernel's updates/ (${left:-none})" test -z "$left"
check "modprobe ip_vs_mh resolves to Debian's C module again" bash -c \
	"modprobe -S '$release' --show-depends ip_vs_mh | tail -n 1 | grep -q kernel/net/netfilter/ipvs/ip_vs_mh.ko"
check "DKMS knows the module no more" bash -c "test -z \"\$(dkms status ip-vs-mh-rs)\" && test ! -e /var/lib/dkms/ip-vs-mh-rs"
check "its source is gone from /usr/src" test ! -e "/usr/src/ip-vs-mh-rs-$version"
overlay=$(find /usr/src/linux-headers-*/rust -name '*.rmeta' -o -name '.ip-vs-mh-rs-metadata' 2>/dev/null | head -n 3)
check "the Rust metadata it added to the headers is gone (${overlay:-none left})" test -z "$overlay"
check "and the headers' target.json" bash -c "! ls /usr/src/linux-headers-*/scripts/target.json 2>/dev/null"
check "mh-tool is gone" test ! -e /usr/bin/mh-tool
# What remove keeps of the packages (their state), which apt no longer
# finds by name: purged with dpkg, as apt would.
check "purge succeeds" dpkg --purge "${packages[@]}"
check "purge takes the metadata cache ($cache)" test ! -e "$cache"
left=$(dpkg-query -W -f '${Package} ${Status}\n' 'ip-vs-mh-*' 2>/dev/null | grep -v 'not-installed$')
check "dpkg knows neither package (${left:-nothing left})" test -z "$left"

finish
