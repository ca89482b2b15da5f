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
#   memsight sampled, fp stacks     ... --sample-bytes N --unwind fp
#   memsight sampled, dwarf stacks  ... --sample-bytes N --unwind dwarf
#   memsight full, dwarf stacks     ... --unwind dwarf (every stack copied)
#                     (the sampled/dwarf columns are skipped if memsight lacks
#                     --sample-bytes / --unwind)
#   memleak-equiv     bpftrace bench/memleak.bt PID (what bcc memleak does)
#   uprobe floor      bpftrace bench/floor.bt PID: the same probes, empty: what
#                     trapping on every call costs before any BPF work
#   native, no-FP build / memsight sampled, dwarf stacks, no-FP build: the
#                     same workload built with -fomit-frame-pointer, where only
#                     DWARF unwinding gives whole stacks (only these two columns
#                     run it; every other column runs the frame-pointer build)
# Each run attaches first, then starts the workload's timed phase; the
# workload reports ns per malloc+free pair and its exact call counts, which are
# checked against the events each profiler says it saw.
# Part 2 (bench/go.sh, which also runs alone), a Go net/http service under wrk
# (loopback only): requests/s native vs with memsight attached, for a
# CGO_ENABLED=0 and a cgo build, each plain and stripped (-s -w) side by side.
# Part 1b, DWARF vs frame-pointer stacks in sampled mode, from part 1's runs:
# the cost difference per pair and per sample, memsight's own CPU per sample
# (user-space unwinding is billed to memsight), frames per stack, and what
# full tracking with every stack copied costs and loses.
# Part 3, memsight's own cost while attached (CPU, peak RSS, report time), and
# bench/symbench: symboliser lookups/s through user/target/symbolize.h.
# Part 4, bench/trapcost: what one uprobe hit costs by the instruction it
# sits on (a counting perf uprobe, no BPF), i.e. where probes should go.
# Part 5, memsightd's RSS watching 200 long-lived processes (bench/idler.c),
# full tracking and sampled mode with DWARF unwinding (an unwinder each).
# Part 6 (bench/sampler.sh, which also runs alone), libmemsight_sampler.so:
# ns per malloc+free pair alone, with it loaded and nobody attached, and
# attached (a counting floor, memsight through it, memsight's uprobe path),
# 1 and 2 threads, with the BPF cost per sample; and Debian's redis-server
# under redis-benchmark: requests/s alone, with it, with memsight attached
# through it, and its in-use estimate against memsight's exact figure.
# Part 7 (bench/run_gate.sh, which also runs alone), `memsight run` as a CI
# gate: a malloc-heavy C command (bench/mallocbench) and a fork-heavy shell
# loop, bare and under `memsight run` (exact, and sampled), side by side.
# Part 8 (bench/web.sh, which also runs alone), memsightd's RSS while it
# watches DAEMON_PROCS processes and serves the web view, JSON API, /metrics
# and /debug/pprof/ for each, round after round: bounded if it stops growing.
#
# Environment: QUICK=1 (a few minutes), REPS, SECS (timed phase per run),
# SAMPLE_BYTES (sampled columns), SYM_N (symboliser lookups per module and
# call), DAEMON_PROCS (part 5, default 200), DAEMON_SAMPLE_BYTES (part 5's
# sampled daemon, default 65536), WRK_SECS, WRK_REPS, WRK_CONNS, BPF_STATS=1
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
. bench/lib.sh
bench_init bench "$@"
LIBDIR=$OUT/lib
W_NOFP=$OUT/workload-nofp

if [ "${QUICK:-0}" = 1 ]; then
	REPS=${REPS:-3} SECS=${SECS:-0.7} WRK_SECS=${WRK_SECS:-2} WRK_REPS=${WRK_REPS:-1} WARM_SECS=1
	TRAP_N=30000 SYM_N=${SYM_N:-20000} DAEMON_SETTLE=${DAEMON_SETTLE:-3}
else
	REPS=${REPS:-5} SECS=${SECS:-3} WRK_SECS=${WRK_SECS:-3} WRK_REPS=${WRK_REPS:-3} WARM_SECS=2
	TRAP_N=100000 SYM_N=${SYM_N:-100000} DAEMON_SETTLE=${DAEMON_SETTLE:-10}
fi
SAMPLE_BYTES=${SAMPLE_BYTES:-524288}
DAEMON_PROCS=${DAEMON_PROCS:-200}
DAEMON_SAMPLE_BYTES=${DAEMON_SAMPLE_BYTES:-65536}
WRK_CONNS=${WRK_CONNS:-8}
# whole seconds for timeouts (SECS may be a fraction)
SECS_INT=$(awk -v s="$SECS" 'BEGIN { printf "%d", s + 0.999 }')
# bpftrace's default of 4096 keys per map would drop the workload's leaks
BT_MAP_KEYS=262144

[ "$(id -u)" = 0 ] || die "needs root (BPF uprobes); try: sudo make bench"
[ -x "$MS" ] || die "$MS not built; run: make O=$O"
for t in gcc jq /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t missing; run bench/deps.sh"
done

mkdir -p "$OUT" || exit 1
exec > >(tee "$OUT/latest.txt") 2>&1
bench_tmp bench
IDLERS=()	# part 5's processes, emptied once reaped
bench_atexit() {
	local p
	for p in "${IDLERS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${IDLERS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${STATS_WAS:-}" ] && echo "$STATS_WAS" > /proc/sys/kernel/bpf_stats_enabled
}
T_START=$(date +%s)

