# boards/static.mk - x86_64, one static binary for an unknown Linux userland
# (a vendor's appliance image, an old distribution, a container FROM scratch).
#
# musl, not static glibc: a static glibc binary still loads the host's NSS
# modules at run time for getaddrinfo() (ward resolves the Redis host name)
# and breaks when the host's glibc differs; musl's resolver is built in, the
# binary has no run-time dependency at all and is smaller.  Debian's
# libbearssl.a cannot be used (built against glibc's _FORTIFY_SOURCE:
# undefined __memcpy_chk), so BearSSL is built from `apt-get source bearssl`
# with musl-gcc into build/static/deps/ (boards/rules.mk; ~12 s, once).
# musl-gcc does not search /usr/include, so jsmn.h is copied next to it.
BOARD_DESC	:= x86_64 static (musl 1.2, no run-time dependencies)
BOARD_ARCH	:= amd64
CROSS_COMPILE	?=
ifeq ($(origin CC),default)
CC		:= musl-gcc
endif
BOARD_CFLAGS	:= -O2 -g

BOARD_LISTEN	:= 0.0.0.0:8000
BOARD_DATA_DIR	:= /var/lib/ward
BOARD_CORS	:=
BOARD_LOG	:= syslog

# A small-server footprint between the BeagleBone and the laptop.
BOARD_DEFS	:= -DWARD_MAX_CONNS=1024 -DWARD_IOBUF_COUNT=128 \
	-DWARD_SMALLBUF_COUNT=2048 -DWARD_BIGBUF_COUNT=32 \
	-DWARD_QENT_COUNT=16384 \
	-DBOARD_LISTEN='"$(BOARD_LISTEN)"' -DBOARD_DATA_DIR='"$(BOARD_DATA_DIR)"' \
	-DBOARD_CORS='"$(BOARD_CORS)"' -DBOARD_LOG_SYSLOG=1
# TLS pool: 256 x 22.7 KiB = 5.7 MiB (README "TLS"; tls_max_connections lowers it)
BOARD_DEFS	+= -DWARD_TLS_CONNS=256

# posix port + poll(): /dev/urandom and poll() work on any kernel (no
# getrandom(2) before Linux 3.17, no epoll in some sandboxes).
PORT		?= posix
PORT_EV		?= poll
# BEARSSL_DIR=<dir> on the command line: a BearSSL already built with musl.
ifeq ($(origin BEARSSL_DIR),undefined)
BEARSSL_SRC	:= 1
BEARSSL_DIR	:= $(CURDIR)/build/static/deps/bearssl
endif
JSMN_INC	:= $(CURDIR)/build/static/deps/include
BEARSSL_CFLAGS	?= -I$(BEARSSL_DIR)/inc -I$(JSMN_INC)
BEARSSL_LIBS	?= $(BEARSSL_DIR)/build/libbearssl.a
BOARD_LDFLAGS	:= -static
BOARD_LIBC	:= musl
BOARD_UBSAN	:= 0
QEMU		:=

BOARD_DEPS	:= musl-tools libjsmn-dev dpkg-dev
