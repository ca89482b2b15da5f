#!/bin/bash
# Claims: `memsight run` reports the goroutines a Go process still has at its
# exit, by creation site, and gates on them (--max-goroutines-at-exit).
#   1. `go test` of tests/fixtures/rungo/leaky, whose test leaves 7 goroutines
#      blocked at the `go` statement marked RUNGO-LEAK-SITE in leaky.Park:
#      memsight follows the test binary (a child of go, built in a temp dir)
#      and leaky.test=0 is broken by exactly 7 under that site (JSON, JUnit,
#      text), status 86; the same package's test binary run directly with
#      RUNGO_LEAK=3 breaks a budget of 2 by 1, and stripped (-s -w) with
#      RUNGO_LEAK=4 a budget of 0 by 4, named from .gopclntab.
#   2. `go test` of tests/fixtures/rungo/clean (its goroutines all end): the
#      budget holds with 0, and go test's own status 0 comes back.
#   3. Debian's prometheus and etcd (stripped, go1.19.8) under run with
#      GOTRACEBACK=all, sent SIGQUIT: the runtime dumps every goroutine and
#      exits 2; memsight run exits 2 (budget held) and its goroutines by
#      creation function are those of the dump (see sigquit below).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gorel.sh"

ENV=$O/fixtures/rungo/env
FIX=tests/fixtures/rungo
if [ ! -s "$ENV" ] || [ ! -x "$O/fixtures/rungo/leaky-stripped.test" ]; then
	make -s O="$O" "$ENV" "$O/fixtures/rungo/leaky.test" "$O/fixtures/rungo/clean.test" \
		"$O/fixtures/rungo/leaky-stripped.test" \
		> "$TMP/make.log" 2>&1 || { cat "$TMP/make.log" >&2; fail "cannot build the fixtures"; exit 1; }
fi
. "$ENV"
export GOTMPDIR=$TMP
LINE=$(grep -n 'RUNGO-LEAK-SITE' "$FIX/leaky/leaky.go" | cut -d: -f1)
PKG=memsight.test/rungo/leaky
MSABS=$(realpath "$MS")

# gotest DIR NAME ARGS...: memsight run ARGS -- go test in DIR; report in $TMP/NAME.*
gotest() {
	local dir=$1 name=$2
	shift 2
	(cd "$FIX/$dir" && "$MSABS" run --report "$TMP/$name.json" --junit "$TMP/$name.xml" "$@" \
		-- "$RUNGO_GO" test -count=1 -vet=off . > "$TMP/$name.out" 2> "$TMP/$name.err")
}

# 1. the leaky package: the test binary followed, 7 goroutines at the marked site
t0=$(date +%s)
gotest leaky g1 --max-goroutines-at-exit leaky.test=0
check "go test of leaky, leaky.test=0: exit status" "$?" 86
J=$TMP/g1.json
check "the test ran and passed (go test's own output)" "$(grep -c '^ok' "$TMP/g1.out")" 1
T='.processes[] | select(.profile.comm == "leaky.test")'
check "the test binary, a child of go, is reported" \
	"$(jq "[$T | select(.ppid == $(jq '.processes[0].pid' "$J"))] | length" "$J")" 1
