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
#   memsight attached  LD_PRELOAD, `memsight top -p PID` attached through
#                      the library's USDT probes at the library's mean
#                      (issue 17's target: <= 20 ns more per pair)
#   uprobes, sampled   no library: memsight's uprobe path, --sample-bytes MEAN
#   uprobes, full      no library: memsight's uprobe path, every call
# at MEAN bytes (default 524288). Below them: what the attach costs per probe
# hit ((floor - detached) / hits per pair) and what a bare system call costs
# here (bench/syscost: an optimised uprobe hit is at least one kernel entry),
# so that a floor the kernel sets is told from one the library sets.
# The memsight columns start mallocbench
# with --wait, attach, then let it run (a run memsight did not attach to,
# or whose probes did not fire: fewer allocations recorded than the workload
# made, is refused: no figure, listed under the table); the uprobe columns run
# UPAIRS pairs (default 100,000: every call traps) against a private copy
# of libc, so only the workload traps. Environment: REPS (default 7;
# QUICK=1: 3), PAIRS (per thread and run, default 5,000,000), UPAIRS, MEAN;
# RREPS, RN, RD for redis (below); PARTS (default "mallocbench faults
# redis": the parts run); BPF_STATS=0: the kernel's BPF statistics
# left off (no per-program table; the attached columns then do not pay for
# them).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
bench_init bench/sampler.sh "$@"
LIB=$(realpath "$O/libmemsight_sampler.so" 2>/dev/null)
if [ "${QUICK:-0}" = 1 ]; then REPS=${REPS:-3}; else REPS=${REPS:-7}; fi
PAIRS=${PAIRS:-5000000}
UPAIRS=${UPAIRS:-100000}
MEAN=${MEAN:-524288}

# part NAME: NAME is one of the PARTS to run
part() { [[ " ${PARTS:-mallocbench faults redis} " == *" $1 "* ]]; }
delta() { awk -v x="$1" -v y="$2" 'BEGIN { if (x == "-" || y == "-") print "n/a"; else printf "%+.1f\n", x - y }'; }

[ -e "$LIB" ] || die "$O/libmemsight_sampler.so missing (make)"
[ -x "$MS" ] || die "$MS missing (make)"
mkdir -p "$OUT"
build_mallocbench || exit 1
SC=$OUT/syscost
# shellcheck disable=SC2086
build_c "$SC" bench/syscost.c -- $MB_CFLAGS bench/syscost.c || exit 1

bench_tmp bench-sampler
read -r _ PLIBC < <(private_libc "$MB" "$TMP/libc") || die "cannot copy $MB's libc"
LIBDIR=$(dirname "$PLIBC")

# what each of memsight's BPF programs ran (prog_stats); BPF_STATS=0 leaves
# the kernel's statistics off: with them on every program run reads the clock
# twice, which the attached columns pay and the others do not
if [ "${BPF_STATS:-1}" = 0 ]; then
	echo "off: BPF_STATS=0" > "$TMP/stats"
else
	bpf_stats_hold "$TMP/stats"
fi

COLS=(alone detached floor ms_usdt ms_usdt_fp ms_sampled ms_full)
declare -A NAME=([alone]="alone" [detached]="loaded, detached" [floor]="attached, floor"
	[ms_usdt]="memsight attached" [ms_usdt_fp]="... --unwind fp" [ms_sampled]="uprobes, sampled" [ms_full]="uprobes, full")
SMP="LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN"
MSCMD="$MS top -p PID -d 0 -n 0 --json"
declare -A CMD=(
	[alone]="$MB -t T -n $PAIRS"
	[detached]="$SMP $MB -t T -n $PAIRS"
	[floor]="$SMP $MB -t T -n $PAIRS --attach $LIB"
	[ms_usdt]="$SMP $MB -t T -n $PAIRS --wait; $MSCMD"
	[ms_usdt_fp]="$SMP $MB -t T -n $PAIRS --wait; $MSCMD --unwind fp"
	[ms_sampled]="LD_LIBRARY_PATH=$LIBDIR $MB -t T -n $UPAIRS --wait; $MSCMD --sample-bytes $MEAN"
	[ms_full]="LD_LIBRARY_PATH=$LIBDIR $MB -t T -n $UPAIRS --wait; $MSCMD"
)

