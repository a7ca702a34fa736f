#!/usr/bin/env bash
# What an operator with Debian 13 and the trixie-backports kernel does, run
# in the trixie root of scripts/debian-kernel.sh (Debian's headers, kbuild,
# linux-source and trixie's toolchain installed there, as on such a machine):
#
#   1. `make debian-install`: Rust metadata for the headers, the module built
#      and installed into updates/, where modprobe prefers it to Debian's C
#      ip_vs_mh;
#   2. `make install MODULE_SIGN_KEY=... MODULE_SIGN_CERT=...`: the module
#      signed with the operator's own key (the MOK of a Secure Boot machine);
#   3. `dkms add` + `dkms install` with Debian's dkms;
#   4. a kernel upgrade: with the headers of a second upload (RELEASE2)
#      installed afterwards, Debian's DKMS hook for new headers builds and
#      installs the module for it too, the metadata of that upload included;
#      `dkms remove` then removes it from both kernels.
#
#   tests/debian/operator-install.sh PROJECT_DIR RELEASE STOCK_MODULES_DIR RELEASE2
#
# STOCK_MODULES_DIR holds a copy of Debian's modules for RELEASE (the test
# installs into copies of it, so modprobe's choice can be checked). The
# root holds RELEASE2's headers and source (scripts/debian-upgrade.sh).
set -uo pipefail
project=$1 release=$2 stock=$3 release2=$4
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

step "dkms (Debian's dkms $(dkms --version | sed 's/^dkms-//'))"
# As on a machine with linux-modules-$release installed: Debian's modules
# in /lib/modules/$release (symbolic links to the stock copy), beside the
# build link of the headers package.
moddir=/lib/modules/$release
unstage_modules() {
	dkms remove ip-vs-mh-rs/0.1.0 --all >/dev/null 2>&1
	rm -rf /usr/src/ip-vs-mh-rs-0.1.0
	find "$moddir" -mindepth 1 -maxdepth 1 ! -name build ! -name source -exec rm -rf {} +
}
unstage_modules
cp -as "$stock/." "$moddir/"
cp -r "$src" /usr/src/ip-vs-mh-rs-0.1.0
check "dkms add" dkms add ip-vs-mh-rs/0.1.0
check "dkms install -k $release" dkms install ip-vs-mh-rs/0.1.0 -k "$release"
status=$(dkms status ip-vs-mh-rs)
echo "dkms status: $status"
check "dkms status says installed for $release" grep -q "ip-vs-mh-rs/0.1.0, $release, x86_64: installed" <<<"$status"
dko=$(find "/lib/modules/$release/updates/dkms" -name 'ip_vs_mh.ko*' | head -n 1)
echo "installed: ${dko:-nothing}"
check "the module is installed under updates/dkms" test -n "$dko"
if [[ -n $dko ]]; then
	check "its vermagic is the stock kernel's" bash -c "modinfo -F vermagic '$dko' | grep -q '^$release '"
	check "dkms signed it with its own MOK key (/var/lib/dkms/mok.pub)" bash -c "modinfo -F signer '$dko' | grep -q ."
fi
check "modprobe resolves ip_vs_mh to it, not to Debian's C module" \
	bash -c "modprobe -S $release --show-depends ip_vs_mh | tail -n 1 | grep -q updates/dkms/ip_vs_mh.ko"

step "kernel upgrade: $release2's headers arrive, Debian's DKMS hook builds for it"
mkdir -p "/lib/modules/$release2"
hook=/etc/kernel/header_postinst.d/dkms
check "the hook a linux-headers package runs on install ($hook $release2) succeeds" "$hook" "$release2"
status=$(dkms status ip-vs-mh-rs)
echo "dkms status: $status"
check "dkms status says installed for $release2" grep -q "ip-vs-mh-rs/0.1.0, $release2, x86_64: installed" <<<"$status"
check "and still for $release" grep -q "ip-vs-mh-rs/0.1.0, $release, x86_64: installed" <<<"$status"
dko2=$(find "/lib/modules/$release2/updates/dkms" -name 'ip_vs_mh.ko*' 2>/dev/null | head -n 1)
check "the module for $release2 is under its updates/dkms" test -n "$dko2"
check "its vermagic is $release2's" bash -c "modinfo -F vermagic '$dko2' | grep -q '^$release2 '"
# debian-metadata.sh marks headers whose rebuilt metadata matched.
check "the Rust metadata of $release2 was rebuilt and matched on the way" \
	test -s "/usr/src/linux-headers-$release2/rust/.ip-vs-mh-rs-metadata"

check "dkms remove" dkms remove ip-vs-mh-rs/0.1.0 --all
check "then modprobe resolves ip_vs_mh to Debian's C module again" \
	bash -c "modprobe -S $release --show-depends ip_vs_mh | tail -n 1 | grep -q kernel/net/netfilter/ipvs/ip_vs_mh.ko"
left=$(find "/lib/modules/$release/updates" "/lib/modules/$release2/updates" -name 'ip_vs_mh.ko*' 2>/dev/null)
check "no module is left in either kernel's updates/" test -z "$left"
refuse "and dkms knows the module no more" bash -c "dkms status ip-vs-mh-rs | grep -q ."
unstage_modules
rm -rf "/lib/modules/$release2/updates"

finish
