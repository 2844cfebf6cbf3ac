#!/bin/sh
# bearssl.sh - build BearSSL's static library with a given compiler.
#
# usage: bearssl.sh DEST CC AR CFLAGS
#
# For toolchains Debian's libbearssl.a cannot serve (musl: Debian's is built
# with glibc's _FORTIFY_SOURCE and needs __memcpy_chk; vendor SDKs).
# The source comes from `apt-get source bearssl` (Debian's 0.6+dfsg.1, needs
# a deb-src entry: `make BOARD=static deps` adds one), fetched once into
# build/deps/src/, or from $BEARSSL_SRC_DIR (any BearSSL 0.6 tree, e.g. a
# git checkout of https://bearssl.org/git/BearSSL).  DEST gets a copy of the
# tree and DEST/build/libbearssl.a, DEST/inc/*.h.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 DEST CC AR CFLAGS" >&2; exit 2; }
dest=$1 cc=$2 ar=$3 cflags=$4
top=$(pwd)

src=${BEARSSL_SRC_DIR:-}
if [ -z "$src" ]; then
	cache=$top/build/deps/src
	src=$(ls -d "$cache"/bearssl-*/ 2>/dev/null | head -n 1 || true)
	if [ -z "$src" ]; then
		mkdir -p "$cache"
		echo "bearssl: apt-get source bearssl -> $cache"
		(cd "$cache" && apt-get source -qq bearssl) || {
			echo "bearssl: 'apt-get source bearssl' failed: run 'make BOARD=<board> deps' as root" \
			    "(adds a deb-src entry and dpkg-dev), or give BEARSSL_SRC_DIR=<tree>" >&2
			exit 1
		}
		src=$(ls -d "$cache"/bearssl-*/ | head -n 1)
	fi
fi
[ -f "$src/inc/bearssl.h" ] || { echo "bearssl: $src is not a BearSSL tree" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"
cp -a "$src"/. "$dest"/
rm -rf "$dest/build"
echo "bearssl: make lib CC='$cc' AR='$ar' CFLAGS='$cflags' in $dest"
make -s -C "$dest" -j2 CC="$cc" AR="$ar" CFLAGS="$cflags" lib >/dev/null
ls -l "$dest/build/libbearssl.a"