# under_memsight OUT ENV... -- CMD... -- MEMSIGHT_ARGS...: CMD (a bench/
# workload that takes --wait: prints "ready", starts on a line of input)
# started with ENV and --wait, memsight attached to it, then let run; its
# output in OUT, memsight's in OUT.ms*, and what each of memsight's BPF
# programs ran in OUT.progs ("NAME RUN_CNT RUN_TIME_NS" lines, bpf_stats).
# Every file is written fresh in the run's own directory and only then
# copied to OUT*: the shell truncates a background job's output in the
# child, after the fork, so a reused OUT could still hold the previous run's
# "ready" or "attached to PID" when looked at (that let the workload run
# before memsight attached: a figure with no probe hit in it). 0, or 1 if
# memsight did not attach, did not stay, or recorded fewer allocations than
# MIN_ALLOCS (then OUT is emptied: no figure from that run).
under_memsight() {
	local out=$1 fd wp mp rc=0 d why= allocs mrc
	local -a env=() cmd=()
	shift
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	while [ "$1" != -- ]; do cmd+=("$1"); shift; done
	shift
	d=$(mktemp -d "$TMP/run.XXXXXX")
	mkfifo "$d/in"
	env "${env[@]}" "${cmd[@]}" --wait < "$d/in" > "$d/mb" 2>&1 &
	wp=$!
	PIDS+=("$wp")
	exec {fd}> "$d/in"
	if ! wait_for "$d/mb" '^ready' 10; then
		exec {fd}>&-; kill "$wp"; wait "$wp"; : > "$out"; return 1
	fi
	ms_top "$wp" "$d/ms" "$d/mserr" 60 "$@" || rc=1 why="did not attach"
	mp=$MP
	echo go >&$fd
	exec {fd}>&-
	wait "$wp"
	prog_stats "$mp" > "$d/progs"
	kill -INT "$mp" 2>/dev/null
	wait "$mp"
	mrc=$?
	# 3: the target exited first (memsight noticed before the SIGINT)
	if [ $rc = 0 ] && [ $mrc != 0 ] && [ $mrc != 3 ]; then
		rc=1 why="exited with $mrc"
	fi
	allocs=$(jq -r '.events.allocs // 0' "$d/ms" 2>/dev/null)
	if [ $rc = 0 ] && ! [ "${allocs:-0}" -ge "$MIN_ALLOCS" ] 2>/dev/null; then
		rc=1 why="recorded ${allocs:-no} allocations, at least $MIN_ALLOCS expected (probes did not fire)"
	fi
	cp "$d/mb" "$out"; cp "$d/ms" "$out.ms"; cp "$d/mserr" "$out.mserr"; cp "$d/progs" "$out.progs"
	rm -rf "$d"
	if [ $rc != 0 ]; then
		echo "memsight run refused: $why: $(head -3 "$out.mserr")" >&2
		echo "$why" >> "$TMP/refused"
		: > "$out"
	fi
	return $rc
}

run_col() {	# COL THREADS: one run, appends ns/pair (and probe hits) to $TMP/COL.THREADS
	local col=$1 T=$2 N=$PAIRS out=$TMP/out
	case $col in
	alone) "$MB" -t "$T" -n "$N" > "$out" ;;
	detached) LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN "$MB" -t "$T" -n "$N" > "$out" ;;
	floor) LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN "$MB" -t "$T" -n "$N" \
		--attach "$LIB" > "$out" ;;
	ms_usdt) MIN_ALLOCS=1 under_memsight "$out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES="$MEAN" -- \
		"$MB" -t "$T" -n "$N" -- ;;
	ms_usdt_fp) MIN_ALLOCS=1 under_memsight "$out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES="$MEAN" -- \
		"$MB" -t "$T" -n "$N" -- --unwind fp ;;
	ms_sampled) MIN_ALLOCS=1 under_memsight "$out" LD_LIBRARY_PATH="$LIBDIR" -- \
		"$MB" -t "$T" -n "$UPAIRS" -- --sample-bytes "$MEAN" ;;
	# every call traps: at least the workload's T * N mallocs
	ms_full) MIN_ALLOCS=$((T * UPAIRS)) under_memsight "$out" LD_LIBRARY_PATH="$LIBDIR" -- \
		"$MB" -t "$T" -n "$UPAIRS" -- ;;
	esac
	sed -n 's/^ns_per_pair=\([0-9.]*\).*/\1/p' "$out" | tee -a "$TMP/$col.$T" |
		sed "s/^/$ROUND /" >> "$TMP/$col.$T.rounds"
	sed -n 's/.*probe_hits=\([0-9]*\).*/\1/p' "$out" >> "$TMP/$col.$T.hits"
	case $col in ms_*)
		jq -r '.events.allocs // empty' "$out.ms" >> "$TMP/$col.$T.samples"
		awk -v c="$col.$T" '$2 > 0 { print c, $0 }' "$out.progs" >> "$TMP/progs" ;;
	esac
}

