# Thin wrapper around Meson. The two commands of the README:
#   make demo    install dependencies, build, run `prpath demo`
#   make check   install dependencies, build with -Werror, run every test
BUILD ?= build
ASAN_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
# clang checks what gcc's UBSan does not: pointer overflow, unsigned
# wraparound (PP_WRAPS marks where it is the algorithm), lossy implicit
# conversions. Reports abort the run.
CLANG_SAN = -fsanitize=address,undefined,unsigned-integer-overflow,implicit-integer-truncation -fno-sanitize-recover=all

.PHONY: all deps demo check check-asan check-clang clean
all: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --werror
	ninja -C $(BUILD)

deps:
	@tools/install-deps.sh

demo: all
	./$(BUILD)/src/cli/prpath demo

check: deps
	tools/run-tests.sh $(BUILD)

# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
check-asan: deps
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	tools/run-tests.sh $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

# every fuzz corpus replayed by a clang build with the strict sanitizers
check-clang: deps
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	CC=clang tools/run-tests.sh $(CLANG_BUILD) -Dtests=false -Db_lundef=false \
		"-Dc_args=$(CLANG_SAN)" "-Dc_link_args=$(CLANG_SAN)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD)
