# boards/rules.mk - cross builds, tests under emulation, images, footprint.
#
# Included at the end of the Makefile, so $(B), $(OBJ_LIB), $(UNIT_OBJ)...
# exist.  A board is boards/<name>.mk (see docs/boards.md); besides the
# Makefile's variables it may set:
#   BOARD_ARCH      Debian architecture (armhf, arm64): multiarch for deps
#   BOARD_DEPS      Debian packages `make BOARD=x deps` installs
#   BEARSSL_SRC     1: build BearSSL from `apt-get source bearssl` with $(CC)
#                   into $(BEARSSL_DIR) (toolchains Debian's .a cannot serve;
#                   the host, for BearSSL at -O2: boards/host.mk)
#   BEARSSL_TEST    test: run BearSSL's own tests on that build (native only)
#   JSMN_INC        a directory to copy jsmn.h into (compilers that do not
#                   search /usr/include, e.g. musl-gcc)
#   BOARD_LISTEN, BOARD_DATA_DIR, BOARD_CORS, BOARD_LOG
#                   run-time defaults: -D in BOARD_DEFS and the image's ward.conf
#   BOARD_LIBC      glibc (default) or musl: for the footprint table
#   BOARD_UBSAN     0: no UBSan unit run (no sanitizer run-time, e.g. musl)
#   BOARD_POOL_TEST 1: test-board also runs `pool` (the whole connection
#                   pool held under $(QEMU) within the --print-limits total)
#   BOARD_TEST_STEPS  what `make BOARD=x test-board` runs (default below)
#
# Targets (all take BOARD=x):
#   deps            + the board's toolchain, multiarch libs, BearSSL build
#   test-board      unit tests under $(QEMU) (board pools, tiny pools, UBSan),
#                   the overlay image, and an end-to-end smoke test of the
#                   built server under $(QEMU); with BOARD_POOL_TEST := 1
#                   also `pool`
#   abuse           tests/e2e/test_abuse.py under $(QEMU), scaled to the pools
#   pool            max_connections WebSocket connections held, the RSS
#                   growth of the process <= the --print-limits total
#   e2e-twin        the whole tests/e2e suite under $(QEMU) against the
#                   board's toolchain/CPU/port built with the laptop's pools
#                   and defaults: behaviour must equal the host's
#   image           build/<board>/ward-<board>-overlay.tar.gz (incl. the
#                   man page docs/ward.8 as /usr/share/man/man8/ward.8)
#   install         DESTDIR= PREFIX=/usr INIT="systemd sysv": for SDK recipes
#   test-boards     test-board for $(TEST_BOARDS)
#   e2e-twins       e2e-twin for $(TEST_BOARDS)
#   footprint       table for $(FOOTPRINT_BOARDS) -> stdout and README.md

.PHONY: abuse deps-board board-check test-board test-boards e2e-twin e2e-twins \
	image install smoke pool check-packaging footprint footprint-row board-unit-small board-unit-ubsan \
	board-info

TEST_BOARDS	?= bbb rpi4 static armhf-static
# Sub-makes compile in parallel unless a jobserver (make -jN) already runs.
BOARD_JOBS	?= $(shell nproc 2>/dev/null || echo 2)
SUBMAKE_J	= $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(BOARD_JOBS))
FOOTPRINT_BOARDS ?= host bbb imx6ull rpi4 static armhf-static
STRIP		?= $(CROSS_COMPILE)strip
SIZE		?= $(CROSS_COMPILE)size
BOARD_AR	?= $(CROSS_COMPILE)ar
BOARD_LOG	?= stderr
BOARD_CORS	?= *

# UBSan without ASan: its run-time works under qemu-user (ASan's shadow
# memory does not).  float-cast-overflow is not part of "undefined".
VARIANT_CFLAGS_ubsan	?= -O1 -g -fsanitize=undefined,float-cast-overflow \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
VARIANT_LDFLAGS_ubsan	?= -fsanitize=undefined,float-cast-overflow

# --- deps: toolchain, multiarch BearSSL, source-built BearSSL ------------
ifneq ($(BOARD),host)
deps: deps-board
endif

