# ckptdb: the two commands of the quick start (`make demo`, `make test`) and their parts.
# Everything is driven by CMake in build/ (normal), build-asan/ (sanitizers), build-fuzz/ (clang).

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
BUILD    ?= build
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 30

.PHONY: all deps build test test-unit test-asan test-fuzz fuzz-build demo install clean format bench

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCKPT_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The whole suite: normal build, sanitizer build, then each fuzz target for FUZZ_SECONDS.
test: build
	@bash scripts/test.sh $(BUILD) $(FUZZ_SECONDS)

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

install: build
	@cmake --install $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

bench: build
	@bash bench/run-all.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz demo
