#!/bin/sh
# deps.sh - install what building and testing ward needs on Debian 12.
# Idempotent: packages already present are skipped; apt-get runs only when
# something is missing (as root, or through sudo when available).
# nodejs (with npm), chromium and prometheus (promtool) serve the Node and
# browser suites of tests/node and tests/browser (issue 13); libssl-dev the
# TLS client of the load generator (tests/bench/wardload.c --tls, issue 12).
set -eu

need="build-essential clang libbearssl-dev libjsmn-dev python3 python3-websockets \
curl redis-server util-linux groff-base openssl libssl-dev \
nodejs chromium prometheus valgrind"
[ -n "${WARD_DEPS_EXTRA:-}" ] && need="$need $WARD_DEPS_EXTRA"

missing=""
for p in $need; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps: need root to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "deps: apt-get update reported errors; trying the install anyway" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
