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
#   - exits 2 naming the file for a malformed report.
. "$(dirname "$0")/lib.sh"

# dump NAME [VAR=VALUE...]: a JSON dump of one round of leaky's work, in $TMP/NAME.json
dump() {
	local name=$1; shift
	start_target env "$TMP/$name.out" "$@" "$O/tests/targets/leaky" ||
		{ fail "$name: leaky did not start"; return 1; }
	start_memsight "$TMP/$name.json" "$TMP/$name.err" dump -p "$TPID" -d 0 --format json ||
		{ fail "$name: memsight did not attach"; cat "$TMP/$name.err"; return 1; }
	kill -USR1 "$TPID"
	wait_for "$TMP/$name.out" '^done' 30 || fail "$name: leaky did not finish its work"
	kill -INT "$MPID"
	wait "$MPID"
	check "$name: dump exit status" "$?" 0
	kill "$TPID"
	jq -e .stacks "$TMP/$name.json" > /dev/null || { fail "$name: dump is not JSON"; return 1; }
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
