#!/bin/bash
# Run every real-BPF integration test (tests/bpf/t_*.sh). These load and
# attach real programs: they need root and a kernel with BTF. A machine that
# truly lacks either skips them, loudly.
O=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
export O MS="$O/memsight"
export RESULTS="$O/integration.log"
: > "$RESULTS"

tests=(tests/bpf/t_*.sh)
skip_reason=""
if [ "$(id -u)" != 0 ]; then
	skip_reason="not running as root"
elif [ ! -r /sys/kernel/btf/vmlinux ]; then
	skip_reason="kernel has no BTF (/sys/kernel/btf/vmlinux)"
elif ! bpftool prog show >/dev/null 2>&1; then
	skip_reason="bpf() syscall not permitted here"
fi
if [ -n "$skip_reason" ]; then
	echo "################################################################"
	echo "# SKIPPING ${#tests[@]} real-BPF integration test files: $skip_reason"
	echo "################################################################"
	echo "0 0 ${#tests[@]}" > "$O/integration.result"
	exit 0
fi

for t in "${tests[@]}"; do
	[ -n "$MS_TEST_FILTER" ] && [[ "$t" != *"$MS_TEST_FILTER"* ]] && continue
	echo "=== $t"
	bash tests/bpf/run1.sh "$t" 300
done
p=$(grep -c '^PASS' "$RESULTS")
f=$(grep -c '^FAIL' "$RESULTS")
echo "integration: $p passed, $f failed"
grep '^FAIL' "$RESULTS"
echo "$p $f 0" > "$O/integration.result"
[ "$f" -eq 0 ]
