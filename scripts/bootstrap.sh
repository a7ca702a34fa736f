#!/usr/bin/env bash
# Installs what building and testing need; skips what is already present.
# Idempotent: safe to run before every build.
source "$(dirname "$0")/common.sh"

# package -> a file it provides, to skip apt when everything is installed.
declare -A PACKAGES=(
	[rustc-web]=/usr/bin/rustc
	[rust-web-clippy]=/usr/bin/clippy-driver
	[rust-web-src]=/usr/lib/rustlib/src/rust/library/core/src/lib.rs
	[libclang-19-dev]=/usr/lib/llvm-19/lib/libclang.so
	[clang-19]=/usr/bin/clang-19
	[lld-19]=/usr/bin/ld.lld-19
	[llvm-19]=/usr/bin/llvm-ar-19
	[gcc]=/usr/bin/gcc
	[make]=/usr/bin/make
	[bc]=/usr/bin/bc
	[bison]=/usr/bin/bison
	[flex]=/usr/bin/flex
	[libelf-dev]=/usr/include/libelf.h
	[libssl-dev]=/usr/include/openssl/ssl.h
	[cpio]=/usr/bin/cpio
	[kmod]=/usr/bin/kmod
	[qemu-system-x86]=/usr/bin/qemu-system-x86_64
	# Debian's arm64 kernels boot under it (-M virt, TCG).
	[qemu-system-arm]=/usr/bin/qemu-system-aarch64
	# arm64 Debian systems run their programs under it
	# (scripts/binfmt-arm64.sh).
	[qemu-user-static]=/usr/libexec/qemu-binfmt/aarch64-binfmt-P
	# mmdebstrap asks it whether this machine runs arm64 programs.
	[arch-test]=/usr/bin/arch-test
	[busybox-static]=/bin/busybox
	[ipvsadm]=/sbin/ipvsadm
	[iproute2]=/sbin/ip
	[xz-utils]=/usr/bin/xz
	[python3]=/usr/bin/python3
	# The observe scenario reads mh-tool's metrics with Prometheus' own
	# parser.
	[python3-prometheus-client]=/usr/lib/python3/dist-packages/prometheus_client/parser.py
	# The trixie systems the Debian packages are built and installed in
	# (scripts/package-root.sh), and the changelog's version on the host.
	[mmdebstrap]=/usr/bin/mmdebstrap
	[dpkg-dev]=/usr/bin/dpkg-parsechangelog
	[rsync]=/usr/bin/rsync
	[dwarves]=/usr/bin/pahole
	# The daemons operators run, for the scenarios that run them in network
	# namespaces of the guest (which uses the host's root filesystem).
	[keepalived]=/usr/sbin/keepalived
	[bird2]=/usr/sbin/bird
)

missing=()
for pkg in "${!PACKAGES[@]}"; do
	[[ -e ${PACKAGES[$pkg]} ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -q >&2 || die "apt-get update failed: check network access to deb.debian.org"
	# Daemons (bird, keepalived) must not start on the host: only the
	# scenarios run them, in their own namespaces.
	policy=/usr/sbin/policy-rc.d
	added_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
		as_root chmod 755 "$policy"
		added_policy=1
	fi
	status=0
	as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || status=$?
	[[ -n $added_policy ]] && as_root rm -f "$policy"
	((status == 0)) ||
		die "could not install ${missing[*]}: they come from Debian 12 (bookworm main and bookworm-security)"
fi
for pkg in "${!PACKAGES[@]}"; do
	[[ -e ${PACKAGES[$pkg]} ]] || die "package $pkg is installed but ${PACKAGES[$pkg]} is missing"
done

"$KERNEL_RUSTC" --version | grep -qE '^rustc 1\.(8[5-9]|9[0-9]|1[0-9][0-9])\.' ||
	die "$KERNEL_RUSTC is $("$KERNEL_RUSTC" --version); Linux $KERNEL_SERIES needs rustc >= 1.85 (Debian package rustc-web)"

if ! bindgen --version 2>/dev/null | grep -qF "$BINDGEN_VERSION"; then
	command -v cargo >/dev/null || die "cargo is needed to install bindgen-cli (install rustup or Debian's cargo-web)"
	log "installing bindgen-cli $BINDGEN_VERSION into $TOOLS_DIR"
	cargo install --quiet --locked --root "$TOOLS_DIR" bindgen-cli --version "$BINDGEN_VERSION" >&2 ||
		die "cargo install bindgen-cli $BINDGEN_VERSION failed: crates.io must be reachable"
fi
bindgen --version >/dev/null || die "bindgen does not run (LIBCLANG_PATH=$LIBCLANG_PATH)"
# The guest mounts the test kernel's modules over the host's /lib/modules
# (its root filesystem is the host's, read-only): the directory must exist.
[[ -d /lib/modules ]] || as_root mkdir -p /lib/modules
log "bootstrap: all tools present"
