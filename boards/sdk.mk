# boards/sdk.mk - any board built by an SDK that brings its own toolchain:
# Buildroot (TARGET_CONFIGURE_OPTS puts CC, CFLAGS, LDFLAGS on the command
# line), Yocto/OpenEmbedded (exports CC with --sysroot, CFLAGS, LDFLAGS),
# OpenWrt, a vendor's environment-setup script.  The Makefile keeps a CC
# that is not make's default and appends $(CFLAGS)/$(LDFLAGS), so nothing
# here names a compiler or a CPU.  BearSSL and jsmn come from the SDK's
# sysroot (Buildroot: BR2_PACKAGE_BEARSSL, BR2_PACKAGE_JSMN; Yocto:
# meta-networking's bearssl).  Nothing is run under emulation.
#
#   make BOARD=sdk CC=... CFLAGS=... all       then:  make BOARD=sdk DESTDIR=... install
#   SDK_POOLS=...  replaces the default pool sizes (BeagleBone-like, 512 MB)
BOARD_DESC	:= an SDK build (Buildroot/Yocto/OpenWrt toolchain from the environment)
BOARD_ARCH	:=
CROSS_COMPILE	?=
BOARD_CFLAGS	:= -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64
BOARD_LISTEN	?= 0.0.0.0:8000
BOARD_DATA_DIR	?= /var/lib/ward
BOARD_CORS	?=
BOARD_LOG	?= syslog
SDK_POOLS	?= -DWARD_MAX_CONNS=256 -DWARD_IOBUF_COUNT=64 \
	-DWARD_SMALLBUF_COUNT=1024 -DWARD_BIGBUF_COUNT=16 \
	-DWARD_EXTBUF_COUNT=64 -DWARD_QENT_COUNT=4096 -DWARD_MAX_ROOMS=64 \
	-DWARD_JSON_TOKENS=256
# The Redis client and bus sized like bbb's (boards/bbb.mk says why).
SDK_REDIS	?= -DWARD_REDIS_MAX_BULK=16384 -DWARD_REDIS_TXBUF=65536 \
	-DWARD_REDIS_RXBUF=8192 -DWARD_REDIS_PENDING=256 \
	-DWARD_BUS_COUNT_GROUPS=32 -DWARD_BUS_COUNT_BYTES=1024 \
	-DWARD_BUS_INSTANCES=16
BOARD_DEFS	:= $(SDK_POOLS) $(SDK_REDIS) \
	-DBOARD_LISTEN='"$(BOARD_LISTEN)"' -DBOARD_DATA_DIR='"$(BOARD_DATA_DIR)"' \
	-DBOARD_CORS='"$(BOARD_CORS)"' \
	-DBOARD_LOG_SYSLOG=$(if $(filter syslog,$(BOARD_LOG)),1,0)
PORT		?= posix
PORT_EV		?= poll
BEARSSL_DIR	?=
BEARSSL_CFLAGS	?= $(if $(BEARSSL_DIR),-I$(BEARSSL_DIR)/inc)
BEARSSL_LIBS	?= $(if $(BEARSSL_DIR),$(BEARSSL_DIR)/build/libbearssl.a,-lbearssl)
BOARD_LDFLAGS	:=
QEMU		:=
BOARD_DEPS	:=
