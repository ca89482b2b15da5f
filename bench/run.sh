#!/bin/bash
# make bench: what does watching a process's heap cost it?
#
#   bench/run.sh [BUILD_DIR]          (BUILD_DIR defaults to build)
#
# Part 1, a malloc-heavy C workload (bench/workload.c), side by side in one
# run, REPS repetitions each, interleaved (rep 1 of every column, then rep 2,
# ...) so drift on a shared machine hits every column alike:
#   native            no profiler
#   memsight full     memsight top -p PID -d 0 -n 0 --json
#   memsight legacy   ... --legacy-links (one perf-event uprobe per function)
#   memsight sampled  ... --sample-bytes N (skipped if memsight lacks it)
#   memleak-equiv     bpftrace bench/memleak.bt PID (what bcc memleak does)
#   uprobe floor      bpftrace bench/floor.bt PID: the same probes, empty: what
#                     trapping on every call costs before any BPF work
# Each run attaches first, then starts the workload's timed phase; the
# workload reports ns per malloc+free pair and its exact call counts, which are
# checked against the events each profiler says it saw.
# Part 2, a Go net/http service under wrk (loopback only): requests/s native
# vs with memsight attached, for a CGO_ENABLED=0 and a cgo build.
# Part 3, memsight's own cost while attached (CPU, peak RSS, report time).
# Part 4, bench/trapcost: what one uprobe hit costs by the instruction it
# sits on (a counting perf uprobe, no BPF), i.e. where probes should go.
#
# Environment: QUICK=1 (under a minute), REPS, SECS (timed phase per run),
# SAMPLE_BYTES (sampled column), WRK_SECS, WRK_REPS, WRK_CONNS, BPF_STATS=1
# (turns kernel.bpf_stats_enabled on for part 1, restored after, to split each
# profiler's cost into time in its BPF programs and the rest: traps, uretprobe
# trampolines; off by default because it is a machine-wide setting).
# Writes everything it prints to BUILD_DIR/bench/latest.txt as well.
#
# Every profiled process runs on a private copy of libc (BUILD_DIR/bench/lib):
# uprobes live on an inode, and bpftrace 0.17 does not filter uprobes by PID
# (its -p only sets $pid), so probing the system libc would trap every
# process on the machine. With a private copy only the workload traps.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${1:-build}
MS=$O/memsight
OUT=$O/bench
LIBDIR=$OUT/lib
W=$OUT/workload

if [ "${QUICK:-0}" = 1 ]; then
	REPS=${REPS:-3} SECS=${SECS:-0.7} WRK_SECS=${WRK_SECS:-2} WRK_REPS=${WRK_REPS:-1} WARM_SECS=1
	TRAP_N=30000
else
	REPS=${REPS:-5} SECS=${SECS:-3} WRK_SECS=${WRK_SECS:-3} WRK_REPS=${WRK_REPS:-3} WARM_SECS=2
	TRAP_N=100000
fi
SAMPLE_BYTES=${SAMPLE_BYTES:-524288}
WRK_CONNS=${WRK_CONNS:-8}
# whole seconds for timeouts (SECS may be a fraction)
SECS_INT=$(awk -v s="$SECS" 'BEGIN { printf "%d", s + 0.999 }')
# bpftrace's default of 4096 keys per map would drop the workload's leaks
BT_MAP_KEYS=262144

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (BPF uprobes); try: sudo make bench"
[ -x "$MS" ] || die "$MS not built; run: make O=$O"
for t in gcc jq /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t missing; run bench/deps.sh"
done

