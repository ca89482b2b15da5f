#!/bin/bash
# Claim: `memsight run -- CMD` observes CMD from its first instruction and
# gates on budgets. tests/targets/leakexit leaks exactly 1 MiB (16 x 64 KiB)
# in leak_here() and allocates 100 x 1000 B more (freed) in churn(), so:
#   --max-leaked 512K breaks: status 86, the JSON report says 1048576 bytes
#   still allocated (all under leak_here), the JUnit failure names leak_here;
#   --max-leaked 2M holds and the command's own status (3) comes back;
#   SIGTERM to memsight reaches the command (143), stdin and stdout are the
#   command's (byte-exact through cat), a missing command is 127, no command 2;
#   under sh, --max-leaked leakexit=512K is broken by the child alone (its
#   stacks only), sh=1M holds; the same from tests/fixtures/budgets/, a flag
#   overriding the file; a bad budgets file is status 2 naming its line;
#   tests/targets/threadexit, ended by a thread that is not its leader after
#   that thread forked leakexit: both followed, both leaks exact.
. "$(dirname "$0")/lib.sh"

LE=$O/tests/targets/leakexit

# profile REPORT N: process N's profile of a --report, as a file of its own
# (for stack_field; no process substitution: the kernel matrix's guest has no /dev/fd)
profile() {
	jq ".processes[$2].profile" "$1" > "$TMP/profile.$2.json"
	echo "$TMP/profile.$2.json"
}

# 1. a broken budget: distinct status, exact leak, JUnit naming the function
"$MS" run --max-leaked 512K --max-allocated 2M --report "$TMP/r1.json" --junit "$TMP/j1.xml" \
	-- "$LE" > "$TMP/r1.out" 2> "$TMP/r1.err"
check "--max-leaked 512K with 1 MiB leaked: exit status" "$?" 86
J=$TMP/r1.json
if jq -e . "$J" > /dev/null; then
	check "report: leaked bytes in total" "$(jq .total.leaked_bytes "$J")" 1048576
	check "report: allocated bytes in total" "$(jq .total.allocated_bytes "$J")" 1148576
	check "report: leak_here holds all of it" \
		"$(stack_field "$(profile "$J" 0)" leak_here inuse_bytes)" 1048576
	check "report: in 16 blocks" \
		"$(stack_field "$(profile "$J" 0)" leak_here inuse_count)" 16
	check "report: churn holds nothing" \
		"$(stack_field "$(profile "$J" 0)" churn inuse_bytes)" 0
	check "report: churn allocated 100 x 1000 B" \
		"$(stack_field "$(profile "$J" 0)" churn alloc_bytes)" 100000
	check "report: max-leaked broken by 512 KiB" \
		"$(jq -r '.budgets[] | select(.budget == "max-leaked") | "\(.verdict) \(.over_bytes)"' "$J")" \
		"broken 524288"
	check "report: the stack behind it" \
		"$(jq -r '.budgets[] | select(.budget == "max-leaked") | .stacks[0].func' "$J")" leak_here
	check "report: max-allocated held" \
		"$(jq -r '.budgets[] | select(.budget == "max-allocated") | .verdict' "$J")" held
	check "report: exact, not estimated" "$(jq .total.estimate "$J")" false
	check "report: the mechanism is named" \
		"$(jq -r '.processes[0].mechanism' "$J" | grep -c '^uprobes on .*every allocation')" 1
	check "report: the command's status" "$(jq .exit_status "$J")" 0
	check "report: a peak RSS" "$(jq '.processes[0].peak_rss_bytes > 0' "$J")" true
	# 1 MiB held when churn() holds one 1000-byte block at a time
	check "report: peak heap in use, exact" "$(jq '.processes[0].peak_heap_inuse_bytes' "$J")" \
		1049576
	# the exec starts the rss_stat peak again: the pre-exec copy of memsight
	# (about 2.7 MB here) is not the command's; the kernel's high-water mark
	# of the new image bounds it, up to the per-CPU batches (32 pages a CPU)
	check "report: the RSS peak is the command's own, not the pre-exec copy's" \
		"$(jq --argjson slack $((32 * 4096 * $(nproc))) '.processes[0].profile.rss |
		.peak_since_attach_bytes <= .peak_bytes + $slack' "$J")" true