# tests/deps.sh first (host tools), so two apt-get never run at once.
deps-board:
	@sh tests/deps.sh
	@sh tests/boards/deps.sh $(if $(BOARD_ARCH),-a $(BOARD_ARCH)) \
	    $(if $(BEARSSL_SRC),-s) $(BOARD_DEPS)
ifneq ($(BEARSSL_SRC),)
	@$(MAKE) -s --no-print-directory $(BEARSSL_DIR)/build/libbearssl.a \
	    $(if $(JSMN_INC),$(JSMN_INC)/jsmn.h)
endif

ifneq ($(BEARSSL_SRC),)
BOARD_PREREQ	+= $(BEARSSL_DIR)/build/libbearssl.a
# (a rebuilt library relinks the server; $^ then names it once more)
$(B)/ward: $(BEARSSL_DIR)/build/libbearssl.a
BEARSSL_BUILD_CFLAGS ?= -W -Wall -Os $(filter -m%,$(BOARD_CFLAGS))
$(BEARSSL_DIR)/build/libbearssl.a:
	sh tests/boards/bearssl.sh "$(BEARSSL_DIR)" "$(CC)" "$(BOARD_AR)" \
	    "$(BEARSSL_BUILD_CFLAGS)" $(BEARSSL_TEST)
endif
ifneq ($(JSMN_INC),)
BOARD_PREREQ	+= $(JSMN_INC)/jsmn.h
$(JSMN_INC)/jsmn.h: /usr/include/jsmn.h
	@mkdir -p $(@D)
	cp $< $@
endif

# A missing cross compiler or BearSSL: say what to run, once, up front.
board-check:
	@command -v $(firstword $(CC)) >/dev/null 2>&1 || { echo \
	    "board $(BOARD): no compiler '$(CC)': run 'make BOARD=$(BOARD) deps' (as root)" >&2; exit 1; }
	@if [ -z "$(BEARSSL_DIR)$(BEARSSL_SRC)" ] && [ "$(filter -l:libbearssl.a,$(BEARSSL_LIBS))" ] && \
	    [ "$$($(CC) -print-file-name=libbearssl.a)" = libbearssl.a ]; then echo \
	    "board $(BOARD): no BearSSL for $(CC): run 'make BOARD=$(BOARD) deps' (as root) or give BEARSSL_DIR=" >&2; exit 1; fi

ifneq ($(BOARD),host)
BOARD_PREREQ	+= board-check
endif
ifneq ($(strip $(BOARD_PREREQ)),)
$(OBJ_LIB) $(OBJ_MAIN) $(UNIT_OBJ): | $(BOARD_PREREQ)
endif

board-info:
	@echo "BOARD=$(BOARD): $(BOARD_DESC)"
	@echo "  CC=$(CC) PORT=$(PORT) PORT_EV=$(PORT_EV) QEMU=$(QEMU)"
	@echo "  BOARD_CFLAGS=$(BOARD_CFLAGS)"
	@echo "  BOARD_DEFS=$(BOARD_DEFS)"
	@echo "  BEARSSL_CFLAGS=$(BEARSSL_CFLAGS) BEARSSL_LIBS=$(BEARSSL_LIBS)"

# --- the image: an overlay for Buildroot/Yocto/any rootfs ----------------
IMAGE_DIR	:= $(B)/overlay
IMAGE		:= $(B)/ward-$(BOARD)$(if $(VARIANT),-$(VARIANT))-overlay.tar.gz
IMAGE_EPOCH	:= $(or $(BUILD_EPOCH),0)

# The board's default config, from packaging/ward.conf.in.
$(B)/ward.conf: packaging/ward.conf.in boards/$(BOARD).mk
	@mkdir -p $(@D)
	sed -e 's|@BOARD_DESC@|$(BOARD_DESC)|' -e 's|@LISTEN@|$(BOARD_LISTEN)|' \
	    -e 's|@DATA_DIR@|$(BOARD_DATA_DIR)|' -e 's|@CORS@|$(BOARD_CORS)|' \
	    -e 's|@LOG@|$(BOARD_LOG)|' -e 's| *$$||' $< > $@

image: $(IMAGE)
	@echo "image: $(IMAGE)"
	@tar -tvzf $(IMAGE)

