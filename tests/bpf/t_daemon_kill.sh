#!/bin/bash
# Claim: a process attached through memsightd is listed by `ps`; kill -9 of
# memsightd leaves, within 1 s, none of its programs or links, and the
# processes it watched run on unaffected.
. "$(dirname "$0")/lib.sh"

start_daemon --metrics off || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/t.out"
"$MS" attach "$TPID" > /dev/null
check_cmd "ps lists the attached process" wait_watched "$TPID" yes
remember_progs "$DPID"
check "daemon holds programs" "$([ "$(our_progs)" -ge 4 ] && echo yes)" yes
kill9_and_watch "$DPID"
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
kill -USR2 "$TPID"
wait_for "$TMP/t.out" '^(verified|corrupted)' 10
check "kill -9: target works on, memory intact" "$(tail -1 "$TMP/t.out")" verified
# a new daemon starts over the stale socket left behind
start_daemon --metrics off
check "restart over a stale socket" "$("$MS" ping)" '{"ok":true}'
