#!/bin/bash
# Claim: `memsight diff` over two real dumps of tests/targets/leaky, one with
# leak_a holding 20% more (LEAKY_A_N=1200: 1200 x 4096 B against 1000 x 4096 B,
# +819200 B exactly) and leak_b 20% more (600 x 100 B against 500 x 100 B:
# +10000 B, below the default 64 KiB noise floor), matches the stacks by their
# frames across two processes (other PIDs, other ASLR bases) and
#   - flags the total and leak_a's stack alone, with exact bytes: exit 86, a
#     JUnit failure naming leak_a;
#   - ignores leak_b (under --min-bytes) and passes at --max-growth 25;
#   - exits 0 on two runs that did the same work, and on a report in run's
#     shape ({"processes": [{"profile": ...}]}) against the plain dump;
#   - exits 2 naming the file for a malformed report;
#   - reads pprof profiles as well, by content (`dump --format pprof` of the
#     same two rounds, gzipped or not, and against a JSON report): the same
#     verdict and bytes; Go's own heap profiles (a real Prometheus's
#     /debug/pprof/heap, and `go tool pprof -proto`'s rewrite of one) read and
#     compare without error.
. "$(dirname "$0")/lib.sh"

# dump NAME [VAR=VALUE...]: a dump of one round of leaky's work, in $TMP/NAME.json
# (FORMAT=pprof: $TMP/NAME.pb.gz)
dump() {
	local name=$1 fmt=${FORMAT:-json} out; shift
	out=$TMP/$name.$([ "$fmt" = pprof ] && echo pb.gz || echo json)
	start_target env "$TMP/$name.out" "$@" "$O/tests/targets/leaky" ||
		{ fail "$name: leaky did not start"; return 1; }
	start_memsight "$out" "$TMP/$name.err" dump -p "$TPID" -d 0 --format "$fmt" ||
		{ fail "$name: memsight did not attach"; cat "$TMP/$name.err"; return 1; }
	kill -USR1 "$TPID"
	wait_for "$TMP/$name.out" '^done' 30 || fail "$name: leaky did not finish its work"
	kill -INT "$MPID"
	wait "$MPID"
	check "$name: dump exit status" "$?" 0
	kill "$TPID"
	[ "$fmt" = pprof ] && return 0
	jq -e .stacks "$out" > /dev/null || { fail "$name: dump is not JSON"; return 1; }
}

dump base || exit 0
dump same || exit 0
dump grown LEAKY_A_N=1200 LEAKY_B_N=600 || exit 0
B=$TMP/base.json N=$TMP/grown.json
check "base: leak_a in use" "$(stack_field "$B" leak_a inuse_bytes)" 4096000
check "grown: leak_a in use" "$(stack_field "$N" leak_a inuse_bytes)" 4915200
check "the runs had other PIDs" "$([ "$(jq .pid "$B")" != "$(jq .pid "$N")" ] && echo yes)" yes

"$MS" diff "$B" "$TMP/same.json" > "$TMP/same.txt" 2>&1
check "NEW doing BASE's work: exit status" "$?" 0
check "NEW doing BASE's work: no regression" "$(tail -1 "$TMP/same.txt")" "0 regressions"
"$MS" diff -j "$B" "$TMP/same.json" > "$TMP/same.diff.json"
check "NEW doing BASE's work: leak_a's stack matched, unchanged" \
	"$(jq '[.stacks[] | select(.frames[0] | startswith("leak_a "))] | length' "$TMP/same.diff.json")" 0
"$MS" diff "$B" "$B" > /dev/null 2>&1
check "NEW == BASE: exit status" "$?" 0

"$MS" diff "$B" "$N" --junit "$TMP/junit.xml" > "$TMP/grown.txt" 2>&1
check "20% growth of leak_a: exit status" "$?" 86
cat "$TMP/grown.txt"
"$MS" diff -j "$B" "$N" > "$TMP/grown.diff.json"
J=$TMP/grown.diff.json
check "regressions: the total and leak_a's stack" "$(jq .regressions "$J")" 2
check "total growth, exact" "$(jq .total.growth_bytes "$J")" 829200
check "the total is a regression" "$(jq .total.regression "$J")" true
check "leak_a's stack growth, exact" \
	"$(jq '[.stacks[] | select(.regression) | select(.frames[0] | startswith("leak_a ")) | .growth_bytes] | add' "$J")" 819200
check "leak_a's stack: in use before and after" \
	"$(jq -r '.stacks[] | select(.frames[0] | startswith("leak_a ")) | "\(.base_bytes) \(.new_bytes) \(.growth_pct)"' "$J")" \
	"4096000 4915200 20"