else
	fail "report: not JSON"; cat "$TMP/r1.err"
fi
check_cmd "JUnit: well-formed XML" xmllint --noout "$TMP/j1.xml"
check "JUnit: one test case per budget" "$(xmllint --xpath 'count(//testcase)' "$TMP/j1.xml")" 2
check "JUnit: one failure" "$(xmllint --xpath 'count(//testcase/failure)' "$TMP/j1.xml")" 1
check "JUnit: the failure is max-leaked's and names leak_here" \
	"$(xmllint --xpath 'string(//testcase[failure]/@name)' "$TMP/j1.xml")|$(xmllint --xpath \
	'string(//failure)' "$TMP/j1.xml" | grep -c 'leak_here+0x')" "max-leaked 512.00 KiB|1"
check "text: says which budget broke, by how much" \
	"$(grep -c -- '--max-leaked 512.00 KiB: BROKEN by 524288 B' "$TMP/r1.err")" 1
check "stdout is the command's alone (it wrote nothing)" "$(wc -c < "$TMP/r1.out")" 0

# 2. budgets held: the command's own status
"$MS" run --max-leaked 2M -- "$LE" 3 2> "$TMP/r2.err"
check "--max-leaked 2M holds: the command's status 3" "$?" 3
check "text: held" "$(grep -c -- '--max-leaked 2.00 MiB: held (still allocated at exit 1048576 B' \
	"$TMP/r2.err")" 1

# 2a. a static program: its allocator is in itself, probed at its exec
"$MS" run --max-leaked 2M --report "$TMP/r2a.json" -- "$LE-static" 3 2> "$TMP/r2a.err"
check "static: the command's status" "$?" 3
check "static: its leak, exact, under leak_here" \
	"$(stack_field "$(profile "$TMP/r2a.json" 0)" leak_here inuse_bytes)" 1048576
# (static glibc allocates 1779 B of its own at startup: the totals are not leakexit's alone)
check "static: churn's allocations, exact" \
	"$(stack_field "$(profile "$TMP/r2a.json" 0)" churn alloc_bytes)" 100000
check "static: seen through the program itself" \
	"$(jq -r '.processes[0].mechanism' "$TMP/r2a.json" | grep -c "^uprobes on .*/leakexit-static ")" 1

# 2a'. musl: its interpreter is its C library, probed at the exec
"$MS" run --report "$TMP/r2m.json" -- "$O/tests/targets/leaky-musl" < /dev/null > "$TMP/r2m.out" \
	2> "$TMP/r2m.err" &
MPID=$!
PIDS_TO_KILL+=("$MPID")
if wait_for "$TMP/r2m.out" '^ready' 30; then
	kill -TERM "$(awk '/^ready/ {print $2}' "$TMP/r2m.out")"
	wait "$MPID"
	check "musl: seen through musl's libc" \
		"$(jq -r '.processes[0].mechanism' "$TMP/r2m.json" | grep -c '^uprobes on .*musl.*libc')" 1
	check "musl: its allocations counted" "$(jq '.total.allocated_bytes > 0' "$TMP/r2m.json")" true
else
	fail "musl: leaky-musl did not start under memsight run"
fi

# 2b. sampled: figures marked as estimates, the heap's peak unavailable (not a guess)
"$MS" run --sample-bytes 65536 --max-leaked 8M --report "$TMP/r2b.json" -- "$LE" 2> "$TMP/r2b.err"
check "sampled: the budget holds on the estimate" "$?" 0
check "sampled: the totals say estimate" "$(jq .total.estimate "$TMP/r2b.json")" true
check "sampled: the budget says estimate" "$(jq '.budgets[0].estimate' "$TMP/r2b.json")" true
check "sampled: the mechanism says sampled" \
	"$(jq -r '.processes[0].mechanism' "$TMP/r2b.json" | grep -c ', sampled')" 1
