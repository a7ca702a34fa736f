# shellcheck shell=bash
# Shared settings for the harness scripts. Sourced, never run.

set -euo pipefail

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything expensive lives outside the git tree, keyed by what it depends on.
CACHE_DIR=${IPVS_MH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ip-vs-mh-rs}
# Kernel series to test against (Debian's linux-source-$KERNEL_SERIES).
KERNEL_SERIES=${KERNEL_SERIES:-7.3}
# Debian suite that carries that series.
KERNEL_SUITE=${KERNEL_SUITE:-trixie-backports}
BINDGEN_VERSION=0.72.1
LLVM_VERSION=19
TOOLS_DIR=$CACHE_DIR/tools
export LIBCLANG_PATH=/usr/lib/llvm-$LLVM_VERSION/lib
export PATH=$TOOLS_DIR/bin:/usr/lib/llvm-$LLVM_VERSION/bin:$PATH
# The kernel must be built (and the module too) with the Debian rustc-web that
# ships matching library sources; the rustup toolchain has no rust-src.
KERNEL_RUSTC=/usr/bin/rustc

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# sudo only when not root, so the scripts work in CI containers and on laptops.
as_root() {
	if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

mkdir -p "$CACHE_DIR"
