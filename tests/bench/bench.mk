# tests/bench/bench.mk: `make bench` (issue 5); method in docs/performance.md.
#
# Included by the top Makefile (`-include tests/bench/bench.mk`). The tools
# are host programs whatever BOARD is, so they use HOSTCC, not CC. The
# server is whatever WARD_BIN names; when that is the binary this build
# makes ($(B)/ward), `make bench` builds it first. run.sh skips the ward
# runs, with a note, when the binary is missing.

HOSTCC		?= cc
WARD_BIN	?= build/host/ward
BENCH_DIR	:= build/bench
BENCH_CFLAGS	?= -std=c11 -O2 -g -Wall -Wextra -Werror
BENCH_TOOLS	:= $(BENCH_DIR)/wardload $(BENCH_DIR)/epoll_echo

.PHONY: bench bench-tools

WARD_EPOLL_BIN	?= build/host-epoll/ward

bench: $(BENCH_TOOLS) $(filter $(B)/ward,$(WARD_BIN))
	$(MAKE) VARIANT=epoll all
	WARDLOAD=$(BENCH_DIR)/wardload EPOLL_ECHO=$(BENCH_DIR)/epoll_echo \
	WARD_BIN=$(WARD_BIN) WARD_EPOLL_BIN=$(WARD_EPOLL_BIN) \
	BENCH_DIR=$(BENCH_DIR) sh tests/bench/run.sh

bench-tools: $(BENCH_TOOLS)

$(BENCH_DIR)/wardload: tests/bench/wardload.c
	@mkdir -p $(@D)
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ tests/bench/wardload.c

$(BENCH_DIR)/epoll_echo: tests/bench/epoll_echo.c
	@mkdir -p $(@D)
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ tests/bench/epoll_echo.c
