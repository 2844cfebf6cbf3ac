# ward - one GNU make file.  make [BOARD=x] [VARIANT=asan|small] all|run|test
#
# BOARD selects boards/$(BOARD).mk (toolchain, CPU flags, pool sizes, port).
# VARIANT builds the same sources with sanitizers (asan) or tiny pools
# (small, so every "pool full" path runs in tests).  Objects go to
# build/$(BOARD)[-$(VARIANT)]/; nothing is written into the source tree.

BOARD	?= host
VARIANT	?=
include boards/$(BOARD).mk

B	:= build/$(BOARD)$(if $(VARIANT),-$(VARIANT))
ifeq ($(VARIANT),epoll)
PORT_EV	:= epoll
endif

# Never override a CC given by Buildroot/Yocto/OpenWrt (make predefines cc).
ifeq ($(origin CC),default)
CC	:= $(CROSS_COMPILE)gcc
endif
HOSTCC	?= cc
PYTHON	?= /usr/bin/python3

VARIANT_CFLAGS_asan	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
VARIANT_LDFLAGS_asan	:= -fsanitize=address,undefined
VARIANT_DEFS_asan	:= -DWARD_ASSERTS
VARIANT_DEFS_small	:= -DWARD_MAX_CONNS=8 -DWARD_IOBUF_COUNT=4 -DWARD_MEDBUF_COUNT=4 \
	-DWARD_BIGBUF_COUNT=1 -DWARD_SMALLBUF_COUNT=8 -DWARD_QENT_COUNT=64 \
	-DWARD_EXTBUF_COUNT=8 -DWARD_JSON_TOKENS=64 -DWARD_TLS_CONNS=4 -DWARD_ASSERTS

PORT_SRC_linux	:= port/posix/sys.c port/posix/net_client.c port/linux/random.c
PORT_SRC_posix	:= port/posix/sys.c port/posix/net_client.c port/posix/random.c
EV_SRC_poll	:= port/posix/ev_poll.c
EV_SRC_epoll	:= port/linux/ev_epoll.c

SRC_ALL	:= $(sort $(wildcard src/*.c src/svc/*.c))
SRC_LIB	:= $(filter-out src/main.c,$(SRC_ALL)) $(PORT_SRC_$(PORT)) $(EV_SRC_$(PORT_EV))
OBJ_LIB	:= $(patsubst %.c,$(B)/%.o,$(SRC_LIB))
OBJ_MAIN := $(B)/src/main.o

# The web assets (src/web/) embedded at build time: src/web/embed.sh makes
# one C file of byte arrays (POSIX od/awk); it is the same for every board.
WEB_SRC	:= $(filter-out src/web/embed.sh,$(sort $(wildcard src/web/*)))
WEB_GEN	:= build/gen/web_assets.c
OBJ_LIB	+= $(B)/$(WEB_GEN:.c=.o)

# Tokens are refused while the wall clock reads before the build (SPEC §10):
# a board without RTC or time sync must not accept expired tokens blindly.
BUILD_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

WARD_CFLAGS = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-D_POSIX_C_SOURCE=200809L -DJSMN_STRICT -DJSMN_PARENT_LINKS -DJSMN_STATIC \
	-DWARD_BUILD_EPOCH=$(or $(BUILD_EPOCH),0) \
	$(BOARD_CFLAGS) $(VARIANT_CFLAGS_$(VARIANT)) $(BOARD_DEFS) \
	$(VARIANT_DEFS_$(VARIANT)) $(BEARSSL_CFLAGS) -MMD -MP $(CFLAGS)
WARD_LDFLAGS = $(BOARD_LDFLAGS) $(VARIANT_LDFLAGS_$(VARIANT)) $(LDFLAGS)
WARD_LIBS = $(BEARSSL_LIBS) -lm

.PHONY: all run test deps unit e2e asan test-small fuzz fuzz-replay clean check-nomalloc check-limits check-examples check-wall check-family
all: $(B)/ward

# V=1 shows whole command lines.
Q	:= $(if $(V),,@)

# Before the first compile: the two library headers, or one clear line
# (the host; a cross board has board-check in boards/rules.mk).
DEPS_OK	:= $(B)/.deps-ok
$(DEPS_OK):
	@mkdir -p $(@D)
	@printf '#include <bearssl.h>\n#include <jsmn.h>\n' | \
	    $(CC) $(BEARSSL_CFLAGS) $(BOARD_CFLAGS) -E -x c - >/dev/null 2>&1 || \
	    { echo "ward: bearssl.h or jsmn.h not found: run 'make deps' (Debian: installs libbearssl-dev, libjsmn-dev; as root) and make again" >&2; exit 1; }
	@touch $@

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(WARD_CFLAGS) -c $< -o $@

$(B)/ward: $(OBJ_LIB) $(OBJ_MAIN)
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) $(WARD_LDFLAGS) -o $@ $^ $(WARD_LIBS)

$(WEB_GEN): $(WEB_SRC) src/web/embed.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN $@")
	$(Q)sh src/web/embed.sh $(WEB_SRC) > $@.tmp && mv $@.tmp $@

# --- unit tests ---------------------------------------------------------
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_OBJ := $(patsubst %.c,$(B)/%.o,$(UNIT_SRC) tests/unit/main.c)

ifeq ($(BOARD),host)
$(OBJ_LIB) $(OBJ_MAIN) $(UNIT_OBJ): | $(DEPS_OK)
endif

$(B)/tests/unit/suites.inc: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	@for f in $(UNIT_SRC); do n=$${f##*/test_}; echo "SUITE($${n%.c})"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(B)/tests/unit/main.o: tests/unit/main.c $(B)/tests/unit/suites.inc
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARD_CFLAGS) -I$(B)/tests/unit -Isrc -Itests/unit -c $< -o $@

