# lstmsrc — plain Makefile.
#
#   make            library + CLI (build/liblstmsrc.a, build/lstmsrc)
#   make demo       generate seed-like data, train, evaluate
#   make test       build and run every test and the examples (ends with "N passed, N failed")
#   make check      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make ZLIB=0     libc + libm only, for embedded targets: gzip-compressed CSV input is then
#                   refused with one line; the default (ZLIB=auto) uses zlib when <zlib.h> is
#                   found, ZLIB=1 insists on it
#   make bench      benchmarks, results in bench/RESULTS.md
#   make baselines  gradient-boosted trees vs lstmsrc on the real meters (needs python3-sklearn),
#                   results in bench/BASELINES.md
#   make fuzz       libFuzzer targets (clang) under ASan + UBSan, FUZZ_TIME seconds each
#
# No -ffast-math: it lets the compiler reorder float sums and drop NaN/inf handling, which would
# break byte-identical models for a fixed seed and the strict non-finite checks on input.
# -fno-trapping-math only promises that no floating-point trap handler is installed (none is),
# which lets the compiler vectorise the clamped activation loops; it changes no result.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g -fno-trapping-math
WARN    = -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wvla
CPPFLAGS_ALL = -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L
LDLIBS  = -lm -lpthread

# No BLAS: the LSTM runs on its own packed GEMM kernels (src/nn/kernels.c), which a BLAS call
# could not fuse with the gate activations; an OpenBLAS build wrote byte-identical models at
# the same speed (docs/RESULTS.md), so it is not a dependency. The benchmark still times
# OpenBLAS's sgemm at the LSTM's shapes as a reference, when it is installed.
ifdef BLAS
  ifneq ($(BLAS),none)
    $(error BLAS=$(BLAS): lstmsrc uses its own kernels and links no BLAS; leave BLAS out)
  endif
endif

# gzip input (src/data/csv.c) through zlib, optional: auto = when the compiler finds <zlib.h>
ZLIB    ?= auto
ifeq ($(ZLIB),auto)
  ZLIB_ON := $(shell printf '\043include <zlib.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
else ifeq ($(ZLIB),1)
  ZLIB_ON := 1
else ifeq ($(ZLIB),0)
  ZLIB_ON := 0
else
  $(error ZLIB must be auto, 1 or 0, not '$(ZLIB)')
endif
ifeq ($(ZLIB_ON),1)
  CPPFLAGS_ALL += -DLSTMSRC_HAVE_ZLIB
  LDLIBS += -lz
endif

# MPI=1: the CLI on MPI (mpirun -np N lstmsrc train|predict|eval, src/cli/mpi_comm.c), built
# and linked with mpicc; the library never links MPI. Default 0: no MPI anywhere. Use its own
# BUILD folder (make MPI=1 BUILD=build-mpi): the CLI's objects differ.
MPI     ?= 0
MPICC   ?= mpicc
ifeq ($(MPI),1)
  CLI_CC    = $(MPICC)
  CLI_DEFS  = -DLSTMSRC_HAVE_MPI
else ifeq ($(MPI),0)
  CLI_CC   := $(CC)
  CLI_DEFS  =
else
  $(error MPI must be 1 or 0, not '$(MPI)')
endif

ALL_CFLAGS = $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) $(PIC) $(EXTRA_CFLAGS)

