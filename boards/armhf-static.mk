# boards/armhf-static.mk - any ARMv7-A hard-float Linux (BeagleBone Black,
# i.MX6ULL, STM32MP1, Raspberry Pi 2/3 on a 32-bit OS) whose userland is
# unknown or too old for the glibc boards (bbb/imx6ull need glibc >= 2.34):
# one static binary, musl 1.2 (64-bit time_t built in), no run-time
# dependency.  Debian has no arm-linux-musleabihf-gcc: its glibc cross gcc
# with musl-dev:armhf's specs file is the musl toolchain; BearSSL is built
# from source with it (boards/rules.mk), jsmn.h copied (the specs use
# -nostdinc).  Tuned for a Cortex-A8 but runs on any ARMv7-A with VFPv3/NEON.
BOARD_DESC	:= ARMv7-A hard-float, static musl (BeagleBone pools)
BOARD_ARCH	:= armhf
CROSS_COMPILE	?= arm-linux-gnueabihf-
ifeq ($(origin CC),default)
CC		:= arm-linux-gnueabihf-gcc -specs /usr/lib/arm-linux-musleabihf/musl-gcc.specs
endif
BOARD_CFLAGS	:= -O2 -g -march=armv7-a -mtune=cortex-a8 -mfpu=neon \
	-mfloat-abi=hard

BOARD_LISTEN	:= 0.0.0.0:8000
BOARD_DATA_DIR	:= /var/lib/ward
BOARD_CORS	:=
BOARD_LOG	:= syslog

BOARD_DEFS	:= -DWARD_MAX_CONNS=256 -DWARD_IOBUF_COUNT=64 \
	-DWARD_SMALLBUF_COUNT=1024 -DWARD_BIGBUF_COUNT=16 \
	-DWARD_EXTBUF_COUNT=64 -DWARD_QENT_COUNT=4096 -DWARD_MAX_ROOMS=64 \
	-DWARD_JSON_TOKENS=256 -DWARD_PENDING_PER_IP=32 \
	-DBOARD_LISTEN='"$(BOARD_LISTEN)"' -DBOARD_DATA_DIR='"$(BOARD_DATA_DIR)"' \
	-DBOARD_CORS='"$(BOARD_CORS)"' -DBOARD_LOG_SYSLOG=1
# TLS pool: 64 x 22.5 KiB = 1.4 MiB (README "TLS"; tls_max_connections lowers it)
BOARD_DEFS	+= -DWARD_TLS_CONNS=64

# The Redis client and bus for a board (docs/redis.md "Limits"): frames up
# to 16 KiB replicated (a call's SDP offer is 2-6 KiB; a larger frame is
# delivered on its own instance only and counted), 64 KiB of pipelined
# output, 256 replies in flight: ~150 KiB of .bss instead of the laptop's
# ~400 KiB.
BOARD_DEFS	+= -DWARD_REDIS_MAX_BULK=16384 -DWARD_REDIS_TXBUF=65536 \
	-DWARD_REDIS_RXBUF=8192 -DWARD_REDIS_PENDING=256 \
	-DWARD_BUS_COUNT_GROUPS=32 -DWARD_BUS_COUNT_BYTES=1024 \
	-DWARD_BUS_INSTANCES=16

PORT		?= posix
PORT_EV		?= poll
ifeq ($(origin BEARSSL_DIR),undefined)
BEARSSL_SRC	:= 1
BEARSSL_DIR	:= $(CURDIR)/build/armhf-static/deps/bearssl
endif
JSMN_INC	:= $(CURDIR)/build/armhf-static/deps/include
BEARSSL_CFLAGS	?= -I$(BEARSSL_DIR)/inc -I$(JSMN_INC)
BEARSSL_LIBS	?= $(BEARSSL_DIR)/build/libbearssl.a
BOARD_LDFLAGS	:= -static
# test-board runs tests/boards/pool.py: the whole pool held under qemu
BOARD_POOL_TEST	:= 1
BOARD_LIBC	:= musl
BOARD_UBSAN	:= 0
QEMU		:= qemu-arm -cpu cortex-a8

BOARD_DEPS	:= gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user \
	musl-dev:armhf libjsmn-dev dpkg-dev