check "sampled: peak heap in use unavailable, with a reason" \
	"$(jq -r '.processes[0].peak_heap_inuse_unavailable' "$TMP/r2b.json")" \
	"sampled, or not readable at exit"
check "sampled: the text says estimates" "$(grep -c 'figures are estimates' "$TMP/r2b.err")" 1

# 3. SIGTERM to memsight reaches the command
"$MS" run --report "$TMP/r3.json" -- "$LE" wait > "$TMP/r3.out" 2> "$TMP/r3.err" &
MPID=$!
PIDS_TO_KILL+=("$MPID")
if wait_for "$TMP/r3.out" '^ready' 30; then
	remember_progs "$MPID"
	kill -TERM "$MPID"
	wait "$MPID"
	check "SIGTERM forwarded: the command died of it (143)" "$?" 143
	check "report: killed by signal 15" "$(jq .processes[0].signal "$TMP/r3.json")" 15
	check "report: its leak read as it died" "$(jq .total.leaked_bytes "$TMP/r3.json")" 1048576
	check "no program of ours left" "$(progs_left)" 0
else
	fail "leakexit wait did not start under memsight run"
fi

# 4. stdin and stdout pass through untouched
head -c 3000000 /dev/urandom > "$TMP/in.bin"
"$MS" run -- cat < "$TMP/in.bin" > "$TMP/out.bin" 2> "$TMP/r4.err"
check "cat under run: status" "$?" 0
check_cmd "cat under run: 3 MB byte-exact" cmp -s "$TMP/in.bin" "$TMP/out.bin"

# 5. a command that cannot run; no command at all
"$MS" run -- /nonexistent/memsight-no-such-cmd 2> "$TMP/r5.err"
check "missing command: status 127" "$?" 127
check "missing command: said so" \
	"$(grep -c 'cannot execute /nonexistent/memsight-no-such-cmd: No such file' "$TMP/r5.err")" 1
"$MS" run --max-leaked 1M 2> "$TMP/r6.err"
check "no command: usage status 2" "$?" 2
check "no command: said so" "$(grep -c 'run needs a command' "$TMP/r6.err")" 1

# 6. descendants: a child forked and exec'd by the command, observed from its
# first instruction too, reported with its own exact leak; one still running
# when the command ends is left running, untraced, and said so
"$MS" run --max-leaked 3M --report "$TMP/r7.json" -- "$LE" spawn "$LE" 5 2> "$TMP/r7.err"
check "spawn: the command's status (its child's 5)" "$?" 5
J=$TMP/r7.json
check "spawn: two processes" "$(jq '.processes | length' "$J")" 2
check "spawn: the child's parent is the command" \
	"$(jq '.processes[1].ppid == .processes[0].pid' "$J")" true
check "spawn: the child's own leak, exact, under leak_here" \
	"$(stack_field "$(profile "$J" 1)" leak_here inuse_bytes)" 1048576
check "spawn: the child allocated exactly its own" \
	"$(jq '.processes[1].profile.tracked.alloc_bytes' "$J")" 1148576
check "spawn: the child's status" "$(jq '.processes[1].exit_status' "$J")" 5
check "spawn: leaks add up over the processes" "$(jq .total.leaked_bytes "$J")" 2097152
# the same through one perf-event uprobe per function (kernels before 6.6)
"$MS" run --legacy-links --report "$TMP/r7l.json" -- "$LE" spawn "$LE" 5 2> "$TMP/r7l.err"
check "spawn, per-function links: status" "$?" 5
check "spawn, per-function links: each leak exact" \
	"$(jq -c '[.processes[] | .profile.tracked.inuse_bytes]' "$TMP/r7l.json")" "[1048576,1048576]"
check "spawn, per-function links: named so" \
	"$(jq -r '.processes[].mechanism' "$TMP/r7l.json" | grep -c '(per-function links)')" 2
"$MS" run --report "$TMP/r8.json" -- sh -c "sleep 30 & exit 4" 2> "$TMP/r8.err"
check "background child: the command's status" "$?" 4
bg=$(jq '.processes[] | select(.exit_status_unavailable) | .pid' "$TMP/r8.json")
check "background child: reported as still running" \
	"$(jq -r '.processes[] | select(.exit_status_unavailable) | .profile_unavailable' \
	"$TMP/r8.json" | grep -c '^still running when the command ended')" 1
