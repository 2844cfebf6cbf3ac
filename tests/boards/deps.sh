#!/bin/sh
# deps.sh - install what one board's cross build and tests need (Debian 12).
#
# usage: deps.sh [-a ARCH] [-s] PACKAGE...
#   PACKAGE   Debian packages (native or ARCH-qualified, e.g. libbearssl-dev:armhf)
#   -a ARCH   add ARCH as a dpkg foreign architecture first (multiarch)
#   -s        make sure a deb-src entry exists (for `apt-get source bearssl`)
#
# Idempotent: nothing runs when every package is installed (and the
# architecture/deb-src entry already exist).  `apt-get update` may exit 100
# once armhf/arm64 are added (a stale armhf security index, see
# ../shared/notes/ports.md): that is tolerated, the install then says whether
# the packages really are missing.
set -eu

arch=""
src=0
while getopts a:s o; do
	case $o in
	a) arch=$OPTARG ;;
	s) src=1 ;;
	*) echo "usage: $0 [-a ARCH] [-s] PACKAGE..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

SUDO=""
as_root() {
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "board-deps: need root for: $*" >&2; exit 1; }
		SUDO=sudo
	fi
}

update=0
if [ -n "$arch" ] && [ "$arch" != "$(dpkg --print-architecture)" ] &&
    ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	as_root "dpkg --add-architecture $arch"
	echo "board-deps: adding architecture $arch"
	$SUDO dpkg --add-architecture "$arch"
	update=1
fi

SRCLIST=/etc/apt/sources.list.d/ward-deb-src.sources
if [ "$src" = 1 ] && ! grep -rqsE '^(deb-src|Types:.*deb-src)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/; then
	as_root "adding $SRCLIST"
	echo "board-deps: adding $SRCLIST (deb-src for apt-get source)"
	$SUDO sh -c "cat > $SRCLIST" <<'X'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
	update=1
fi

missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && [ "$update" = 0 ] && exit 0

as_root "apt-get install$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq ||
    echo "board-deps: apt-get update reported errors (seen: stale armhf security index); continuing" >&2
[ -z "$missing" ] && exit 0
echo "board-deps: installing:$missing"
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