# ---- build -------------------------------------------------------------
build_workload || die "cannot build the workload"
# The same workload as distros build code: no frame pointers, so only CFI
# (DWARF unwinding) walks its stacks; still no tail calls, so the call paths
# are the same functions.
NOFP_CFLAGS=${WCFLAGS/-fno-omit-frame-pointer/-fomit-frame-pointer}
# shellcheck disable=SC2086
build_c "$W_NOFP" bench/workload.c -- $NOFP_CFLAGS bench/workload.c ||
	die "cannot build the no-FP workload"
build_idler || die "cannot build the idler"
# The symboliser benchmark links memsight's own library, as memsight does.
SYMB=$OUT/symbench
SYM_CFLAGS="-O2 -g -std=gnu11 -Wall -Wextra -Wmissing-prototypes -D_GNU_SOURCE -Iinclude -Iuser -I$O"
SYM_LDLIBS="-lbpf -lelf -ldw -lz -lstdc++ -lm -lmicrohttpd -ljson-c -lpthread"
SYM_OK=1
if [ ! -r "$O/libmemsight.a" ]; then
	SYM_OK=0
else
	# shellcheck disable=SC2086
	build_c "$SYMB" bench/symbench.c "$O/libmemsight.a" -- $SYM_CFLAGS bench/symbench.c \
		"$O/libmemsight.a" $SYM_LDLIBS || SYM_OK=0
fi
# shellcheck disable=SC2086
build_c "$OUT/trapcost" bench/trapcost.c -- $WCFLAGS bench/trapcost.c || die "cannot build trapcost"

read -r LIBC PLIBC < <(private_libc "$W" "$LIBDIR")
[ -n "${PLIBC:-}" ] || die "cannot copy the workload's libc (ldd $W) into $LIBDIR"
sed "s|@LIBC@|$PLIBC|g" bench/memleak.bt > "$OUT/memleak.bt"
sed "s|@LIBC@|$PLIBC|g" bench/floor.bt > "$OUT/floor.bt"

# ---- helpers -----------------------------------------------------------
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
bpf_time() { prog_stats "$1" | awk '{ t += $3; c += $2 } END { print t + 0, c + 0 }'; }

now_ms() { date +%s%3N; }

# ---- columns -----------------------------------------------------------
COLS=(native floor ms_full ms_full_auto ms_legacy ms_sampled_fp ms_sampled_fp_nosess ms_sampled_dwarf ms_full_dwarf memleak
      native_nofp ms_sampled_dwarf_nofp)
declare -A NAME CMD NA PROF
NAME[native]="native"
NAME[floor]="uprobe floor (empty bpftrace)"
NAME[ms_full]="memsight full, fp stacks"
NAME[ms_full_auto]="memsight full, default (auto)"
NAME[ms_legacy]="memsight legacy-links"
NAME[ms_sampled_fp]="memsight sampled, fp stacks"
NAME[ms_sampled_fp_nosess]="  ... without uprobe sessions"
NAME[ms_sampled_dwarf]="memsight sampled, dwarf stacks"
NAME[ms_full_dwarf]="memsight full, dwarf stacks"
NAME[memleak]="memleak-equiv (bpftrace)"
NAME[native_nofp]="native, no-FP build"
NAME[ms_sampled_dwarf_nofp]="sampled, dwarf, no-FP build"
MSCMD="$MS top -p PID -d 0 -n 0 --json"
# the profiler's arguments per column (PID is the workload's)
PROF[ms_full]="$MSCMD --unwind fp"
# the default: DWARF where a module has no frame pointers (the workload's
# libc), bounded by --dwarf-rate
PROF[ms_full_auto]="$MSCMD"
PROF[ms_legacy]="$MSCMD --legacy-links --unwind fp"
PROF[ms_sampled_fp]="$MSCMD --sample-bytes $SAMPLE_BYTES --unwind fp"
PROF[ms_sampled_fp_nosess]=${PROF[ms_sampled_fp]}
PROF[ms_sampled_dwarf]="$MSCMD --sample-bytes $SAMPLE_BYTES --unwind dwarf"
PROF[ms_full_dwarf]="$MSCMD --unwind dwarf"
PROF[ms_sampled_dwarf_nofp]=${PROF[ms_sampled_dwarf]}
CMD[native]="LD_LIBRARY_PATH=$LIBDIR $W -t $SECS   (timed phase starts on a stdin line)"
CMD[native_nofp]="LD_LIBRARY_PATH=$LIBDIR $W_NOFP -t $SECS   (-fomit-frame-pointer build)"
for col in ms_full ms_full_auto ms_legacy ms_sampled_fp ms_sampled_dwarf ms_full_dwarf; do
	CMD[$col]=${PROF[$col]}
done
# kernels before 6.12 (no uprobe sessions) get a return trap on every allocating call
CMD[ms_sampled_fp_nosess]="MEMSIGHT_NO_SESSION=1 ${PROF[ms_sampled_fp_nosess]}"
CMD[ms_sampled_dwarf_nofp]="${PROF[ms_sampled_dwarf_nofp]}   (PID: $W_NOFP)"
CMD[floor]="bpftrace $OUT/floor.bt PID   (from bench/floor.bt)"
CMD[memleak]="BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS bpftrace $OUT/memleak.bt PID   (from bench/memleak.bt)"
# the column whose ns/pair is each column's "native"
base_of() { case $1 in *_nofp) echo native_nofp ;; *) echo native ;; esac; }
is_dwarf() { case $1 in *dwarf* | *_auto) return 0 ;; *) return 1 ;; esac; }
is_sampled() { case $1 in ms_sampled*) return 0 ;; *) return 1 ;; esac; }

