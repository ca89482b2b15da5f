# tests/sampler: the sampler library's semantics, with and without it
# preloaded (tests/sampler/run.sh; a step of tests/run-all.sh).
SAMPLER_TEST_BINS := $(O)/tests/sampler/semantics $(O)/tests/sampler/cxx \
		     $(O)/tests/sampler/libdlalloc.so $(O)/tests/sampler/table_stress

$(O)/tests/sampler/semantics: tests/sampler/semantics.c tests/sampler/usdt_count.h \
			     include/memsight_sampler.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Wno-alloc-size-larger-than -D_GNU_SOURCE -fno-builtin \
		$< -o $@ -ldl -lpthread -lm

$(O)/tests/sampler/cxx: tests/sampler/cxx.cc tests/sampler/usdt_count.h include/memsight_sampler.h
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -O2 -g -Wall -Wextra -Wno-alloc-size-larger-than -fno-builtin $< -o $@ -ldl

# the tables small (near 64 slots, far 4096): inserts spill, buckets are shared
$(O)/tests/sampler/table_stress: tests/sampler/table_stress.c sampler/table.c sampler/table.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -DTABLE_SLOTS_LOG2=12 \
		-DNEAR_SLOTS_LOG2=6 tests/sampler/table_stress.c sampler/table.c -o $@ -lpthread

$(O)/tests/sampler/libdlalloc.so: tests/sampler/dlalloc.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -fPIC -shared $< -o $@

all: $(SAMPLER_TEST_BINS)
