#!/usr/bin/env bash
# Signs a built module with the operator's own key, for kernels that only
# load signed modules (Secure Boot with lockdown): the key's certificate is
# the one the operator enrolls as a MOK (mokutil --import CERT.der).
#
#   scripts/sign-module.sh KEY.pem CERT.der|CERT.pem MODULE.ko [KDIR]
#
# Uses KDIR's scripts/sign-file (Debian's linux-kbuild ships it) and the
# kernel's own hash algorithm (CONFIG_MODULE_SIG_HASH).
set -euo pipefail
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}
(($# >= 3)) || die "usage: sign-module.sh KEY.pem CERT MODULE.ko [KDIR]"
key=$1 cert=$2 ko=$3
kdir=$(readlink -f "${4:-/lib/modules/$(uname -r)/build}")
[[ -r $key ]] || die "cannot read the signing key $key"
[[ -r $cert ]] || die "cannot read the certificate $cert"
[[ -f $ko ]] || die "no module $ko"
[[ -x $kdir/scripts/sign-file ]] || die "$kdir/scripts/sign-file is missing (install the kernel's kbuild package)"
hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$kdir/.config")
[[ -n $hash ]] || die "kernel $(cat "$kdir/include/config/kernel.release") has no CONFIG_MODULE_SIG_HASH: it does not check module signatures"
if tail -c 28 "$ko" | grep -q 'Module signature appended'; then
	die "$ko is already signed"
fi
"$kdir/scripts/sign-file" "$hash" "$key" "$cert" "$ko" || die "sign-file failed"
echo "signed $ko ($hash)" >&2
