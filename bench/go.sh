#!/bin/bash
# What does watching a Go service cost it? Requests/s of bench/goserver under
# wrk (127.0.0.1 only), native vs with memsight attached (its default for Go:
# an entry probe on the runtime's own sampler, plus the libc probes of a cgo
# build), for CGO_ENABLED=0 and 1, each built plain and stripped (-s -w, how
# Go services are shipped). Part 2 of bench/run.sh; also runs alone:
#
#   bench/go.sh [BUILD_DIR]          (BUILD_DIR defaults to build; as root)
#
# The plain and the stripped build of a cgo setting run at once, and each
# round measures, one wrk run each: plain native, plain attached, stripped
# native, stripped attached; so load from elsewhere on a shared machine hits
# every cell alike. Each cell also gives the service's CPU time per request,
# the steadier figure when other work shares the machine. Target: the
# stripped service loses at most 10% attached.
#
# Environment: WRK_SECS (3), WRK_REPS (3), WRK_CONNS (8), WARM_SECS (2),
# GO (Debian's Go 1.19), LIBDIR (where the private libc copy lives,
# BUILD_DIR/bench/lib: uprobes live on an inode, so only the service traps).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
bench_init bench/go "$@"
LIBDIR=${LIBDIR:-$OUT/lib}
GO=${GO:-/usr/lib/go-1.19/bin/go}
WRK_SECS=${WRK_SECS:-3} WRK_REPS=${WRK_REPS:-3} WRK_CONNS=${WRK_CONNS:-8} WARM_SECS=${WARM_SECS:-2}
TARGET_LOSS=10
VARIANTS=(plain stripped)

[ "$(id -u)" = 0 ] || die "needs root (BPF uprobes)"
[ -x "$MS" ] || die "$MS not built; run: make O=$O"
bench_tmp bench-go

echo "== Go net/http service under wrk: requests/s (127.0.0.1 only, ${WRK_SECS}s x $WRK_REPS per cell, median), higher is better"

# ---- build ---------------------------------------------------------------
GOENV=(GOFLAGS='-mod=mod -buildvcs=false' GOPROXY=off GOCACHE="$(realpath "$O")/gocache"
       HOME="$(realpath "$O")/gohome")
declare -A LDFLAGS=([plain]="" [stripped]="-s -w") SUFFIX=([plain]="" [stripped]="-stripped")
# gobin CGO VARIANT: the build's path
gobin() { echo "$OUT/goserver-cgo$1${SUFFIX[$2]}"; }
mkdir -p "$OUT" || exit 1
for cgo in 0 1; do
	for v in "${VARIANTS[@]}"; do
		g=$(gobin $cgo "$v")
		stale "$g" bench/goserver/main.go bench/goserver/go.mod bench/go.sh || continue
		[ -x "$GO" ] || { echo "skipped: no Go toolchain at $GO"; exit 0; }
		echo "  GO       $g"
		(cd bench/goserver && env "${GOENV[@]}" CGO_ENABLED=$cgo "$GO" build \
			-ldflags="${LDFLAGS[$v]}" -o "$(realpath -m "../../$g")" .) ||
			{ echo "skipped: the Go service did not build (see above)"; exit 0; }
	done
done
command -v wrk > /dev/null || { echo "skipped: wrk not installed (bench/deps.sh installs it)"; exit 0; }
private_libc "$(gobin 1 plain)" "$LIBDIR" > /dev/null || die "cannot copy libc into $LIBDIR"

# ---- helpers -------------------------------------------------------------
# wrk_cell PORT PID [SECS]: one bounded wrk run against the loopback service:
# "requests/s service-CPU-us-per-request" (the service's CPU, all its threads,
# over the run: BPF programs run in its context and are billed to it; steadier
# than requests/s when other work shares the machine)
wrk_cell() {
	local t=${3:-$WRK_SECS} c0 c1
	c0=$(cpu_ms "$2")
	timeout $((t + 30)) wrk -t1 -c"$WRK_CONNS" -d"${t}s" "http://127.0.0.1:$1/?n=8" > "$TMP/wrk.out" 2>&1
	c1=$(cpu_ms "$2")
	awk -v c0="$c0" -v c1="$c1" '/requests in/ { n = $1 } /^Requests\/sec:/ { r = $2 }
		END { if (n > 0 && r != "") printf "%s %.2f\n", r, (c1 - c0) * 1000 / n }' "$TMP/wrk.out"
}
# go_attach PID OUT ERR: start memsight on the Go service; sets MP, 0 once attached
go_attach() {
	ms_top "$1" "$2" "$3" 30
	kill -0 "$MP" 2>/dev/null && ! grep -q error "$3" && return 0
	kill -INT "$MP" 2>/dev/null; wait "$MP" 2>/dev/null
	return 1
}

# pct NEW OLD: the change in percent
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%+.1f%%", (a - b) * 100 / b; else print "-" }'; }

# ---- measure -------------------------------------------------------------
echo "   per round: plain native, plain attached, stripped native, stripped attached (one wrk run each);"
echo "   us/req: the service's CPU time per request (all threads, /proc/PID/task/*/schedstat)"
printf '%-40s %9s %17s %9s %17s %7s %7s %7s %7s  %s\n' binary native min-max attached min-max change \
	us/req us/req change "memsight events (all rounds)"