if ! "$MS" top --help 2>&1 | grep -q -- '--sample-bytes'; then
	for col in ms_sampled_fp ms_sampled_fp_nosess ms_sampled_dwarf ms_sampled_dwarf_nofp; do
		NA[$col]="not available: 'memsight top --help' does not list --sample-bytes"
	done
fi
if ! "$MS" top --help 2>&1 | grep -q -- '--unwind'; then
	for col in ms_sampled_fp ms_sampled_fp_nosess ms_sampled_dwarf ms_full_dwarf ms_sampled_dwarf_nofp; do
		NA[$col]="not available: 'memsight top --help' does not list --unwind"
	done
fi
if ! command -v bpftrace >/dev/null; then
	NA[memleak]="not available: bpftrace not installed (bench/deps.sh installs it)"
	NA[floor]=${NA[memleak]}
fi

# run_one COL REP: one workload run under COL; leaves its files in $TMP/COL.REP
run_one() {
	local col=$1 d=$TMP/$1.$2 wp pp tp fd t0 t1 c0 c1 line wbin=$W
	local -a pcmd=()
	case $col in *_nofp) wbin=$W_NOFP ;; esac
	mkdir -p "$d" && mkfifo "$d/in" || return 1
	LD_LIBRARY_PATH=$LIBDIR "$wbin" -t "$SECS" < "$d/in" > "$d/w.out" 2>&1 &
	wp=$!
	PIDS+=("$wp")
	exec {fd}> "$d/in"
	if ! wait_for "$d/w.out" '^ready' 10; then
		echo "workload did not start: $(head -c 300 "$d/w.out")" > "$d/fail"
		exec {fd}>&-; kill "$wp"; return 1
	fi
	case $col in
	ms_*)		# shellcheck disable=SC2206
			pcmd=(${PROF[$col]//PID/$wp}) ;;
	memleak)	pcmd=(env "BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS" bpftrace "$OUT/memleak.bt" "$wp") ;;
	floor)		pcmd=(bpftrace "$OUT/floor.bt" "$wp") ;;
	esac
	if [ ${#pcmd[@]} -gt 0 ]; then
		t0=$(now_ms)
		# GNU time waits for its child through SIGINT: it reports total CPU and peak RSS
		local nosess=
		[ "$col" = ms_sampled_fp_nosess ] && nosess=1
		# env execs time in place: the PID below stays time's
		env ${nosess:+MEMSIGHT_NO_SESSION=1} /usr/bin/time -f '%U %S %M' -o "$d/time" \
			"${pcmd[@]}" > "$d/p.out" 2> "$d/p.err" &
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
		awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f\n", b - a }' > "$d/steady_cpu_ms"
		status_kb "$pp" VmHWM > "$d/hwm_kb"
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
	native*) echo "-"; return ;;
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
		jq '.stacks | length' "$d/p.out" > "$d/stacks"
		awk -v f="$(cat "$d/frames")" -v s="$(cat "$d/stacks")" \
			'BEGIN { if (s > 0) printf "%.2f\n", f / s }' > "$d/frames_per_stack"
		echo "$sa" > "$d/samples"
		jq '.events.dwarf_stacks // 0' "$d/p.out" > "$d/dwarf_stacks"
		jq '.events.dwarf_stacks_lost // 0' "$d/p.out" > "$d/dwarf_lost"
		jq -r '.tracked.unwind // "?"' "$d/p.out" > "$d/unwind" ;;
	esac
	# the unwinding memsight says it used must be the column's
	local uw='' want=frame-pointers
	if [ -s "$d/unwind" ]; then
		is_dwarf "$col" && want=dwarf
		[ "$(cat "$d/unwind")" != "$want" ] && uw=" UNWIND=$(cat "$d/unwind") (expected $want)"
	fi
	if is_sampled "$col"; then
		echo "sampled $sa/$allocs$uw"
	elif [ "${sa:-x}" = "$allocs" ] && { [ "${sf:-x}" = "$frees" ] || [ "${sf:-x}" = "$frees_alt" ]; } &&
		[ "$lb" = false ]; then
		echo "exact$uw"
	else
		echo "LOST allocs ${sa:-?}/$allocs frees ${sf:-?}/$frees lower_bound=$lb$uw"
	fi
}

