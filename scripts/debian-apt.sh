# shellcheck shell=bash
# The project's own apt configuration for other Debian suites (trixie,
# trixie-backports): package lists, downloads and state live in the cache,
# so the machine's own apt sources and status stay untouched. Sourced after
# common.sh, never run.
#
#   debian_apt NAME SUITE...   use (and create) the apt state NAME for SUITEs;
#                              sets APT_DIR and APT_OPTS, refreshes the lists
#                              at most once a day; APT_ARCHS (default amd64)
#                              names its architectures, the first native
#   debian_version PACKAGE     the newest version of PACKAGE there ("" if none)
#   debian_download DIR PKG=VERSION...
#                              the .debs into DIR (kept: a second call is free)

debian_apt() {
	local name=$1 suite arch archs
	shift
	read -ra archs <<<"${APT_ARCHS:-amd64}"
	APT_DIR=$CACHE_DIR/apt/$name
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$APT_DIR/etc/preferences.d"
	{
		# The architectures change the lists too: a change refreshes them.
		echo "# architectures: ${archs[*]}"
		for suite in "$@"; do
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
		done
	} >"$APT_DIR/etc/sources.list.new"
	if ! cmp -s "$APT_DIR/etc/sources.list.new" "$APT_DIR/etc/sources.list"; then
		mv "$APT_DIR/etc/sources.list.new" "$APT_DIR/etc/sources.list"
		rm -f "$APT_DIR/lists/.updated"
	else
		rm -f "$APT_DIR/etc/sources.list.new"
	fi
	APT_OPTS=(
		-o "Dir::Etc::sourcelist=$APT_DIR/etc/sources.list"
		-o "Dir::Etc::sourceparts=-"
		-o "Dir::Etc::preferencesparts=$APT_DIR/etc/preferences.d"
		-o "Dir::State::Lists=$APT_DIR/lists"
		-o "Dir::Cache=$APT_DIR"
		-o "Dir::State::status=/dev/null"
		-o "APT::Architecture=${archs[0]}"
		-o "APT::Get::List-Cleanup=0"
		-o "APT::Sandbox::User=root"
		-o "Debug::NoLocking=1"
		-q
	)
	for arch in "${archs[@]}"; do APT_OPTS+=(-o "APT::Architectures::=$arch"); done
	local stamp=$APT_DIR/lists/.updated
	if [[ ! -e $stamp ]] || [[ -n $(find "$stamp" -mmin +1440) ]]; then
		log "updating the package lists of $* (own apt config in $APT_DIR)"
		apt-get "${APT_OPTS[@]}" update >&2 ||
			die "apt-get update for $* failed: deb.debian.org must be reachable"
		touch "$stamp"
	fi
}

debian_version() {
	apt-cache "${APT_OPTS[@]}" show "$1" 2>/dev/null |
		awk '/^Version:/ {print $2}' | sort -V | tail -n 1
}

debian_download() {
	local dir=$1 spec missing=()
	shift
	mkdir -p "$dir"
	for spec in "$@"; do
		[[ -n $(debian_deb "$dir" "$spec") ]] || missing+=("$spec")
	done
	((${#missing[@]})) || return 0
	log "downloading ${missing[*]}"
	(cd "$dir" && apt-get "${APT_OPTS[@]}" download "${missing[@]}" >&2) ||
		die "apt-get download ${missing[*]} failed"
}

# The .deb of PKG[:ARCH]=VERSION in DIR (after debian_download).
debian_deb() {
	local dir=$1 pkg=${2%%=*} version=${2#*=} arch='*'
	[[ $pkg == *:* ]] && arch=${pkg##*:}
	compgen -G "$dir/${pkg%:*}_${version//:/%3a}_$arch.deb" | head -n 1
}

# The kernel uploads of FLAVOUR (amd64, cloud-amd64, ...) in the suites of
# the current apt state, one per line, "VERSION SUITE ABI" (the packages are
# linux-headers-ABI-FLAVOUR and so on), oldest first.
debian_kernel_uploads() {
	local flavour=$1 abi
	apt-cache "${APT_OPTS[@]}" pkgnames linux-headers- |
		sed -nE "s/^linux-headers-([0-9][^-]*)-$flavour\$/\1/p" |
		while read -r abi; do
			apt-cache "${APT_OPTS[@]}" madison "linux-headers-$abi-$flavour" |
				awk -F ' [|] ' -v abi="$abi" '{
					gsub(/ /, "", $2); split($3, where, " "); sub(/\/.*/, "", where[2])
					print $2, where[2], abi
				}'
		done | sort -V -k1,1
}
