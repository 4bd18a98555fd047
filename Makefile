# `make run` and `make test` are the two entry points; both install what is missing first.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: setup configure build run test bench clean

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/portico serve --config conf/portico.toml

test: build
	@scripts/test $(BUILD)

bench: build
	bench/footprint $(BUILD)/portico
	bench/token $(BUILD)/portico
	bench/control-plane $(BUILD)/portico
	bench/gateway $(BUILD)/portico

clean:
	rm -rf $(BUILD)
