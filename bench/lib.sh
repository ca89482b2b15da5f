#!/bin/bash
# Helpers shared by the bench/*.sh scripts (sourced, from the top of the tree).

# bench_init NAME [BUILD_DIR]: the build's paths: O (default build), MS, OUT (the
# benchmarks' own binaries), and where the helper programs built below go; NAME is
# what die() says
bench_init() {
	BENCH=$1
	O=${2:-build}
	MS=$O/memsight
	OUT=$O/bench
	W=$OUT/workload
	IDLER=$OUT/msbench-idler	# its comm is what memsightd's attach rules match
	MB=$OUT/mallocbench
}

die() { echo "$BENCH: $*" >&2; exit 1; }

# bench_tmp NAME: TMP, a directory of this run's own (/tmp/memsight-NAME.XXXXXX), and PIDS,
# the processes the script starts (it appends them). At exit bench_atexit runs if the
# script defines one, every PID gets SIGKILL and is reaped, by PID (never a bare wait: a
# script's tee is its child too), and TMP is removed; SIGINT and SIGTERM exit 130 so.
bench_tmp() {
	TMP=$(mktemp -d "/tmp/memsight-$1.XXXXXX") || exit 1
	PIDS=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}
bench_cleanup() {
	local p
	! declare -F bench_atexit > /dev/null || bench_atexit
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}

# stale BIN DEP...: 0 (rebuild) when BIN is missing or older than one of the DEPs
stale() {
	local bin=$1 d
	shift
	[ -x "$bin" ] || return 0
	for d; do [ "$d" -nt "$bin" ] && return 0; done
	return 1
}

# build_c BIN DEP... -- GCC_ARGS...: gcc GCC_ARGS -o BIN when BIN is stale, announced as
# make does; gcc's status
build_c() {
	local bin=$1
	local -a deps=()
	shift
	while [ "$1" != -- ]; do deps+=("$1"); shift; done
	shift
	stale "$bin" "${deps[@]}" || return 0
	echo "  CC       $bin"
	gcc "$@" -o "$bin"
}

# The workload, the idler and trapcost: frame pointers and no tail calls, so every
# profiler unwinds full stacks.
WCFLAGS="-O2 -g -std=gnu11 -Wall -Wextra -Wmissing-prototypes -D_GNU_SOURCE \
-fno-omit-frame-pointer -fno-optimize-sibling-calls"
# mallocbench and syscost: the malloc calls kept as calls
MB_CFLAGS="-O2 -g -fno-omit-frame-pointer -fno-builtin -Wall"
# shellcheck disable=SC2086
build_workload() { build_c "$W" bench/workload.c -- $WCFLAGS bench/workload.c; }
# shellcheck disable=SC2086
build_idler() { build_c "$IDLER" bench/idler.c -- $WCFLAGS bench/idler.c; }
# shellcheck disable=SC2086
build_mallocbench() {
	build_c "$MB" bench/mallocbench.c tests/sampler/usdt_count.h include/memsight_sampler.h -- \
		$MB_CFLAGS \
		bench/mallocbench.c -lpthread
}

# wait_for FILE REGEX SECONDS
wait_for() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# ms_top PID OUT ERR SECONDS [ARGS...]: memsight top -p PID -d 0 -n 0 --json ARGS started
# in the background (the JSON in OUT, its messages in ERR, its PID in MP and PIDS); 0 once
# it says it attached within SECONDS, 1 if it did not (it may still run: the caller ends it)
ms_top() {
	local pid=$1 out=$2 err=$3 secs=$4
	shift 4
	# emptied here, not by the job's redirection (done in the child after the fork): a
	# reused ERR's "attached to PID" must not be taken for this run's
	: > "$err"
	"$MS" top -p "$pid" -d 0 -n 0 --json "$@" > "$out" 2> "$err" &
	MP=$!
	PIDS+=("$MP")
	wait_for "$err" 'attached to PID|error' "$secs" && ! grep -q error "$err"
}

