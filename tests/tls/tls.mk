# tests/tls/tls.mk - development certificates for TLS (issue 12).
#
# Included by the top Makefile (`-include tests/tls/tls.mk`).  The openssl
# CLI generates a development CA and server certificates into
# build/dev-tls/ (tests/tls/gen-certs.sh says what each file is); nothing
# of it is committed.  `make dev-tls` makes them; the unit tests (test_tls),
# the TLS fuzz target and its replay need them and find them through
# WARD_TLS_TEST_DIR, which every recipe of this make gets.  Boards run the
# same unit binary under qemu-user, which passes the environment and the
# host's files through, so the same certificates serve every BOARD and
# VARIANT.  They are made once (ca.pem valid 10 years, leaves 825 days);
# `rm -rf build/dev-tls` makes new ones.

TLS_DEV_DIR	:= build/dev-tls
TLS_DEV_STAMP	:= $(TLS_DEV_DIR)/.stamp
export WARD_TLS_TEST_DIR := $(CURDIR)/$(TLS_DEV_DIR)

.PHONY: dev-tls
dev-tls: $(TLS_DEV_STAMP)
	@echo "dev-tls: CA $(TLS_DEV_DIR)/ca.pem; server $(TLS_DEV_DIR)/server-ec.pem + server-ec.key"
	@echo "  e.g. curl --cacert $(TLS_DEV_DIR)/ca.pem https://127.0.0.1:8443/health"

$(TLS_DEV_STAMP): tests/tls/gen-certs.sh
	@echo "  GEN $(TLS_DEV_DIR)"
	$(Q)sh tests/tls/gen-certs.sh $(TLS_DEV_DIR)

# whoever runs the unit tests or the TLS fuzz target needs them first
# (and the benchmarks: their TLS rows, tests/bench/run.sh; the e2e suites;
# the node and browser suites; the board smoke test and check-packaging)
unit fuzz fuzz-replay bench bench-tls-wired e2e node-test browser-test \
    browser-test-13 smoke check-packaging: $(TLS_DEV_STAMP)

# The server engine alone, measured (not part of make test): server CPU
# per handshake and per record, memory per connection.  Built for the
# BOARD (its compiler and BearSSL) and run under its $(QEMU), so
# `make BOARD=bbb bench-tls` is the relative check for a Cortex-A8.
# Then, on the host build, the wired rows: ward itself with a TLS
# listener under wardload's OpenSSL client (tests/bench/bench.mk,
# bench-tls-wired; figures in docs/performance.md).
TLS_BENCH	:= $(B)/tls_bench
TLS_BENCH_N	?= 200
# (linked with the server's objects: log.c now reaches into conn and the
# registry, so the three files alone no longer link)
$(TLS_BENCH): tests/bench/tls_bench.c $(OBJ_LIB) | $(TLS_DEV_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -MMD -MP,$(WARD_CFLAGS)) -Isrc $(WARD_LDFLAGS) \
	    -o $@ tests/bench/tls_bench.c $(OBJ_LIB) $(WARD_LIBS)
.PHONY: bench-tls
bench-tls: $(TLS_BENCH)
	$(QEMU) ./$(TLS_BENCH) $(TLS_DEV_DIR) $(TLS_BENCH_N)
	$(if $(QEMU),@echo "bench-tls: wired rows: host build only (make bench-tls)",$(MAKE) --no-print-directory bench-tls-wired)