if part mallocbench; then
	echo "== libmemsight_sampler.so: ns per malloc+free pair (bench/mallocbench.c, mixed sizes"
	echo "   16 B..32 KiB), mean $MEAN B, $PAIRS pairs per thread, median of $REPS interleaved runs"
	for ROUND in $(seq "$REPS"); do
		"$SC" | sed -n 's/^ns_per_syscall=//p' >> "$TMP/syscall"
		for t in 1 2; do
			for col in "${COLS[@]}"; do
				run_col "$col" "$t"
			done
		done
	done
	printf '   %-8s %9s' threads alone
	for col in "${COLS[@]:1}"; do printf ' %20s' "${NAME[$col]}"; done
	printf '\n'
	for t in 1 2; do
		a=$(median < "$TMP/alone.$t")
		printf '   %-8s %9s' "$t" "$a"
		for col in "${COLS[@]:1}"; do
			m=$(median < "$TMP/$col.$t")
			printf ' %20s' "$m ($(delta "$m" "$a"))"
		done
		printf '\n            runs:'
		for col in "${COLS[@]}"; do printf ' %s %s;' "${NAME[$col]}" "$(minmax < "$TMP/$col.$t")"; done
		# the median over rounds of (column - alone) of the same round: on a
		# machine whose load comes and goes, neighbours in time share it
		printf '\n            paired with alone, median of the rounds:'
		for col in "${COLS[@]:1}"; do
			printf ' %s %s;' "${NAME[$col]}" "$(join <(sort "$TMP/alone.$t.rounds") <(sort "$TMP/$col.$t.rounds") |
				awk '{ printf "%+.1f\n", $3 - $2 }' | median %+.1f)"
		done
		printf '\n            probe hits per floor run %s; samples memsight recorded per attached run %s\n' \
			"$(median < "$TMP/floor.$t.hits")" "$(median < "$TMP/ms_usdt.$t.samples")"
		# what the attach costs per probe hit: the library's attached path (filter
		# look-up on every free, table, countdown draws) and the kernel's uprobe
		# entry, spread over the hits; an upper bound of the kernel's share
		awk -v f="$(median < "$TMP/floor.$t")" -v d="$(median < "$TMP/detached.$t")" \
		    -v h="$(median < "$TMP/floor.$t.hits")" -v n="$PAIRS" -v t="$t" 'BEGIN {
			if (f == "-" || d == "-" || h == "-" || !h) { print "            per probe hit: n/a"; exit }
			hp = h / (n * t)
			printf "            floor - detached = %.1f ns per pair at %.2f probe hits per 1000 pairs: %.2f us per hit\n",
			       f - d, 1000 * hp, (f - d) / hp / 1000 }'
	done
	echo "   a bare system call (bench/syscost, getppid) costs $(median < "$TMP/syscall") ns here" \
		"($(minmax < "$TMP/syscall")): the least an optimised uprobe hit can cost"
	if [ -s "$TMP/refused" ]; then
		echo "   REFUSED memsight runs (not in the medians): $(wc -l < "$TMP/refused"):" \
			"$(sort "$TMP/refused" | uniq -c | sed 's/^ *//' | paste -sd ';')"
	fi
	echo "   memsight's BPF programs (bpf_stats run_time_ns / run_cnt, summed over the runs):"
	if grep -qx stats "$TMP/stats"; then
		awk '{ split($1, c, "."); k = c[1] " T=" c[2] " " $2; n[k] += $3; ns[k] += $4 }
		     END { for (k in n) printf "     %-40s %10d runs %9.0f ns/run\n", k, n[k], ns[k] / n[k] }' \
			"$TMP/progs" 2>/dev/null | sort
	else
		echo "     not available: $(head -1 "$TMP/stats")"
	fi
	echo "   (+x) = ns more per pair than alone; floor = counting perf uprobes with ref_ctr on the"
	echo "   USDT sites, no BPF program; uprobe columns ran $UPAIRS pairs per thread, against a"
	echo "   private copy of libc ($LIBDIR)"
	echo "   commands (T = 1, 2):"
	for col in "${COLS[@]}"; do
		printf '     %-18s %s\n' "${NAME[$col]}" "${CMD[$col]}"
	done
	echo "     built: gcc $MB_CFLAGS bench/mallocbench.c -o $MB -lpthread"
