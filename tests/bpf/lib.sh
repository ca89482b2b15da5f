#!/bin/bash
# Shared helpers for the real-BPF integration tests. Each test script is run
# by tests/bpf/run.sh with O (build dir), MS (memsight binary) and RESULTS (a
# file collecting "PASS name" / "FAIL name" lines) in the environment.

: "${O:=build}"
: "${MS:=$O/memsight}"
: "${RESULTS:=/dev/null}"
T_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/memsight-$T_NAME.XXXXXX")
PIDS_TO_KILL=()

cleanup() {
	for p in "${PIDS_TO_KILL[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "PASS $T_NAME: $*"; echo "PASS $T_NAME: $*" >> "$RESULTS"; }
fail() { echo "FAIL $T_NAME: $*"; echo "FAIL $T_NAME: $*" >> "$RESULTS"; }

# check DESCRIPTION ACTUAL EXPECTED
check() {
	if [ "$2" == "$3" ]; then pass "$1 ($2)"; else fail "$1: got '$2', expected '$3'"; fi
}

# check_cmd DESCRIPTION COMMAND... : passes when the command succeeds
check_cmd() {
	local d=$1; shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

# wait_for FILE REGEX [TIMEOUT_S]: wait until a line of FILE matches
wait_for() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timeout waiting for /$2/ in $1:" >&2; cat "$1" >&2
	return 1
}

# wait_for_n FILE REGEX N [TIMEOUT_S]: wait until N lines of FILE match
wait_for_n() {
	local i
	for ((i = 0; i < ${4:-20} * 10; i++)); do
		[ "$(grep -cE "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "timeout waiting for $3 x /$2/ in $1:" >&2; cat "$1" >&2
	return 1
}

# start_target BIN OUTFILE [ARGS...]: start a target, wait for its "ready"; sets TPID.
# OUTFILE is emptied first: a background job's '>' truncates only once its
# child runs, and a reused file's old "ready" must not be taken for this one's.
start_target() {
	: > "$2"
	"$1" "${@:3}" > "$2" 2>&1 &
	TPID=$!
	PIDS_TO_KILL+=("$TPID")
	wait_for "$2" '^ready' 10
}

# start_memsight OUTFILE ERRFILE ARGS...: start memsight in the background
# and wait until it has attached; sets MPID
start_memsight() {
	local out=$1 err=$2; shift 2
	: > "$err"
	"$MS" "$@" > "$out" 2> "$err" &
	MPID=$!
	PIDS_TO_KILL+=("$MPID")
	wait_for "$err" 'attached to PID|error' 30 || return 1
	remember_progs "$MPID"
}

# remember_progs PID: note the BPF program IDs PID holds (from its fdinfo),
# so later checks look at exactly those and not at other tools' programs.
# Call it while PID is attached: an empty set proves nothing later.
remember_progs() {
	OUR_IDS=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
}

# our_progs: how many of the remembered programs are still loaded
our_progs() {
	local n=0 id
	for id in $OUR_IDS; do
		bpftool prog show id "$id" > /dev/null 2>&1 && n=$((n + 1))
	done
	echo "$n"
}

# kill9_and_watch PID: SIGKILL PID and check that its remembered programs and
# links are gone within 1 s of the kill (not of the reaping), as the kernel
# tears fd-owned links down. MS_TIME_SCALE stretches time bounds in a guest
# under software emulation (tests/kernels/run.sh), where all runs slower.
kill9_and_watch() {
	local t0 gone=no ms
	if [ -z "${OUR_IDS// /}" ]; then
		fail "SIGKILL: no program of ours was seen loaded before the kill"
		kill -9 "$1"; wait "$1" 2>/dev/null
		return
	fi
	t0=$(date +%s%N)
	kill -9 "$1"
	while [ $(( $(date +%s%N) - t0 )) -lt $((1000000000 * ${MS_TIME_SCALE:-1})) ]; do
		if [ "$(our_progs)" -eq 0 ]; then gone=yes; break; fi
		sleep 0.05
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "programs gone $ms ms after SIGKILL"
	wait "$1" 2>/dev/null
	check "SIGKILL: no program of ours within ${MS_TIME_SCALE:-1} s" "$gone" yes
	check "SIGKILL: no link of ours" "$(for id in $OUR_IDS; do bpftool link show | grep -c "prog $id\$"; done | awk '{s+=$1} END {print s+0}')" 0
}

# ms_prog_ids: IDs of every loaded program named ms_* (to diff before/after
# a memsight run too short to catch while it runs)
ms_prog_ids() {
	bpftool prog show 2>/dev/null | sed -n 's/^\([0-9]*\): .* name \(ms_[a-z_]*\) .*/\1/p' | sort -u
}

# new_progs_left BEFORE_FILE: ms_* programs loaded now that were not before,
# after giving the kernel 1 s to free them
new_progs_left() {
	local i n
	for ((i = 0; i < 20; i++)); do
		n=$(ms_prog_ids | comm -13 "$1" - | wc -l)
		[ "$n" -eq 0 ] && break
		sleep 0.05
	done
	echo "$n"
}

# progs_left: how many remembered programs are still loaded once the kernel
# has had 1 s to free them (program memory goes after an RCU grace period).
# With none remembered it says so instead of a count: "0 left" must mean
# that programs were seen loaded and are gone now, not that none were seen.
progs_left() {
	local i n
	if [ -z "${OUR_IDS// /}" ]; then
		echo "none remembered: no program of ours was seen loaded"
		return
	fi
	for ((i = 0; i < 20; i++)); do
		n=$(our_progs)
		[ "$n" -eq 0 ] && break
		sleep 0.05
	done
	echo "$n"
}

# stack_field JSON FUNC FIELD: FIELD summed over stacks having FUNC as a frame
stack_field() {
	jq --arg f "$2" --arg k "$3" \
		'[.stacks[] | select(any(.frames[]; .func == $f)) | .[$k]] | add // 0' "$1"
}

# start_daemon [ARGS...]: memsightd on a private socket; sets DPID, exports
# MEMSIGHT_SOCKET so the CLI talks to it
start_daemon() {
	export MEMSIGHT_SOCKET=$TMP/memsight.sock
	# truncate first: the previous daemon's "ready" must not be read as this one's
	: > "$TMP/daemon.log"
	"$O/memsightd" --socket "$MEMSIGHT_SOCKET" "$@" > "$TMP/daemon.log" 2>&1 &
	DPID=$!
	PIDS_TO_KILL+=("$DPID")
	wait_for "$TMP/daemon.log" 'ready: control socket|error' 20 || return 1
	if ! grep -q 'ready: control socket' "$TMP/daemon.log"; then
		echo "memsightd did not start:" >&2
		cat "$TMP/daemon.log" >&2
		return 1
	fi
	remember_progs "$DPID"
}

# start_prometheus TARGET_PORT LISTEN_PORT: a real Prometheus scraping
# memsightd's 127.0.0.1:TARGET_PORT/metrics every second as job "memsight",
# its API on 127.0.0.1:LISTEN_PORT, its data in $TMP; sets PROMPID
start_prometheus() {
	cat > "$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: memsight
    static_configs:
      - targets: ['127.0.0.1:$1']
YML
	prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
		--web.listen-address="127.0.0.1:$2" > "$TMP/prom.log" 2>&1 &
	PROMPID=$!
	PIDS_TO_KILL+=("$PROMPID")
}

# start_group_daemon: start_daemon with its socket open to a new group
# (GRP, GID; deleted on exit) and $TMP open to other uids, for tests of
# what the socket's group and strangers can do. Returns 1 when it could not.
start_group_daemon() {
	GRP=mstest$$
	groupadd "$GRP" || { fail "cannot create a test group"; return 1; }
	trap 'groupdel "$GRP" 2>/dev/null; cleanup' EXIT
	GID=$(getent group "$GRP" | cut -d: -f3)
	printf '[daemon]\nsocket_group = %s\n[metrics]\nlisten = off\n' "$GRP" \
		> "$TMP/memsightd.conf"
	chmod 755 "$TMP"
	start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; return 1; }
}

# ms_json PID: memsightd's report of PID as JSON (into $TMP/PID.json)
ms_json() {
	"$MS" dump "$1" --format json -o "$TMP/$1.json" && cat "$TMP/$1.json" > /dev/null
}

# watched PID: is PID in `memsight ps`?
watched() {
	"$MS" ps -j | jq -e --argjson p "$1" 'any(.processes[]; .pid == $p)' > /dev/null
}

# wait_watched PID yes|no [TIMEOUT_S]
wait_watched() {
	local i want=$2
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		if watched "$1"; then [ "$want" = yes ] && return 0
		else [ "$want" = no ] && return 0; fi
		sleep 0.1
	done
	return 1
}

# kfeature NAME: yes or no, as `memsight version` reports the running kernel
# (tests/bpf/t_kernel.sh checks those reports against the kernel matrix)
kfeature() {
	[ -s "$TMP/.kfeatures" ] || "$MS" version > "$TMP/.kfeatures" 2>/dev/null
	awk -v f="$1" '$1 == f { print $2 }' "$TMP/.kfeatures"
}

# link_kind: the words memsight's attach line uses for its allocator links here
link_kind() {
	if [ "$(kfeature uprobe_multi)" != yes ]; then
		echo "per-function links"
	elif [ "$(kfeature uprobe_session)" = yes ] && [ -z "${MEMSIGHT_NO_SESSION:-}" ]; then
		echo "uprobe_multi links, allocators as uprobe sessions"
	else
		echo "uprobe_multi links"
	fi
}

# within PCT A B: "yes" when |A - B| <= PCT% of B, "no" otherwise or when
# either is missing ("", null, none)
within() {
	awk -v p="$1" -v a="$2" -v b="$3" 'BEGIN {
		if (a == "" || a == "null" || a == "none" || b == "" || b == "null" || b == "none") {
			print "no"; exit
		}
		d = a - b; if (d < 0) d = -d; print (d <= p / 100 * b) ? "yes" : "no" }'
}

# need_browser: headless Chromium and puppeteer-core (pinned, installed into
# $O/webtest from the npm registry) for the web view's tests; sets CHROMIUM
# and PUP (its node_modules' parent). Returns 1 after a FAIL when it cannot.
PUPPETEER=24.15.0
need_browser() {
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
	[ -x "$CHROMIUM" ] || { fail "no Chromium at $CHROMIUM (make deps installs chromium)"; return 1; }
	PUP=$O/webtest
	if [ "$(node -p "require('$PUP/node_modules/puppeteer-core/package.json').version" 2>/dev/null)" \
	     != "$PUPPETEER" ]; then
		mkdir -p "$PUP"
		(cd "$PUP" && npm install --no-audit --no-fund --prefix . "puppeteer-core@$PUPPETEER") \
			> "$TMP/npm.log" 2>&1 ||
			{ fail "npm install puppeteer-core: $(tail -3 "$TMP/npm.log")"; return 1; }
	fi
}
