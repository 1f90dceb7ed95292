# Thin wrapper around Meson. The two commands of the README:
#   make demo    install dependencies, build, run `prpath demo`
#   make check   install dependencies, build with -Werror, run every test
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps demo check check-asan clean
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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BUILD).*.log $(ASAN_BUILD).*.log
