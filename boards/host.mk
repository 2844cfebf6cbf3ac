# boards/host.mk - the developer laptop (x86_64 or whatever the host is).
# Pool sizes are the defaults of src/config.h (SPEC §1.1 laptop limits).
BOARD_DESC	:= developer laptop (native gcc, glibc)
CROSS_COMPILE	?=
BOARD_CFLAGS	:= -O2 -g
BOARD_DEFS	:=
PORT		?= linux
PORT_EV		?= poll
# BearSSL: Debian's own source package (`apt-get source bearssl`, the
# 0.6+dfsg.1 that libbearssl-dev ships), built at -O2 with Debian's
# hardening flags, its own tests run (tests/boards/bearssl.sh), and linked
# statically.  Debian's libbearssl is built -Os, which costs BearSSL's
# handshake interpreter half its speed: a resumed handshake takes 59 us of
# server CPU with it and 33 us at -O2, a full one 453 and 317 us
# (docs/performance.md "TLS, fourth pass").  `make deps` adds the deb-src
# entry the fetch needs.  WARD_BEARSSL=system links Debian's libbearssl.
WARD_BEARSSL	?= source
ifeq ($(WARD_BEARSSL),source)
BEARSSL_SRC	:= 1
BEARSSL_DIR	:= $(CURDIR)/build/deps/bearssl-host
BEARSSL_BUILD_CFLAGS := -W -Wall -O2 -fstack-protector-strong \
	-D_FORTIFY_SOURCE=2
BEARSSL_TEST	:= test
BOARD_DEFS	+= -DWARD_BEARSSL_BUILD='"Debian source package, -O2, static"'
BEARSSL_CFLAGS	?= -I$(BEARSSL_DIR)/inc
BEARSSL_LIBS	?= $(BEARSSL_DIR)/build/libbearssl.a
else
BEARSSL_CFLAGS	?=
BEARSSL_LIBS	?= -lbearssl
endif
QEMU		:=
# default run-time config for this board (written into images; --dev uses it)
BOARD_LISTEN	:= 127.0.0.1:8000
BOARD_DATA_DIR	:= ./ward-data