if [ -n "$bg" ] && [ -d "/proc/$bg" ]; then
	PIDS_TO_KILL+=("$bg")
	check "background child: left running, no longer traced" \
		"$(awk '/^TracerPid/ {print $2}' "/proc/$bg/status")" 0
	kill "$bg"
else
	fail "background child: not running after the command ended"
fi

# 7. JUnit stays well-formed whatever the target's names hold: a command
# named with XML's special characters (its comm, path and argv)
odd="$TMP/l&k<\"x'>"
cp "$LE" "$odd"
"$MS" run --max-leaked 1K --junit "$TMP/j9.xml" -- "$odd" 2> "$TMP/r9.err"
check "odd name: the budget breaks" "$?" 86
check_cmd "odd name: JUnit well-formed" xmllint --noout "$TMP/j9.xml"
check "odd name: the command's name escaped and intact" \
	"$(xmllint --xpath 'string(//testsuite/@name)' "$TMP/j9.xml")" "memsight budgets: $odd"
check "odd name: the comm in the failure, intact" \
	"$(xmllint --xpath 'string(//failure)' "$TMP/j9.xml" | grep -c "^PID [0-9]* l&k<\"x'>:")" 1

# 8. a budget per process name: sh runs leakexit as a child; only the child's
# 1 MiB counts against leakexit's budget, the shell's own against sh's
"$MS" run --max-leaked leakexit=512K --max-leaked sh=1M --max-leaked 4M \
	--report "$TMP/r10.json" --junit "$TMP/j10.xml" -- sh -c "$LE; true" 2> "$TMP/r10.err"
check "per name: leakexit's budget broken" "$?" 86
J=$TMP/r10.json
check "per name: two processes" "$(jq '.processes | length' "$J")" 2
child=$(jq '.processes[] | select(.profile.comm == "leakexit") | .pid' "$J")
check "per name: leakexit=512K broken by exactly the child's 1 MiB less 512 KiB" \
	"$(jq -r '.budgets[] | select(.process_name == "leakexit") | "\(.verdict) \(.value_bytes) \(.over_bytes)"' "$J")" \
	"broken 1048576 524288"
check "per name: its stacks are the child's alone" \
	"$(jq -c --argjson c "${child:-0}" '[.budgets[] | select(.process_name == "leakexit") |
	.stacks[] | .pid == $c] | unique' "$J")" "[true]"
check "per name: sh=1M held (the shell leaks less than the child)" \
	"$(jq -r '.budgets[] | select(.process_name == "sh") | .verdict' "$J")" held
check "per name: the whole run's 4M held" \
	"$(jq -r '.budgets[] | select(.process_name == null) | .verdict' "$J")" held
check "per name: the whole run's is the sum" \
	"$(jq '(.budgets[] | select(.process_name == null) | .value_bytes) == .total.leaked_bytes' "$J")" true
check_cmd "per name: JUnit well-formed" xmllint --noout "$TMP/j10.xml"
check "per name: the JUnit failure names the process name" \
	"$(xmllint --xpath 'string(//testcase[failure]/@name)' "$TMP/j10.xml")" \
	"max-leaked leakexit=512.00 KiB"
check "per name: the JUnit failure lists the child's stacks only" \
	"$(xmllint --xpath 'string(//failure)' "$TMP/j10.xml" | grep -c '^PID [0-9]* ')|$(xmllint \
	--xpath 'string(//failure)' "$TMP/j10.xml" | grep -c "^PID $child leakexit:")" "1|1"
check "per name: the text names it" \
	"$(grep -c -- '--max-leaked leakexit=512.00 KiB: BROKEN by 524288 B' "$TMP/r10.err")" 1
"$MS" run --max-leaked nosuchprocess=1G -- "$LE" 2> "$TMP/r11.err"
check "per name: a name no process had cannot be checked: fails" "$?" 86
check "per name: said why" "$(grep -c 'NOT CHECKED: no process of that name ran' "$TMP/r11.err")" 1