mkdir -p "$OUT" || exit 1
exec > >(tee "$OUT/latest.txt") 2>&1
TMP=$(mktemp -d /tmp/memsight-bench.XXXXXX)
PIDS=()
cleanup() {
	local p
	# only what we started, by PID; never a bare wait: tee (our stdout) is a child too
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${STATS_WAS:-}" ] && echo "$STATS_WAS" > /proc/sys/kernel/bpf_stats_enabled
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T_START=$(date +%s)

# ---- build -------------------------------------------------------------
# Frame pointers and no tail calls, so every profiler unwinds full stacks.
WCFLAGS="-O2 -g -std=gnu11 -Wall -Wextra -Wmissing-prototypes -D_GNU_SOURCE \
-fno-omit-frame-pointer -fno-optimize-sibling-calls"
if [ ! -x "$W" ] || [ bench/workload.c -nt "$W" ]; then
	echo "  CC       $W"
	# shellcheck disable=SC2086
	gcc $WCFLAGS bench/workload.c -o "$W" || die "cannot build the workload"
fi
if [ ! -x "$OUT/trapcost" ] || [ bench/trapcost.c -nt "$OUT/trapcost" ]; then
	echo "  CC       $OUT/trapcost"
	# shellcheck disable=SC2086
	gcc $WCFLAGS bench/trapcost.c -o "$OUT/trapcost" || die "cannot build trapcost"
fi
GOENV=(GOFLAGS='-mod=mod -buildvcs=false' GOPROXY=off GOCACHE="$(realpath "$O")/gocache"
       HOME="$(realpath "$O")/gohome")
GO_OK=1
for cgo in 0 1; do
	g=$OUT/goserver-cgo$cgo
	[ -x "$g" ] && [ "$g" -nt bench/goserver/main.go ] && [ "$g" -nt bench/goserver/go.mod ] &&
		continue
	command -v go >/dev/null || { GO_OK=0; break; }
	echo "  GO       $g"
	(cd bench/goserver && env "${GOENV[@]}" CGO_ENABLED=$cgo go build -o "$(realpath -m "../../$g")" .) ||
		{ GO_OK=0; break; }
done

libc=$(ldd "$W" | awk '$1 == "libc.so.6" { print $3 }')
[ -r "$libc" ] || die "cannot find the workload's libc (ldd $W)"
mkdir -p "$LIBDIR"
cmp -s "$libc" "$LIBDIR/libc.so.6" || cp "$libc" "$LIBDIR/libc.so.6" || die "cannot copy $libc"
PLIBC=$(realpath "$LIBDIR/libc.so.6")
sed "s|@LIBC@|$PLIBC|g" bench/memleak.bt > "$OUT/memleak.bt"
sed "s|@LIBC@|$PLIBC|g" bench/floor.bt > "$OUT/floor.bt"

# ---- helpers -----------------------------------------------------------
# wait_for FILE REGEX SECONDS
wait_for() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# cpu_ms PID: user+system CPU time the process used so far
cpu_ms() {
	local tck
	tck=$(getconf CLK_TCK)
	awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / t }' "/proc/$1/stat" 2>/dev/null
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# perf_fds PID: perf-event fds held (bpftrace: one per attached probe)
perf_fds() {
	local f n=0
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = 'anon_inode:[perf_event]' ] && n=$((n + 1))
	done
	echo $n
}

# bt_attach PID OUTFILE...: wait until bpftrace PID holds a perf-event fd for
# each of the N probes its "Attaching N probes..." line (on stdout) announced
bt_attach() {
	local end=$((SECONDS + 30)) n pid=$1
	shift
	while [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null; do
		n=$(cat "$@" 2>/dev/null | sed -n 's/^Attaching \([0-9]*\) probes.*/\1/p' | head -1)
		[ -n "$n" ] && [ "$(perf_fds "$pid")" -ge "$n" ] && return 0
		sleep 0.02
	done
	return 1
}

# bpf_time PID: "run_time_ns run_cnt" summed over the BPF programs PID holds
# (directly or through links); needs kernel.bpf_stats_enabled=1
bpf_time() {
	local id
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u |
	while read -r id; do
		bpftool prog show id "$id" -j 2>/dev/null | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
	done | awk '{ t += $1; c += $2 } END { print t + 0, c + 0 }'
}

now_ms() { date +%s%3N; }

# median of the numbers on stdin (one per line); "-" if none
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi }'; }

# kv LINE KEY: value of KEY=VALUE in a workload result line
kv() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

# ---- columns -----------------------------------------------------------
COLS=(native floor ms_full ms_legacy ms_sampled memleak)
declare -A NAME CMD NA
NAME[native]="native"
NAME[floor]="uprobe floor (empty bpftrace)"
NAME[ms_full]="memsight full"
NAME[ms_legacy]="memsight legacy-links"
NAME[ms_sampled]="memsight sampled"
NAME[memleak]="memleak-equiv (bpftrace)"
MSCMD="$MS top -p PID -d 0 -n 0 --json"
CMD[native]="LD_LIBRARY_PATH=$LIBDIR $W -t $SECS   (timed phase starts on a stdin line)"
CMD[ms_full]="$MSCMD"
CMD[ms_legacy]="$MSCMD --legacy-links"
CMD[ms_sampled]="$MSCMD --sample-bytes $SAMPLE_BYTES"
CMD[floor]="bpftrace $OUT/floor.bt PID   (from bench/floor.bt)"
CMD[memleak]="BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS bpftrace $OUT/memleak.bt PID   (from bench/memleak.bt)"

