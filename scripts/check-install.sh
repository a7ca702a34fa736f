#!/usr/bin/env bash
# Checks `make install`: the module lands in updates/ of a module tree and
# depmod makes modprobe prefer it over the in-tree C ip_vs_mh.
#   scripts/check-install.sh KDIR
source "$(dirname "$0")/common.sh"
kdir=$1
release=$(cat "$kdir/include/config/kernel.release")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/lib/modules"
cp -a "$kdir/modroot/lib/modules/$release" "$root/lib/modules/"
make -s -C "$PROJECT_DIR" KDIR="$kdir" INSTALL_MOD_PATH="$root" install >/dev/null
[[ -f $root/lib/modules/$release/updates/ip_vs_mh.ko ]] || die "make install did not put ip_vs_mh.ko into updates/"
chosen=$(modprobe -d "$root" -S "$release" --show-depends ip_vs_mh | awk '/ip_vs_mh.ko/ {print $2}')
[[ $chosen == */updates/ip_vs_mh.ko ]] || die "modprobe picks $chosen, not the updates/ module"
log "make install: modprobe ip_vs_mh picks $chosen"