# the library's layers, lowest first (scripts/layers.txt; tests/cli_layers.sh checks that no
# include runs against them), one folder each under src/
LAYERS   := $(shell sed -n 's/^\([a-z][a-z]*\) .*/\1/p' scripts/layers.txt)
LIB_SRC  = $(sort $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c)))
CLI_SRC  = $(sort $(wildcard src/cli/*.c))
TEST_SRC = $(sort $(wildcard tests/test_*.c))

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EXAMPLES = $(BUILD)/examples/stream_library $(BUILD)/examples/exported_model
# Fuzz targets, also built without libFuzzer as tests/test_fuzz_* that replay fuzz/corpus/.
FUZZ_SRC = $(filter-out fuzz/fuzz_main.c,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_REPLAY = $(FUZZ_SRC:fuzz/fuzz_%.c=$(BUILD)/tests/test_fuzz_%)
# The CLI minus main(), for fuzz targets that include a subcommand's file to reach its static
# parsers; the linker takes only the members they need.
FUZZ_CLI = $(BUILD)/libcli-fuzz.a

LIB  = $(BUILD)/liblstmsrc.a
LIBI = $(BUILD)/liblstmsrc-internal.a
CLI  = $(BUILD)/lstmsrc
# the version, from the header; the soname changes with the major number
VERSION := $(shell sed -n 's/.*define LSTMSRC_VERSION "\(.*\)"/\1/p' include/lstmsrc.h)
SONAME  = liblstmsrc.so.$(firstword $(subst ., ,$(VERSION)))
SO      = $(BUILD)/liblstmsrc.so.$(VERSION)
SYMS    = $(BUILD)/lstmsrc.syms
MAP     = $(BUILD)/lstmsrc.map
MAN     = $(BUILD)/lstmsrc.1
LD      ?= ld
OBJCOPY ?= objcopy

# make install PREFIX=... DESTDIR=...: the header, both libraries, lstmsrc.pc, the CLI and
# lstmsrc(1); make uninstall removes exactly those
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PCDIR      ?= $(LIBDIR)/pkgconfig

.PHONY: all lib cli test check demo bench baselines clean format fuzz fuzz-run examples python \
        install uninstall
all: $(LIB) $(SO) $(CLI) $(MAN)
lib: $(LIB) $(LIBI) $(SO)
cli: $(CLI)

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# csv.o is rebuilt when ZLIB changes in the same BUILD: a stamp per setting, the other removed
ZLIB_STAMP = $(BUILD)/.zlib-$(ZLIB_ON)
$(ZLIB_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/.zlib-*
	@touch $@
$(BUILD)/src/data/csv.o: $(ZLIB_STAMP)

# The library's objects are position-independent (they also make the shared library).
$(LIB_OBJ): PIC = -fPIC

# Every object as it is, every symbol global: what the CLI, the tests, the fuzz targets and the
# benchmark link (they reach internal functions).
$(LIBI): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The API's functions: every lstmsrc_*( named in the public header (a name only mentioned in a
# comment and defined nowhere is harmless). tests/cli_library.sh checks both libraries export
# nothing else.
$(SYMS): include/lstmsrc.h
	@mkdir -p $(dir $@)
	grep -o 'lstmsrc_[a-z0-9_]*(' $< | tr -d '(' | sort -u >$@
$(MAP): $(SYMS)
	{ echo 'LSTMSRC_0 {'; echo '  global:'; sed 's/.*/    &;/' $<; \
	  echo '  local: *;'; echo '};'; } >$@

# The installed static library: the objects linked into one (ld -r), then every symbol but
# the API's made local, so a program with its own transpose() or set_error() links with it.
$(LIB): $(LIB_OBJ) $(SYMS)
	@mkdir -p $(dir $@)
	rm -f $@ $(BUILD)/lstmsrc_lib.o
	$(LD) -r -o $(BUILD)/lstmsrc_lib.o $(LIB_OBJ)
	$(OBJCOPY) --keep-global-symbols=$(SYMS) $(BUILD)/lstmsrc_lib.o
	ar rcs $@ $(BUILD)/lstmsrc_lib.o

# The shared library, with a soname; it exports the API's functions only (version script).
$(SO): $(LIB_OBJ) $(MAP)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(MAP) \
	    -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(notdir $@) $(BUILD)/liblstmsrc.so

$(CLI): $(CLI_OBJ) $(LIBI)
	$(CLI_CC) $(ALL_CFLAGS) $(CLI_OBJ) $(LIBI) $(LDLIBS) -o $@

# the CLI's objects with mpicc under MPI=1; a stamp per setting rebuilds them when it changes
MPI_STAMP = $(BUILD)/.mpi-$(MPI)
$(MPI_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/.mpi-*
	@touch $@
$(CLI_OBJ): $(MPI_STAMP)
$(CLI_OBJ): CC = $(CLI_CC)
$(CLI_OBJ): CPPFLAGS_ALL += $(CLI_DEFS)

$(BUILD)/tests/%: tests/%.c tests/test.h tests/testio.h tests/testrand.h $(LIBI)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(LIBI) $(LDLIBS) $(TEST_LDFLAGS) -o $@
# every allocation of the library through the test's counting wrappers (tests/test_nomem.c)
$(BUILD)/tests/test_nomem: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
# allocations failed in turn while building a data set from arrays (tests/test_arrays.c)
$(BUILD)/tests/test_arrays: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

# the option tables against each command's --help: the CLI's objects too
$(BUILD)/tests/test_cli_options: tests/test_cli_options.c tests/test.h $(FUZZ_CLI) $(LIBI)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Isrc/cli $< $(FUZZ_CLI) $(LIBI) $(LDLIBS) -o $@

$(FUZZ_CLI): $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/test_fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_main.c $(FUZZ_CLI) $(LIBI)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_NAME='"fuzz_$*"' $< fuzz/fuzz_main.c $(FUZZ_CLI) $(LIBI) $(LDLIBS) \
	    -o $@

# the benchmark program is built by `make bench` (bench/run.sh); `make test` builds it too, so
# an API change cannot leave it behind
$(BUILD)/bench/bench_lstm: bench/bench_lstm.c $(LIBI)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(LIBI) $(LDLIBS) -o $@

test: $(CLI) $(LIB) $(SO) $(MAN) $(TEST_BIN) $(FUZZ_REPLAY) $(EXAMPLES) $(BUILD)/bench/bench_lstm
	@BUILD=$(BUILD) TEST_CC="$(CC)" TEST_CFLAGS="$(EXTRA_CFLAGS)" TEST_LDLIBS="$(LDLIBS)" \
	    sh tests/run.sh

# examples/: one program on the library API, one on nothing but a header from `export-c` (for a
# tiny model trained here in about a second), built strictly as C99; tests/cli_examples.sh runs
# both and checks them against `lstmsrc predict`.
examples: $(EXAMPLES)
$(BUILD)/examples/stream_library: examples/stream_library.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDLIBS) -o $@
$(BUILD)/examples/model.lsm: $(CLI)
	@mkdir -p $(dir $@)
	$(CLI) gen --rows 20000 --seed 1 -o $(BUILD)/examples/train.csv
	$(CLI) train $(BUILD)/examples/train.csv -o $@ --epochs 1 --hidden 16 --threads 1 --quiet >/dev/null
$(BUILD)/examples/model.h: $(BUILD)/examples/model.lsm $(CLI)
	$(CLI) export-c $< -o $@ --quiet
$(BUILD)/examples/exported_model: examples/exported_model.c $(BUILD)/examples/model.h
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic $(OPT) -I$(BUILD)/examples $< -lm -o $@

SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check:
	$(MAKE) BUILD=build-san OPT=-O1 EXTRA_CFLAGS="$(SAN)" test

# make fuzz: each target runs FUZZ_TIME seconds on a scratch corpus in FUZZ_BUILD seeded from
# fuzz/corpus/ (and the CSV fixtures); a finding stops it with exit 1 and leaves
# FUZZ_BUILD/crash-* (add the input to fuzz/corpus/ once fixed).
FUZZ_TIME ?= 60
FUZZ_BUILD ?= build-fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-run
fuzz-run: $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
	@sh fuzz/run.sh $(BUILD) $(FUZZ_TIME) $(^F)
$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_CLI) $(LIBI)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_CLI) $(LIBI) $(LDLIBS) -o $@