check "its goroutines at exit: 7 at the marked go statement, and the main one" \
	"$(jq -r "$T | .profile.go | .goroutines, (.goroutines_by_creation_site[] |
	select(.func == \"$PKG.Park\") | \"\(.count) \(.file | split(\"/\") | last):\(.line)\")" "$J" | xargs)" \
	"8 7 leaky.go:$LINE"
check "their start function is the package's (its wait, or the wrapper go1.19 makes)" \
	"$(jq -r "$T | .profile.go.goroutines_by_creation_site[] | select(.func == \"$PKG.Park\") |
	.start_func" "$J" | grep -cE "^$PKG\.(wait|Park\.func1)$")" 1
check "all 7 wait on the channel" \
	"$(jq -r "$T | .profile.go.goroutines_by_creation_site[] | select(.func == \"$PKG.Park\") |
	\"\(.waiting) \(.wait_reason)\"" "$J")" "7 chan receive"
check "its Go heap at exit" "$(jq "$T | .profile.go.heap.alloc_bytes > 0" "$J")" true
check "budget: broken by exactly 7" \
	"$(jq -r '.budgets[0] | "\(.budget) \(.process_name) \(.verdict) \(.value_goroutines) \(.over_goroutines)"' "$J")" \
	"max-goroutines-at-exit leaky.test broken 7 7"
check "budget: the site behind it, with its count" \
	"$(jq -r '.budgets[0].creation_sites[] | "\(.func) \(.line) \(.count)"' "$J")" \
	"$PKG.Park $LINE 7"
check "JUnit: the failure names the site and its count" \
	"$(grep -cE "^ +7  $PKG\.Park at leaky\.go:$LINE, started in $PKG\." "$TMP/g1.xml")" 1
check "JUnit: the message says by how many" \
	"$(grep -c 'message="processes named leaky.test: goroutines alive at exit 7, over the budget of 0 by 7"' "$TMP/g1.xml")" 1
check "text: the budget line" \
	"$(grep -c -- '--max-goroutines-at-exit leaky.test=0: BROKEN by 7: goroutines alive at exit 7' "$TMP/g1.err")" 1
check "text: goroutines besides the main one, per process" \
	"$(grep -c '^  goroutines alive at exit besides the main one: 7$' "$TMP/g1.err")" 1
echo "go test of leaky under run: $(( $(date +%s) - t0 )) s"

# ... the test binary alone, another count: a budget of 2 broken by 1
RUNGO_LEAK=3 "$MS" run --max-goroutines-at-exit 2 --report "$TMP/g2.json" \
	-- "$O/fixtures/rungo/leaky.test" -test.count=1 > "$TMP/g2.out" 2> "$TMP/g2.err"
check "leaky.test with 3 left, budget 2: exit status" "$?" 86
check "leaky.test with 3 left: broken by 1" \
	"$(jq -r '.budgets[0] | "\(.verdict) \(.value_goroutines) \(.over_goroutines)"' "$TMP/g2.json")" \
	"broken 3 1"

# ... stripped (-s -w): sites named from .gopclntab, runtime.allgs found from code
RUNGO_LEAK=4 "$MS" run --max-goroutines-at-exit 0 --report "$TMP/g2s.json" \
	-- "$O/fixtures/rungo/leaky-stripped.test" -test.count=1 > "$TMP/g2s.out" 2> "$TMP/g2s.err"
check "stripped leaky.test with 4 left, budget 0: exit status" "$?" 86
check "stripped: broken by 4, all at the marked go statement" \
	"$(jq -r '.budgets[0] | "\(.verdict) \(.over_goroutines) \(.creation_sites[0].func) \(.creation_sites[0].line) \(.creation_sites[0].count)"' "$TMP/g2s.json")" \
	"broken 4 $PKG.Park $LINE 4"

# 2. the clean package: none left, the budget holds, go test's status comes back
# (budgets from tests/fixtures/budgets/gotest.budgets: max-goroutines-at-exit clean.test=0)
gotest clean g3 --budgets "$PWD/tests/fixtures/budgets/gotest.budgets"
check "go test of clean, clean.test=0: exit status (go test's)" "$?" 0
check "clean.test followed, its goroutine budget (from the file) held at 0" \
	"$(jq -r '.budgets[] | select(.budget == "max-goroutines-at-exit") |
	"\(.process_name) \(.verdict) \(.value_goroutines)"' "$TMP/g3.json")" "clean.test held 0"
check "clean.test: only the main goroutine at exit" \
	"$(jq '.processes[] | select(.profile.comm == "clean.test") |
	"\(.profile.go.goroutines) \(.goroutines_at_exit)"' -r "$TMP/g3.json")" "1 0"

# 3. prometheus and etcd as Debian ships them, SIGQUIT: their own dumps are the truth
# dump_sites FILE: "COUNT CREATOR" for each creation function in a
# goroutine dump, of the goroutines that are not the runtime's (their
# bottom frame is not in package runtime, runtime.main aside; goroutine 0,
# the signal's g0, is none); the main goroutine, created by none, as "main".
dump_sites() {
	awk '
	function flush() {
		if (inblk && (last !~ /^runtime\./ || last ~ /^runtime\.main\(/))
			n[key]++
		inblk = 0
	}
	/^goroutine [0-9]+ .*\[.*\]:$/ { flush(); inblk = $2 != "0"; key = "main"; last = ""; created = 0; next }
	!inblk { next }
	/^$/ { flush(); next }
	/^created by / { key = $3; created = 1; next }
	/^runtime\.goexit\(/ { next }
	/^[^\t]/ && !created { last = $0 }
	END { flush(); for (k in n) print n[k], k }' "$1" | sort -k2
}

# sigquit NAME READY_PATH PORT CMD ARGS...: CMD under memsight run with
# GOTRACEBACK=all, ready at 127.0.0.1:PORT/READY_PATH, connections held
# open, then SIGQUIT to memsight (passed on): the runtime dumps its
# goroutines and exits 2. Compared per creation function: memsight's sites
# (at most MS_GO_GROUPS_MAX; the rest counted as "unlisted") summed per
# function, against the dump's. Every listed function must have exactly the
# dump's count unless some sites are unlisted, and the dump's goroutines
# that memsight does not list must be exactly its unlisted ones.
sigquit() {
	local name=$1 ready=$2 port=$3 d=$TMP/$1 pid i J
	shift 3
	mkdir -p "$d"
	GOTRACEBACK=all "$MS" run --max-goroutines-at-exit 1000 --report "$d/r.json" \
		-- "$@" > "$d/out" 2> "$d/err" &
	pid=$!; PIDS_TO_KILL+=("$pid")
	wait_http "$pid" "http://127.0.0.1:$port$ready" 60 || { fail "$name under run: not ready"; return; }
	hold_conns "$port" "$ready" || fail "$name: cannot hold connections"
	sleep 0.5
	kill -QUIT "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && ((i++ < 300)); do sleep 0.1; done
	wait "$pid"
	check "$name SIGQUIT under run: memsight's status is its own 2" "$?" 2
	close_conns
	J=$d/r.json
	check "$name: report: exited 2, the goroutine budget held" \
		"$(jq -r '"\(.exit_status) \(.budgets[0].verdict)"' "$J")" "2 held"
	dump_sites "$d/err" > "$d/dump.sites"
	jq -r '.processes[0].profile.go.goroutines_by_creation_site[] |
		"\(.count) \(if .main_goroutine then "main" else .func end)"' "$J" |
		awk '{ n[$2] += $1 } END { for (k in n) print n[k], k }' | sort -k2 > "$d/ms.sites"
	local unlisted total listed dumped
	unlisted=$(jq '.processes[0].profile.go.unlisted_goroutines // 0' "$J")
	total=$(jq '.processes[0].profile.go.goroutines' "$J")
	listed=$(awk '{ s += $1 } END { print s + 0 }' "$d/ms.sites")
	dumped=$(awk '{ s += $1 } END { print s + 0 }' "$d/dump.sites")
	check "$name: the dump has goroutines of several creation functions" \
		"$(($(wc -l < "$d/dump.sites") >= 5))" 1
	check "$name: memsight's count is the dump's (goroutines not the runtime's)" "$total" "$dumped"
	check "$name: listed and unlisted add up to it" "$((listed + unlisted))" "$total"
	if [ "$unlisted" = 0 ]; then
		check "$name: goroutines by creation function, all listed: the dump's, function for function" \
			"$(join -1 2 -2 2 -a 1 -a 2 -e none -o 0,1.1,2.1 "$d/ms.sites" "$d/dump.sites" |
			   awk '$2 != $3' | head -5 | xargs)" ""
	else
		# a function's sites may be split between listed and unlisted: at most the dump's
		check "$name: goroutines by creation function, listed ones: none above the dump's" \
			"$(join -1 2 -2 2 -a 1 -e 0 -o 0,1.1,2.1 "$d/ms.sites" "$d/dump.sites" |
			   awk '$2 > $3' | head -5 | xargs)" ""
		check "$name: the dump's goroutines memsight does not list are its unlisted ones" \
			"$((dumped - listed))" "$unlisted"
	fi
}

PROM=$TMP/prometheus.yml
printf 'global:\n  scrape_interval: 1h\n' > "$PROM"
port=$(free_port) || fail "prometheus: no free port"
sigquit prometheus /-/ready "$port" prometheus --config.file="$PROM" \
	--storage.tsdb.path="$TMP/promdata" --web.listen-address="127.0.0.1:$port"
cport=$(free_port) && pport=$(free_port) || fail "etcd: no free port"
[ "$cport" != "$pport" ] || fail "etcd: one port picked twice"
sigquit etcd /health "$cport" etcd --name memsight --data-dir "$TMP/etcd" \
	--listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
	--listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	--initial-cluster "memsight=http://127.0.0.1:$pport"
echo "t_run_go: $(( $(date +%s) - t0 )) s"