check "leak_a is named by file:line, not by address" \
	"$(jq -r '.stacks[] | select(.frames[0] | startswith("leak_a ")) | .frames[0]' "$J" | grep -cE '^leak_a leaky\.c:[0-9]+$')" 1
check "leak_b grew 10000 B (20%), under the noise floor: not a regression" \
	"$(jq -r '.stacks[] | select(.frames[0] | startswith("leak_b ")) | "\(.growth_bytes) \(.regression)"' "$J")" \
	"10000 false"
check "leak_c unchanged: not listed" \
	"$(jq '[.stacks[] | select(.frames[0] | startswith("leak_c "))] | length' "$J")" 0
check "text: leak_a's row is a regression" \
	"$(grep -c 'REGRESSION leaky leaky \[malloc\] leak_a leaky.c:' "$TMP/grown.txt")" 1

check_cmd "JUnit is well-formed XML" xmllint --noout "$TMP/junit.xml"
check "JUnit: two testcases, two failures" \
	"$(xmllint --xpath 'concat(count(//testcase), " ", count(//failure))' "$TMP/junit.xml")" "2 2"
check "JUnit: the failing stack is leak_a's" \
	"$(xmllint --xpath 'count(//testcase[starts-with(@name, "stack leaky leaky [malloc] leak_a leaky.c:")]/failure)' "$TMP/junit.xml")" 1
check "JUnit: the failure says the exact bytes" \
	"$(xmllint --xpath 'string(//testcase[starts-with(@name, "stack")]/failure/@message)' "$TMP/junit.xml" | grep -c '^grew by 819200 B (+20.0%)')" 1

"$MS" diff --max-growth 25 "$B" "$N" > /dev/null 2>&1
check "--max-growth 25: 20% passes" "$?" 0
"$MS" diff --min-bytes 1M "$B" "$N" > /dev/null 2>&1
check "--min-bytes 1M: 819200 B passes" "$?" 0
"$MS" diff --min-bytes 4K -j "$B" "$N" > "$TMP/4k.json"
check "--min-bytes 4K: leak_b's 10000 B is a regression too" "$(jq .regressions "$TMP/4k.json")" 3
"$MS" diff --metric alloc -j "$B" "$N" > "$TMP/alloc.json"
check "--metric alloc: the total is allocated bytes" "$(jq .total.base_bytes "$TMP/alloc.json")" \
	"$(jq .tracked.alloc_bytes "$B")"

# frames by function alone (a BASE built from other source, lines moved): the same verdict
"$MS" diff --match functions -j "$B" "$N" > "$TMP/funcs.json"
check "--match functions: leak_a's stack alone, named without lines" \
	"$(jq -r '[.stacks[] | select(.regression) | .frames[0]] | join(",")' "$TMP/funcs.json")" leak_a

jq '{command: ["leaky"], processes: [{pid: .pid, profile: .}]}' "$B" > "$TMP/run-shape.json"
"$MS" diff "$TMP/run-shape.json" "$B" > /dev/null 2>&1
check "run's report shape against the plain dump: exit status" "$?" 0

head -c 300 "$N" > "$TMP/cut.json"
"$MS" diff "$B" "$TMP/cut.json" > /dev/null 2> "$TMP/cut.err"
check "a cut report: exit status" "$?" 2
check "a cut report: the message names the file" "$(grep -c "cut.json: .*is not JSON" "$TMP/cut.err")" 1
"$MS" diff "$B" > /dev/null 2>&1
check "one report only: usage, exit status" "$?" 2

# pprof profiles: memsight's own, the same rounds of work
FORMAT=pprof dump pbase || exit 0
FORMAT=pprof dump pgrown LEAKY_A_N=1200 LEAKY_B_N=600 || exit 0
PB=$TMP/pbase.pb.gz PN=$TMP/pgrown.pb.gz
check "pprof dumps are gzip" "$(head -c2 "$PB" | od -An -tx1 | tr -d ' ')" 1f8b
"$MS" diff -j "$PB" "$PN" > "$TMP/p.diff.json" 2> "$TMP/p.err"
check "pprof: 20% growth of leak_a: exit status" "$?" 86
J=$TMP/p.diff.json
check "pprof: regressions: the total and leak_a's stack" "$(jq .regressions "$J")" 2
check "pprof: leak_a's stack, exact, named by file:line" \
	"$(jq -r '.stacks[] | select(.regression) | select(.frames[0] | startswith("leak_a ")) |
	"\(.base_bytes) \(.new_bytes) \(.frames[0])"' "$J" | sed 's/:[0-9]*$/:N/')" \
	"4096000 4915200 leak_a leaky.c:N"
