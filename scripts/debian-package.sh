#!/usr/bin/env bash
# Builds the project's Debian packages (debian/) with dpkg-buildpackage in
# a clean trixie system (scripts/package-root.sh build: nothing but the
# build dependencies installed, by apt from Debian's archive), then runs
# lintian on them:
# any error or warning not overridden (with its reason) in debian/ fails.
#
#   scripts/debian-package.sh          prints the directory with the .debs
#
# The source is the checkout's tracked and new files (what a commit of it
# would hold), copied, so the build never writes into the checkout.
source "$(dirname "$0")/common.sh"

root=$("$PROJECT_DIR/scripts/package-root.sh" build)
work=$CACHE_DIR/package/build
out=$CACHE_DIR/package/debs
version=$(dpkg-parsechangelog -l "$PROJECT_DIR/debian/changelog" -S Version)
rm -rf "$work" "$out"
mkdir -p "$work/ip-vs-mh-rs-$version" "$out"
git -C "$PROJECT_DIR" ls-files -z --cached --others --exclude-standard |
	(cd "$PROJECT_DIR" && tar --null -T - -cf -) | tar -xf - -C "$work/ip-vs-mh-rs-$version"

in_root() { "$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$work" -- "$@"; }
log "installing the build dependencies of debian/control in $root"
in_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends \
	build-dep "$work/ip-vs-mh-rs-$version" >"$work/build-dep.log" 2>&1 || {
	tail -n 20 "$work/build-dep.log" >&2
	die "apt-get build-dep failed (log: $work/build-dep.log)"
}
log "dpkg-buildpackage of ip-vs-mh-rs $version"
in_root bash -c "cd '$work/ip-vs-mh-rs-$version' && dpkg-buildpackage -us -uc -b" >"$work/build.log" 2>&1 || {
	tail -n 30 "$work/build.log" >&2
	die "dpkg-buildpackage failed (log: $work/build.log)"
}
changes=$(compgen -G "$work/ip-vs-mh-rs_${version}_*.changes" | head -n 1)
[[ -n $changes ]] || die "dpkg-buildpackage wrote no .changes"
log "lintian $(basename "$changes")"
# As an unprivileged user (lintian advises against root), on a copy it
# can read.
in_root bash -c 'mkdir /tmp/lint && cp "$@" /tmp/lint/ && chmod -R a+rX /tmp/lint &&
	runuser -u nobody -- lintian --fail-on error,warning --info "/tmp/lint/${1##*/}"' lint \
	"$changes" "$work"/*.deb "$work"/*.buildinfo >&2 ||
	die "lintian reports errors or warnings that debian/ does not override (above)"
cp "$work"/*.deb "$out/"
log "packages: $(cd "$out" && ls *.deb | paste -sd ' ')"
echo "$out"