if ! "$MS" top --help 2>&1 | grep -q -- '--sample-bytes'; then
	NA[ms_sampled]="not available: 'memsight top --help' does not list --sample-bytes"
fi
if ! command -v bpftrace >/dev/null; then
	NA[memleak]="not available: bpftrace not installed (bench/deps.sh installs it)"
	NA[floor]=${NA[memleak]}
fi

# run_one COL REP: one workload run under COL; leaves its files in $TMP/COL.REP
run_one() {
	local col=$1 d=$TMP/$1.$2 wp pp tp fd t0 t1 c0 c1 line
	local -a pcmd=()
	mkdir -p "$d" && mkfifo "$d/in" || return 1
	LD_LIBRARY_PATH=$LIBDIR "$W" -t "$SECS" < "$d/in" > "$d/w.out" 2>&1 &
	wp=$!
	PIDS+=("$wp")
	exec {fd}> "$d/in"
	if ! wait_for "$d/w.out" '^ready' 10; then
		echo "workload did not start: $(head -c 300 "$d/w.out")" > "$d/fail"
		exec {fd}>&-; kill "$wp"; return 1
	fi
	case $col in
	ms_full)	pcmd=("$MS" top -p "$wp" -d 0 -n 0 --json) ;;
	ms_legacy)	pcmd=("$MS" top -p "$wp" -d 0 -n 0 --json --legacy-links) ;;
	ms_sampled)	pcmd=("$MS" top -p "$wp" -d 0 -n 0 --json --sample-bytes "$SAMPLE_BYTES") ;;
	memleak)	pcmd=(env "BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS" bpftrace "$OUT/memleak.bt" "$wp") ;;
	floor)		pcmd=(bpftrace "$OUT/floor.bt" "$wp") ;;
	esac
	if [ ${#pcmd[@]} -gt 0 ]; then
		t0=$(now_ms)
		# GNU time waits for its child through SIGINT: it reports total CPU and peak RSS
		/usr/bin/time -f '%U %S %M' -o "$d/time" "${pcmd[@]}" > "$d/p.out" 2> "$d/p.err" &
		tp=$!
		PIDS+=("$tp")
		for _ in $(seq 100); do
			pp=$(pgrep -P "$tp" | head -1)
			[ -n "$pp" ] && { PIDS+=("$pp"); break; }
			sleep 0.02
		done
		# bpftrace prints "ERROR: ... RLIMIT_MEMLOCK" and still works: judge it by its fds
		local ok=1
		if [ "${pcmd[0]}" = env ] || [ "${pcmd[0]}" = bpftrace ]; then
			bt_attach "$pp" "$d/p.out" "$d/p.err" || ok=0
		else
			wait_for "$d/p.err" 'attached to PID|error' 30 || ok=0
			grep -q 'error' "$d/p.err" && ok=0
		fi
		kill -0 "$tp" 2>/dev/null || ok=0
		if [ $ok = 0 ]; then
			grep -v 'RLIMIT_MEMLOCK\|uprobe_events\|failed to detach' "$d/p.err" | head -3 > "$d/fail"
			[ -s "$d/fail" ] || echo "profiler did not attach" > "$d/fail"
			kill -INT "$pp" 2>/dev/null; wait "$tp" 2>/dev/null
			exec {fd}>&-; kill "$wp"; wait "$wp" 2>/dev/null
			return 2
		fi
		t1=$(now_ms)
		echo $((t1 - t0)) > "$d/attach_ms"
		c0=$(cpu_ms "$pp")
	fi
	echo go >&$fd
	if ! wait_for "$d/w.out" '^result' $((SECS_INT * 4 + 60)); then
		echo "timed phase did not finish" > "$d/fail"
		[ -n "${tp:-}" ] && kill -INT "$pp" 2>/dev/null
		exec {fd}>&-; kill "$wp"; return 1
	fi
	if [ ${#pcmd[@]} -gt 0 ]; then
		c1=$(cpu_ms "$pp")
		awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }' > "$d/steady_cpu_ms"
		hwm_kb "$pp" > "$d/hwm_kb"
		[ "${BPF_STATS:-0}" = 1 ] && bpf_time "$pp" > "$d/bpf"
		t0=$(now_ms)
		kill -INT "$pp"
		wait "$tp"
		echo $? > "$d/p.rc"
		t1=$(now_ms)
		echo $((t1 - t0)) > "$d/report_ms"
	fi
	echo q >&$fd
	exec {fd}>&-
	wait "$wp"
	line=$(grep '^result' "$d/w.out")
	kv "$line" ns_per_pair > "$d/ns"
	echo $(($(kv "$line" malloc) + $(kv "$line" calloc) + $(kv "$line" realloc))) > "$d/allocs"
	if [ -s "$d/bpf" ]; then
		awk -v a="$(cat "$d/allocs")" '{ printf "%.1f %.2f %.1f\n", $1 / a, $2 / a, $2 ? $1 / $2 : 0 }' \
			"$d/bpf" > "$d/bpf_per_pair"
	fi
	check_events "$col" "$d" "$line" > "$d/check"
	return 0
}

# check_events COL DIR RESULTLINE: events the profiler saw vs calls made
check_events() {
	local col=$1 d=$2 line=$3 allocs frees frees_alt sa sf lb
	allocs=$(($(kv "$line" malloc) + $(kv "$line" calloc) + $(kv "$line" realloc)))
	# a realloc frees its old block; memsight counts it even when it did not move
	frees=$(($(kv "$line" free) + $(kv "$line" realloc)))
	frees_alt=$(($(kv "$line" free) + $(kv "$line" realloc_moved)))
	case $col in
	native) echo "-"; return ;;
	floor)	echo "-"; return ;;
	memleak)
		sa=$(sed -n 's/^@allocs: //p' "$d/p.out")
		sf=$(sed -n 's/^@frees: //p' "$d/p.out")
		lb=false ;;
	*)
		if ! jq -e . "$d/p.out" >/dev/null 2>&1; then echo "no JSON output"; return; fi
		sa=$(jq '.events.allocs' "$d/p.out")
		sf=$(jq '.events.frees' "$d/p.out")
		lb=$(jq '.events.lower_bound' "$d/p.out")
		jq '[.stacks[].frames | length] | add // 0' "$d/p.out" > "$d/frames"
		jq '.stacks | length' "$d/p.out" > "$d/stacks" ;;
	esac
	if [ "$col" = ms_sampled ]; then
		echo "sampled $sa/$allocs"
	elif [ "${sa:-x}" = "$allocs" ] && { [ "${sf:-x}" = "$frees" ] || [ "${sf:-x}" = "$frees_alt" ]; } &&
		[ "$lb" = false ]; then
		echo "exact"
	else
		echo "LOST allocs ${sa:-?}/$allocs frees ${sf:-?}/$frees lower_bound=$lb"
	fi
}

