#!/bin/bash
# Claims:
# - a rule (`memsight attach --comm leaky`) makes memsightd pick up a leaky
#   process started after the daemon, at its exec; its leak is counted
#   exactly; its exit removes it from `ps` and frees its map entries;
# - rules from the config file apply to processes already running, and
#   SIGHUP reloads them;
# - a watched process that execs a new program is followed into it, with
#   the new program's symbols and none of the old image's allocations;
# - `top PID --growth` ranks the stack that keeps leaking first.
. "$(dirname "$0")/lib.sh"

cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
growth_window_s = 60
[metrics]
listen = off
[rules]
exclude comm=sleep
CONF
start_target "$O/tests/targets/leaky" "$TMP/early.out"
EARLY=$TPID
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
check "no rule yet: early process not watched" "$(watched "$EARLY" && echo yes || echo no)" no

"$MS" attach --comm 'leak*' > "$TMP/attach.out"; rc=$?
check "attach --comm: exit status" "$rc" 0
check "attach --comm: running leaky picked up at once" "$(wait_watched "$EARLY" yes 5 && echo yes)" yes
check "rules lists the new rule first" "$("$MS" rules -j | jq -r '.rules[0]')" 'include comm=leak*'

# a process started after the rule: picked up at exec
start_target "$O/tests/targets/leaky" "$TMP/late.out"
LATE=$TPID
check "new leaky process picked up" "$(wait_watched "$LATE" yes 10 && echo yes)" yes
kill -USR1 "$LATE"
wait_for "$TMP/late.out" '^done' 30
ms_json "$LATE"
check "new process: leak_a exact" "$(stack_field "$TMP/$LATE.json" leak_a inuse_bytes)" 4096000
check "new process: total exact" "$(jq .tracked.inuse_bytes "$TMP/$LATE.json")" 4211536
check "new process: reason is the rule" \
	"$("$MS" ps -j | jq -r --argjson p "$LATE" '.processes[] | select(.pid == $p) | .reason')" 'include comm=leak*'

# growth: leak 3 more rounds a second apart; leak_a is the top grower
for r in 2 3 4; do
	kill -USR1 "$LATE"
	wait_for_n "$TMP/late.out" '^done' "$r" 30
	sleep 1.2
done
"$MS" top "$LATE" --growth -n 1 -j > "$TMP/growth.json"
check "growth: leak_a ranks first" "$(jq -r '.stacks[0].frames[0].func' "$TMP/growth.json")" leak_a
check "growth: leak_a grows (B/min > 0)" "$(jq '.stacks[0].growth_bytes_per_min > 0' "$TMP/growth.json")" true
"$MS" top "$LATE" --growth -n 2 > "$TMP/growth.txt"
check_cmd "growth: text view says stacks are ranked by growth" grep -q 'stacks ranked by growth' "$TMP/growth.txt"

# exit: gone from ps, its entries freed
before=$("$MS" stats -j | jq .maps.live)
kill "$LATE"
check "exit: removed from ps" "$(wait_watched "$LATE" no 5 && echo yes)" yes
after=$("$MS" stats -j | jq .maps.live)
# 4 rounds of 1500 kept + leak_c's one buffer; the early leaky process holds none
check "exit: live entries before" "$before" 6001
check "exit: its live entries freed" "$after" 0

# exec: a watched process becomes a different program
"$O/tests/targets/execer" "$O/tests/targets/leaky" > "$TMP/exec.out" 2>&1 &
EPID=$!
PIDS_TO_KILL+=("$EPID")
wait_for "$TMP/exec.out" '^ready' 10
"$MS" attach "$EPID" > /dev/null
kill -USR1 "$EPID"
wait_for_n "$TMP/exec.out" '^ready' 2 10
check "exec: still watched after exec" "$(wait_watched "$EPID" yes 10 && echo yes)" yes
check "exec: comm is the new program's" \
	"$("$MS" ps -j | jq -r --argjson p "$EPID" '.processes[] | select(.pid == $p) | .comm')" leaky
kill -USR1 "$EPID"
wait_for "$TMP/exec.out" '^done' 30
ms_json "$EPID"
check "exec: new image's leak_a exact" "$(stack_field "$TMP/$EPID.json" leak_a inuse_bytes)" 4096000
check "exec: none of the old image's allocations" "$(jq .tracked.inuse_bytes "$TMP/$EPID.json")" 4211536

# rules from the config file, and SIGHUP reload
printf 'include comm=leaky\n' >> "$TMP/memsightd.conf"
"$MS" detach --comm 'leak*' > /dev/null
check "detach --comm: rule removed, its processes detached" "$(watched "$EARLY" && echo yes || echo no)" no
kill -HUP "$DPID"
check "SIGHUP: config rule applies to a running process" "$(wait_watched "$EARLY" yes 5 && echo yes)" yes
check "SIGHUP: rules reloaded" "$("$MS" rules -j | jq -c '.rules')" '["exclude comm=sleep","include comm=leaky"]'
printf 'bogus line\n' >> "$TMP/memsightd.conf"
"$MS" reload > /dev/null 2> "$TMP/reload.err"; rc=$?
check "reload of a broken config fails" "$rc" 1
cat "$TMP/reload.err"
check_cmd "reload of a broken config names the line" grep -q 'memsightd.conf:9:' "$TMP/reload.err"
check "reload failure keeps the old rules" "$("$MS" rules -j | jq '.rules | length')" 2