# 9. budgets kept in a file (tests/fixtures/budgets/leakexit.budgets), the flags over it
BF=tests/fixtures/budgets/leakexit.budgets
"$MS" run --budgets "$BF" --junit "$TMP/j12.xml" -- sh -c "$LE; true" 2> "$TMP/r12.err"
check "file: its leakexit=512K breaks" "$?" 86
check "file: one test case per budget in it" \
	"$(xmllint --xpath 'count(//testcase)' "$TMP/j12.xml")" 4
check "file: one failure, leakexit's" \
	"$(xmllint --xpath 'count(//testcase/failure)' "$TMP/j12.xml")|$(xmllint --xpath \
	'string(//testcase[failure]/@name)' "$TMP/j12.xml")" "1|max-leaked leakexit=512.00 KiB"
"$MS" run --budgets "$BF" --max-leaked leakexit=2M -- sh -c "$LE; exit 3" 2> "$TMP/r13.err"
check "file: a flag overrides its budget, which then holds: the command's status" "$?" 3
check "file: the flag's limit is the one checked" \
	"$(grep -c -- '--max-leaked leakexit=2.00 MiB: held' "$TMP/r13.err")|$(grep -c \
	'leakexit=512.00 KiB' "$TMP/r13.err")" "1|0"
printf 'max-leaked 1M\nmax-leaked 2M\n' > "$TMP/bad.budgets"
"$MS" run --budgets "$TMP/bad.budgets" -- "$LE" > "$TMP/r14.out" 2> "$TMP/r14.err"
check "file: a bad line is a usage error" "$?" 2
check "file: the error names the file and line" \
	"$(grep -c "$TMP/bad.budgets:2: a second max-leaked" "$TMP/r14.err")" 1
check "file: the command did not run" "$(wc -c < "$TMP/r14.out")" 0

# 10. --pprof: the run as one gzipped pprof heap profile, read by Go's own
# pprof (the Makefile's Go, never whatever `go` is first in PATH): in use at
# exit is exactly leakexit's 1 MiB under leak_here, allocated adds churn's
# 100 x 1000 B; under sh, each sample's "process" label names its process
# (comm and executable basename, as `memsight diff` matches processes). The
# same profile is read by memsight's own reader too (diff against a report of
# no stacks: every stack new), which the kernel matrix's guest (no Go) runs.
"$MS" run --max-leaked 2M --pprof "$TMP/p15.pb.gz" -- "$LE" 3 2> "$TMP/r15.err"
check "pprof: the command's status still comes back" "$?" 3
# gzip's magic 1f 8b (busybox's od in the kernel matrix's guest has no -An: bash compares the bytes)
check "pprof: gzip" "$([ "$(head -c2 "$TMP/p15.pb.gz")" = "$(printf '\037\213')" ] && echo 1f8b)" 1f8b
echo '{"comm": "none", "exe": "none", "tracked": {"inuse_bytes": 0, "alloc_bytes": 0}, "stacks": []}' \
	> "$TMP/none.json"
"$MS" diff -j "$TMP/none.json" "$TMP/p15.pb.gz" > "$TMP/p15.diff.json"
check "pprof read back: in use, leak_here's 1 MiB (churn's 0: not listed); churn allocated 100 x 1000 B" \
	"$(jq -r '[.stacks[] | select(.process == "leakexit leakexit") | select(.frames[0] |
	test("^(leak_here|churn) ")) | "\(.frames[0] | split(" ")[0])=\(.new_bytes)"] | sort | join(",")' \
	"$TMP/p15.diff.json")|$("$MS" diff -j --metric alloc "$TMP/none.json" "$TMP/p15.pb.gz" |
	jq '[.stacks[] | select(.frames[0] | startswith("churn ")) | .new_bytes] | add')" \
	"leak_here=1048576|100000"
"$MS" run --pprof "$TMP/nodir/p.pb.gz" -- true 2> "$TMP/r17.err"
check "pprof: an unwritable file is memsight's error (1), said" \
	"$?|$(grep -c "cannot write $TMP/nodir/p.pb.gz" "$TMP/r17.err")" "1|1"