# ---- part 1: the workload ----------------------------------------------
echo "memsight overhead benchmark: $(uname -r), $(nproc) CPUs, $(date -u '+%F %T UTC')"
echo "settings: REPS=$REPS SECS=$SECS (timed phase per run) SAMPLE_BYTES=$SAMPLE_BYTES QUICK=${QUICK:-0}"
echo "libc: private copy of $libc at $PLIBC"
echo

# The bpftrace column only stands if bpftrace can attach here at all.
if [ -z "${NA[memleak]:-}" ]; then
	sleep 30 & sp=$!
	PIDS+=("$sp")
	env BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS bpftrace "$OUT/memleak.bt" "$sp" > "$TMP/bt.smoke" 2>&1 &
	bp=$!
	PIDS+=("$bp")
	if ! bt_attach "$bp" "$TMP/bt.smoke"; then
		NA[memleak]="not available: bpftrace did not attach: $(grep -v 'RLIMIT_MEMLOCK' "$TMP/bt.smoke" |
			head -2 | tr '\n' ' ')"
		NA[floor]=${NA[memleak]}
	fi
	kill -INT "$bp" 2>/dev/null; wait "$bp" 2>/dev/null
	kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
fi

if [ "${BPF_STATS:-0}" = 1 ]; then
	STATS_WAS=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 > /proc/sys/kernel/bpf_stats_enabled
