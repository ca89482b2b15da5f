#!/bin/bash
# What `memsight run` (issue 16) costs a command against running it bare,
# side by side in one run, REPS repetitions interleaved (rep 1 of every
# column, then rep 2, ...) so drift on a shared machine hits them alike;
# medians of wall-clock seconds printed:
#
#   bench/run_gate.sh [BUILD_DIR]
#
#   malloc-heavy   bench/mallocbench: PAIRS malloc+free pairs in one process
#                  (every call traps: the exact mode a gate uses), bare,
#                  under `memsight run`, under `memsight run --sample-bytes MEAN`
#   fork-heavy     sh running /bin/true FORKS times: each process costs
#                  memsight an attach and a report at its exit
#
# Environment: REPS (default 5), PAIRS (default 1,000,000), FORKS (default
# 50), MEAN (default 524288). A short check: REPS=1 PAIRS=20000 FORKS=3.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
bench_init bench/run_gate.sh "$@"
REPS=${REPS:-5}
PAIRS=${PAIRS:-1000000}
FORKS=${FORKS:-50}
MEAN=${MEAN:-524288}

[ -x "$MS" ] || die "$MS missing (make)"
mkdir -p "$OUT"
build_mallocbench || exit 1
bench_tmp bench-gate

# wall S CMD...: the wall-clock seconds CMD took, appended to file S
wall() {
	local f=$1 t0 t1 rc
	shift
	t0=$(date +%s%N)
	"$@" > /dev/null 2>> "$TMP/stderr"
	rc=$?
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >> "$f"
	# the bare command and memsight run end alike: a failure is a broken column
	[ $rc -eq 0 ] || { echo "bench/run_gate.sh: '$*' exited $rc" >&2; tail -5 "$TMP/stderr" >&2; exit 1; }
}

FORKCMD="i=0; while [ \$i -lt $FORKS ]; do /bin/true; i=\$((i + 1)); done"
COLS=(mb_bare mb_run mb_sampled fork_bare fork_run)
for ((r = 1; r <= REPS; r++)); do
	wall "$TMP/mb_bare" "$MB" -n "$PAIRS"
	wall "$TMP/mb_run" "$MS" run -- "$MB" -n "$PAIRS"
	wall "$TMP/mb_sampled" "$MS" run --sample-bytes "$MEAN" -- "$MB" -n "$PAIRS"
	wall "$TMP/fork_bare" sh -c "$FORKCMD"
	wall "$TMP/fork_run" "$MS" run -- sh -c "$FORKCMD"
done

echo "memsight run against the bare command, medians of $REPS runs (wall-clock s)"
printf "%-40s %10s %10s %8s\n" "" bare "run" ratio
row() {
	local b r
	b=$(median %.3f < "$TMP/$2") r=$(median %.3f < "$TMP/$3")
	printf "%-40s %10s %10s %8s\n" "$1" "$b" "$r" \
		"$(awk -v b="$b" -v r="$r" 'BEGIN { if (b > 0) printf "%.1fx", r / b; else print "-" }')"
}
row "malloc-heavy, $PAIRS pairs, exact" mb_bare mb_run
row "malloc-heavy, $PAIRS pairs, sampled $MEAN" mb_bare mb_sampled
row "fork-heavy, $FORKS processes, exact" fork_bare fork_run
echo "commands: $MB -n $PAIRS | $MS run -- $MB -n $PAIRS |"
echo "  $MS run --sample-bytes $MEAN -- $MB -n $PAIRS | sh -c '$FORKCMD' |"
echo "  $MS run -- sh -c '...' (each timed by date +%s%N around it, output discarded)"
