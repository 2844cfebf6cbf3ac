# tests/bench/bench.mk: `make bench` (issue 5); method in docs/performance.md.
#
# Included by the top Makefile (`-include tests/bench/bench.mk`). The tools
# are host programs whatever BOARD is, so they use HOSTCC, not CC. The
# server is whatever WARD_BIN names; when that is the binary this build
# makes ($(B)/ward), `make bench` builds it first. run.sh skips the ward
# runs, with a note, when the binary is missing.
#
# `make bench` first prints the EC primitives, ours (src/ec64.c) and
# BearSSL's side by side (tls_bench ... ec, about 2 s; tests/tls/tls.mk),
# then runs `wardload selftest` (offline, well under a
# second), then tests/bench/run.sh: every run BENCH_REPEAT times (default
# 3), about 7 minutes in all with 5 s windows. Knobs, on the command line
# or in the environment: BENCH_PORT, BENCH_DURATION, BENCH_REPEAT,
# BENCH_BUDGET (see run.sh), e.g. `make bench BENCH_REPEAT=1`. Last,
# tests/bench/heap.sh counts the server's heap calls under the same loads
# (about 15 s).

HOSTCC		?= cc
WARD_BIN	?= build/host/ward
BENCH_DIR	:= build/bench
BENCH_CFLAGS	?= -std=c11 -O2 -g -Wall -Wextra -Werror
BENCH_TOOLS	:= $(BENCH_DIR)/wardload $(BENCH_DIR)/epoll_echo

.PHONY: bench bench-tools bench-selftest bench-tls-wired bench-cluster

WARD_EPOLL_BIN	?= build/host-epoll/ward

bench: $(BENCH_TOOLS) $(filter $(B)/ward,$(WARD_BIN)) $(B)/tls_bench
	./$(B)/tls_bench $(TLS_DEV_DIR) 200 ec
	$(MAKE) VARIANT=epoll all
	$(BENCH_DIR)/wardload selftest >$(BENCH_DIR)/selftest.out || \
	    { cat $(BENCH_DIR)/selftest.out; exit 1; }
	WARDLOAD=$(BENCH_DIR)/wardload EPOLL_ECHO=$(BENCH_DIR)/epoll_echo \
	WARD_BIN=$(WARD_BIN) WARD_EPOLL_BIN=$(WARD_EPOLL_BIN) \
	BENCH_DIR=$(BENCH_DIR) sh tests/bench/run.sh
	WARDLOAD=$(BENCH_DIR)/wardload WARD_BIN=$(WARD_BIN) \
	BENCH_DIR=$(BENCH_DIR) HOSTCC=$(HOSTCC) sh tests/bench/heap.sh

bench-tools: $(BENCH_TOOLS)

# the generator's own checks (SHA-1, framing, masking, pacing, the
# subscriber read path, the TLS clients, OpenSSL's and BearSSL's, against
# an in-process OpenSSL server): part of `make test`.  wardload links
# OpenSSL's libssl (Debian libssl-dev) for --tls, and BearSSL (as ward
# does) for --tls-lib bearssl.
bench-selftest: $(BENCH_DIR)/wardload
	@out=$$($(BENCH_DIR)/wardload selftest 2>&1); rc=$$?; \
	printf '%s\n' "$$out" | grep -v '^ok ' | tail -n 20; exit $$rc

$(BENCH_DIR)/wardload: tests/bench/wardload.c
	@mkdir -p $(@D)
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ tests/bench/wardload.c -lssl -lcrypto \
	    -lbearssl

$(BENCH_DIR)/epoll_echo: tests/bench/epoll_echo.c
	@mkdir -p $(@D)
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ tests/bench/epoll_echo.c

# The TLS rows alone (run.sh's set 6, BENCH_ONLY=tls), against this
# build's ward with build/dev-tls's certificates: `make bench-tls` runs
# them after the engine-only figures (tests/tls/tls.mk).  About 2 minutes
# with the defaults (2 repetitions, 4 s windows).
TLS_BENCH_REPEAT	?= 2
TLS_BENCH_DURATION	?= 4
# The fan-out rows alone, single instance then two instances through a
# real redis-server, side by side (run.sh's BENCH_ONLY=cluster; ~2 min).
bench-cluster: $(BENCH_DIR)/wardload $(filter $(B)/ward,$(WARD_BIN))
	WARDLOAD=$(BENCH_DIR)/wardload WARD_BIN=$(WARD_BIN) \
	BENCH_DIR=$(BENCH_DIR) BENCH_ONLY=cluster sh tests/bench/run.sh

bench-tls-wired: $(BENCH_DIR)/wardload $(filter $(B)/ward,$(WARD_BIN))
	WARDLOAD=$(BENCH_DIR)/wardload WARD_BIN=$(WARD_BIN) \
	BENCH_DIR=$(BENCH_DIR) TLS_DIR=build/dev-tls BENCH_ONLY=tls \
	BENCH_REPEAT=$(TLS_BENCH_REPEAT) BENCH_DURATION=$(TLS_BENCH_DURATION) \
	sh tests/bench/run.sh