fi

# ---- first-touch page faults (bench/faultbench.c, built without frame
# pointers, as Debian's C servers are): thread CPU time per fault, the least
# of 5 passes over 200 MiB a run, medians of REPS interleaved runs. Columns:
# alone; the sampler loaded and memsight attached (faults sampled at the
# library's mean: one in 128 at 512 KiB); memsight attached without the
# library (every 8th fault walked). Every fault of a watched process runs
# ms_fault and ms_rss_stat; what the stride changes is how many walk.
fault_run() {	# COL: appends ns per fault to $TMP/fault.COL
	local col=$1 out=$TMP/fault.out

	# faultbench allocates with mmap: no malloc to count (MIN_ALLOCS 0)
	case $col in
	alone) "$FB" > "$out" 2>&1 ;;
	sampler) MIN_ALLOCS=0 under_memsight "$out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES="$MEAN" -- \
		"$FB" -- ;;
	plain) MIN_ALLOCS=0 under_memsight "$out" -- "$FB" -- ;;
	esac
	sed -n 's/^ns_per_fault=\([0-9.]*\).*/\1/p' "$out" >> "$TMP/fault.$col"
}
if part faults; then
	FB=$OUT/faultbench
	build_c "$FB" bench/faultbench.c -- -O2 -g -Wall bench/faultbench.c || exit 1
	FCOLS=(alone sampler plain)
	declare -A FNAME=([alone]="alone" [sampler]="sampler + memsight" [plain]="memsight, no sampler")
	echo
	echo "== first-touch page faults (bench/faultbench.c, no frame pointers): thread CPU ns per"
	echo "   fault, least of 5 passes over 200 MiB, median of $REPS interleaved runs"
	for r in $(seq "$REPS"); do
		for col in "${FCOLS[@]}"; do fault_run "$col"; done
	done
	fa=$(median < "$TMP/fault.alone")
	for col in "${FCOLS[@]}"; do
		m=$(median < "$TMP/fault.$col")
		printf '   %-22s %9s ns (%s)   runs %s\n' "${FNAME[$col]}" "$m" "$(delta "$m" "$fa")" \
			"$(minmax < "$TMP/fault.$col")"
	done
	echo "   sampler + memsight: LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN, $MSCMD;"
	echo "   memsight, no sampler: $MSCMD (its malloc uprobes attached, not hit here)"
fi

# ---- Debian's redis-server (jemalloc) started with the sampler, under redis-benchmark
# Columns: alone; the library loaded, nobody attached; the library and
# `memsight top -p` attached (its default unwinding); and, for the exact
# in-use figure of the same workload, memsight's full tracking (uprobes, no
# library). Each run a fresh server on a unix socket; RREPS runs of each
# (default 3; QUICK=1: 1), interleaved, medians; the full-tracking run once
# (every call traps: ~10x slower). Besides requests/s (which on a shared
# machine also measure the other load), the server's CPU time per request and
# memsight's CPU time while redis-benchmark ran, and what each of memsight's
# BPF programs ran. Workload: redis-benchmark -t set,get -n
# RN -r 100000 -d RD -c 4 (defaults RN 100,000, RD 8192: ~63,000 distinct
# keys of 8 KiB values, ~530 MB in use, ~1,000 samples live at 512 KiB: the
# estimate's sd ~3.2%, so that a 10% error would be 3 sd; at 4 KiB values,
# ~500 samples, 10% was only 2.2 sd and one run in ~35 missed it by chance).
part redis || exit 0
if ! command -v redis-server > /dev/null || ! command -v redis-benchmark > /dev/null; then
	echo "== redis-server: not available (redis-server / redis-benchmark not installed)"
	exit 0
