#!/bin/bash
# bench/web.sh [BUILD_DIR]: memsightd's own memory while it watches
# DAEMON_PROCS (default 200) long-lived processes (bench/idler.c on a private
# libc, watched by `memsight attach --comm msbench-idler`) and serves what its
# listener serves, a bearer token checked on every request: per round, the
# page and its script, /api/ps, /api/incidents, /metrics, /debug/pprof/, and
# for every process /api/top, /api/history, /api/explain and
# /debug/pprof/heap (goroutine profiles: the idlers are C).
#
# Prints the daemon's VmRSS (and VmHWM, RssAnon) once all processes are
# watched with the listener idle, then after each of ROUNDS rounds, and the
# growth per round over the last half of them: the web view and endpoints
# cost a bounded amount of memory if that is ~0 (allocator noise aside). A
# memory figure only; nothing here is a timing claim (the rounds' durations
# are printed for the reader's patience, not as a result). Answers other than
# 200 are counted by status ("cut": none within the connection's deadline,
# e.g. an explain's smaps walk on a loaded machine).
#
#   DAEMON_PROCS=200 ROUNDS=6 bench/web.sh build      the measurement
#   DAEMON_PROCS=20 ROUNDS=2 bench/web.sh build       a short check
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
bench_init bench/web "$@"
LIBDIR=$OUT/lib
PROCS=${DAEMON_PROCS:-200}
ROUNDS=${ROUNDS:-6}

[ "$(id -u)" = 0 ] || die "needs root (BPF uprobes)"
[ -x "$O/memsightd" ] || die "$O/memsightd not built; run: make O=$O"
for t in gcc jq curl; do
	command -v "$t" > /dev/null || die "$t missing; run bench/deps.sh"
done
mkdir -p "$OUT" || exit 1
bench_tmp benchweb
IDLERS=()
DPID=
# the idlers, then the daemon, with SIGTERM (it detaches)
bench_atexit() {
	local p
	for p in "${IDLERS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${IDLERS[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
}

build_idler || die "cannot build the idler"
# uprobes live on an inode: only the idlers, run on this copy, trap
read -r _ PLIBC < <(private_libc "$IDLER" "$LIBDIR")
[ -n "${PLIBC:-}" ] || die "cannot copy the idler's libc into $LIBDIR"

PORT=$((30000 + $$ % 5000))
(umask 077; head -c 32 /dev/urandom | base64 | tr -d '\n=' > "$TMP/token")
mkdir -p "$TMP/state/incidents"
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
state_dir = $TMP/state
[metrics]
listen = 127.0.0.1:$PORT
token_file = $TMP/token
[incidents]
dir = $TMP/state/incidents
CONF
export MEMSIGHT_SOCKET=$TMP/ms.sock
"$O/memsightd" --config "$TMP/memsightd.conf" --socket "$MEMSIGHT_SOCKET" > "$TMP/d.log" 2>&1 &
DPID=$!
wait_for "$TMP/d.log" 'ready: control socket|error' 20 && grep -q 'ready: control socket' "$TMP/d.log" ||
	die "memsightd did not start: $(cat "$TMP/d.log")"
"$MS" attach --comm msbench-idler > /dev/null || die "attach --comm failed"
for ((i = 0; i < PROCS; i++)); do
	LD_LIBRARY_PATH=$LIBDIR "$IDLER" -t 900 &
	IDLERS+=($!)
done
n=$(wait_watched "$PROCS")
[ "$n" -ge "$PROCS" ] || die "only $n of $PROCS processes watched"
sleep 2

line() {
	printf '%-28s VmRSS %6s MiB  RssAnon %6s MiB  VmHWM %6s MiB%s\n' "$1" \
		"$(mib "$(status_kb "$DPID" VmRSS)")" "$(mib "$(status_kb "$DPID" RssAnon)")" \
		"$(mib "$(status_kb "$DPID" VmHWM)")" "${2:-}"
}
U=http://127.0.0.1:$PORT
H="Authorization: Bearer $(cat "$TMP/token")"
echo "== memsightd serving its web view and endpoints while watching $PROCS processes"
echo "   ($(nproc) CPUs, shared; a token checked on every request; memory figures only)"
line "all watched, listener idle"
check401=$(curl -s -o /dev/null -w '%{http_code}' "$U/api/ps")
[ "$check401" = 401 ] || die "the listener answered $check401 without the token"
declare -a rss
for ((r = 1; r <= ROUNDS; r++)); do
	t0=$SECONDS
	urls=("$U/" "$U/web/app.js" "$U/api/ps" "$U/api/incidents" "$U/metrics" "$U/debug/pprof/")
	for p in $("$MS" ps -j | jq -r '.processes[].pid'); do
		urls+=("$U/api/top?pid=$p" "$U/api/history?pid=$p" "$U/api/explain?pid=$p"
		       "$U/debug/pprof/heap?pid=$p")
	done
	# one curl for a batch of URLs, each body dropped; every answer must be a 200
	for ((i = 0; i < ${#urls[@]}; i += 100)); do
		args=()
		for u in "${urls[@]:i:100}"; do args+=(-o /dev/null "$u"); done
		curl -s -H "$H" -w '%{http_code} %{url_effective}\n' "${args[@]}" >> "$TMP/codes.$r"
	done
	# by status and path: "3 x cut /api/explain"
	bad=$(awk '$1 != 200 { p = $2; sub(/^[a-z]+:\/\/[^\/]*/, "", p); sub(/\?.*/, "", p)
			       n[(($1 == "000") ? "cut" : $1) " " p]++ }
		END { for (k in n) { printf "%s%d x %s", s, n[k], k; s = ", " } }' "$TMP/codes.$r")
	rss[r]=$(status_kb "$DPID" VmRSS)
	line "after round $r" "  (${#urls[@]} requests; not 200: ${bad:-none}; $((SECONDS - t0)) s)"
done
half=$(((ROUNDS + 1) / 2))
[ "$ROUNDS" -ge 2 ] && awk -v a="${rss[half]}" -v b="${rss[ROUNDS]}" -v n="$((ROUNDS - half))" \
	'BEGIN { if (n > 0) printf "growth over rounds %d..%d: %.1f KiB a round\n", '"$half"', '"$ROUNDS"', (b - a) / n }'
echo "commands: $O/memsightd --config $TMP/memsightd.conf; $MS attach --comm msbench-idler;"
echo "          $PROCS x LD_LIBRARY_PATH=$LIBDIR $IDLER -t 900; curl -H 'Authorization: Bearer ...' URL..."
