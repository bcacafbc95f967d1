# lstmsrc — plain Makefile.
#
#   make            library + CLI (build/liblstmsrc.a, build/lstmsrc)
#   make demo       generate seed-like data, train, evaluate
#   make test       build and run every test (ends with "N passed, N failed")
#   make check      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make BLAS=none  libc + libm only (own GEMM kernels), for embedded targets
#   make bench      benchmarks, results in bench/RESULTS.md
#
# No -ffast-math: it lets the compiler reorder float sums and drop NaN/inf handling, which would
# break byte-identical models for a fixed seed and the strict non-finite checks on input.
# -fno-trapping-math only promises that no floating-point trap handler is installed (none is),
# which lets the compiler vectorise the clamped activation loops; it changes no result.

CC      ?= cc
BLAS    ?= openblas
BUILD   ?= build
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g -fno-trapping-math
WARN    = -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wvla
CPPFLAGS_ALL = -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L
LDLIBS  = -lm -lpthread

ifeq ($(BLAS),openblas)
  CPPFLAGS_ALL += -DLSTMSRC_USE_CBLAS
  LDLIBS += -lopenblas
else ifeq ($(BLAS),none)
else
  $(error BLAS must be openblas or none, not '$(BLAS)')
endif

ALL_CFLAGS = $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) $(EXTRA_CFLAGS)

LIB_SRC  = $(sort $(wildcard src/*.c))
CLI_SRC  = $(sort $(wildcard src/cli/*.c))
TEST_SRC = $(sort $(wildcard tests/test_*.c))

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

LIB = $(BUILD)/liblstmsrc.a
CLI = $(BUILD)/lstmsrc

.PHONY: all lib cli test check demo bench clean format
all: $(LIB) $(CLI)
lib: $(LIB)
cli: $(CLI)

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*.h src/cli/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/test.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(LIB) $(LDLIBS) -o $@

test: $(CLI) $(TEST_BIN)
	@BUILD=$(BUILD) sh tests/run.sh

SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check:
	$(MAKE) BUILD=build-san OPT=-O1 EXTRA_CFLAGS="$(SAN)" test

demo: $(CLI)
	@sh scripts/demo.sh $(CLI)

bench: $(LIB) $(CLI)
	@sh bench/run.sh $(BUILD)

clean:
	rm -rf build build-san build-none

format:
	clang-format -i include/*.h src/*.c src/*.h src/cli/*.c src/cli/*.h tests/*.c tests/*.h