$(B)/tests/unit/test_%.o: tests/unit/test_%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(WARD_CFLAGS) -Isrc -Itests/unit -c $< -o $@

$(B)/unit: $(UNIT_OBJ) $(OBJ_LIB)
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) $(WARD_LDFLAGS) -o $@ $^ $(WARD_LIBS)

# Under qemu-user (a board) the slow randomized unit tests run a tenth of
# their rounds (WARD_UNIT_QUICK, tests/unit/check.h); the host runs all.
unit: $(B)/unit
	$(if $(QEMU),WARD_UNIT_QUICK=1 )$(QEMU) ./$(B)/unit

# src/ec64.c in constant time: its multiplies and its signer under
# valgrind's memcheck with the multiplier, the point and the key marked
# undefined (tests/unit/ct_ec64.c)
$(B)/ct_ec64: tests/unit/ct_ec64.c src/ec64.c src/ec64.h src/ec64_table.h
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) $(filter-out -MMD -MP,$(WARD_CFLAGS)) -DEC64_CT_CHECK -Isrc \
	    $(WARD_LDFLAGS) -o $@ tests/unit/ct_ec64.c src/ec64.c $(WARD_LIBS)
.PHONY: check-ec64-ct
check-ec64-ct: $(B)/ct_ec64
	valgrind -q --log-file=$(B)/ct_ec64.valgrind ./$(B)/ct_ec64
ifeq ($(BOARD)$(VARIANT),host)
test-extra:: check-ec64-ct
endif

# --- set-up on a fresh Debian machine (idempotent; apt-get as root) -----
deps:
	@sh tests/deps.sh
ifeq ($(BOARD)$(BEARSSL_SRC),host1)
	@sh tests/boards/deps.sh -s dpkg-dev
endif

# --- run: dev mode on 127.0.0.1:8000 ------------------------------------
# ARGS= adds options: make run ARGS="--set listen=127.0.0.1:9000"
# Also https/wss on 127.0.0.1:8443 with build/dev-tls's development CA and
# EC certificate (tests/tls/tls.mk: the openssl CLI makes them at build
# time; nothing of it is committed); RUN_TLS= (empty) leaves TLS out.
ARGS	?=
RUN_TLS	?= --set tls_listen=127.0.0.1:8443 \
	   --set tls_cert=build/dev-tls/server-ec.pem \
	   --set tls_key=build/dev-tls/server-ec.key
