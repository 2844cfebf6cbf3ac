#!/bin/sh
# bearssl.sh - build BearSSL's static library with a given compiler.
#
# usage: bearssl.sh DEST CC AR CFLAGS [test]
#
# For toolchains Debian's libbearssl.a cannot serve (musl: Debian's is built
# with glibc's _FORTIFY_SOURCE and needs __memcpy_chk; vendor SDKs).
# The source comes from `apt-get source bearssl` (Debian's 0.6+dfsg.1, needs
# a deb-src entry: `make BOARD=static deps` adds one), fetched once into
# build/deps/src/, or from $BEARSSL_SRC_DIR (any BearSSL 0.6 tree, e.g. a
# git checkout of https://bearssl.org/git/BearSSL).  DEST gets a copy of the
# tree and DEST/build/libbearssl.a, DEST/inc/*.h.
#
# With "test" (a native build: the host's -O2 BearSSL, boards/host.mk),
# BearSSL's own test programs are built with the same flags and run before
# the library is used: testx509 whole, and testcrypto on the algorithms
# ward's engine can reach (~8 s; `testcrypto all` takes ~45 s, most of it
# in implementations ward never selects: i15, i32, DES, MD5, CCM/EAX).
set -eu
[ $# -eq 4 ] || [ $# -eq 5 ] ||
    { echo "usage: $0 DEST CC AR CFLAGS [test]" >&2; exit 2; }
dest=$1 cc=$2 ar=$3 cflags=$4 check=${5:-}
top=$(pwd)

src=${BEARSSL_SRC_DIR:-}
if [ -z "$src" ]; then
	cache=$top/build/deps/src
	src=$(ls -d "$cache"/bearssl-*/ 2>/dev/null | head -n 1 || true)
	if [ -z "$src" ]; then
		mkdir -p "$cache"
		echo "bearssl: apt-get source bearssl -> $cache"
		(cd "$cache" && apt-get source -qq bearssl) || {
			echo "bearssl: 'apt-get source bearssl' failed: run 'make deps'" \
			    "(or 'make BOARD=<board> deps') as root (adds a deb-src entry" \
			    "and dpkg-dev), or give BEARSSL_SRC_DIR=<tree>; on the host," \
			    "WARD_BEARSSL=system links Debian's libbearssl instead" >&2
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
echo "bearssl: $(basename "$src") make lib CC='$cc' AR='$ar' CFLAGS='$cflags' in $dest"
if [ "$check" = test ]; then
	make -s -C "$dest" -j2 CC="$cc" AR="$ar" LD="$cc" CFLAGS="$cflags" \
	    lib tests >"$dest/build.log" 2>&1 ||
	    { cat "$dest/build.log" >&2; exit 1; }
	# the library is kept only if its own tests pass: a failure removes it
	if ! (cd "$dest" && build/testx509 >testx509.log 2>&1) ||
	    ! "$dest/build/testcrypto" SHA1 SHA256 SHA384 multihash HMAC \
	    HMAC_DRBG PRF AES_ct AES_ct64 AES_x86ni AES_CTRCBC_x86ni \
	    ChaCha20_ct ChaCha20_sse2 Poly1305_ctmul Poly1305_ctmulq \
	    GHASH_ctmul64 GHASH_pclmul GCM RSA_i62 EC_prime_i31 \
	    EC_p256_m31 EC_c25519_m31 ECDSA_i31 >"$dest/testcrypto.log" 2>&1; then
		echo "bearssl: BearSSL's own tests failed; see $dest/testx509.log" \
		    "and $dest/testcrypto.log" >&2
		rm -f "$dest/build/libbearssl.a"
		exit 1
	fi
	echo "bearssl: BearSSL's own tests passed (testx509, testcrypto on" \
	    "the algorithms ward uses)"
else
	make -s -C "$dest" -j2 CC="$cc" AR="$ar" CFLAGS="$cflags" lib >/dev/null
fi
ls -l "$dest/build/libbearssl.a"