fi
for rep in $(seq "$REPS"); do
	printf 'rep %d/%d:' "$rep" "$REPS"
	for col in "${COLS[@]}"; do
		[ -n "${NA[$col]:-}" ] && continue
		run_one "$col" "$rep"
		rc=$?
		if [ $rc -eq 2 ] && [ "$col" = ms_sampled ]; then
			NA[$col]="not available: $(head -1 "$TMP/$col.$rep/fail")"
		elif [ $rc -ne 0 ]; then
			printf ' %s FAILED (%s)' "$col" "$(head -1 "$TMP/$col.$rep/fail")"
			continue
		fi
		printf ' %s=%s' "$col" "$(cat "$TMP/$col.$rep/ns" 2>/dev/null)"
	done
	echo
done
if [ -n "${STATS_WAS:-}" ]; then
	echo "$STATS_WAS" > /proc/sys/kernel/bpf_stats_enabled
	STATS_WAS=
fi

# col_values COL FILE: that file's value from every repetition of COL
col_values() { cat "$TMP/$1".*/"$2" 2>/dev/null; }

echo
echo "== C workload: ns per malloc+free pair (median of $REPS; min-max), lower is better"
printf '%-30s %12s %21s %10s  %s\n' column ns/pair min-max slowdown "events seen vs calls made"
native=$(col_values native ns | median)
declare -A MED
for col in "${COLS[@]}"; do
	if [ -n "${NA[$col]:-}" ]; then
		printf '%-30s %s\n' "${NAME[$col]}" "${NA[$col]}"
		continue
	fi
	m=$(col_values "$col" ns | median)
	MED[$col]=$m
	if [ "$m" = - ] || [ "$native" = - ]; then slow=-; else
		slow=$(awk -v a="$m" -v b="$native" 'BEGIN { printf "%.0fx", a / b }'); fi
	[ "$col" = native ] && slow=1x
	checks=-
	[ "$col" != native ] && [ "$col" != floor ] && checks=$(col_values "$col" check | sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%s x%d", s, substr($0, 2), c; s = ", " }')
	printf '%-30s %12s %21s %10s  %s\n' "${NAME[$col]}" "$m" "$(col_values "$col" ns | minmax)" "$slow" "$checks"
done
echo
ratio() {	# A B: A/B and (A-native)/(B-native)
	awk -v a="$1" -v b="$2" -v n="$native" 'BEGIN {
		printf "%.2f (profiler cost alone, minus native: %.2f)", a / b, (a - n) / (b - n) }'
}
if [ -n "${MED[ms_full]:-}" ] && [ -n "${MED[memleak]:-}" ] && [ "${MED[memleak]}" != - ] &&
	[ "${MED[ms_full]}" != - ]; then
	r=$(awk -v a="${MED[ms_full]}" -v b="${MED[memleak]}" 'BEGIN { print a / b }')
	verdict=$(awk -v r="$r" 'BEGIN { print (r <= 0.33) ? "MET" : "NOT MET" }')
	echo "ratio memsight-full / memleak-equiv = $(ratio "${MED[ms_full]}" "${MED[memleak]}"); target <= 0.33: $verdict"
	[ -n "${MED[ms_sampled]:-}" ] && [ "${MED[ms_sampled]}" != - ] &&
		echo "ratio memsight-sampled / memleak-equiv = $(ratio "${MED[ms_sampled]}" "${MED[memleak]}")"
else
	echo "ratio memsight-full / memleak-equiv: n/a (a column is missing)"
fi
if [ -n "${MED[floor]:-}" ] && [ -n "${MED[memleak]:-}" ] && [ "${MED[floor]}" != - ] &&
	[ "${MED[memleak]}" != - ]; then
	echo "uprobe floor / memleak-equiv = $(ratio "${MED[floor]}" "${MED[memleak]}"): the traps alone, before"
	echo "  any BPF work, with probes where they are now (function entries); see the trap-cost table"
fi

if [ "${BPF_STATS:-0}" = 1 ]; then
	echo
	echo "== where the time goes (kernel.bpf_stats_enabled; median of $REPS): per malloc+free pair"
	printf '%-30s %14s %12s %13s %12s\n' column above_native bpf_ns/pair bpf_runs/pair ns/bpf_run
	for col in "${COLS[@]}"; do
		[ "$col" = native ] && continue
		[ -n "${NA[$col]:-}" ] && continue
		above=$(awk -v a="${MED[$col]}" -v n="$native" 'BEGIN { printf "%.0f", a - n }')
		printf '%-30s %14s %12s %13s %12s\n' "${NAME[$col]}" "$above" \
			"$(cat "$TMP/$col".*/bpf_per_pair 2>/dev/null | awk '{ print $1 }' | median)" \
			"$(cat "$TMP/$col".*/bpf_per_pair 2>/dev/null | awk '{ print $2 }' | median)" \
			"$(cat "$TMP/$col".*/bpf_per_pair 2>/dev/null | awk '{ print $3 }' | median)"
	done
	echo "  the rest of 'above_native' is traps, uretprobe trampolines and cache effects"
