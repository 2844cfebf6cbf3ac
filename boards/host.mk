# boards/host.mk - the developer laptop (x86_64 or whatever the host is).
# Pool sizes are the defaults of src/config.h (SPEC §1.1 laptop limits).
BOARD_DESC	:= developer laptop (native gcc, glibc)
CROSS_COMPILE	?=
BOARD_CFLAGS	:= -O2 -g
BOARD_DEFS	:=
PORT		?= linux
PORT_EV		?= poll
BEARSSL_CFLAGS	?=
BEARSSL_LIBS	?= -lbearssl
QEMU		:=
# default run-time config for this board (written into images; --dev uses it)
BOARD_LISTEN	:= 127.0.0.1:8000
BOARD_DATA_DIR	:= ./ward-data
