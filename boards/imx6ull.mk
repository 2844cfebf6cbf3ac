# boards/imx6ull.mk - NXP i.MX6ULL boards (1x Cortex-A7 @ 528-900 MHz,
# 256-512 MB), usually with a Buildroot or Yocto image.  The same flags suit
# an STM32MP1 (Cortex-A7).
#
# Built with Debian's armhf cross gcc and multiarch BearSSL like bbb; with a
# vendor SDK give CC=... (it wins: see the Makefile) and BEARSSL_DIR=...
BOARD_DESC	:= NXP i.MX6ULL (Cortex-A7, 256-512 MB, armhf glibc)
BOARD_ARCH	:= armhf
CROSS_COMPILE	?= arm-linux-gnueabihf-
BOARD_CFLAGS	:= -Os -g -mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard \
	-mthumb -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64

BOARD_LISTEN	:= 0.0.0.0:8000
BOARD_DATA_DIR	:= /var/lib/ward
BOARD_CORS	:=
BOARD_LOG	:= syslog

# 256 MB parts: half the BeagleBone's pools (~1.6 MiB of .bss).
BOARD_DEFS	:= -DWARD_MAX_CONNS=128 -DWARD_IOBUF_COUNT=32 \
	-DWARD_SMALLBUF_COUNT=512 -DWARD_BIGBUF_COUNT=8 \
	-DWARD_EXTBUF_COUNT=64 -DWARD_QENT_COUNT=2048 -DWARD_MAX_ROOMS=32 \
	-DWARD_JSON_TOKENS=256 -DWARD_PENDING_PER_IP=16 \
	-DBOARD_LISTEN='"$(BOARD_LISTEN)"' -DBOARD_DATA_DIR='"$(BOARD_DATA_DIR)"' \
	-DBOARD_CORS='"$(BOARD_CORS)"' -DBOARD_LOG_SYSLOG=1
# TLS pool: 32 x 22.5 KiB = 0.7 MiB (README "TLS"; tls_max_connections lowers it)
BOARD_DEFS	+= -DWARD_TLS_CONNS=32

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
QEMU		:= qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf

BOARD_DEPS	:= gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user \
	libjsmn-dev $(if $(BEARSSL_DIR),,libbearssl-dev:armhf)