# ---- part 1: the workload ----------------------------------------------
echo "memsight overhead benchmark: $(uname -r), $(nproc) CPUs, $(date -u '+%F %T UTC')"
echo "settings: REPS=$REPS SECS=$SECS (timed phase per run) SAMPLE_BYTES=$SAMPLE_BYTES QUICK=${QUICK:-0}"
echo "libc: private copy of $LIBC at $PLIBC"
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
		if [ $rc -eq 2 ] && { is_sampled "$col" || is_dwarf "$col"; }; then
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
for col in native native_nofp; do MED[$col]=$(col_values "$col" ns | median); done
for col in "${COLS[@]}"; do
	if [ -n "${NA[$col]:-}" ]; then
		printf '%-30s %s\n' "${NAME[$col]}" "${NA[$col]}"
		continue
	fi
	m=$(col_values "$col" ns | median)
	MED[$col]=$m
	b=${MED[$(base_of "$col")]:--}
	if [ "$m" = - ] || [ "$b" = - ]; then slow=-; else
		slow=$(awk -v a="$m" -v b="$b" 'BEGIN { printf "%.0fx", a / b }'); fi
	case $col in native*) slow=1x ;; esac
	checks=-
	case $col in native*|floor) ;; *)
		checks=$(col_values "$col" check | sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%s x%d", s, substr($0, 2), c; s = ", " }') ;;
	esac
	printf '%-30s %12s %21s %10s  %s\n' "${NAME[$col]}" "$m" "$(col_values "$col" ns | minmax)" "$slow" "$checks"
done
echo "  slowdown: against 'native' (the no-FP build's columns: against 'native, no-FP build');"
echo "  sampled columns: 'sampled S/A' = S allocations recorded of A made"
ratio() {	# A B: A/B and (A-native)/(B-native)
	awk -v a="$1" -v b="$2" -v n="$native" 'BEGIN {
		printf "%.2f (profiler cost alone, minus native: %.2f)", a / b, (a - n) / (b - n) }'
}
if [ -n "${MED[ms_full]:-}" ] && [ -n "${MED[memleak]:-}" ] && [ "${MED[memleak]}" != - ] &&
	[ "${MED[ms_full]}" != - ]; then
	r=$(awk -v a="${MED[ms_full]}" -v b="${MED[memleak]}" 'BEGIN { print a / b }')
	verdict=$(awk -v r="$r" 'BEGIN { print (r <= 0.33) ? "MET" : "NOT MET" }')
	echo "ratio memsight-full / memleak-equiv = $(ratio "${MED[ms_full]}" "${MED[memleak]}"); target <= 0.33: $verdict"
	[ -n "${MED[ms_sampled_fp]:-}" ] && [ "${MED[ms_sampled_fp]}" != - ] &&
		echo "ratio memsight-sampled / memleak-equiv = $(ratio "${MED[ms_sampled_fp]}" "${MED[memleak]}")" &&
		echo "  (memsight-sampled here is 'memsight sampled, fp stacks', --unwind fp: frame-pointer stacks like memleak's)"
	[ -n "${MED[ms_sampled_dwarf]:-}" ] && [ "${MED[ms_sampled_dwarf]}" != - ] &&
		echo "ratio memsight-sampled-dwarf / memleak-equiv = $(ratio "${MED[ms_sampled_dwarf]}" "${MED[memleak]}")"
	[ -n "${MED[ms_full_dwarf]:-}" ] && [ "${MED[ms_full_dwarf]}" != - ] &&
		echo "ratio memsight-full-dwarf / memleak-equiv = $(ratio "${MED[ms_full_dwarf]}" "${MED[memleak]}")"
	[ -n "${MED[ms_full_auto]:-}" ] && [ "${MED[ms_full_auto]}" != - ] &&
		echo "ratio memsight-full default (auto) / --unwind fp = $(ratio "${MED[ms_full_auto]}" "${MED[ms_full]}")"
else
	echo "ratio memsight-full / memleak-equiv: n/a (a column is missing)"
fi
# which link kind each memsight column really had (its attach message says)
sess_of() { grep -l 'as uprobe sessions' "$TMP/$1".*/p.err 2>/dev/null | wc -l; }
if [ -n "${MED[ms_sampled_fp]:-}" ] && [ "${MED[ms_sampled_fp]}" != - ] &&
	[ -n "${MED[ms_sampled_fp_nosess]:-}" ] && [ "${MED[ms_sampled_fp_nosess]}" != - ]; then
	echo "uprobe sessions (allocating functions as one session link: the return traps only when"
	echo "  needed): runs using them: sampled fp $(sess_of ms_sampled_fp)/$REPS, without-sessions column" \
	     "$(sess_of ms_sampled_fp_nosess)/$REPS;"
	echo "  sampled fp with / without sessions = $(awk -v a="${MED[ms_sampled_fp]}" \
		-v b="${MED[ms_sampled_fp_nosess]}" 'BEGIN { printf "%.2f", a / b }')"
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
		case $col in native*) continue ;; esac
		[ -n "${NA[$col]:-}" ] && continue
		above=$(awk -v a="${MED[$col]}" -v n="${MED[$(base_of "$col")]}" 'BEGIN { printf "%.0f", a - n }')
		printf '%-30s %14s %12s %13s %12s\n' "${NAME[$col]}" "$above" \
			"$(cat "$TMP/$col".*/bpf_per_pair 2>/dev/null | awk '{ print $1 }' | median)" \
			"$(cat "$TMP/$col".*/bpf_per_pair 2>/dev/null | awk '{ print $2 }' | median)" \
			"$(cat "$TMP/$col".*/bpf_per_pair 2>/dev/null | awk '{ print $3 }' | median)"
	done
	echo "  the rest of 'above_native' is traps, uretprobe trampolines and cache effects"
fi

