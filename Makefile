# corpusstat - build, test, demo, bench.  `make help` lists the targets.
#
# One build folder per configuration: build/release (default), build/asan.
# WERROR=1 turns warnings into errors (CI sets it).

CC      ?= cc
PKGS    := libzstd libxxhash libutf8proc
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CONFIG  ?= release
ifeq ($(CONFIG),asan)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
OPT     := -O2 -g
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lzstd -lxxhash -lutf8proc)
CPPFLAGS_ALL := -D_GNU_SOURCE -Iengine/include -Iengine/src
CFLAGS_ALL = -std=c11 $(OPT) -fopenmp $(WARN) $(PKG_CFLAGS) $(CPPFLAGS_ALL) $(CFLAGS)
LDLIBS_ALL = -fopenmp $(PKG_LIBS) -lm $(LDFLAGS)

B       := build/$(CONFIG)
LIB_SRC := $(wildcard engine/src/*.c)
LIB_OBJ := $(LIB_SRC:engine/src/%.c=$(B)/obj/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
# Each fuzz target (tests/fuzz/fuzz_<t>.c) is also a test: test_fuzz_<t>
# replays its saved corpus, tests/fuzz/<t>/, built with $(CC).
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%) $(FUZZ_TARGETS:%=$(B)/tests/test_fuzz_%)

.PHONY: all test demo bench asan fuzz clean help deps deps-demo deps-fuzz

all: $(B)/corpusstat $(B)/corpusgen $(B)/stages $(TEST_BIN)

help:
	@echo "make            build build/release/corpusstat and the unit tests"
	@echo "make test       install missing packages, build, run every test (last line: N passed, N failed)"
	@echo "make demo       install, build, fetch the Brown corpus, count it, show the tables"
	@echo "make bench      throughput on a large generated corpus (BENCH_SIZE=1024, 4G, ...)"
	@echo "make asan       build with AddressSanitizer+UBSan and run the tests"
	@echo "make fuzz       build the libFuzzer targets with clang (build/fuzz/fuzz_*; tests/fuzz/README.md)"
	@echo "make clean      remove build/"
	@echo "make deps       only install missing Debian packages (scripts/install-deps.sh)"

deps:
	@scripts/install-deps.sh

deps-demo:
	@scripts/install-deps.sh --demo

deps-fuzz:
	@scripts/install-deps.sh --fuzz

$(B)/obj/%.o: engine/src/%.c engine/include/corpusstat.h $(wildcard engine/src/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libcorpusstat.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/corpusstat: engine/cli/main.c $(B)/libcorpusstat.a
	$(CC) $(CFLAGS_ALL) $< $(B)/libcorpusstat.a $(LDLIBS_ALL) -o $@

# The seeded corpus generator that tests and benchmarks share (datasets/gen/README.md).
$(B)/corpusgen: datasets/gen/corpusgen.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $< $(LDLIBS_ALL) -o $@

# The floor of each counting stage on one core (bench/stages.c; bench/run.py runs it).
$(B)/stages: bench/stages.c $(B)/libcorpusstat.a
	$(CC) $(CFLAGS_ALL) $< $(B)/libcorpusstat.a $(LDLIBS_ALL) -o $@

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libcorpusstat.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Itests/unit $< $(B)/libcorpusstat.a $(LDLIBS_ALL) -o $@

$(B)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(B)/libcorpusstat.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Itests/fuzz -DFUZZ_CORPUS='"$(CURDIR)/tests/fuzz/$*"' $< tests/fuzz/replay.c \
		$(B)/libcorpusstat.a $(LDLIBS_ALL) -o $@

# libFuzzer builds: clang, ASan+UBSan, coverage on the library too. Not part
# of `all`: clang, libFuzzer and LLVM's OpenMP are only needed here.
FZ      := build/fuzz
FZ_CC   := clang
FZ_FLAGS = -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fopenmp $(PKG_CFLAGS) $(CPPFLAGS_ALL)
FZ_OBJ  := $(LIB_SRC:engine/src/%.c=$(FZ)/obj/%.o)

$(FZ)/obj/%.o: engine/src/%.c engine/include/corpusstat.h $(wildcard engine/src/*.h)
	@mkdir -p $(@D)
	$(FZ_CC) $(FZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FZ_OBJ)
	$(FZ_CC) $(FZ_FLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(FZ_OBJ) $(PKG_LIBS) -lm -o $@

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)

test: deps
	@$(MAKE) --no-print-directory all
	CS_BUILD=$(B) python3 tests/run.py

asan: deps
	@$(MAKE) --no-print-directory CONFIG=asan all
	ASAN_OPTIONS=detect_leaks=1 CS_BUILD=build/asan python3 tests/run.py

demo: deps-demo
	@$(MAKE) --no-print-directory all
	scripts/demo.sh

bench: all
	bench/run.sh

clean:
	rm -rf build