$(IMAGE): $(B)/ward $(B)/ward.conf packaging/ward.service packaging/S50ward docs/ward.8
	rm -rf $(IMAGE_DIR)
	install -d -m 0755 $(IMAGE_DIR)/usr/sbin $(IMAGE_DIR)/etc/ward \
	    $(IMAGE_DIR)/etc/ward/tls \
	    $(IMAGE_DIR)/usr/share/man/man8 \
	    $(IMAGE_DIR)/etc/init.d $(IMAGE_DIR)/usr/lib/systemd/system \
	    $(IMAGE_DIR)/etc/systemd/system/multi-user.target.wants
	install -d -m 0750 $(IMAGE_DIR)/var/lib/ward
	$(STRIP) --strip-all -o $(IMAGE_DIR)/usr/sbin/ward $(B)/ward
	chmod 0755 $(IMAGE_DIR)/usr/sbin/ward
	install -m 0644 $(B)/ward.conf $(IMAGE_DIR)/etc/ward/ward.conf
	install -m 0644 packaging/ward.service \
	    $(IMAGE_DIR)/usr/lib/systemd/system/ward.service
	ln -s /usr/lib/systemd/system/ward.service \
	    $(IMAGE_DIR)/etc/systemd/system/multi-user.target.wants/ward.service
	install -m 0755 packaging/S50ward $(IMAGE_DIR)/etc/init.d/S50ward
	install -m 0644 docs/ward.8 $(IMAGE_DIR)/usr/share/man/man8/ward.8
	tar --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime=@$(IMAGE_EPOCH) -C $(IMAGE_DIR) -cf - etc usr var | gzip -9n > $@.tmp
	mv $@.tmp $@

# --- install: for Buildroot/Yocto/OpenWrt recipes (no strip: they do it) --
PREFIX		?= /usr
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= /etc
LOCALSTATEDIR	?= /var
UNITDIR		?= /usr/lib/systemd/system
INITDIR		?= $(SYSCONFDIR)/init.d
INITNAME	?= S50ward
INIT		?= systemd sysv

MANDIR		?= $(PREFIX)/share/man

install: $(B)/ward $(B)/ward.conf
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/ward \
	    $(DESTDIR)$(SYSCONFDIR)/ward/tls \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/ward $(DESTDIR)$(SBINDIR)/ward
	install -m 0644 docs/ward.8 $(DESTDIR)$(MANDIR)/man8/ward.8
	install -m 0644 $(B)/ward.conf $(DESTDIR)$(SYSCONFDIR)/ward/ward.conf
	install -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/lib/ward
ifneq ($(filter systemd,$(INIT)),)
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/sbin/ward|$(SBINDIR)/ward|g' -e 's|/etc/ward/|$(SYSCONFDIR)/ward/|g' \
	    packaging/ward.service > $(DESTDIR)$(UNITDIR)/ward.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ward.service
endif
ifneq ($(filter sysv,$(INIT)),)
	install -d -m 0755 $(DESTDIR)$(INITDIR)
	sed -e 's|/usr/sbin/ward|$(SBINDIR)/ward|g' -e 's|/etc/ward/|$(SYSCONFDIR)/ward/|g' \
	    packaging/S50ward > $(DESTDIR)$(INITDIR)/$(INITNAME)
	chmod 0755 $(DESTDIR)$(INITDIR)/$(INITNAME)
endif

# --- tests for one board -------------------------------------------------
# smoke: the board's own binary and default config, under $(QEMU); also
# https and a wss:// echo with build/dev-tls's certificates (tls.mk).
smoke: $(B)/ward $(B)/ward.conf
	$(PYTHON) tests/boards/smoke.py $(if $(QEMU),--qemu "$(QEMU)") \
	    --config $(B)/ward.conf --tls-dir build/dev-tls $(B)/ward

# pool: the board's binary under $(QEMU) with every connection of
# max_connections open and echoing, one more refused (503); the process's
# RSS growth must stay within the --print-limits total.
pool: $(B)/ward
	$(PYTHON) tests/boards/pool.py $(if $(QEMU),--qemu "$(QEMU)") $(B)/ward

