# boards/rpi4.mk - Raspberry Pi 4 B / CM4: BCM2711, 4x Cortex-A72, 1-8 GB,
# 64-bit Raspberry Pi OS or Debian arm64 (also fine for a Pi 3 / Zero 2 W on
# a 64-bit OS: the code is plain ARMv8-A, -mcpu only tunes).
#
# Debian's aarch64 cross gcc + Debian's multiarch BearSSL (libbearssl-dev:arm64,
# linked statically).  BEARSSL_DIR=<dir> uses a BearSSL built elsewhere.
BOARD_DESC	:= Raspberry Pi 4 (BCM2711 Cortex-A72, 1-8 GB, arm64 glibc)
BOARD_ARCH	:= arm64
CROSS_COMPILE	?= aarch64-linux-gnu-
BOARD_CFLAGS	:= -O2 -g -mcpu=cortex-a72

BOARD_LISTEN	:= 0.0.0.0:8000
BOARD_DATA_DIR	:= /var/lib/ward
BOARD_CORS	:=
BOARD_LOG	:= syslog

# The laptop's limits (src/config.h defaults): a Pi 4 has the RAM for them.
BOARD_DEFS	:= \
	-DBOARD_LISTEN='"$(BOARD_LISTEN)"' -DBOARD_DATA_DIR='"$(BOARD_DATA_DIR)"' \
	-DBOARD_CORS='"$(BOARD_CORS)"' -DBOARD_LOG_SYSLOG=1
# TLS pool: 256 x 22.7 KiB = 5.7 MiB (README "TLS"; tls_max_connections lowers it)
BOARD_DEFS	+= -DWARD_TLS_CONNS=256

PORT		?= linux
PORT_EV		?= epoll
BEARSSL_DIR	?=
BEARSSL_CFLAGS	?= $(if $(BEARSSL_DIR),-I$(BEARSSL_DIR)/inc)
BEARSSL_LIBS	?= $(if $(BEARSSL_DIR),$(BEARSSL_DIR)/build/libbearssl.a,-l:libbearssl.a)
BOARD_LDFLAGS	:=
QEMU		:= qemu-aarch64 -cpu cortex-a72 -L /usr/aarch64-linux-gnu

BOARD_DEPS	:= gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
	libjsmn-dev $(if $(BEARSSL_DIR),,libbearssl-dev:arm64)
