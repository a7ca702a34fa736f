#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks the shared hashing core (src/maglev/) in userspace: formatting,
# clippy with warnings as errors, then every test in release mode; then the
# same for the operator tool built on the core (tools/mh-tool).
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# rustup's toolchain (cargo, rustfmt, clippy), if it is installed there.
if [[ -d $HOME/.cargo/bin ]]; then
	export PATH="$HOME/.cargo/bin:$PATH"
fi

step() { printf '==> %s\n' "$*"; }

step "rustfmt --check src/maglev (the core, as the kernel build sees it)"
rustfmt --edition 2021 --check ../src/maglev/*.rs

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

tool=../tools/mh-tool
step "mh-tool: cargo fmt --check"
(cd "$tool" && cargo fmt --check)

step "mh-tool: cargo clippy --all-targets -- -D warnings"
(cd "$tool" && cargo clippy --locked --all-targets -- -D warnings)

step "cargo build --release --bins (fixture-oracle: the C model's digest for the scenarios)"
cargo build --locked --release --bins

step "cargo test --release"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --release 2>&1 | tee "$log"

step "mh-tool: cargo test --release"
(cd "$tool" && cargo test --locked --release) 2>&1 | tee -a "$log"
# One closing line for the whole run (the core's tests and the tool's).
awk '/^test result:/ { p += $4; f += $6 } END { printf "userspace-tests: %d passed, %d failed\n", p, f }' "$log"
