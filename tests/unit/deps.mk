# Extra user/ modules each unit test links, beyond its own module:
#   UNIT_DEPS_<module> := <module> <module> ...
UNIT_DEPS_model :=
UNIT_DEPS_folded := model
UNIT_DEPS_pprof := model folded
UNIT_DEPS_flamegraph := model folded
UNIT_DEPS_procfs :=
UNIT_DEPS_json :=
UNIT_DEPS_goruntime :=
UNIT_DEPS_symbolize :=
UNIT_DEPS_growth :=
UNIT_DEPS_ctl_proto := json
UNIT_DEPS_config := rules
UNIT_DEPS_rules :=
UNIT_DEPS_goproc := goruntime procfs
UNIT_DEPS_probesite := symbolize
UNIT_DEPS_limits := symbolize
