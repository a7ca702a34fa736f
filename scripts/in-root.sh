#!/usr/bin/env bash
# Runs a command in a root made by debian-root.sh:
#
#   scripts/in-root.sh ROOT [--bind DIR]... -- COMMAND [ARG...]
#
# in a private mount namespace (nothing it mounts is seen outside), with
# /proc, /dev and a fresh /tmp, and each --bind DIR at the same path inside,
# so paths mean the same on both sides. The environment is reset to what a
# root shell on Debian 13 would have, plus IPVS_MH_* (but IPVS_MH_CACHE) and
# CI. Commands in one
# root take turns (a lock): they write its /usr/src, /lib/modules and dkms
# state, which concurrent runs would otherwise share.
source "$(dirname "$0")/common.sh"

root=$(readlink -f "$1")
shift
binds=()
while [[ ${1:-} == --bind ]]; do
	binds+=("$(readlink -f "$2")")
	shift 2
done
[[ ${1:-} == -- ]] && shift
(($#)) || die "usage: in-root.sh ROOT [--bind DIR]... -- COMMAND [ARG...]"
[[ -x $root/usr/bin/bash ]] || die "$root is not a root made by scripts/debian-root.sh"
exec {lock}>"$root.lock"
flock "$lock"

env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb)
# Not IPVS_MH_CACHE: the host's cache is not bound inside, and the root's
# own cache (/var/cache/ip-vs-mh-rs, the metadata step's) must persist; a
# path under the root's fresh /tmp would rebuild the metadata every time.
while IFS= read -r var; do env+=("$var"); done < <(env | grep -E '^(IPVS_MH_[A-Z0-9_]*|CI)=' | grep -v '^IPVS_MH_CACHE=' || true)

# shellcheck disable=SC2016 # expanded by the inner shell
as_root unshare --mount --propagation private -- bash -euc '
	root=$1 n=$2
	shift 2
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs tmpfs "$root/tmp"
	for ((i = 0; i < n; i++)); do
		mkdir -p "$root$1"
		mount --bind "$1" "$root$1"
		shift
	done
	exec chroot "$root" /usr/bin/env -i "$@"
' in-root "$root" "${#binds[@]}" "${binds[@]}" "${env[@]}" "$@"
