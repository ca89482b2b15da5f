# The Gin test service (tests/targets/ginservice) as Go services are shipped:
# built by the two ends of the Go matrix, each toolchain named (Debian's Go
# 1.19 by path, go1.27.4 as a GOTOOLCHAIN version that GO_FETCH downloads:
# gomatrix_go in tests/fixtures/gomatrix.mk), plain and stripped (-s -w), with
# cgo off and on: $(GIN_OUT)/<toolchain>-<plain|stripped>-cgo<0|1>.
# github.com/gin-gonic/gin and its dependencies come through the module proxy
# into $(O)/gomodcache; go.mod and go.sum are checked in and never rewritten
# (-mod=readonly). gin v1.9.0 is the newest gin whose go.mod (and its
# dependencies') still says go 1.18, so one go.mod serves both toolchains.
GIN_SRC := tests/targets/ginservice
GIN_OUT := $(O)/tests/targets/gin
GIN_DEPS := $(GIN_SRC)/go.mod $(GIN_SRC)/go.sum $(wildcard $(GIN_SRC)/*.go)
GIN_TOOLCHAINS := go1.19 go1.27.4
GIN_ENV = GOFLAGS='-mod=readonly -buildvcs=false' GOCACHE=$(abspath $(O))/gocache \
	  GOMODCACHE=$(abspath $(O))/gomodcache HOME=$(abspath $(O))/gohome GOTELEMETRY=off
GIN_LDFLAGS_plain :=
GIN_LDFLAGS_stripped := -ldflags='-s -w'

# gin_rule TOOLCHAIN STRIP CGO
define gin_rule
$(GIN_OUT)/$(1)-$(2)-cgo$(3): $(GIN_DEPS)
	$$(call msg,GO,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)cd $(GIN_SRC) && $$(GIN_ENV) CGO_ENABLED=$(3) $$(call gomatrix_go,$(1)) build \
		$(GIN_LDFLAGS_$(2)) -o $$(abspath $$@) .
GIN_BINS += $(GIN_OUT)/$(1)-$(2)-cgo$(3)
endef
GIN_BINS :=
$(foreach v,$(GIN_TOOLCHAINS),$(foreach s,plain stripped,$(foreach c,0 1,\
	$(eval $(call gin_rule,$(v),$(s),$(c))))))

# the list tests/bpf/t_gin.sh runs (a stale binary of an older list is not in it)
$(GIN_OUT)/builds: tests/targets/gin.mk
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '%s\n' $(notdir $(GIN_BINS)) > $@

all: $(GIN_BINS) $(GIN_OUT)/builds
