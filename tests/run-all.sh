#!/bin/bash
# The whole suite: cmocka unit tests, then real-BPF integration tests.
# Prints one closing line "N passed, N failed[, N skipped]".
O=${1:-build}
cd "$(dirname "$0")/.." || exit 1
tests/run-unit.sh "$O" $(find "$O/tests/unit" -maxdepth 1 -type f -name "test_*" ! -name "*.*" | sort)
tests/bpf/run.sh "$O"
# libmemsight_sampler.so's semantics, with and without it preloaded
tests/sampler/run.sh "$O"
# the smoke suite again on the kernels our users run, booted under qemu
tests/kernels/run.sh "$O"
tests/deploy/check.sh | tee "$O/deploy.log"
# the built-in Go layouts are what the Go matrix's DWARF says (its fixtures are built)
if O="$O" scripts/go-layouts.sh --check; then
	echo "PASS go-layouts: user/target/go_layouts.h matches the Go matrix"; gp=1 gf=0
else
	echo "FAIL go-layouts: user/target/go_layouts.h differs (O=$O scripts/go-layouts.sh)"; gp=0 gf=1
fi
# user/ is cut by stage, and no stage includes a later one
if scripts/check-layout.sh; then
	echo "PASS layout: each user/ stage includes only earlier stages"; gp=$((gp + 1))
else
	echo "FAIL layout: a user/ stage includes a later one (scripts/check-layout.sh)"; gf=$((gf + 1))
fi
# a short libFuzzer run of every parser of hostile input (long runs: make fuzz)
tests/fuzz/run.sh "$O" "${FUZZ_SECONDS:-10}" | tee "$O/fuzz.log"
fp=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$O/fuzz.log")
ff=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$O/fuzz.log")
[ -z "$fp" ] && { fp=0; ff=1; }
dp=$(sed -n 's/^deploy: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$O/deploy.log")
df=$(sed -n 's/^deploy: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$O/deploy.log")
[ -z "$dp" ] && { dp=0; df=1; }
read -r up uf < "$O/unit.result"
read -r sp sf < "$O/sampler.result" 2>/dev/null || { sp=0; sf=1; }
read -r ip if is < "$O/integration.result"
read -r kp kf ks < "$O/kernels.result" 2>/dev/null || { kp=0; kf=1; ks=0; }
p=$((up + ip + kp + dp + fp + gp + sp)); f=$((uf + if + kf + df + ff + gf + sf)); s=$((is + ks))
echo
echo "total: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