fi
if [ "${QUICK:-0}" = 1 ]; then RREPS=${RREPS:-1}; else RREPS=${RREPS:-3}; fi
RN=${RN:-100000}
RD=${RD:-8192}
RCOLS=(alone detached ms_usdt)
declare -A RNAME=([alone]="alone" [detached]="loaded, detached" [ms_usdt]="memsight attached"
	[ms_full]="uprobes, full (exact)")

# redis_run COL: one server, one workload; appends "SET GET INUSE SAMPLES
# SRV_US MS_MS" (requests/s; memsight's in-use figure and its samples, - when
# not attached; the server's CPU time per request in us and memsight's CPU
# time in ms, both while redis-benchmark ran) to $TMP/redis.COL, and
# memsight's BPF programs' run counts and times to $TMP/rprogs
redis_run() {
	local col=$1 d rp mp sock out set get inuse=- samples=- r0 r1 m0=- m1=-
	local -a env=()
	d=$(mktemp -d "$TMP/redis.XXXXXX")
	sock=$d/sock out=$d/bench
	case $col in detached | ms_usdt) env=(LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES="$MEAN") ;; esac
	env "${env[@]}" redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no \
		--dir "$d" > "$d/log" 2>&1 &
	rp=$!
	PIDS+=("$rp")
	for _ in $(seq 100); do
		[ "$(redis-cli -s "$sock" ping 2> /dev/null)" = PONG ] && break
		sleep 0.05
	done
	case $col in ms_*)
		if ! ms_top "$rp" "$d/ms" "$d/mserr" 60; then
			echo "memsight did not attach to redis: $(head -3 "$d/mserr")" >&2
			kill "$MP" "$rp"; wait "$MP" "$rp"; return 1
		fi
		mp=$MP ;;
	esac
	# CPU time, not requests/s alone: on a shared machine the server's CPU
	# per request is what the observer adds, requests/s also what others took
	r0=$(cpu_ms "$rp")
	[ -z "${mp:-}" ] || m0=$(cpu_ms "$mp")
	timeout 600 redis-benchmark -s "$sock" -t set,get -n "$RN" -r 100000 -d "$RD" -c 4 -q \
		> "$out" 2>&1
	r1=$(cpu_ms "$rp")
	case $col in ms_*)
		m1=$(cpu_ms "$mp")
		prog_stats "$mp" | awk -v c="$col" '$2 > 0 { print c, $0 }' >> "$TMP/rprogs"
		kill -INT "$mp"; wait "$mp"
		inuse=$(jq '.tracked.inuse_bytes' "$d/ms")
		samples=$(jq '.events.allocs' "$d/ms") ;;
	esac
	redis-cli -s "$sock" shutdown nosave > /dev/null 2>&1
	wait "$rp"
	set=$(tr '\r' '\n' < "$out" | sed -n 's/^SET: \([0-9.]*\) requests.*/\1/p' | tail -1)
	get=$(tr '\r' '\n' < "$out" | sed -n 's/^GET: \([0-9.]*\) requests.*/\1/p' | tail -1)
	echo "${set:--} ${get:--} ${inuse:--} ${samples:--}" \
		"$(awk -v a="$r0" -v b="$r1" -v n="$RN" 'BEGIN { printf "%.2f", (b - a) * 1000 / (2 * n) }')" \
		"$(awk -v a="$m0" -v b="$m1" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f", b - a }')" \
		>> "$TMP/redis.$col"
}

echo
echo "== redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*malloc=\([^ ]*\).*/\1 (\2)/p'):" \
	"requests/s, redis-benchmark -t set,get -n $RN -r 100000 -d $RD -c 4, unix socket,"
echo "   median of $RREPS interleaved runs; mean $MEAN B"
for r in $(seq "$RREPS"); do
	for col in "${RCOLS[@]}"; do redis_run "$col"; done
