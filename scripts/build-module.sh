#!/usr/bin/env bash
# Builds ip_vs_mh.ko against a test kernel (default: the debug kernel), with
# the kernel's Rust lints, and checks formatting of the Rust sources.
#   scripts/build-module.sh [KDIR]
source "$(dirname "$0")/common.sh"

kdir=${1:-$("$PROJECT_DIR/scripts/build-kernel.sh" debug)}
cd "$PROJECT_DIR"
log "checking rustfmt of src/ (kernel .rustfmt.toml)"
rustfmt_cfg=$(readlink -f "$kdir/source")/.rustfmt.toml
find src -name '*.rs' ! -name '*_generated.rs' -print0 | xargs -0 rustfmt --check --edition 2021 --config-path "$rustfmt_cfg" ||
	die "rustfmt: run 'rustfmt --edition 2021 --config-path $rustfmt_cfg src/**/*.rs'"
log "building ip_vs_mh.ko against $kdir (CLIPPY=1)"
make KDIR="$kdir" clippy 2>&1 | tee "$CACHE_DIR/module-build.log" >&2
if grep -Eq '^(warning|error)(\[|:)' "$CACHE_DIR/module-build.log"; then
	die "the module build printed warnings or errors (see above)"
fi
[[ -f ip_vs_mh.ko ]] || die "no ip_vs_mh.ko was built"
log "built $PROJECT_DIR/ip_vs_mh.ko"