# ---- part 1b (from part 1's runs): DWARF vs frame-pointer stacks -------------
# run_vals COL: per repetition "ns allocs samples steady_cpu_ms dwarf_stacks dwarf_lost frames/stack"
run_vals() {
	local d
	for d in "$TMP/$1".*; do
		[ -s "$d/ns" ] && [ -s "$d/samples" ] || continue
		echo "$(cat "$d/ns") $(cat "$d/allocs") $(cat "$d/samples") $(cat "$d/steady_cpu_ms" 2>/dev/null || echo 0)" \
			"$(cat "$d/dwarf_stacks") $(cat "$d/dwarf_lost") $(cat "$d/frames_per_stack" 2>/dev/null || echo 0)"
	done
}
# run_med COL AWK_EXPR: median over repetitions of an expression of
# $1 ns, $2 allocs, $3 samples, $4 cpu_ms, $5 dwarf_stacks, $6 dwarf_lost, $7 frames/stack
run_med() { run_vals "$1" | awk "{ print $2 }" | median; }
ok_col() { [ -z "${NA[$1]:-}" ] && [ -n "${MED[$1]:-}" ] && [ "${MED[$1]}" != - ]; }
# ranges_overlap COL_A COL_B: 0 if the ns/pair min-max ranges of A and B overlap
ranges_overlap() {
	awk -v a="$(col_values "$1" ns | minmax)" -v b="$(col_values "$2" ns | minmax)" 'BEGIN {
		split(a, x, "-"); split(b, y, "-"); exit !(x[1] <= y[2] && y[1] <= x[2]) }'
}
DWCOLS=(ms_full ms_sampled_fp ms_sampled_dwarf ms_full_dwarf ms_sampled_dwarf_nofp)
if ok_col ms_sampled_fp || ok_col ms_sampled_dwarf || ok_col ms_full_dwarf; then
	echo
	echo "== DWARF vs frame-pointer stacks (part 1's runs; median of $REPS; sampled: --sample-bytes $SAMPLE_BYTES)"
	echo "   recorded: allocations memsight recorded (sampled: the samples; full: every one);"
	echo "   dwarf copied/lost: .events.dwarf_stacks / .dwarf_stacks_lost (lost ones fall back to FP stacks);"
	echo "   memsight CPU: steady_cpu_ms of part 3 (unwinding copied stacks happens in memsight's user"
	echo "   space and is billed to it), per recorded allocation"
	printf '%-30s %9s %9s %9s %11s %10s %8s %11s %9s %12s\n' column ns/pair +native recorded \
		pairs/rec dwarf_copy dw_lost frames/stk cpu_ms cpu_us/rec
	for col in "${DWCOLS[@]}"; do
		ok_col "$col" || continue
		printf '%-30s %9s %9s %9s %11s %10s %8s %11s %9s %12s\n' "${NAME[$col]}" "${MED[$col]}" \
			"$(awk -v a="${MED[$col]}" -v n="${MED[$(base_of "$col")]}" 'BEGIN { printf "%.0f", a - n }')" \
			"$(run_med "$col" '$3')" \
			"$(run_med "$col" '$3 ? sprintf("%.1f", $2 / $3) : "-"')" \
			"$(run_med "$col" '$5')" "$(run_med "$col" '$6')" "$(run_med "$col" '$7')" \
			"$(run_med "$col" '$4')" \
			"$(run_med "$col" '$3 ? sprintf("%.1f", $4 * 1000 / $3) : "-"')"
	done
	if ok_col ms_sampled_fp && ok_col ms_sampled_dwarf; then
		dns=$(awk -v a="${MED[ms_sampled_dwarf]}" -v b="${MED[ms_sampled_fp]}" 'BEGIN { printf "%.1f", a - b }')
		pps=$(run_med ms_sampled_dwarf '$3 ? $2 / $3 : 0')
		per=$(awk -v d="$dns" -v p="$pps" 'BEGIN { printf "%.1f", d * p / 1000 }')
		noise="outside the spread of the runs"
		ranges_overlap ms_sampled_fp ms_sampled_dwarf &&
			noise="WITHIN NOISE: the two columns' min-max ranges overlap; more REPS/SECS or a lower SAMPLE_BYTES to resolve it"
		echo "sampled, dwarf minus fp stacks: $dns ns/pair (fp ${MED[ms_sampled_fp]} [$(col_values ms_sampled_fp ns | minmax)]," \
			"dwarf ${MED[ms_sampled_dwarf]} [$(col_values ms_sampled_dwarf ns | minmax)]): $noise"
		echo "  x $(printf '%.1f' "$pps") pairs per sample (dwarf column, median) = $per us per DWARF sample minus"
		echo "  per FP sample, paid by the workload (BPF stack copy into the ring instead of the kernel FP walk),"
		echo "  if all of the difference were per sample"
		if ok_col ms_full && ok_col ms_full_dwarf; then
			copy=$(awk -v a="${MED[ms_full_dwarf]}" -v b="${MED[ms_full]}" 'BEGIN { printf "%.1f", a - b }')
			echo "  cross-check: full tracking pays $copy ns/pair more with every stack copied (full dwarf -"
			echo "  full), i.e. $(awk -v c="$copy" 'BEGIN { printf "%.1f", c / 1000 }') us per copied stack; at that price the samples" \
				"would cost $(awk -v c="$copy" -v p="$pps" 'BEGIN { printf "%.1f", p ? c / p : 0 }') ns/pair, so"
			echo "  the rest of the sampled difference is not the copies (noise, or a cost paid on other calls)"
		fi
		cfp=$(run_med ms_sampled_fp '$3 ? $4 * 1000 / $3 : 0')
		cdw=$(run_med ms_sampled_dwarf '$3 ? $4 * 1000 / $3 : 0')
		echo "  memsight's own CPU per sample: fp $(printf '%.1f' "$cfp") us, dwarf $(printf '%.1f' "$cdw") us:" \
			"$(awk -v a="$cdw" -v b="$cfp" 'BEGIN { printf "%+.1f", a - b }') us per sample for draining and unwinding in user space"
		echo "  frames per stack: fp $(run_med ms_sampled_fp '$7'), dwarf $(run_med ms_sampled_dwarf '$7')" \
			"(frame-pointer build)$(ok_col ms_sampled_dwarf_nofp &&
			echo ", dwarf $(run_med ms_sampled_dwarf_nofp '$7') (no-FP build)")"
	fi
	if ok_col ms_full_dwarf; then
		cmp=""
		ok_col ms_full && cmp=" = $(awk -v a="${MED[ms_full_dwarf]}" -v b="${MED[ms_full]}" 'BEGIN { printf "%.2f", a / b }')x memsight full (${MED[ms_full]})"
		echo "full tracking, every stack copied (--unwind dwarf): ${MED[ms_full_dwarf]} ns/pair$cmp;"
		echo "  stacks copied $(run_med ms_full_dwarf '$5'), lost $(run_med ms_full_dwarf '$6') (median per run; lost ones" \
			"fall back to FP stacks); alloc/free counts: $(col_values ms_full_dwarf check | sort | uniq -c |
			awk '{ c = $1; $1 = ""; printf "%s%s x%d", s, substr($0, 2), c; s = ", " }')"
	fi
