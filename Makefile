# memsight - eBPF memory observer
#
#   make            build everything into $(O) (default ./build)
#   make demo       install deps, build, run memsight on the bundled leaky target
#   make test       install deps, build, run unit + real-BPF integration tests
#   make V=1        show full commands

O ?= build
V ?= 0
ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CC ?= gcc
# Go toolchains are named, never whichever `go` is first in PATH. Debian's
# golang-go (scripts/deps.sh) is Go 1.19, the old end of the Go matrix, and
# builds the Go test targets and fixtures.
GO_1_19 ?= /usr/lib/go-1.19/bin/go
GO ?= $(GO_1_19)
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes \
	  -D_GNU_SOURCE -fno-omit-frame-pointer -MMD -MP \
	  -Iinclude -Iuser -I$(O)
LDLIBS += -lbpf -lelf -ldw -lz -lstdc++ -lm -lmicrohttpd -ljson-c -lpthread -lcapstone \
	  -lprotobuf-c
PROTOC_C ?= protoc-c

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	      -I$(O) -Iinclude -Ibpf -MMD -MP \
	      -idirafter /usr/include/$(shell $(CC) -dumpmachine)
# (the last for <asm/errno.h>, which libbpf's <bpf/usdt.bpf.h> includes)

# user/ has a folder per stage of the data path (README "How it works");
# module names are unique across them, so objects are $(O)/user/<module>.o.
# The programs' main()s are user/cli/memsight.c and user/daemon/memsightd.c;
# everything else in user/ is the library.
PROGS := memsight memsightd
USER_SRCS := $(wildcard user/*/*.c)
PROG_SRCS := user/cli/memsight.c user/daemon/memsightd.c
LIB_SRCS := $(filter-out $(PROG_SRCS),$(USER_SRCS))
LIB_OBJS := $(patsubst %.c,$(O)/user/%.o,$(notdir $(LIB_SRCS)))
vpath %.c $(sort $(dir $(USER_SRCS)))
# pprof's profile.proto, decoded by libprotobuf-c: protoc-c's code for
# user/export/profile.proto is a module of its own, profile.pb-c
PROTO_SRCS := $(O)/gen/export/profile.pb-c.c
PROTO_HDRS := $(PROTO_SRCS:.c=.h)
LIB_OBJS += $(O)/user/profile.pb-c.o
vpath %.c $(O)/gen/export
CFLAGS += -I$(O)/gen
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKEL := $(O)/memsight.skel.h
# bpf/session/: programs that need a newer kernel than the rest, in objects of
# their own, so that an older kernel still loads the main one
SESSION_SKEL := $(O)/memsight_session.skel.h

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
TARGET_SRCS := $(wildcard tests/targets/*.c)
TARGET_BINS := $(patsubst tests/targets/%.c,$(O)/tests/targets/%,$(TARGET_SRCS)) \
	       $(O)/tests/targets/leaky-static $(O)/tests/targets/stripped-static \
	       $(O)/tests/targets/leakexit-static \
	       $(O)/tests/targets/leaky-nofp $(O)/tests/targets/leaky-nocfi \
	       $(O)/tests/targets/threads-nofp \
	       $(O)/tests/targets/goservice $(O)/tests/targets/goservice-stripped \
	       $(O)/tests/targets/cxxjump $(O)/tests/targets/leaky-musl

.PHONY: all deps demo test unit integration clean install bench soak
.DEFAULT_GOAL := all

all: $(patsubst %,$(O)/%,$(PROGS)) $(TARGET_BINS)

# ---- BPF -------------------------------------------------------------
# Prefer the running kernel's BTF; fall back to the checked-in copy.
$(O)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(O)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ] && \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp 2>/dev/null; then \
		mv $@.tmp $@; else rm -f $@.tmp; cp bpf/vmlinux/vmlinux.h $@; fi

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(O)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/memsight.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(O)/memsight.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memsight_bpf > $@.tmp && mv $@.tmp $@

$(O)/memsight_session.bpf.o: $(O)/bpf/session/alloc.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SESSION_SKEL): $(O)/memsight_session.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memsight_session_bpf > $@.tmp && mv $@.tmp $@

# ---- user space ------------------------------------------------------
$(PROTO_SRCS): user/export/profile.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PROTOC_C) --proto_path=user --c_out=$(O)/gen $<
$(PROTO_HDRS): $(PROTO_SRCS)
# Only the modules that include the generated header wait for it.
PROTO_USERS := $(O)/user/profile.pb-c.o \
	$(patsubst %.c,$(O)/user/%.o,$(notdir $(shell grep -l 'profile.pb-c.h' user/*/*.c 2>/dev/null)))
$(PROTO_USERS): $(PROTO_HDRS)