declare -A GP PORT NA WHY
# col FILE N: column N of FILE, one value a line
col() { awk -v n="$2" '{ print $n }' "$1"; }
for cgo in 0 1; do
	for v in "${VARIANTS[@]}"; do
		k=$cgo$v
		LD_LIBRARY_PATH=$LIBDIR "$(gobin $cgo "$v")" 0 > "$TMP/$k.out" 2>&1 &
		GP[$k]=$!
		PIDS+=("${GP[$k]}")
		NA[$k]= WHY[$k]=
		: > "$TMP/$k.nat"; : > "$TMP/$k.att"; : > "$TMP/$k.ev"
		if ! wait_for "$TMP/$k.out" '^ready' 10; then
			NA[$k]="failed to start: $(head -c 200 "$TMP/$k.out")"
			continue
		fi
		PORT[$k]=$(awk '/^ready/ { print $3 }' "$TMP/$k.out")
		wrk_cell "${PORT[$k]}" "${GP[$k]}" "$WARM_SECS" > /dev/null	# warm-up: heap growth, page cache
	done
	for r in $(seq "$WRK_REPS"); do
		for v in "${VARIANTS[@]}"; do
			k=$cgo$v
			[ -n "${PORT[$k]:-}" ] || continue
			wrk_cell "${PORT[$k]}" "${GP[$k]}" >> "$TMP/$k.nat"
			[ -n "${NA[$k]}" ] && continue
			if ! go_attach "${GP[$k]}" "$TMP/$k.$r.json" "$TMP/$k.err"; then
				WHY[$k]=$(grep -m1 error "$TMP/$k.err")
				NA[$k]="n/a: memsight did not attach"
				continue
			fi
			wrk_cell "${PORT[$k]}" "${GP[$k]}" >> "$TMP/$k.att"
			kill -INT "$MP"; wait "$MP"
			jq -r '"\(.events.allocs) \(.events.frees) \(.events.go_samples // 0)"' \
				"$TMP/$k.$r.json" >> "$TMP/$k.ev"
		done
	done
	for v in "${VARIANTS[@]}"; do
		k=$cgo$v
		label="goserver CGO_ENABLED=$cgo $v"
		[ "$v" = stripped ] && label="$label (-s -w)"
		nat=$(col "$TMP/$k.nat" 1 | median)
		if [ -n "${NA[$k]}" ]; then
			printf '%-40s %9s %17s %s\n' "$label" "$nat" "$(col "$TMP/$k.nat" 1 | minmax)" "${NA[$k]}"
			[ -n "${WHY[$k]}" ] && printf '%40s (%s)\n' "" "${WHY[$k]}"
		else
			att=$(col "$TMP/$k.att" 1 | median)
			ncpu=$(col "$TMP/$k.nat" 2 | median)
			acpu=$(col "$TMP/$k.att" 2 | median)
			ev=$(awk '{ a += $1; f += $2; g += $3 } END {
				printf "allocs %d frees %d go samples %d", a, f, g }' "$TMP/$k.ev")
			printf '%-40s %9s %17s %9s %17s %7s %7s %7s %7s  %s\n' "$label" "$nat" \
				"$(col "$TMP/$k.nat" 1 | minmax)" "$att" "$(col "$TMP/$k.att" 1 | minmax)" \
				"$(pct "$att" "$nat")" "$ncpu" "$acpu" "$(pct "$acpu" "$ncpu")" "$ev"
			[ "$v" = stripped ] && echo "$cgo $nat $att $ncpu $acpu" >> "$TMP/target"
		fi
		kill "${GP[$k]}" 2>/dev/null; wait "${GP[$k]}" 2>/dev/null
	done
done
echo "target: the stripped service loses at most $TARGET_LOSS% attached (medians):"
if [ -s "$TMP/target" ]; then
	awk -v t="$TARGET_LOSS" '{ rps = ($3 - $2) * 100 / $2; cpu = ($5 - $4) * 100 / $4
		printf "   CGO_ENABLED=%s: requests/s %+.1f%%: %s; CPU per request %+.1f%%: %s\n", $1,
			rps, (-rps <= t) ? "MET" : "NOT MET", cpu, (cpu <= t) ? "MET" : "NOT MET" }' \
		"$TMP/target"
else
	echo "   n/a: no stripped build was measured attached"
fi
echo "note: attached = memsight's default for Go: an entry probe on the runtime's own sampler"
echo "  (runtime.mProf_Malloc, turned on via runtime.MemProfileRate if off) plus the libc probes;"
echo "  'go samples' counts the Go allocations it recorded"
echo "commands: LD_LIBRARY_PATH=$LIBDIR $OUT/goserver-cgo{0,1}[-stripped] 0"
echo "          (built: cd bench/goserver && CGO_ENABLED={0,1} $GO build [-ldflags='-s -w'])"
echo "          wrk -t1 -c$WRK_CONNS -d${WRK_SECS}s http://127.0.0.1:PORT/?n=8"
echo "          $MS top -p PID -d 0 -n 0 --json   (attached cells, stopped with SIGINT)"
