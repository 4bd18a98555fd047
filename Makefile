# `make run` and `make test` are the two entry points; both install what is missing first.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: setup configure build run test bench clean

# The portals (web/) are rebuilt only when a file of theirs changed since the last build.
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -path web/dist -prune \
                 -o -path web/test-artifacts -prune -o -type f -print 2>/dev/null)
WEB_STAMP := web/dist/.built

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure $(WEB_STAMP)
	@cmake --build $(BUILD) -j $(JOBS)

# scripts/setup (through configure) has installed the Node packages the lock file pins.
$(WEB_STAMP): $(WEB_SOURCES) | configure
	cd web && npm run build
	@touch $@

run: build
	$(BUILD)/portico serve --config conf/portico.toml

test: build
	@scripts/test $(BUILD)

bench: build
	bench/footprint $(BUILD)/portico
	bench/token $(BUILD)/portico
	bench/control-plane $(BUILD)/portico
	bench/gateway $(BUILD)/portico
	bench/cluster $(BUILD)/portico

clean:
	rm -rf $(BUILD)