run: deps all $(if $(RUN_TLS),build/dev-tls/.stamp)
	./$(B)/ward --dev $(RUN_TLS) $(ARGS)

# The example configs must pass --check-config as shipped.
EXAMPLES := examples/ward.conf examples/ward-board.conf
check-examples: $(B)/ward
	@p=0; f=0; for c in $(EXAMPLES); do \
	    if $(QEMU) ./$(B)/ward --check-config --config $$c; then p=$$((p + 1)); \
	    else echo "FAIL $$c"; f=$$((f + 1)); fi; done; \
	echo "check-examples: $$p passed, $$f failed"; [ $$f = 0 ]

# --- e2e: the built binary against real clients --------------------------
# Under ASan three suites are left out (run.py names them): they add no
# memory-safety coverage the others lack and cost ~1 min of the 15-min
# budget.  test_limits measures RSS (ASan's shadow memory makes the figure
# meaningless; its refusal paths run in test_refusals/test_fair_buffers),
# test_autobahn_wss repeats test_autobahn's 326 cases over TLS (the
# framing runs under ASan in test_autobahn, the TLS pump in test_tls and
# fuzz_tls), test_make drives make targets, not the binary.
E2E_SKIP_asan	:= test_limits test_autobahn_wss test_make
e2e: $(B)/ward
	WARD_BIN=$(CURDIR)/$(B)/ward WARD_E2E_SKIP="$(E2E_SKIP_$(VARIANT))" \
	    $(PYTHON) tests/e2e/run.py

# --- the whole suite ----------------------------------------------------
# Every step runs (a failure does not hide the later ones); each step's
# output is shown and kept in build/test-logs/, and tests/total.sh ends with
# one line summing every suite, "N passed, M failed".  Exit 1 if any failed.
# A step is make arguments with ',' for ' '.
TEST_STEPS := unit e2e check-nomalloc check-wall check-family check-limits VARIANT=epoll,check-limits \
	VARIANT=asan,unit VARIANT=asan,e2e VARIANT=small,unit fuzz-replay \
	check-examples bench-selftest test-extra
TEST_LOGS := build/test-logs

ifeq ($(BOARD),host)
test: deps
	@rm -rf $(TEST_LOGS); mkdir -p $(TEST_LOGS); i=10; \
	for s in $(TEST_STEPS); do i=$$((i + 1)); \
	    log=$(TEST_LOGS)/$$i-$$(echo $$s | tr ',=' '--').log; \
	    echo "=== make $$(echo $$s | tr , ' ')"; \
	    { $(MAKE) --no-print-directory $$(echo $$s | tr , ' ') 2>&1; \
	      echo $$? > $$log.rc; } | tee $$log; \
	done; echo "=== total"; sh tests/total.sh $(TEST_LOGS)/*.log
else
# a cross board: unit tests and a smoke test under qemu (boards/rules.mk)
test: test-board
endif

# --print-limits is the memory bound: its total must cover all of .bss
# (every pool and scratch array) as `size` reads it off the binary.
check-limits: $(B)/ward
	@bss=$$(size $(B)/ward | awk 'NR == 2 { print $$3 }'); \
	total=$$($(B)/ward --print-limits | awk '$$1 == "total" { print $$2 }'); \
	if [ -n "$$bss" ] && [ -n "$$total" ] && [ "$$total" -ge "$$bss" ]; then \
		echo "total $$total >= .bss $$bss"; echo "check-limits: 1 passed, 0 failed"; \
	else echo "total '$$total' < .bss '$$bss'"; echo "check-limits: 0 passed, 1 failed"; exit 1; fi

# The wall: core objects reference no src/svc/ or clinic symbol (nm), core
# sources hold no clinic word (grep).  tests/wall.sh says what is core.
check-wall: $(OBJ_LIB)
	@sh tests/wall.sh $(B)

# A family is one file and one index line: build ward with
# tests/family/hello.c and src/svc/index.c plus the line X(hello), then
# drive it (tests/family/test_family.py).
FAM	:= $(B)/family
$(FAM)/index.c: src/svc/index.c
	@mkdir -p $(@D)
	$(Q)sed 's|^\t/\* the list ends here \*/|\tX(hello) \\\n&|' $< > $@

