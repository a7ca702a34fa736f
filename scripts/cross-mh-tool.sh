#!/usr/bin/env bash
# Builds mh-tool for another architecture (arm64: what an arm64 test guest
# runs to predict the table):
#
#   scripts/cross-mh-tool.sh [ARCH]      (default arm64)
#
# in a trixie root with Debian's rustc and cargo, that architecture's
# libstd-rust-dev (of the same rustc) and Debian's cross gcc as the linker,
# offline against the crates Cargo.lock pins (vendored here from crates.io).
# Prints the path of the binary; cached until its sources change.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

arch=${1:-arm64}
case $arch in
arm64) triplet=aarch64-linux-gnu rust_target=aarch64-unknown-linux-gnu ;;
*) die "cross-mh-tool.sh: no cross build for $arch (arm64 only)" ;;
esac
tool=$PROJECT_DIR/tools/mh-tool
out=$CACHE_DIR/mh-tool-$arch
key=$({
	cd "$PROJECT_DIR" && git ls-files -z tools/mh-tool src/maglev | xargs -0 sha256sum
	sha256sum "$0"
} | sha256sum | cut -c1-16)
bin=$out/target/$rust_target/release/mh-tool
if [[ -x $bin && $(cat "$out/key" 2>/dev/null) == "$key" ]]; then
	echo "$bin"
	exit 0
fi
"$PROJECT_DIR/scripts/bootstrap.sh"
mkdir -p "$out"

# The crates, from crates.io at the versions Cargo.lock pins.
log "vendoring mh-tool's crates for an offline build"
rm -rf "$out/vendor"
(cd "$tool" && cargo vendor --locked --quiet "$out/vendor" >/dev/null) ||
	die "cargo vendor of mh-tool's crates failed"

# The target's standard library, of exactly the root's rustc.
debian_apt trixie trixie
rust_v=$(debian_version rustc)
APT_ARCHS=$arch debian_apt "trixie-$arch" trixie
debian_download "$out/debs" "libstd-rust-dev:$arch=$rust_v"
root=$("$PROJECT_DIR/scripts/debian-root.sh" trixie "$out/root" \
	--deb "$(debian_deb "$out/debs" "libstd-rust-dev:$arch=$rust_v")" \
	"rustc=$rust_v" "libstd-rust-dev=$rust_v" cargo gcc libc6-dev "gcc-$triplet" "libc6-dev-$arch-cross")

mkdir -p "$out/cargo-home"
printf '%s\n' '[source.crates-io]' 'replace-with = "vendored"' \
	'[source.vendored]' "directory = \"$out/vendor\"" '[net]' 'offline = true' \
	"[target.$rust_target]" "linker = \"$triplet-gcc\"" \
	'# Build scripts run here (no alternatives made /usr/bin/cc in the root).' \
	'[target.x86_64-unknown-linux-gnu]' 'linker = "gcc"' >"$out/cargo-home/config.toml"
log "building mh-tool for $arch in a trixie root (rustc $rust_v)"
"$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$PROJECT_DIR" --bind "$out" -- \
	env CARGO_HOME="$out/cargo-home" CARGO_TARGET_DIR="$out/target" MH_TOOL_ASSETS_DIR="$out/assets" \
	cargo build --release --locked --offline --quiet --target "$rust_target" \
	--manifest-path "$tool/Cargo.toml" >&2 ||
	die "building mh-tool for $arch failed"
[[ $(file -b "$bin") == *"ARM aarch64"* ]] || die "$bin is not an $arch binary: $(file -b "$bin")"
echo "$key" >"$out/key"
echo "$bin"