fi

# ---- part 3 (printed here, measured in part 1): profiler self-cost ----------
echo
echo "== profiler self-cost while attached to the workload (median of $REPS)"
echo "   steady CPU: time on CPU of all the profiler's threads (/proc/PID/task/*/schedstat, ns resolution)"
echo "   between attach and the end of the timed phase"
echo "   (BPF programs run in the workload's context and are billed to it, not here);"
echo "   VmHWM at the end of the timed phase; total CPU and max RSS over the whole run (GNU time);"
echo "   report: SIGINT to exit (read maps, symbolise, write JSON)"
printf '%-30s %9s %13s %9s %12s %12s %10s %7s %7s %10s\n' column attach_ms steady_cpu_ms cpu_% \
	VmHWM_KiB maxRSS_KiB report_ms stacks frames frames/stk
for col in "${COLS[@]}"; do
	case $col in native*) continue ;; esac
	[ -n "${NA[$col]:-}" ] && continue
	a=$(col_values "$col" attach_ms | median)
	s=$(col_values "$col" steady_cpu_ms | median)
	pct=$(awk -v s="$s" -v t="$SECS" 'BEGIN { if (s == "-") print "-"; else printf "%.2f", s / (t * 10) }')
	h=$(col_values "$col" hwm_kb | median)
	tot=$(cat "$TMP/$col".*/time 2>/dev/null | awk 'NF == 3 { print $3 }' | median)
	r=$(col_values "$col" report_ms | median)
	st=$(col_values "$col" stacks | median)
	fr=$(col_values "$col" frames | median)
	fps=$(col_values "$col" frames_per_stack | median)
	[ -z "$(col_values "$col" frames_per_stack)" ] && fps=-
	printf '%-30s %9s %13s %9s %12s %12s %10s %7s %7s %10s\n' "${NAME[$col]}" "$a" "$s" "$pct" "$h" "$tot" \
		"$r" "$st" "$fr" "$fps"
done
echo "  stacks/frames: in the JSON report (inline frames included); frames/stk: frames per stack"

echo
echo "== symboliser lookups/s (bench/symbench.c: user/target/symbolize.h, a fresh cache per module and call)"
echo "   cold: the first call (stat, open, symbols, debug file by build-id, DWARF);"
echo "   then $SYM_N calls at random file offsets in the executable PT_LOAD segment(s), twice"
echo "   (1st: libdw parses line tables and the cache demangles names on demand; warm: again);"
echo "   lookup = symcache__lookup (symbol + file:line), lookup_frames = symcache__lookup_frames"
echo "   (inline expansion from DWARF); named/file:ln: share of lookups that found a symbol/line"
SYM_MODS=()
for m in /lib/x86_64-linux-gnu/libc.so.6 "$MS" /usr/lib/x86_64-linux-gnu/libstdc++.so.6 \
	/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1; do
	[ -r "$m" ] && SYM_MODS+=("$(realpath "$m")")
done
SYMCMD="$SYMB -n $SYM_N ${SYM_MODS[*]}"
if [ "$SYM_OK" != 1 ]; then
	echo "   skipped: bench/symbench.c did not build against $O/libmemsight.a (see above)"
else
	"$SYMB" -n "$SYM_N" "${SYM_MODS[@]}" 2>&1 | sed 's/^/   /'
	for m in "${SYM_MODS[@]}"; do
		bid=$(readelf -n "$m" 2>/dev/null | awk '/Build ID/ { print $3 }')
		dbg=/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug
		if [ -n "$bid" ] && [ -r "$dbg" ]; then src="debug file $dbg"
		elif readelf -SW "$m" 2>/dev/null | grep -q '\.debug_info'; then src="its own DWARF"
		elif readelf -SW "$m" 2>/dev/null | grep -q ' \.symtab'; then src=".symtab, no DWARF"
		else src=".dynsym only (no debug file installed)"; fi
		printf '   %-22s %s\n' "$(basename "$m"):" "$src"
	done