$(FAM)/%.o: $(FAM)/%.c
	$(Q)$(CC) $(WARD_CFLAGS) -Isrc/svc -c $< -o $@

$(FAM)/hello.o: tests/family/hello.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(WARD_CFLAGS) -c $< -o $@

$(FAM)/ward: $(filter-out $(B)/src/svc/index.o $(OBJ_UNWIRED),$(OBJ_LIB)) \
	    $(OBJ_MAIN) \
	    $(FAM)/index.o $(FAM)/hello.o
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) $(WARD_LDFLAGS) -o $@ $^ $(WARD_LIBS)

-include $(FAM)/index.d $(FAM)/hello.d

check-family: $(FAM)/ward
	@WARD_BIN=$(CURDIR)/$(FAM)/ward $(PYTHON) tests/family/test_family.py \
	    $(FAM)/index.c

# src/ objects must not call the allocator (pools are static).
check-nomalloc: $(OBJ_LIB) $(OBJ_MAIN)
	@bad=$$(for o in $(filter $(B)/src/%,$(OBJ_LIB) $(OBJ_MAIN)); do \
		nm -u $$o | awk '{print $$2}' | grep -E '^(malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc)$$' | sed "s|^|$$o: |"; \
		done); if [ -n "$$bad" ]; then echo "$$bad"; echo "1 passed, 1 failed"; exit 1; fi; echo "check-nomalloc: 1 passed, 0 failed"

# --- fuzzing: libFuzzer targets; replay builds run the corpus in CI -------
FUZZ_SRC := $(filter-out tests/fuzz/fuzz_stubs.c,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_LIB_SRC := $(filter-out src/main.c src/loop.c,$(SRC_ALL)) $(PORT_SRC_linux) $(EV_SRC_poll) \
	$(WEB_GEN)
FUZZ_CFLAGS = -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -DJSMN_STRICT -DWARD_ASSERTS \
	-DJSMN_PARENT_LINKS -DJSMN_STATIC -DWARD_FUZZ -Isrc

build/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_SRC) tests/fuzz/fuzz_stubs.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(WARD_LIBS)

# The replay binaries share one set of ASan objects (compiled once, not
# once per target: that was two minutes of make test).
FR_OBJ	:= build/fuzz-replay/obj
FR_LIB	:= $(patsubst %.c,$(FR_OBJ)/%.o,$(FUZZ_LIB_SRC) tests/fuzz/fuzz_stubs.c \
	tests/fuzz/replay.c)
$(FR_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(FUZZ_CFLAGS) -fsanitize=address,undefined -MMD -MP -c $< -o $@

build/fuzz-replay/%: $(FR_OBJ)/tests/fuzz/fuzz_%.o $(FR_LIB)
	@mkdir -p $(dir $@)
	$(HOSTCC) -fsanitize=address,undefined -o $@ $^ $(WARD_LIBS)
-include $(FR_LIB:.o=.d)

fuzz: $(addprefix build/fuzz/,$(FUZZ_NAMES))
	@for n in $(FUZZ_NAMES); do mkdir -p build/fuzz/corpus-$$n; \
	  ./build/fuzz/$$n -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

fuzz-replay:
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j2) \
	    $(addprefix build/fuzz-replay/,$(FUZZ_NAMES))
	@sh tests/fuzz/replay.sh $(FUZZ_NAMES)

clean:
	rm -rf build

-include tests/bench/bench.mk
-include boards/rules.mk
-include tests/browser/browser.mk
-include tests/tls/tls.mk
-include tests/redis/redis.mk
test-extra::
-include $(OBJ_LIB:.o=.d) $(OBJ_MAIN:.o=.d) $(UNIT_OBJ:.o=.d)