# wait_watched N: until the memsightd at MEMSIGHT_SOCKET watches N processes, or 60 s
# and a second per 4 of them have passed; prints how many it watches then
wait_watched() {
	local end=$((SECONDS + 60 + $1 / 4)) n=
	while [ $SECONDS -lt $end ]; do
		n=$("$MS" ps -j 2>/dev/null | jq '.processes | length' 2>/dev/null)
		[ "${n:-0}" -ge "$1" ] && break
		sleep 0.5
	done
	echo "${n:-0}"
}

# cpu_ms PID: CPU time the process (all its threads) used so far, in ms: from
# /proc/PID/schedstat (ns resolution) where the kernel has it, else
# utime+stime from /proc/PID/stat (clock ticks, 10 ms: too coarse for a
# profiler that uses a few ms in a run)
cpu_ms() {
	local tck t ns=0 any=0
	for t in /proc/"$1"/task/*/schedstat; do
		read -r t _ < "$t" 2>/dev/null || continue
		ns=$((ns + t)) any=1
	done
	if [ $any = 1 ]; then
		awk -v n="$ns" 'BEGIN { printf "%.3f\n", n / 1e6 }'
		return
	fi
	tck=$(getconf CLK_TCK)
	awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / t }' "/proc/$1/stat" 2>/dev/null
}

# status_kb PID KEY: a /proc/PID/status figure (VmRSS, VmHWM, RssAnon...) in KiB
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
# mib KIB: in MiB, one decimal
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# kv LINE KEY: the value of KEY=VALUE in a workload's result line
kv() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

# bpf_stats_hold FILE: BPF run-time statistics on while this script runs: BPF_ENABLE_STATS
# holds them on as long as its fd is open (a reference, so the sysctl and other users of
# it are left alone); FILE says "stats", or "no stats" and why not
bpf_stats_hold() {
	python3 -c '
import ctypes, signal, struct, sys
buf = ctypes.create_string_buffer(struct.pack("<I", 0), 8)	# BPF_STATS_RUN_TIME
fd = ctypes.CDLL(None, use_errno=True).syscall(321, 32, buf, 8)	# SYS_bpf, BPF_ENABLE_STATS
print("stats" if fd >= 0 else "no stats: BPF_ENABLE_STATS failed, errno %d" % ctypes.get_errno(), flush=True)
signal.pause()' > "$1" 2>&1 &
	PIDS+=($!)
	wait_for "$1" 'stats' 10
}

# prog_stats PID: "NAME RUN_CNT RUN_TIME_NS" of each BPF program PID holds (directly or
# through links); the counts need BPF statistics on (bpf_stats_hold, bpf_stats_enabled)
prog_stats() {
	local id
	for id in $(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u); do
		bpftool prog show id "$id" -j 2>/dev/null |
			jq -r '"\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'
	done
}

# median [FORMAT]: of the numbers on stdin (one per line); "-" if none. The mean of an
# even count's two middle ones is printed with the printf FORMAT if given.
median() {
	sort -g | awk -v f="${1:-}" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		if (NR % 2) print v[(NR + 1) / 2]
		else if (f != "") printf f "\n", m
		else print m }'
}
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi }'; }

# private_libc BINARY DIR: copy the libc BINARY links against into DIR (once)
# and print "ORIGINAL COPY" (their paths). Uprobes live on an inode: a profiled process run
# with LD_LIBRARY_PATH=DIR is then the only one that traps.
private_libc() {
	local libc
	libc=$(ldd "$1" | awk '$1 == "libc.so.6" { print $3 }')
	[ -r "$libc" ] || return 1
	mkdir -p "$2" || return 1
	cmp -s "$libc" "$2/libc.so.6" || cp "$libc" "$2/libc.so.6" || return 1
	echo "$libc $(realpath "$2/libc.so.6")"
}
