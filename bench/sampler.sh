#!/bin/bash
# make bench, part 6 (also runs alone): what libmemsight_sampler.so costs a
# C program (issue 17), side by side in one run:
#
#   bench/sampler.sh [BUILD_DIR]
#
# bench/mallocbench.c (malloc+free pairs of mixed sizes, 1 and 2 threads),
# REPS repetitions interleaved (rep 1 of every column, then rep 2, ...) so
# drift on a shared machine hits every column alike; medians printed:
#   alone              no sampler
#   loaded, detached   LD_PRELOAD, nobody attached: the countdown only
#                      (issue 17's target: <= 5 ns more per pair)
#   attached, floor    LD_PRELOAD, the semaphores raised by counting perf
#                      uprobes on the USDT sites (no BPF program): the probe
#                      hits and the table of sampled pointers, what any
#                      observer's attach costs before its BPF program runs
#   memsight attached  memsight through the sampler's USDT probes: filled in
#                      by the other half of issue 17 (the observer side);
#                      until then printed as n/a
# at MEAN bytes (default 524288). Environment: REPS (default 7; QUICK=1: 3),
# PAIRS (per thread and run, default 5,000,000), MEAN.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
O=${1:-build}
OUT=$O/bench
LIB=$(realpath "$O/libmemsight_sampler.so" 2>/dev/null)
MB=$OUT/mallocbench
if [ "${QUICK:-0}" = 1 ]; then REPS=${REPS:-3}; else REPS=${REPS:-7}; fi
PAIRS=${PAIRS:-5000000}
MEAN=${MEAN:-524288}
MB_CFLAGS="-O2 -g -fno-omit-frame-pointer -fno-builtin -Wall"

[ -e "$LIB" ] || { echo "bench/sampler.sh: $O/libmemsight_sampler.so missing (make)" >&2; exit 1; }
mkdir -p "$OUT"
if [ ! -x "$MB" ] || [ bench/mallocbench.c -nt "$MB" ] ||
   [ tests/sampler/usdt_count.h -nt "$MB" ]; then
	echo "  CC       $MB"
	gcc $MB_CFLAGS bench/mallocbench.c -o "$MB" -lpthread || exit 1
fi

COLS=(alone detached floor)
declare -A NAME=([alone]="alone" [detached]="loaded, detached" [floor]="attached, floor")
declare -A CMD=(
	[alone]="$MB -t T -n $PAIRS"
	[detached]="LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN $MB -t T -n $PAIRS"
	[floor]="LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN $MB -t T -n $PAIRS --attach $LIB"
)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run_col() {	# COL THREADS: one run, appends ns/pair (and probe hits) to $TMP/COL.THREADS
	local col=$1 t=$2 out
	case $col in
	alone) out=$("$MB" -t "$t" -n "$PAIRS") ;;
	detached) out=$(LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN "$MB" -t "$t" -n "$PAIRS") ;;
	floor) out=$(LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN "$MB" -t "$t" -n "$PAIRS" \
		--attach "$LIB") ;;
	esac
	echo "$out" | sed -n 's/^ns_per_pair=\([0-9.]*\).*/\1/p' >> "$TMP/$col.$t"
	echo "$out" | sed -n 's/.*probe_hits=\([0-9]*\).*/\1/p' >> "$TMP/$col.$t.hits"
}

echo "== libmemsight_sampler.so: ns per malloc+free pair (bench/mallocbench.c, mixed sizes"
echo "   16 B..32 KiB), mean $MEAN B, $PAIRS pairs per thread, median of $REPS interleaved runs"
for r in $(seq "$REPS"); do
	for t in 1 2; do
		for col in "${COLS[@]}"; do
			run_col "$col" "$t"
		done
	done
done
printf '   %-8s %10s %18s %18s %20s\n' threads alone "loaded, detached" "attached, floor" \
	"memsight attached"
for t in 1 2; do
	a=$(median < "$TMP/alone.$t")
	d=$(median < "$TMP/detached.$t")
	f=$(median < "$TMP/floor.$t")
	printf '   %-8s %10s %10s (%+5.1f) %10s (%+5.1f) %20s\n' "$t" "$a" "$d" \
		"$(awk -v x="$d" -v y="$a" 'BEGIN { print x - y }')" "$f" \
		"$(awk -v x="$f" -v y="$a" 'BEGIN { print x - y }')" "n/a (observer side)"
	echo "            (runs: alone $(minmax < "$TMP/alone.$t"), detached $(minmax < "$TMP/detached.$t")," \
	     "floor $(minmax < "$TMP/floor.$t"); probe hits per floor run $(median < "$TMP/floor.$t.hits"))"
done
echo "   (+x) = ns more per pair than alone; floor = counting perf uprobes with ref_ctr on the"
echo "   USDT sites, no BPF program"
echo "   commands (T = 1, 2):"
for col in "${COLS[@]}"; do
	printf '     %-18s %s\n' "${NAME[$col]}" "${CMD[$col]}"
done
echo "     built: gcc $MB_CFLAGS bench/mallocbench.c -o $MB -lpthread"
