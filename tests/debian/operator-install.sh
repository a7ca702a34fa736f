#!/usr/bin/env bash
# What an operator with Debian 13 and the trixie-backports kernel does, run
# in the trixie root of scripts/debian-kernel.sh (Debian's headers, kbuild,
# linux-source and trixie's toolchain installed there, as on such a machine):
#
#   1. `make debian-install`: Rust metadata for the headers, the module built
#      and installed into updates/, where modprobe prefers it to Debian's C
#      ip_vs_mh;
#   2. `make install MODULE_SIGN_KEY=... MODULE_SIGN_CERT=...`: the module
#      signed with the operator's own key (the MOK of a Secure Boot machine).
#
# DKMS, kernel upgrades and removal are the Debian package's, tested with
# apt in a trixie system (tests/debian/package.sh).
#
#   tests/debian/operator-install.sh PROJECT_DIR RELEASE STOCK_MODULES_DIR
#
# STOCK_MODULES_DIR holds a copy of Debian's modules for RELEASE (the test
# installs into copies of it, so modprobe's choice can be checked).
set -uo pipefail
project=$1 release=$2 stock=$3
source "$project/tests/checks.sh"

# An operator's clone of the project (the checkout stays as it is).
src=/tmp/ip-vs-mh-rs
mkdir -p "$src"
cp -r "$project"/{Makefile,Kbuild,Kconfig,dkms.conf,src,scripts} "$src/"
kdir=/usr/src/linux-headers-$release
# A module tree to install into: Debian's modules (symbolic links to the
# stock copy) plus whatever the test installs.
stage() {
	rm -rf "$1"
	mkdir -p "$1/lib/modules"
	cp -as "$stock" "$1/lib/modules/$release"
}
picked() { modprobe -d "$1" -S "$release" --show-depends ip_vs_mh | awk '$1 == "insmod" {print $2}' | tail -n 1; }

step "make debian-install (metadata, build, install into updates/)"
stage /tmp/stage
check "make debian-install succeeds" make -s -C "$src" KDIR="$kdir" INSTALL_MOD_PATH=/tmp/stage debian-install
check "the module is in updates/" test -f "/tmp/stage/lib/modules/$release/updates/ip_vs_mh.ko"
chosen=$(picked /tmp/stage)
echo "modprobe ip_vs_mh picks: $chosen"
check "modprobe prefers it to Debian's C ip_vs_mh" test "$chosen" = "/tmp/stage/lib/modules/$release/updates/ip_vs_mh.ko"
check "and loads Debian's ip_vs first" bash -c "modprobe -d /tmp/stage -S $release --show-depends ip_vs_mh | grep -q 'kernel/net/netfilter/ipvs/ip_vs.ko'"
vermagic=$(modinfo -F vermagic "/tmp/stage/lib/modules/$release/updates/ip_vs_mh.ko")
check "vermagic is the stock kernel's ($vermagic)" test "${vermagic%% *}" = "$release"
again=$(make -s -C "$src" KDIR="$kdir" INSTALL_MOD_PATH=/tmp/stage debian-install 2>&1)
check "a second run for the same upload checks the match again" grep -q 'match: [0-9]* Rust exports' <<<"$again"
refuse "and reuses the cached metadata" grep -q 'rebuilding the Rust metadata' <<<"$again"
refuse "a kernel tree with a wrong rustc is refused" env RUSTC=/bin/false "$src/scripts/debian-metadata.sh" "$kdir"
msg=$(RUSTC=/bin/false "$src/scripts/debian-metadata.sh" "$kdir" 2>&1)
check "with a message naming the rustc the kernel needs" grep -q "was built with 'rustc 1\." <<<"$msg"

step "signing with the operator's own key"
keys=/tmp/keys
mkdir -p "$keys"
for who in operator other; do
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=ip_vs_mh test $who key/" \
		-addext "extendedKeyUsage=codeSigning" -outform DER -out "$keys/$who.der" -keyout "$keys/$who.pem" 2>/dev/null
done
stage /tmp/stage-signed
check "make install with MODULE_SIGN_KEY signs the installed module" \
	make -s -C "$src" KDIR="$kdir" INSTALL_MOD_PATH=/tmp/stage-signed \
	MODULE_SIGN_KEY="$keys/operator.pem" MODULE_SIGN_CERT="$keys/operator.der" install
ko=/tmp/stage-signed/lib/modules/$release/updates/ip_vs_mh.ko
check "it carries the signature block" bash -c "tail -c 28 '$ko' | grep -q '~Module signature appended~'"
info=$(modinfo "$ko")
grep -E '^(signer|sig_key|sig_hashalgo):' <<<"$info"
check "modinfo names the signer" grep -q '^signer:.*ip_vs_mh test operator key' <<<"$info"
serial=$(openssl x509 -inform DER -in "$keys/operator.der" -noout -serial | sed 's/^serial=//')
sig_key=$(sed -n 's/^sig_key:[[:space:]]*//p' <<<"$info" | tr -d ':' | tr 'a-f' 'A-F')
check "modinfo's key id is the certificate's serial ($serial)" test "$sig_key" = "$serial"
check "the hash is the kernel's (sha256)" grep -q '^sig_hashalgo:.*sha256' <<<"$info"
# The appended signature: module, PKCS#7 (DER), a 12-byte descriptor whose
# last 4 bytes are the PKCS#7 length (big-endian), the 28-byte magic.
size=$(stat -c %s "$ko")
siglen=$(tail -c 32 "$ko" | head -c 4 | od -An -tu1 | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
head -c $((size - 28 - 12 - siglen)) "$ko" >/tmp/content
tail -c $((28 + 12 + siglen)) "$ko" | head -c "$siglen" >/tmp/sig.p7
verify() { openssl cms -verify -binary -inform DER -in /tmp/sig.p7 -content /tmp/content -certfile "$1" -nointern -noverify -out /dev/null 2>/dev/null; }
openssl x509 -inform DER -in "$keys/operator.der" -out "$keys/operator.crt"
openssl x509 -inform DER -in "$keys/other.der" -out "$keys/other.crt"
check "the signature verifies against the operator's certificate (openssl cms)" verify "$keys/operator.crt"
refuse "and not against another certificate" verify "$keys/other.crt"
refuse "signing twice is refused" "$src/scripts/sign-module.sh" "$keys/operator.pem" "$keys/operator.der" "$ko" "$kdir"

finish
