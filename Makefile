# Huddle quick start. `make run` and `make test` each install what they need on a fresh Debian 12.
BUILD_ROOT ?= build
JOBS ?= $(shell nproc)
CMAKE_GEN := -G Ninja

.PHONY: run test build-release build-test deps bench format clean

deps:
	@scripts/ensure_deps.sh

build-release: deps
	@cmake -S . -B $(BUILD_ROOT)/release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release \
	  -DHUDDLE_BUILD_TESTS=OFF -DHUDDLE_BUILD_BENCH=OFF > /dev/null
	@cmake --build $(BUILD_ROOT)/release --target huddle-server -j $(JOBS)

# Starts huddle-server on http://127.0.0.1:8080 with its RocksDB store in ./data.
run: build-release
	@$(BUILD_ROOT)/release/server/app/huddle-server --listen 127.0.0.1:8080 --data-dir ./data

build-test: deps
	@cmake -S . -B $(BUILD_ROOT)/test $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
	@cmake --build $(BUILD_ROOT)/test -j $(JOBS)

# Builds everything (server, tests, bench harness) and runs every suite through ctest.
test: build-test
	@cd $(BUILD_ROOT)/test && ctest --output-on-failure --timeout 600 -j 2

bench: deps
	@scripts/bench.sh

format:
	@scripts/format.sh --fix

clean:
	rm -rf $(BUILD_ROOT)
