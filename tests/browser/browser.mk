# tests/browser/browser.mk: `make browser-test` (issue 3) - a WebRTC offer /
# answer exchanged through ward's /ws/call/<room>/ by two pages of headless
# Chromium, each using the browser's own WebSocket and RTCPeerConnection.
#
# Included by the top Makefile (`-include tests/browser/browser.mk`); `make
# test` runs it through test-extra. The browser is Debian's chromium
# (/usr/bin/chromium); playwright-core only drives it and never downloads
# one. browser-deps is idempotent: apt-get runs (as root, or through sudo)
# only when /usr/bin/chromium is missing, `npm ci` only when node_modules is.

BROWSER_DIR	:= tests/browser
BROWSER_CHROMIUM := /usr/bin/chromium

.PHONY: browser-deps browser-test
test-extra:: browser-test

browser-deps:
	@if [ ! -x $(BROWSER_CHROMIUM) ]; then \
	  echo "browser-deps: installing chromium"; \
	  SUDO=; if [ "$$(id -u)" != 0 ]; then \
	    command -v sudo >/dev/null 2>&1 || { echo "browser-deps: need root to apt-get install chromium" >&2; exit 1; }; \
	    SUDO=sudo; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -qq --no-install-recommends chromium || { \
	    $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq --no-install-recommends chromium; } || exit 1; \
	fi
	@if [ ! -d $(BROWSER_DIR)/node_modules ]; then \
	  echo "browser-deps: npm ci --prefix $(BROWSER_DIR)"; \
	  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix $(BROWSER_DIR) \
	    --no-audit --no-fund || exit 1; \
	fi

# twice: ws:// from a blank page, then (issue 12) wss:// from ward's own
# https:// page, Chromium pinning the development certificate's key
browser-test: $(B)/ward browser-deps
	WARD_BIN=$(CURDIR)/$(B)/ward node $(BROWSER_DIR)/call.test.mjs
	WARD_BIN=$(CURDIR)/$(B)/ward node $(BROWSER_DIR)/call.test.mjs --tls

# issue 13: the dashboard, ward-client.js and the seed 003 manager in
# Chromium (screenshots to build/screenshots/, not committed).
BROWSER_SUITES_13 := dashboard.test.mjs clients.test.mjs
test-extra:: browser-test-13
.PHONY: browser-test-13
browser-test-13: $(B)/ward browser-deps
	@for t in $(BROWSER_SUITES_13); do \
	  WARD_BIN=$(CURDIR)/$(B)/ward node $(BROWSER_DIR)/$$t || exit 1; done

# issue 13: ward-client.js from Node (node:test, the `ws` package).
NODE_DIR	:= tests/node
.PHONY: node-deps node-test
test-extra:: node-test
node-deps:
	@if [ ! -d $(NODE_DIR)/node_modules ]; then \
	  echo "node-deps: npm ci --prefix $(NODE_DIR)"; \
	  npm ci --prefix $(NODE_DIR) --no-audit --no-fund || exit 1; fi
node-test: $(B)/ward node-deps
	WARD_BIN=$(CURDIR)/$(B)/ward node $(NODE_DIR)/run.mjs
