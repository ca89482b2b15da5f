# libmemsight_sampler.so (issue 17): runs inside C/C++ targets (LD_PRELOAD),
# not part of the observer's data path, so none of user/'s flags or libraries.
# Only libc (and libdl, which glibc >= 2.34 folds into it).
SAMPLER := $(O)/libmemsight_sampler.so
SAMPLER_SRCS := $(wildcard sampler/*.c)
SAMPLER_OBJS := $(patsubst sampler/%.c,$(O)/sampler/%.o,$(SAMPLER_SRCS))
SAMPLER_CFLAGS := -O2 -g -fPIC -fno-omit-frame-pointer -fvisibility=hidden \
		  -ftls-model=initial-exec -std=gnu11 -Wall -Wextra -Wmissing-prototypes \
		  -D_GNU_SOURCE -Iinclude -MMD -MP

$(O)/sampler/%.o: sampler/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAMPLER_CFLAGS) -c $< -o $@

$(SAMPLER): $(SAMPLER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libmemsight_sampler.so -Wl,-z,now -Wl,--no-undefined \
		$^ -o $@ -ldl

all: $(SAMPLER)