: "${GO:=$(sed -n 's/^GO_1_19 ?= *//p' Makefile)}"
if [ -x "$GO" ]; then
	export HOME=$TMP GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOTOOLCHAIN=local GOFLAGS=
	gpprof() { "$GO" tool pprof -symbolize=none "$@" 2> /dev/null; }
	# flat figure of one function in a -top listing
	flat() { awk -v f="$1" '$6 == f {print $1}'; }
	check "pprof: in use at exit, exactly 1 MiB under leak_here" \
		"$(gpprof -top -unit=B -sample_index=inuse_space "$TMP/p15.pb.gz" | flat leak_here)" \
		1048576B
	check "pprof: ... in 16 blocks" \
		"$(gpprof -top -sample_index=inuse_objects "$TMP/p15.pb.gz" | flat leak_here)" 16
	check "pprof: churn holds nothing at exit" \
		"$(gpprof -top -unit=B -sample_index=inuse_space "$TMP/p15.pb.gz" | flat churn)" ""
	check "pprof: churn allocated 100 x 1000 B" \
		"$(gpprof -top -unit=B -sample_index=alloc_space "$TMP/p15.pb.gz" | flat churn)|$(gpprof \
		-top -sample_index=alloc_objects "$TMP/p15.pb.gz" | flat churn)" "100000B|100"
	check "pprof: total in use is the report's" \
		"$(gpprof -top -unit=B -sample_index=inuse_space "$TMP/p15.pb.gz" |
		sed -n 's/.*Total samples = \([0-9]*\)B.*/\1/p')" 1048576
	"$MS" run --pprof "$TMP/p16.pb.gz" -- sh -c "$LE; true" 2> "$TMP/r16.err"
	check "pprof under sh: status" "$?" 0
	check "pprof under sh: the child's label holds its 1 MiB" \
		"$(gpprof -top -unit=B -sample_index=inuse_space -tagfocus 'process=leakexit leakexit' \
		"$TMP/p16.pb.gz" | flat leak_here)" 1048576B
	check "pprof under sh: the shell's label has its own allocations, none of leak_here" \
		"$(gpprof -top -unit=B -sample_index=alloc_space -tagfocus 'process=^sh ' \
		"$TMP/p16.pb.gz" | sed -n 's/.*Total samples = \([0-9]*\)B.*/\1/p' |
		awk '{print ($1 > 0)}')|$(gpprof -top -unit=B -sample_index=alloc_space \
		-tagfocus 'process=^sh ' "$TMP/p16.pb.gz" | flat leak_here)" "1|"
	check "pprof under sh: both processes labelled, each with its pid" \
		"$(gpprof -tags -sample_index=alloc_space "$TMP/p16.pb.gz" | awk '$1 == "pid:" {p = 1}
		p && /%\)/ {n++} $1 == "process:" {p = 0} END {print n + 0}')" 2
elif [ -z "${MS_KERNEL_EXPECT:-}" ]; then
	fail "no Go toolchain at '$GO' (make deps installs golang-go)"
fi

# 15. a process that a thread other than its leader ends (exit_group), after
# forking from that thread: the fork is followed (threads are traced) and the
# process is read at that thread's exit stop, its thread's leak exact
TE=$O/tests/targets/threadexit
"$MS" run --max-leaked 64M --report "$TMP/r18.json" -- "$TE" "$LE" > "$TMP/r18.out" 2> "$TMP/r18.err"
check "threadexit: its own status 4 (budget held)" "$?" 4
J=$TMP/r18.json
check "threadexit: the child its thread forked is followed" \
	"$(jq -r '[.processes[] | "\(.ppid == 0) \(.exit_status)"] | join(",")' "$J")" "true 4,false 0"
check "threadexit: the thread's leak, exact, under leak_in_thread" \
	"$(stack_field "$(profile "$J" 0)" leak_in_thread inuse_bytes)" 262144
check "threadexit: the child's leak, exact" \
	"$(stack_field "$(profile "$J" 1)" leak_here inuse_bytes)" 1048576