fi

# ---- part 4: trap cost by instruction -------------------------------------
echo
echo "== one uprobe hit by the instruction it sits on (counting perf uprobe, no BPF program)"
echo "   free+0 and malloc+0 are where memsight and memleak probe today; free+3 is the je after"
echo "   free's 'test %rdi,%rdi' (rdi unchanged there)"
TRAPCMD="LD_LIBRARY_PATH=$LIBDIR $OUT/trapcost -n $TRAP_N free+0 free+3 free+9 malloc+0 malloc+4"
LD_LIBRARY_PATH=$LIBDIR "$OUT/trapcost" -n "$TRAP_N" free+0 free+3 free+9 malloc+0 malloc+4 2>&1 |
	sed 's/^/   /'

# ---- part 2: Go services under wrk (bench/go.sh) ---------------------------
echo
WRK_SECS=$WRK_SECS WRK_REPS=$WRK_REPS WRK_CONNS=$WRK_CONNS WARM_SECS=$WARM_SECS LIBDIR=$LIBDIR \
	bash bench/go.sh "$O"

# ---- part 6: the sampler library for C/C++ (bench/sampler.sh) -------------
echo
QUICK=${QUICK:-0} bash bench/sampler.sh "$O"

# ---- part 7: memsight run against the bare command (bench/run_gate.sh) ----
echo
echo "== memsight run (issue 16): what a CI gate costs the command it runs"
if [ "${QUICK:-0}" = 1 ]; then
	GATE_ENV=(REPS=3 PAIRS=200000 FORKS=10)
else
	GATE_ENV=(REPS="$REPS" PAIRS=1000000 FORKS=50)
fi
env "${GATE_ENV[@]}" bash bench/run_gate.sh "$O" 2>&1 | sed 's/^/   /'

# ---- part 8: memsightd serving the web view and endpoints (bench/web.sh) ---
echo
echo "== memsightd serving its web view and endpoints (issue 19): daemon memory, round after round"
if [ "${QUICK:-0}" = 1 ]; then
	WEB_ENV=(DAEMON_PROCS=50 ROUNDS=4)
else
	WEB_ENV=(DAEMON_PROCS="$DAEMON_PROCS" ROUNDS=10)
fi
env "${WEB_ENV[@]}" bash bench/web.sh "$O" 2>&1 | sed 's/^/   /'