# lstmsrc(1), from the program's own --help texts (scripts/manpage.sh)
$(MAN): $(CLI) scripts/manpage.sh
	sh scripts/manpage.sh $(CLI) $(VERSION) >$@.tmp && mv $@.tmp $@

install: $(LIB) $(SO) $(CLI) $(MAN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PCDIR)
	install -m 644 include/lstmsrc.h $(DESTDIR)$(INCLUDEDIR)/lstmsrc.h
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/liblstmsrc.a
	install -m 755 $(SO) $(DESTDIR)$(LIBDIR)/liblstmsrc.so.$(VERSION)
	ln -sf liblstmsrc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/liblstmsrc.so
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/lstmsrc
	install -m 644 $(MAN) $(DESTDIR)$(MANDIR)/man1/lstmsrc.1
	{ echo 'prefix=$(PREFIX)'; echo 'libdir=$(LIBDIR)'; echo 'includedir=$(INCLUDEDIR)'; \
	  echo; echo 'Name: lstmsrc'; \
	  echo 'Description: learn which sources are active from one accumulated meter reading'; \
	  echo 'Version: $(VERSION)'; echo 'Libs: -L$${libdir} -llstmsrc'; \
	  echo 'Libs.private: $(filter-out -llstmsrc,$(LDLIBS))'; \
	  echo 'Cflags: -I$${includedir}'; } >$(DESTDIR)$(PCDIR)/lstmsrc.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/lstmsrc.h $(DESTDIR)$(LIBDIR)/liblstmsrc.a \
	    $(DESTDIR)$(LIBDIR)/liblstmsrc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/liblstmsrc.so $(DESTDIR)$(BINDIR)/lstmsrc \
	    $(DESTDIR)$(MANDIR)/man1/lstmsrc.1 $(DESTDIR)$(PCDIR)/lstmsrc.pc

demo: $(CLI)
	@sh scripts/demo.sh $(CLI)

bench: $(LIBI) $(CLI)
	@MAKE="$(MAKE)" CC="$(CC)" sh bench/run.sh $(BUILD)

baselines: $(CLI)
	/usr/bin/python3 bench/baselines.py --lstmsrc $(CLI)

# make python: the shared library next to the package (python/lstmsrc/liblstmsrc.so, found there
# first), so that `pip install --no-build-isolation ./python` installs the two together
python: $(SO)
	cp $(SO) python/lstmsrc/liblstmsrc.so

clean:
	rm -rf build build-san build-san-clang build-none build-fuzz

format:
	clang-format --style=file -i include/*.h src/*/*.c src/*/*.h tests/*.c tests/*.h examples/*.c \
	    bench/*.c fuzz/*.c