fi

# ---- part 3 (printed here, measured in part 1): profiler self-cost ----------
echo
echo "== profiler self-cost while attached to the workload (median of $REPS)"
echo "   steady CPU: utime+stime from /proc/PID/stat between attach and the end of the timed phase"
echo "   (BPF programs run in the workload's context and are billed to it, not here);"
echo "   VmHWM at the end of the timed phase; total CPU and max RSS over the whole run (GNU time);"
echo "   report: SIGINT to exit (read maps, symbolise, write JSON)"
printf '%-30s %9s %13s %9s %12s %12s %10s %7s %7s\n' column attach_ms steady_cpu_ms cpu_% \
	VmHWM_KiB maxRSS_KiB report_ms stacks frames
for col in "${COLS[@]}"; do
	[ "$col" = native ] && continue
	[ -n "${NA[$col]:-}" ] && continue
	a=$(col_values "$col" attach_ms | median)
	s=$(col_values "$col" steady_cpu_ms | median)
	pct=$(awk -v s="$s" -v t="$SECS" 'BEGIN { if (s == "-") print "-"; else printf "%.2f", s / (t * 10) }')
	h=$(col_values "$col" hwm_kb | median)
	tot=$(cat "$TMP/$col".*/time 2>/dev/null | awk 'NF == 3 { print $3 }' | median)
	r=$(col_values "$col" report_ms | median)
	st=$(col_values "$col" stacks | median)
	fr=$(col_values "$col" frames | median)
	printf '%-30s %9s %13s %9s %12s %12s %10s %7s %7s\n' "${NAME[$col]}" "$a" "$s" "$pct" "$h" "$tot" \
		"$r" "$st" "$fr"
done
echo "symboliser lookups/s: TODO: the CLI exposes no symboliser counter; 'report_ms' above bounds"
echo "  the whole report path (frames/report_ms) but is dominated by opening ELF files, not lookups"

# ---- part 4: trap cost by instruction -------------------------------------
echo
echo "== one uprobe hit by the instruction it sits on (counting perf uprobe, no BPF program)"
echo "   free+0 and malloc+0 are where memsight and memleak probe today; free+3 is the je after"
echo "   free's 'test %rdi,%rdi' (rdi unchanged there)"
TRAPCMD="LD_LIBRARY_PATH=$LIBDIR $OUT/trapcost -n $TRAP_N free+0 free+3 free+9 malloc+0 malloc+4"
LD_LIBRARY_PATH=$LIBDIR "$OUT/trapcost" -n "$TRAP_N" free+0 free+3 free+9 malloc+0 malloc+4 2>&1 |
	sed 's/^/   /'

# ---- part 2: Go net/http under wrk -------------------------------------
echo
echo "== Go net/http service under wrk: requests/s (127.0.0.1 only, ${WRK_SECS}s x $WRK_REPS per cell, median), higher is better"
# wrk_rps PORT [SECS]: requests/s of one bounded wrk run against the loopback service
wrk_rps() {
	local t=${2:-$WRK_SECS}
	timeout $((t + 30)) wrk -t1 -c"$WRK_CONNS" -d"${t}s" "http://127.0.0.1:$1/?n=8" 2>&1 |
		awk '/^Requests\/sec:/ { print $2 }'
}
# go_attach PID OUT ERR: start memsight on the Go service; sets MP, 0 once attached
go_attach() {
	"$MS" top -p "$1" -d 0 -n 0 --json > "$2" 2> "$3" &
	MP=$!
	PIDS+=("$MP")
	wait_for "$3" 'attached to PID|error' 30
	kill -0 "$MP" 2>/dev/null && ! grep -q error "$3" && return 0
	kill -INT "$MP" 2>/dev/null; wait "$MP" 2>/dev/null
	return 1
}
if ! command -v wrk >/dev/null; then
	echo "skipped: wrk not installed (bench/deps.sh installs it)"