$(O)/user/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/libmemsight.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/%: $(O)/user/%.o $(O)/libmemsight.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Only the modules that include the skeleton wait for the BPF build.
SKEL_USERS := $(patsubst %.c,$(O)/user/%.o,$(notdir $(shell grep -l 'memsight.skel.h' user/*/*.c 2>/dev/null)))
$(SKEL_USERS): $(SKEL) $(SESSION_SKEL)

# The web view's files are bytes of web_assets.o (.incbin, which -MMD does not see).
$(O)/user/web_assets.o: $(wildcard web/*.html web/*.js web/*.css web/*.svg)

# ---- tests -------------------------------------------------------------
# tests/unit/test_foo.c links user/foo.o plus the modules named in
# UNIT_DEPS_foo (tests/unit/deps.mk), so one module's test never waits on
# another module it does not use.
-include tests/unit/deps.mk
FIXTURES :=
-include tests/fixtures/fixtures.mk
.SECONDEXPANSION:
$(O)/tests/unit/test_%: tests/unit/test_%.c $(O)/user/%.o \
		$$(addprefix $(O)/user/,$$(addsuffix .o,$$(UNIT_DEPS_$$*))) | $$(FIXTURES)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(filter %.o,$^) $(LDLIBS) -lcmocka -o $@

# Targets are built the way the acceptance criteria ask: frame pointers, -g.
TARGET_CFLAGS := -O1 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
		 -fno-optimize-sibling-calls -fno-inline -Wall -MMD -MP
$(O)/tests/targets/%: tests/targets/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TARGET_CFLAGS) $< -o $@ -lpthread

$(O)/tests/targets/%: tests/targets/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(TARGET_CFLAGS) $< -o $@

# The same target without frame pointers, as distros build (issue "DWARF
# unwinding"): only CFI can walk its stacks.
NOFP_CFLAGS := -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -Wall -MMD -MP
$(O)/tests/targets/leaky-nofp: tests/targets/leaky.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -o $@
$(O)/tests/targets/threads-nofp: tests/targets/threads.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -o $@ -lpthread
# Frame pointers but no CFI at all (no .eh_frame): only frame pointers can
# walk it, so a DWARF walk through it must fall back to them (mixed stacks).
$(O)/tests/targets/leaky-nocfi: tests/targets/leaky.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TARGET_CFLAGS) -fno-asynchronous-unwind-tables -fno-unwind-tables $< -o $@

# The same target linked statically: its malloc lives in the executable.
$(O)/tests/targets/leaky-static: tests/targets/leaky.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TARGET_CFLAGS) -static $< -o $@
# memsight run's leaker, static: probed at its exec, not through libc
$(O)/tests/targets/leakexit-static: tests/targets/leakexit.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TARGET_CFLAGS) -static $< -o $@
# ... and stripped: no symbol says where malloc is.
$(O)/tests/targets/stripped-static: tests/targets/leaky.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TARGET_CFLAGS) -static -s $< -o $@
# ... and dynamically linked against musl (scripts/deps.sh installs musl-tools):
# its malloc lives in musl's libc.so, which is also its loader.
MUSL_CC ?= musl-gcc
$(O)/tests/targets/leaky-musl: tests/targets/leaky.c
	$(call msg,MUSLCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)command -v $(MUSL_CC) >/dev/null || \
		{ echo "$(MUSL_CC) not found: run scripts/deps.sh (package musl-tools)" >&2; exit 1; }
	$(Q)$(MUSL_CC) $(TARGET_CFLAGS) $< -o $@
# The Go test target, plain and stripped (-s -w: only .gopclntab left), built
# offline with caches inside $(O).
GOSVC_DEPS := tests/targets/goservice/go.mod tests/targets/goservice/main.go
GOSVC_ENV = GOFLAGS='-mod=mod -buildvcs=false' GOPROXY=off GOCACHE=$(abspath $(O))/gocache \
	    HOME=$(abspath $(O))/gohome CGO_ENABLED=0
$(O)/tests/targets/goservice: $(GOSVC_DEPS)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cd tests/targets/goservice && $(GOSVC_ENV) $(GO) build -o $(abspath $@) . && \
		$(GOSVC_ENV) $(GO) env GOVERSION > $(abspath $@).goversion
$(O)/tests/targets/goservice-stripped: $(GOSVC_DEPS)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cd tests/targets/goservice && $(GOSVC_ENV) $(GO) build -ldflags='-s -w' -o $(abspath $@) .

deps:
	$(Q)scripts/deps.sh

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(O) $(UNIT_BINS)

integration: all
	$(Q)tests/bpf/run.sh $(O)

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS)
	$(Q)tests/run-all.sh $(O)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(O)

# memsight, memsightd, the sampler library, the hardened unit and the default config.
PREFIX ?= /usr/local
DESTDIR ?=
install: all
	install -D -m 0755 $(O)/memsight $(DESTDIR)$(PREFIX)/bin/memsight
	install -D -m 0755 $(O)/memsightd $(DESTDIR)$(PREFIX)/sbin/memsightd
	install -D -m 0755 $(O)/libmemsight_sampler.so \
		$(DESTDIR)$(PREFIX)/lib/memsight/libmemsight_sampler.so
	install -D -m 0644 deploy/memsightd.service $(DESTDIR)/etc/systemd/system/memsightd.service
	test -e $(DESTDIR)/etc/memsight/memsightd.conf || \
		install -D -m 0644 deploy/memsightd.conf $(DESTDIR)/etc/memsight/memsightd.conf
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now memsightd"

# 10 minutes attached to an allocation-heavy process (SOAK_SECONDS to change).
soak: all
	$(Q)bench/soak.sh $(O)

# Overhead figures, side by side in one run (QUICK=1 for a ~1 minute run).
bench: all
	$(Q)bench/deps.sh
	$(Q)GO=$(GO) bench/run.sh $(O)

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
-include tests/fuzz/fuzz.mk
include sampler/sampler.mk
include tests/sampler/sampler.mk
include tests/targets/gin.mk
