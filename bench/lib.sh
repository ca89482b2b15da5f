#!/bin/bash
# Helpers shared by bench/run.sh and bench/go.sh (sourced).

# wait_for FILE REGEX SECONDS
wait_for() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
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

# median of the numbers on stdin (one per line); "-" if none
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
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