elif [ "$GO_OK" != 1 ]; then
	echo "skipped: the Go service did not build (go missing or build failed, see above)"
else
	echo "   native and attached alternate, one wrk run each per round, so load from elsewhere hits both"
	printf '%-28s %10s %19s %10s %19s %8s  %s\n' binary native min-max attached min-max change \
		"memsight events (all rounds)"
	for cgo in 0 1; do
		g=$OUT/goserver-cgo$cgo
		label="goserver CGO_ENABLED=$cgo"
		LD_LIBRARY_PATH=$LIBDIR "$g" 0 > "$TMP/go$cgo.out" 2>&1 &
		gp=$!
		PIDS+=("$gp")
		if ! wait_for "$TMP/go$cgo.out" '^ready' 10; then
			printf '%-28s failed to start: %s\n' "$label" "$(head -c 200 "$TMP/go$cgo.out")"
			kill "$gp"; continue
		fi
		port=$(awk '/^ready/ { print $3 }' "$TMP/go$cgo.out")
		wrk_rps "$port" "$WARM_SECS" > /dev/null	# warm-up: heap growth, page cache
		: > "$TMP/go$cgo.nat"; : > "$TMP/go$cgo.att"; : > "$TMP/go$cgo.ev"
		na=
		for r in $(seq "$WRK_REPS"); do
			wrk_rps "$port" >> "$TMP/go$cgo.nat"
			[ -n "$na" ] && continue
			if ! go_attach "$gp" "$TMP/go$cgo.$r.json" "$TMP/go$cgo.err"; then
				why=$(grep -m1 error "$TMP/go$cgo.err")
				if grep -q 'no allocator found' "$TMP/go$cgo.err"; then
					na="n/a: no C allocator in this Go binary"
				else
					na="n/a: memsight did not attach"
				fi
				continue
			fi
			wrk_rps "$port" >> "$TMP/go$cgo.att"
			kill -INT "$MP"; wait "$MP"
			jq -r '"\(.events.allocs) \(.events.frees) \(.events.go_samples // 0)"' "$TMP/go$cgo.$r.json" >> "$TMP/go$cgo.ev"
		done
		nat=$(median < "$TMP/go$cgo.nat")
		if [ -n "$na" ]; then
			printf '%-28s %10s %19s %s\n%28s (%s)\n' "$label" "$nat" "$(minmax < "$TMP/go$cgo.nat")" \
				"$na" "" "$why"
		else
			att=$(median < "$TMP/go$cgo.att")
			chg=$(awk -v a="$att" -v n="$nat" 'BEGIN { printf "%+.1f%%", (a - n) * 100 / n }')
			ev=$(awk '{ a += $1; f += $2; g += $3 } END { printf "allocs %d frees %d go samples %d", a, f, g }' "$TMP/go$cgo.ev")
			printf '%-28s %10s %19s %10s %19s %8s  %s\n' "$label" "$nat" \
				"$(minmax < "$TMP/go$cgo.nat")" "$att" "$(minmax < "$TMP/go$cgo.att")" "$chg" "$ev"
		fi
		kill "$gp"; wait "$gp" 2>/dev/null
	done
	echo "note: attached = memsight's default for Go: an entry probe on the runtime's own sampler"
	echo "  (runtime.mProf_Malloc, turned on via runtime.MemProfileRate if off) plus the libc probes;"
	echo "  'go samples' counts the Go allocations it recorded"
fi

# ---- the commands behind every figure ------------------------------------
echo
echo "== commands (PID = the workload's PID; each profiler is attached before the timed phase"
echo "   starts and stopped with SIGINT after the workload prints its result line)"
for col in "${COLS[@]}"; do
	printf '%-30s %s\n' "${NAME[$col]}" "${CMD[$col]}"
done
echo "go services:                   LD_LIBRARY_PATH=$LIBDIR $OUT/goserver-cgo{0,1} 0"
echo "                               wrk -t1 -c$WRK_CONNS -d${WRK_SECS}s http://127.0.0.1:PORT/?n=8"
echo "                               $MS top -p PID -d 0 -n 0 --json   (attached cells)"
echo "trap cost:                     $TRAPCMD"
echo "self-cost:                     /usr/bin/time -f '%U %S %M' PROFILER..., /proc/PID/stat, /proc/PID/status"
echo
echo "bench: done in $(($(date +%s) - T_START)) s; this report is in $OUT/latest.txt"
