# libFuzzer targets for the parsers that read hostile input (included by the
# Makefile). Each tests/fuzz/fuzz_<name>.c is linked with the user/ modules in
# FUZZ_DEPS_<name>, all compiled again with clang, ASan, UBSan and coverage
# into $(O)/fuzz/ (the normal objects stay untouched).
#
#   make fuzz-build                  fuzzers and seed corpora only
#   make fuzz                        run each fuzzer FUZZ_SECONDS (default 20)
#   make fuzz FUZZ_SECONDS=600       the long run; corpora grow in $(O)/fuzz/corpus/
#   tests/fuzz/run.sh $(O) 10        what a quick check runs
#
# Crashes land in $(O)/fuzz/crashes/<name>/; replay one with
#   $(O)/fuzz/fuzz_<name> $(O)/fuzz/crashes/<name>/crash-...

FUZZ_CC ?= $(CLANG)
FUZZ_SECONDS ?= 20
FUZZ_DIR := $(O)/fuzz
FUZZ_NAMES := elf symbolize goruntime ctl_proto config procfs unwind ustacks textsafe cgroup \
	      sampler_table podinfo report_read budget_file pprof_read http_auth
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra \
	       -Wno-unused-parameter -Wmissing-prototypes -D_GNU_SOURCE -MMD -MP \
	       -Iinclude -Iuser -I$(O) -I$(O)/gen $(FUZZ_SAN)
FUZZ_LDLIBS := -lelf -ldw -lz -lstdc++ -lm -ljson-c -lcapstone -lprotobuf-c

FUZZ_DEPS_elf := elf elf_sym sampler
FUZZ_DEPS_symbolize := symbolize elf elf_sym debugfile symbolize_module symbolize_inline
FUZZ_DEPS_goruntime := goruntime gobuildinfo gopclntab govars elf elf_sym
FUZZ_DEPS_ctl_proto := ctl_proto json
FUZZ_DEPS_config := config rules readfile
FUZZ_DEPS_procfs := procfs cgroup cgroup_ns readfile
FUZZ_DEPS_unwind := unwind procfs
FUZZ_DEPS_ustacks := ustacks
FUZZ_DEPS_textsafe := textsafe
FUZZ_DEPS_cgroup := cgroup cgroup_ns container
FUZZ_DEPS_podinfo := podinfo readfile
FUZZ_DEPS_budget_file := budget_file budget size readfile
FUZZ_DEPS_http_auth := http_auth readfile
FUZZ_DEPS_report_read := report_read diff readfile diff_report textsafe xml json
FUZZ_DEPS_pprof_read := pprof_read profile.pb-c diff model unsample
$(FUZZ_DIR)/obj/pprof_read.o $(FUZZ_DIR)/obj/profile.pb-c.o: $(PROTO_HDRS)
# the sampler library's tables (sampler/, not user/): 8 near slots, 64 far
FUZZ_DEPS_sampler_table := table
vpath table.c sampler
$(FUZZ_DIR)/fuzz_sampler_table: FUZZ_CFLAGS += -DTABLE_SLOTS_LOG2=6 -DNEAR_SLOTS_LOG2=3

.PHONY: fuzz fuzz-build
# Built only as prerequisites: keep them, or every build relinks from scratch.
.SECONDARY: $(patsubst %,$(FUZZ_DIR)/obj/%.o,$(sort $(foreach n,$(FUZZ_NAMES),$(FUZZ_DEPS_$(n)))))

$(FUZZ_DIR)/obj/%.o: %.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c \
		$$(addprefix $(FUZZ_DIR)/obj/,$$(addsuffix .o,$$(FUZZ_DEPS_$$*)))
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(filter %.o,$^) $(FUZZ_LDLIBS) -o $@

# The seed generator is a plain host tool: no sanitizers, no coverage.
$(FUZZ_DIR)/mkseeds: tests/fuzz/mkseeds.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE $< \
		-lelf -lz -o $@

# Seeds reuse the symboliser and Go fixtures; rebuilt when any input changes.
FUZZ_SEED_INPUTS := tests/fuzz/seeds.sh $(FUZZ_DIR)/mkseeds \
	$(wildcard tests/fuzz/seeds/*/*) deploy/memsightd.conf \
	$(wildcard tests/fixtures/config/*.conf) $(wildcard tests/fixtures/budgets/*) \
	$(shell find tests/fixtures/container -name config.json 2>/dev/null) \
	$(wildcard tests/fixtures/diff/*) $(wildcard tests/fixtures/pprof/*) \
	$(SYMFIX)/sym_fixture $(SYMFIX)/sym_fixture_nopie $(SYMFIX)/sym_fixture.debug \
	$(SYMFIX)/sym_fixture_zdebug $(SYMFIX)/trunc_hdr $(SYMFIX)/trunc_shdr \
	$(SYMFIX)/bid/sym_fixture $(SYMFIX)/linked/sym_fixture $(SYMFIX)/sym_fixture_otherbid.debug \
	$(SYMFIX)/crc/sym_fixture_nobid $(SYMFIX)/badcrc/sym_fixture_nobid \
	$(GORT_OUT)/leaky $(GORT_OUT)/leaky-stripped $(GORT_OUT)/leaky-pie
$(FUZZ_DIR)/seeds/.stamp: $(FUZZ_SEED_INPUTS)
	$(call msg,SEEDS,$(FUZZ_DIR)/seeds)
	$(Q)tests/fuzz/seeds.sh $(O)
	$(Q)touch $@

fuzz-build: $(FUZZ_BINS) $(FUZZ_DIR)/seeds/.stamp

fuzz:
	$(Q)tests/fuzz/run.sh $(O) $(FUZZ_SECONDS)

# tests/unit/test_limits.c measures other modules' limits (symbolize's caps)
# and has no user/limits.c, which the Makefile's test_% rule would want:
# link it here from UNIT_DEPS_limits alone.
$(O)/tests/unit/test_limits: tests/unit/test_limits.c \
		$(addprefix $(O)/user/,$(addsuffix .o,$(UNIT_DEPS_limits)))
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(filter %.o,$^) $(LDLIBS) -lcmocka -o $@
