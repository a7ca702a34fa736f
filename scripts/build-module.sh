#!/usr/bin/env bash
# Builds ip_vs_mh.ko with the kernel's Rust lints (CLIPPY=1); a warning
# fails the build. Prints the path of the built module.
#
#   scripts/build-module.sh [--out DIR] [--kunit] [TARGET]
#
# TARGET is a test kernel's build directory (default: the debug kernel),
# built with the host's rustc-web, or a Debian kernel target made by
# scripts/debian-kernel.sh, built in its root (trixie, forky or sid) against
# Debian's headers with the toolchain that built that kernel (rustc 1.85.1
# for trixie-backports, 1.97.1 for forky, sid and experimental).
# --out builds in a copy of the sources in DIR, leaving the checkout's own
# build alone; by default the module is built in the checkout. --kunit makes
# the test build that carries the core's KUnit suite (src/kunit.rs).
source "$(dirname "$0")/common.sh"

out=
make_args=()
while [[ ${1:-} == --* ]]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--kunit) make_args+=(IP_VS_MH_RS_KUNIT=y); shift ;;
	*) die "unknown option $1" ;;
	esac
done
target=${1:-$("$PROJECT_DIR/scripts/build-kernel.sh" debug)}

dir=$PROJECT_DIR
if [[ -n $out ]]; then
	dir=$out
	mkdir -p "$dir"
	rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='*_generated.rs' \
		"$PROJECT_DIR/Makefile" "$PROJECT_DIR/Kbuild" "$PROJECT_DIR/Kconfig" "$PROJECT_DIR/src" "$dir/"
	# The KUnit suite includes the shared test vectors.
	mkdir -p "$dir/tests"
	rsync -a --delete "$PROJECT_DIR/tests/vectors" "$dir/tests/"
fi

if [[ -f $target/headers ]]; then
	kdir=$(cat "$target/headers")
	run=("$PROJECT_DIR/scripts/in-root.sh" "$target/root" --bind "$dir" --)
	what="Debian's $(cat "$target/release") in its $(awk '{print $3}' "$target/upload") root"
else
	kdir=$target
	run=()
	what=$kdir
	log "checking rustfmt of src/ (kernel .rustfmt.toml)"
	rustfmt_cfg=$(readlink -f "$kdir/source")/.rustfmt.toml
	(cd "$PROJECT_DIR" && find src -name '*.rs' ! -name '*_generated.rs' -print0 |
		xargs -0 rustfmt --check --edition 2021 --config-path "$rustfmt_cfg") ||
		die "rustfmt: run 'rustfmt --edition 2021 --config-path $rustfmt_cfg src/**/*.rs'"
fi

log "building ip_vs_mh.ko against $what (CLIPPY=1)"
buildlog=$dir/.module-build.log
rm -f "$dir/ip_vs_mh.ko"
status=0
"${run[@]}" make -C "$dir" KDIR="$kdir" "${make_args[@]}" clippy >"$buildlog" 2>&1 || status=$?
sed 's/^/  /' "$buildlog" >&2
((status == 0)) || die "the module build failed (see above)"
if grep -Eq '^(warning|error)(\[|:)|: warning:' "$buildlog"; then
	die "the module build printed warnings (see above): every toolchain must build it cleanly"
fi
[[ -f $dir/ip_vs_mh.ko ]] || die "no ip_vs_mh.ko was built"
log "built $dir/ip_vs_mh.ko"
echo "$dir/ip_vs_mh.ko"
