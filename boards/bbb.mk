# boards/bbb.mk - BeagleBone Black: TI AM3358, 1x Cortex-A8 @ 1 GHz, 512 MB.
#
# Debian's armhf cross gcc + Debian's multiarch BearSSL (libbearssl-dev:armhf,
# linked statically: the image needs only glibc >= 2.34, see below).
# `make BOARD=bbb deps` installs both; BEARSSL_DIR=<dir> uses a BearSSL
# built elsewhere instead (<dir>/inc, <dir>/build/libbearssl.a).
#
# 64-bit time_t on 32-bit glibc (-D_TIME_BITS=64) needs glibc >= 2.34 on the
# target (Debian 12 / Buildroot 2021.11+ / Yocto kirkstone+); for older
# userlands use BOARD=static.
BOARD_DESC	:= BeagleBone Black (AM3358 Cortex-A8, 512 MB, armhf glibc)
BOARD_ARCH	:= armhf
CROSS_COMPILE	?= arm-linux-gnueabihf-
BOARD_CFLAGS	:= -O2 -g -mcpu=cortex-a8 -mfpu=neon -mfloat-abi=hard \
	-D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64

# Run-time defaults compiled in (cfg.c) and written to the image's ward.conf.
BOARD_LISTEN	:= 0.0.0.0:8000
BOARD_DATA_DIR	:= /var/lib/ward
BOARD_CORS	:=
BOARD_LOG	:= syslog

# Pools for 512 MB shared with the rest of the gateway: ~3 MiB of .bss in
# all (see `make BOARD=bbb footprint`; docs/boards.md explains each).
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
BEARSSL_DIR	?=
BEARSSL_CFLAGS	?= $(if $(BEARSSL_DIR),-I$(BEARSSL_DIR)/inc)
BEARSSL_LIBS	?= $(if $(BEARSSL_DIR),$(BEARSSL_DIR)/build/libbearssl.a,-l:libbearssl.a)
BOARD_LDFLAGS	:=
# test-board runs tests/boards/pool.py: the whole pool held under qemu
BOARD_POOL_TEST	:= 1
# test-board runs tests/e2e/test_abuse.py on the board's pools under qemu;
# the CPU is emulated (~10x slower), so the normal client's p99 bound is
# wider than the laptop's 100 ms
BOARD_ABUSE_TEST := 1
BOARD_ABUSE_P99_MS := 400
QEMU		:= qemu-arm -cpu cortex-a8 -L /usr/arm-linux-gnueabihf

# `make BOARD=bbb deps`: Debian packages (tests/boards/deps.sh -a ARCH ...).
BOARD_DEPS	:= gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user \
	libjsmn-dev $(if $(BEARSSL_DIR),,libbearssl-dev:armhf)