# abuse: tests/e2e/test_abuse.py against the board's binary and pools under
# $(QEMU) (counts scaled to its --print-limits; p99 bound BOARD_ABUSE_P99_MS
# since the CPU is emulated).
BOARD_ABUSE_P99_MS ?= 100
abuse: $(B)/ward
	printf '#!/bin/sh\nexec %s %s "$$@"\n' "$(QEMU)" "$(CURDIR)/$(B)/ward" \
	    > $(B)/ward-run && chmod +x $(B)/ward-run
	WARD_BIN=$(CURDIR)/$(B)/ward-run WARD_ABUSE_P99_MS=$(BOARD_ABUSE_P99_MS) \
	    $(PYTHON) tests/e2e/test_abuse.py

# The service files, driven for real: needs a binary that runs here.
check-packaging: $(B)/ward
	sh tests/boards/check_packaging.sh $(B)/ward

board-unit-small:
	$(MAKE) --no-print-directory $(SUBMAKE_J) VARIANT=small BOARD_DEFS= unit
board-unit-ubsan:
	$(MAKE) --no-print-directory $(SUBMAKE_J) VARIANT=ubsan unit

# BOARD_UBSAN := 0 for toolchains without a sanitizer run-time (musl).
BOARD_UBSAN ?= 1
# BOARD_POOL_TEST := 1 in a board's .mk: the ARMv7 boards (bbb, imx6ull).
BOARD_POOL_TEST ?= 0
# BOARD_ABUSE_TEST := 1: test-board also runs `abuse` (bbb).
BOARD_ABUSE_TEST ?= 0
BOARD_TEST_STEPS ?= all unit board-unit-small \
	$(if $(filter 1,$(BOARD_UBSAN)),board-unit-ubsan) \
	image smoke $(if $(filter 1,$(BOARD_POOL_TEST)),pool) \
	$(if $(filter 1,$(BOARD_ABUSE_TEST)),abuse) \
	$(if $(QEMU),,check-packaging)

# Every step runs even when an earlier one fails; timings for CI planning.
test-board: deps
	@fail=""; for t in $(BOARD_TEST_STEPS); do \
	    t0=$$(date +%s.%N); echo "=== $(BOARD): $$t"; \
	    $(MAKE) --no-print-directory $(SUBMAKE_J) $$t || fail="$$fail $$t"; \
	    echo "=== $(BOARD): $$t done in $$(awk -v a=$$t0 -v b=$$(date +%s.%N) \
	        'BEGIN { printf "%.1f", b - a }') s"; \
	done; if [ -n "$$fail" ]; then echo "=== $(BOARD): FAILED:$$fail"; exit 1; fi; \
	echo "=== $(BOARD): all passed ($(BOARD_TEST_STEPS))"

# The twin: the board's compiler, CPU flags, libc and port, with the
# laptop's pools and run-time defaults (BOARD_DEFS emptied), so the whole
# e2e suite applies unchanged.  test_noalloc is left out: its LD_PRELOAD
# shim is a host library and cannot see into a qemu-user guest or a static
# binary; test_make drives the host's make, not the board's binary.
TWIN_B		:= build/$(BOARD)-twin
TWIN_SUITES	:= $(filter-out test_noalloc test_make,$(basename $(notdir \
	$(wildcard tests/e2e/test_*.py))))
e2e-twin:
	$(MAKE) --no-print-directory $(SUBMAKE_J) B=$(TWIN_B) BOARD_DEFS= VARIANT= $(TWIN_B)/ward
	printf '#!/bin/sh\nexec %s %s "$$@"\n' "$(QEMU)" "$(CURDIR)/$(TWIN_B)/ward" \
	    > $(TWIN_B)/ward-run && chmod +x $(TWIN_B)/ward-run
	WARD_BIN=$(CURDIR)/$(TWIN_B)/ward-run $(PYTHON) tests/e2e/run.py $(TWIN_SUITES)

# --- several boards --------------------------------------------------------
test-boards:
	@fail=""; for b in $(TEST_BOARDS); do \
	    $(MAKE) --no-print-directory BOARD=$$b test-board || fail="$$fail $$b"; \
	done; if [ -n "$$fail" ]; then echo "test-boards: FAILED:$$fail"; \
	echo "$(words $(TEST_BOARDS)) boards: $$(($(words $(TEST_BOARDS)) - $$(echo $$fail | wc -w))) passed, $$(echo $$fail | wc -w) failed"; exit 1; fi; \
	echo "test-boards: $(words $(TEST_BOARDS)) passed, 0 failed"