done
redis_run ms_full
ra=$(awk '{ print $1 }' "$TMP/redis.alone" | median)
ga=$(awk '{ print $2 }' "$TMP/redis.alone" | median)
ca=$(awk '{ print $5 }' "$TMP/redis.alone" | median)
# paired FIELD COL: the median over rounds of COL's FIELD / alone's FIELD
paired() {
	paste -d ' ' "$TMP/redis.alone" "$TMP/redis.$2" |
		awk -v f="$1" '{ a = $f; b = $(f + 6); if (a != "-" && b != "-" && a > 0) printf "%.4f\n", 100 * b / a }' |
		median | awk '{ printf "%.1f%%", $1 }'
}
pct() { awk -v x="$1" -v y="$2" 'BEGIN { if (x == "-" || y == "-" || !y) print "n/a"; else printf "%.1f%%", 100 * x / y }'; }
printf '   %-24s %12s %12s %16s %9s %10s %8s\n' "" SET GET "in use (memsight)" samples \
	"server" "memsight"
for col in "${RCOLS[@]}" ms_full; do
	s=$(awk '{ print $1 }' "$TMP/redis.$col" | median)
	g=$(awk '{ print $2 }' "$TMP/redis.$col" | median)
	i=$(awk '$3 != "-" { print $3 }' "$TMP/redis.$col" | median)
	n=$(awk '$4 != "-" { print $4 }' "$TMP/redis.$col" | median)
	c=$(awk '{ print $5 }' "$TMP/redis.$col" | median)
	m=$(awk '$6 != "-" { print $6 }' "$TMP/redis.$col" | median)
	printf '   %-24s %12s %12s %16s %9s %7s us %5s ms   (%s / %s of alone; CPU %s)\n' \
		"${RNAME[$col]}" "$s" "$g" "$i" "$n" "$c" "$m" "$(pct "$s" "$ra")" "$(pct "$g" "$ga")" \
		"$(pct "$c" "$ca")"
	printf '   %-24s runs: SET %s; GET %s; server %s us\n' "" \
		"$(awk '{ print $1 }' "$TMP/redis.$col" | minmax)" "$(awk '{ print $2 }' "$TMP/redis.$col" | minmax)" \
		"$(awk '{ print $5 }' "$TMP/redis.$col" | minmax)"
	# each run against the alone run of its round (interleaved: the same
	# drift), the median of those ratios: less swayed by a slow machine
	[ "$col" = alone ] || [ "$col" = ms_full ] ||
		printf '   %-24s paired with alone, median of the rounds: SET %s, GET %s, server CPU %s\n' "" \
			"$(paired 1 "$col")" "$(paired 2 "$col")" "$(paired 5 "$col")"
done
echo "   server = redis-server's CPU time per request, memsight = its CPU time, both while"
echo "   redis-benchmark ran (on a busy machine requests/s also measures the other load; the"
echo "   server's CPU per request is what an observer adds to it)"
echo "   memsight's BPF programs in the redis runs (bpf_stats, summed; the ms_usdt_* programs"
echo "   run in the server only, the others on their event in every process, then filter):"
if grep -qx stats "$TMP/stats"; then
	awk '{ k = $1 " " $2; n[k] += $3; ns[k] += $4 }
	     END { for (k in n) printf "     %-40s %10d runs %9.0f ns/run %8.1f ms\n", k, n[k],
		   ns[k] / n[k], ns[k] / 1e6 }' "$TMP/rprogs" 2>/dev/null | sort
else
	echo "     not available: $(head -1 "$TMP/stats")"
fi
est=$(awk '$3 != "-" { print $3 }' "$TMP/redis.ms_usdt" | median)
exact=$(awk '{ print $3 }' "$TMP/redis.ms_full" | median)
# in use is what the samples still live stand for: about est / MEAN of them
awk -v e="$est" -v x="$exact" -v m="$MEAN" 'BEGIN {
	if (e == "-" || x == "-" || !x) { print "   in-use estimate vs exact: n/a (a run failed)"; exit }
	n = e / m
	printf "   in-use estimate vs exact: %s / %s B = %+.1f%%; ~%d samples live (estimate / mean):\n", e, x, 100 * (e - x) / x, n
	printf "   the estimate'"'"'s sd ~%.1f%% (1/sqrt(samples), objects far below the mean), 3 sd = %.1f%%\n", 100 / sqrt(n > 1 ? n : 1), 300 / sqrt(n > 1 ? n : 1) }'
echo "   commands: redis-server --port 0 --unixsocket SOCK --save '' --appendonly no, with"
echo "     LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$MEAN (loaded, attached); $MSCMD (attached, full)"