check "pprof: leak_b's 10000 B, under the noise floor" \
	"$(jq -r '.stacks[] | select(.frames[0] | startswith("leak_b ")) | "\(.growth_bytes) \(.regression)"' "$J")" \
	"10000 false"
check "pprof: the process by its name, as in JSON" "$(jq -r '.processes[0].process' "$J")" "leaky leaky"
gunzip -c "$PB" > "$TMP/pbase.pb"
"$MS" diff "$TMP/pbase.pb" "$PN" > /dev/null 2>&1
check "pprof: not gzipped against gzipped: exit status" "$?" 86
"$MS" diff "$PB" "$PB" > "$TMP/pself.txt" 2>&1
check "pprof: a profile against itself" "$?|$(tail -1 "$TMP/pself.txt")" "0|0 regressions"
"$MS" diff -j "$B" "$PN" > "$TMP/x.diff.json" 2> "$TMP/x.err"
check "JSON BASE, pprof NEW: exit status" "$?" 86
check "JSON BASE, pprof NEW: leak_a's stack matched across formats" \
	"$(jq -r '.stacks[] | select(.frames[0] | startswith("leak_a ")) | "\(.state) \(.growth_bytes)"' \
	"$TMP/x.diff.json")" "changed 819200"
head -c 200 "$PN" > "$TMP/cut.pb.gz"
"$MS" diff "$PB" "$TMP/cut.pb.gz" > /dev/null 2> "$TMP/pcut.err"
check "a cut pprof: exit status 2, the file named" \
	"$?|$(grep -c "cut.pb.gz: not valid gzip" "$TMP/pcut.err")" "2|1"

# Go's own heap profiles: a real Prometheus's net/http/pprof, and go tool pprof's rewrite
: "${GO:=$(sed -n 's/^GO_1_19 ?= *//p' Makefile)}"
PPORT=$((20000 + $$ % 5000 + 41))
start_prometheus 1 "$PPORT"
for i in $(seq 100); do
	curl -sf -o "$TMP/heap1.pb.gz" "http://127.0.0.1:$PPORT/debug/pprof/heap" && break
	sleep 0.2
done
sleep 1
curl -sf -o "$TMP/heap2.pb.gz" "http://127.0.0.1:$PPORT/debug/pprof/heap"
check "prometheus served two heap profiles" "$([ -s "$TMP/heap1.pb.gz" ] && [ -s "$TMP/heap2.pb.gz" ] &&
	echo yes)" yes
# (allocated, not in use: Go's in-use figures are as of its last GC, few yet)
"$MS" diff -j --metric alloc "$TMP/heap1.pb.gz" "$TMP/heap2.pb.gz" > "$TMP/go.diff.json" 2> "$TMP/go.err"
rc=$?
check "Go's heap profiles: compared (0 or 86, never 2)" "$([ $rc = 0 ] || [ $rc = 86 ]; echo $?)" 0
check "Go's heap profiles: the process named by its program, allocated > 1 MiB" \
	"$(jq -r '.processes[0] | "\(.process) \(.base_bytes > 1048576)"' "$TMP/go.diff.json")" "? prometheus true"
# against leaky's profile every stack of Prometheus's is new: all of them listed
"$MS" diff -j --metric alloc "$PB" "$TMP/heap1.pb.gz" > "$TMP/gonew.diff.json" 2>&1
check "Go's heap profile: its stacks read, kind go-heap, Go functions by file:line" \
	"$(jq '[.stacks[] | select(.process == "? prometheus")] | length > 10 and
	all(.kind == "go-heap" and (.frames[0] | test("^[a-z].*\\.go:[0-9]+$")))' "$TMP/gonew.diff.json")" true
if [ -x "$GO" ]; then
	HOME=$TMP GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOTOOLCHAIN=local GOFLAGS= \
		"$GO" tool pprof -proto "$TMP/heap1.pb.gz" > "$TMP/heap1.proto.pb.gz" 2> /dev/null
	"$MS" diff -j "$TMP/heap1.pb.gz" "$TMP/heap1.proto.pb.gz" > "$TMP/gop.diff.json" 2>&1
	check "go tool pprof -proto's rewrite of a profile: the same figures" \
		"$?|$(jq '"\(.total.growth_bytes) \(.stacks | length)"' -r "$TMP/gop.diff.json")" "0|0 0"
else
	fail "no Go toolchain at '$GO' (make deps installs golang-go)"
fi