e2e-twins:
	@fail=""; for b in $(TEST_BOARDS); do \
	    $(MAKE) --no-print-directory BOARD=$$b e2e-twin || fail="$$fail $$b"; \
	done; if [ -n "$$fail" ]; then echo "e2e-twins: FAILED:$$fail"; exit 1; fi

# --- footprint -------------------------------------------------------------
# One Markdown row for this board: stripped size, size(1) of the unstripped
# binary, the --print-limits total (the static pools), run under $(QEMU),
# and the TLS part of it: the tls_connections pool (slots x bytes per slot)
# and with the session cache and the two credential slots.
footprint-row: $(B)/ward
	@$(STRIP) --strip-all -o $(B)/ward.stripped $(B)/ward
	@set -e; st=$$(wc -c < $(B)/ward.stripped); \
	set -- $$($(SIZE) -B $(B)/ward | awk 'NR == 2 { print $$1, $$2, $$3 }'); \
	lim=$$($(QEMU) ./$(B)/ward --print-limits | awk '$$1 == "total" { print $$2 }'); \
	conns=$$($(QEMU) ./$(B)/ward --print-limits | awk '$$1 == "connections" { print $$2 }'); \
	tls=$$($(QEMU) ./$(B)/ward --print-limits | awk ' \
	    $$1 == "tls_connections" { n = $$2; per = $$3 } \
	    $$1 ~ /^tls_/ { t += $$4 } \
	    END { if (n == "") print "none"; else \
		printf "%d x %.1f KiB; %.2f MiB\n", n, per / 1024, t / 1048576 }'); \
	kb() { echo "$$1" | awk '{ printf "%.1f KiB", $$1 / 1024 }'; }; \
	mb() { echo "$$1" | awk '{ printf "%.1f MiB", $$1 / 1048576 }'; }; \
	echo "| $(BOARD) | $(BOARD_ARCH_LABEL) | $$(kb $$st) | $$(kb $$1) | $$(kb $$2) | $$(mb $$3) | $$conns | $$(mb $$lim) | $$tls |"

BOARD_ARCH_LABEL ?= $(or $(BOARD_ARCH),$(shell dpkg --print-architecture)) $(if \
	$(filter -static,$(BOARD_LDFLAGS)),static ,)$(BOARD_LIBC)
BOARD_LIBC ?= glibc

footprint:
	@set -e; rows=build/footprint.md; mkdir -p build; { \
	echo "| board | arch, libc | binary (stripped) | text | data | bss | connection slots (incl. 8 spare) | --print-limits total | of which TLS: slots x per slot; with sessions, credentials |"; \
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"; } > $$rows.tmp; \
	for b in $(FOOTPRINT_BOARDS); do \
	    $(MAKE) --no-print-directory $(SUBMAKE_J) -s BOARD=$$b all >/dev/null 2>build/footprint-$$b.log || \
	        { echo "| $$b | (build failed: see build/footprint-$$b.log) |||||||" >> $$rows.tmp; continue; }; \
	    $(MAKE) --no-print-directory -s BOARD=$$b footprint-row >> $$rows.tmp; \
	done; mv $$rows.tmp $$rows; cat $$rows; \
	sh tests/boards/footprint.sh README.md $$rows

# `make test` (host) ends with the cross set: ~1.5 min warm, ~3 min on a
# fresh machine (apt, two BearSSL builds).  TEST_EXTRA_BOARDS=0 skips it.
TEST_EXTRA_BOARDS ?= 1
ifeq ($(TEST_EXTRA_BOARDS),1)
test-extra::
	$(MAKE) --no-print-directory test-boards
endif

# The small-pool build (VARIANT=small: 8 connections, 4 I/O buffers)
# against real clients: a dry pool must stall nobody (issue 9, finding 8).
# Not a tests/e2e/test_*.py: run.py runs those against the laptop build.
.PHONY: e2e-small
e2e-small: $(B)/ward
	WARD_BIN=$(CURDIR)/$(B)/ward $(PYTHON) tests/e2e/small_pools.py

test-extra::
	$(MAKE) --no-print-directory VARIANT=small e2e-small
