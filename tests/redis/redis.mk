# tests/redis/redis.mk: `make redis-test` (issue 14) - src/redis.c against
# a real redis-server (Debian package redis-server, in tests/deps.sh).
#
# Included by the top Makefile (`-include tests/redis/redis.mk`); `make
# test` runs it through test-extra.  The driver links the same objects as
# ward (everything but main.o), so it exercises exactly what ships, and
# starts its own redis-server on a free loopback port and a Unix socket in
# a temporary directory (bounded: about 5 s, an alarm at 90 s).  Under
# VARIANT=asan the heap-call count is skipped (ASan owns malloc).

REDIS_TEST	:= $(B)/tests/redis/redis_client_test

.PHONY: redis-test
test-extra:: redis-test

$(REDIS_TEST): tests/redis/redis_client_test.c $(OBJ_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) $(WARD_CFLAGS) -Isrc -Itests/unit $(WARD_LDFLAGS) -o $@ \
	    $< $(OBJ_LIB) $(WARD_LIBS)

redis-test: $(REDIS_TEST)
	@command -v redis-server >/dev/null 2>&1 || sh tests/deps.sh
	$(QEMU) ./$(REDIS_TEST)

# `make redis-bench`: the parser's throughput (tests/bench/resp_bench.c),
# offline; not part of `make test`.  Figures in docs/redis.md.
.PHONY: redis-bench
REDIS_BENCH	:= $(B)/tests/bench/resp_bench

$(REDIS_BENCH): tests/bench/resp_bench.c $(OBJ_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(WARD_CFLAGS) -Isrc $(WARD_LDFLAGS) -o $@ $< $(OBJ_LIB) \
	    $(WARD_LIBS)

redis-bench: $(REDIS_BENCH)
	$(QEMU) ./$(REDIS_BENCH)
