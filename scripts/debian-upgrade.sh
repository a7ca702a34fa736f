#!/usr/bin/env bash
# A kernel upgrade in the trixie root of a Debian kernel target: installs
# (unpacks) another upload's headers, kbuild and linux-source next to the
# target's own, as installing a second linux-headers package on a Debian 13
# machine does, short of running its maintainer scripts (the test runs the
# DKMS hook they would run). Prints the other upload's kernel release.
#
#   scripts/debian-upgrade.sh TARGET UPLOAD     (UPLOAD: 7.2.12, say)
#
# TARGET is a directory from scripts/debian-kernel.sh. The other upload must
# have been built with the same toolchain (its .config's rustc text), since
# the root holds one; the script says so and stops otherwise. Cached: the
# root remembers what it got.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

target=${1:?usage: debian-upgrade.sh TARGET UPLOAD}
upload=${2:?usage: debian-upgrade.sh TARGET UPLOAD}
[[ $upload =~ ^([0-9]+\.[0-9]+)\.[0-9]+$ ]] || die "UPLOAD=$upload: give an upstream version such as 7.2.12"
series=${BASH_REMATCH[1]}
root=$target/root
[[ -f $target/.ready ]] || die "$target is not a target made by scripts/debian-kernel.sh"
exec {lock}>"$root.lock"
flock "$lock"

debian_apt "$KERNEL_SUITE" "$KERNEL_SUITE"
headers=$(apt-cache "${APT_OPTS[@]}" pkgnames linux-headers- |
	grep -E "^linux-headers-${upload//./\\.}\+deb[0-9]+-amd64$" | sort -V | tail -n 1) || true
[[ -n $headers ]] || die "Debian $KERNEL_SUITE has no amd64 headers for $upload"
abi=${headers#linux-headers-}
abi=${abi%-amd64}
release=$abi-amd64
marker=$root/var/lib/ip-vs-mh-rs-upgrade-$release
if [[ -f $marker ]]; then
	cat "$marker"
	exit 0
fi
version=$(debian_version "$headers")
packages=(
	"linux-headers-$release=$version"
	"linux-headers-$abi-common=$version"
	"linux-kbuild-$abi=$version"
	"linux-source-$series=$version"
)
log "kernel upgrade in the trixie root: Debian's $release ($version) beside $(cat "$target/release")"
debs=$APT_DIR/debs
debian_download "$debs" "${packages[@]}"
config=$(dpkg-deb --fsys-tarfile "$(debian_deb "$debs" "linux-headers-$release=$version")" |
	tar -xO "./usr/src/linux-headers-$release/.config")
want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' <<<"$config")
have=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$root$(cat "$target/headers")/.config")
[[ $want == "$have" ]] ||
	die "$release was built with '$want', the root holds '$have': a kernel needs the rustc that built it"
for p in "${packages[@]}"; do
	as_root dpkg-deb -x "$(debian_deb "$debs" "$p")" "$root"
done
echo "$release" | as_root tee "$marker"