# ---- part 5: memsightd's RSS watching many processes ------------------------
echo
echo "== memsightd watching $DAEMON_PROCS long-lived processes: daemon memory (target: RSS <= 30 MiB)"
echo "   each process: bench/idler.c (64 x 4 KiB live, 16 replaced every 0.5 s), on the private libc;"
echo "   watched through a rule (memsight attach --comm msbench-idler); figures read ${DAEMON_SETTLE}s after"
echo "   the last one is watched. sampled: one allocation per $DAEMON_SAMPLE_BYTES B, DWARF stacks"
echo "   (auto: libc has no frame pointers), so each process gets an unwinder of its own"
DCONF=$TMP/memsightd.conf
mkdir -p "$TMP/dstate/incidents"
printf '[daemon]\nstate_dir = %s\n[incidents]\ndir = %s\n' "$TMP/dstate" "$TMP/dstate/incidents" > "$DCONF"
DSOCK=$TMP/ms.sock
# daemon_run LABEL [MEMSIGHTD ARGS...]: one daemon, DAEMON_PROCS idlers, one result line
daemon_run() {
	local label=$1 dp n t0 t1 rss0 rss hwm st srss c0 c1 i verdict
	shift
	: > "$TMP/d.log"
	"$O/memsightd" --config "$DCONF" --socket "$DSOCK" --metrics off "$@" > "$TMP/d.log" 2>&1 &
	dp=$!
	PIDS+=("$dp")
	if ! wait_for "$TMP/d.log" 'ready: control socket|error' 20 || ! kill -0 "$dp" 2>/dev/null; then
		printf '   %-10s memsightd did not start: %s\n' "$label" "$(grep -m1 -i error "$TMP/d.log")"
		kill "$dp" 2>/dev/null; wait "$dp" 2>/dev/null
		return 1
	fi
	rss0=$(status_kb "$dp" VmRSS)
	MEMSIGHT_SOCKET=$DSOCK "$MS" attach --comm msbench-idler > /dev/null 2> "$TMP/d.attach" ||
		printf '   %-10s attach --comm failed: %s\n' "$label" "$(head -1 "$TMP/d.attach")"
	t0=$(now_ms)
	for ((i = 0; i < DAEMON_PROCS; i++)); do
		LD_LIBRARY_PATH=$LIBDIR "$IDLER" -t 600 &
		IDLERS+=($!)
	done
	MEMSIGHT_SOCKET=$DSOCK wait_watched "$DAEMON_PROCS" > /dev/null
	t1=$(now_ms)
	c0=$(cpu_ms "$dp")
	sleep "$DAEMON_SETTLE"
	c1=$(cpu_ms "$dp")
	n=$(MEMSIGHT_SOCKET=$DSOCK "$MS" ps -j 2>/dev/null | jq '.processes | length' 2>/dev/null)
	rss=$(status_kb "$dp" VmRSS)
	hwm=$(status_kb "$dp" VmHWM)
	st=$(MEMSIGHT_SOCKET=$DSOCK "$MS" stats -j 2>/dev/null)
	srss=$(jq '.rss_bytes // 0' <<< "$st" 2>/dev/null)
	verdict=$(awk -v r="${rss:-0}" -v h="${hwm:-0}" 'BEGIN {
		if (!r) print "n/a"; else if (r <= 30 * 1024) print (h <= 30 * 1024) ? "MET" : "MET (but VmHWM above)"
		else print "NOT MET" }')
	[ "${n:-0}" -lt "$DAEMON_PROCS" ] && verdict="$verdict (only ${n:-0} of $DAEMON_PROCS watched)"
	printf '   %-10s memsightd watching %s processes: RSS %s MiB (target <= 30 MiB): %s\n' "$label" "${n:-0}" \
		"$(mib "${rss:-0}")" "$verdict"
	printf '   %-10s   VmHWM %s MiB, stats rss_bytes %s MiB, RSS before any process %s MiB;' "" \
		"$(mib "${hwm:-0}")" \
		"$(awk -v b="${srss:-0}" 'BEGIN { printf "%.1f", b / 1048576 }')" \
		"$(mib "${rss0:-0}")"
	printf ' all watched in %.1f s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1000 }')"
	# what the RSS is made of: file-backed pages (module mappings, BPF ring buffers mapped by
	# the consumer) count once per mapping in RSS; Pss shares them out
	printf '   %-10s   RssAnon %s MiB, RssFile %s MiB, Pss %s MiB; largest: %s\n' "" \
		"$(mib "$(status_kb "$dp" RssAnon)")" "$(mib "$(status_kb "$dp" RssFile)")" \
		"$(awk '$1 == "Pss:" { printf "%.1f", $2 / 1024 }' "/proc/$dp/smaps_rollup" 2>/dev/null)" \
		"$(awk '/^[0-9a-f]+-[0-9a-f]+ / { n = ($6 == "") ? "[anon]" : $6 } $1 == "Rss:" { r[n] += $2; c[n]++ }
			END { for (k in r) printf "%d %s\n", r[k], k " x" c[k] }' "/proc/$dp/smaps" 2>/dev/null |
			sort -rn | head -3 | awk '{ printf "%s%s %.1f MiB", s, $2 " " $3, $1 / 1024; s = ", " }')"
	printf '   %-10s   daemon CPU %s ms over %ss; ' "" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.0f", b - a }')" \
		"$DAEMON_SETTLE"
	jq -r '"allocs \(.allocs) frees \(.frees) dwarf_stacks \(.dwarf_stacks) lost \(.dwarf_stacks_lost)" +
		" unwound \(.dwarf_unwound_stacks) attach_errors \(.attach_errors) events_lost \(.events_lost)"' \
		<<< "$st" 2>/dev/null || echo "(no stats)"
	# reap the idlers first, then the daemon (SIGTERM: it detaches and exits)
	for i in "${IDLERS[@]}"; do kill "$i" 2>/dev/null; done
	for i in "${IDLERS[@]}"; do wait "$i" 2>/dev/null; done
	IDLERS=()
	kill -TERM "$dp" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$dp" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$dp" 2>/dev/null
	wait "$dp" 2>/dev/null
	return 0
}
if [ ! -x "$O/memsightd" ]; then
	echo "   skipped: $O/memsightd not built"
else
	daemon_run full
	daemon_run sampled --sample-bytes "$DAEMON_SAMPLE_BYTES"
fi

# ---- the commands behind every figure ------------------------------------
echo
echo "== commands (PID = the workload's PID; each profiler is attached before the timed phase"
echo "   starts and stopped with SIGINT after the workload prints its result line)"
for col in "${COLS[@]}"; do
	printf '%-30s %s\n' "${NAME[$col]}" "${CMD[$col]}"
done
echo "go services:                   (printed by bench/go.sh above)"
echo "memsight run gate:             (printed by bench/run_gate.sh above)"
echo "web view and endpoints:        (printed by bench/web.sh above)"
echo "trap cost:                     $TRAPCMD"
echo "symboliser:                    $SYMCMD"
echo "                               (built: gcc $SYM_CFLAGS bench/symbench.c $O/libmemsight.a $SYM_LDLIBS)"
echo "no-FP workload:                gcc $NOFP_CFLAGS bench/workload.c -o $W_NOFP"
echo "daemon RSS:                    $O/memsightd --config $DCONF --socket $DSOCK --metrics off [--sample-bytes $DAEMON_SAMPLE_BYTES]"
echo "                               (config: state_dir and incidents dir under the run's temp dir)"
echo "                               MEMSIGHT_SOCKET=$DSOCK $MS attach --comm msbench-idler"
echo "                               $DAEMON_PROCS x LD_LIBRARY_PATH=$LIBDIR $IDLER -t 600"
echo "                               MEMSIGHT_SOCKET=$DSOCK $MS ps -j | jq '.processes | length'"
echo "                               /proc/DAEMON_PID/status VmRSS, VmHWM; $MS stats -j (.rss_bytes, .dwarf_stacks, ...)"
echo "self-cost:                     /usr/bin/time -f '%U %S %M' PROFILER..., /proc/PID/task/*/schedstat, /proc/PID/status"
echo
echo "bench: done in $(($(date +%s) - T_START)) s; this report is in $OUT/latest.txt"
