#!/bin/bash
# Claims (issue #15, "escape sequences from comm reach the admin's terminal"):
# a target named ESC[31mESC[2J plus a newline (its comm set by prctl, its
# executable at a path made of the same bytes) is watched by memsightd and
# observed by `memsight top` and `explain`, and no text output carries a raw
# ESC (0x1b) or a newline of the name: `ps`, `top` (daemon and standalone),
# `dump --format folded|svg`, `explain`, /metrics, the daemon's log, the
# incident listing and text. The name shows as visible text
# ("\x1b[31m\x1b[2J\n") and the ps table keeps one line per process; JSON
# keeps the exact bytes (\u001b), so nothing is lost.
. "$(dirname "$0")/lib.sh"

NAME=$'\e[31m\e[2J\n'
SHOWN='\x1b[31m\x1b[2J\n'	# what a text view shows for NAME
mkdir "$TMP/$NAME"
cp "$O/tests/targets/leaky" "$TMP/$NAME/$NAME"
MPORT=$((20000 + $$ % 5000 + 23))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = 127.0.0.1:$MPORT
[incidents]
dir = $TMP/incidents
CONF
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
export MEMSIGHT_INCIDENTS=$TMP/incidents

LEAKY_COMM=$NAME start_target "$TMP/$NAME/$NAME" "$TMP/t.out"
T=$TPID
check_cmd "the target's comm is the hostile name, its newline included" \
	cmp -s /proc/$T/comm <(printf '%s\n' "$NAME")
"$MS" attach "$T" > /dev/null
check "watched" "$(wait_watched "$T" yes 10 && echo yes)" yes
kill -USR1 "$T"
wait_for "$TMP/t.out" '^done' 30
# a second, ordinary process: the table must still have one line per process
start_target "$O/tests/targets/leaky" "$TMP/plain.out"
PLAIN=$TPID
"$MS" attach "$PLAIN" > /dev/null
check "second process watched" "$(wait_watched "$PLAIN" yes 10 && echo yes)" yes

# no_raw FILE: neither an ESC nor the name's newline (a line ending in "[2J")
no_raw() {
	! grep -qaP '\x1b' "$1" && ! grep -qaP '\[2J$' "$1"
}

"$MS" ps > "$TMP/ps.txt"
check_cmd "ps: no raw ESC or newline" no_raw "$TMP/ps.txt"
# ps's rows: a header, a line per process (its PID first), and indented
# detail lines under a process (its cgroup, what is unavailable); a broken
# name would leave a line that is none of these
check "ps: a header and one line per process" \
	"$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' "$TMP/ps.txt" | wc -l)" 2
check "ps: no line that is neither a process nor a detail under one" \
	"$(awk 'NR > 1 && $1 !~ /^[0-9]+$/ && !/^ +[a-zA-Z]/' "$TMP/ps.txt" | wc -l)" 0
check "ps: the hostile process's line shows the name as text" \
	"$(awk -v p="$T" '$1 == p { print $2 }' "$TMP/ps.txt")" "$SHOWN"
# the COMM column is as wide as the escaped name: both rows (watched for the
# same reason, "pid") and the header are equally long
check "ps: columns after COMM line up (line lengths)" \
	"$(awk 'NR == 1 || $1 ~ /^[0-9]+$/ { print length($0) - (NR == 1 ? length("WATCHED BECAUSE") : length("pid")) }' \
	   "$TMP/ps.txt" | sort -u | wc -l)" 1
"$MS" ps -j > "$TMP/ps.json"
check "ps -j: JSON keeps the exact comm, escaped as JSON" \
	"$(jq --argjson p "$T" '.processes[] | select(.pid == $p) | .comm' "$TMP/ps.json")" \
	'"\u001b[31m\u001b[2J\n"'
check_cmd "ps -j: no raw ESC" bash -c "! grep -qaP '\x1b' '$TMP/ps.json'"

"$MS" top "$T" -n 3 > "$TMP/top.txt"
check_cmd "top (daemon): no raw ESC or newline" no_raw "$TMP/top.txt"
check "top (daemon): header line" "$(head -1 "$TMP/top.txt")" "PID $T  $SHOWN  $TMP/$SHOWN/$SHOWN"
check_cmd "top (daemon): leak_a named" grep -q 'leak_a+0x' "$TMP/top.txt"
for fmt in folded svg; do
	"$MS" dump "$T" --format "$fmt" -o "$TMP/dump.$fmt"
	check_cmd "dump --format $fmt: written, no raw ESC" \
		bash -c "[ -s '$TMP/dump.$fmt' ] && ! grep -qaP '\x1b' '$TMP/dump.$fmt'"
done
check "folded: one line per stack, each ends in a number" \
	"$(grep -cvE ' [0-9]+$' "$TMP/dump.folded")" 0
check_cmd "svg: the title shows the name as text" grep -qF "($SHOWN)" "$TMP/dump.svg"

# the metrics model is rebuilt every snapshot (1 s): wait for the target's series
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$MPORT/metrics" > "$TMP/metrics.txt"
	grep -q "^memsight_process_heap_inuse_bytes{pid=\"$T\"" "$TMP/metrics.txt" && break
	sleep 0.2
done
check_cmd "/metrics: no raw ESC" bash -c "! grep -qaP '\x1b' '$TMP/metrics.txt'"
check_cmd "/metrics: the comm label is the name as text, one line" \
	grep -qF "memsight_process_heap_inuse_bytes{pid=\"$T\",comm=\"\\\\x1b[31m\\\\x1b[2J\\n\"} " \
	"$TMP/metrics.txt"

# standalone: memsight attaches itself (its log line names the target too)
"$MS" top -p "$T" -d 1 -n 2 > "$TMP/standalone.txt" 2> "$TMP/standalone.err"
check_cmd "top -p (standalone): stdout has the header, no raw ESC or newline" \
	bash -c "grep -qF 'PID $T  $SHOWN' '$TMP/standalone.txt' && \
		 ! grep -qaP '\x1b' '$TMP/standalone.txt' '$TMP/standalone.err'"
check_cmd "top -p (standalone): its log names the target as text" \
	grep -qF "attached to PID $T ($SHOWN)" "$TMP/standalone.err"
"$MS" explain -p "$T" -d 1 > "$TMP/explain.txt" 2> "$TMP/explain.err"
check_cmd "explain: the header shows the name as text, no raw ESC or newline" \
	bash -c "grep -qF 'PID $T  $SHOWN' '$TMP/explain.txt' && \
		 ! grep -qaP '\x1b' '$TMP/explain.txt' '$TMP/explain.err'"

# an incident (a SIGKILLed watched process), listed and shown
kill -9 "$T"
check "killed process leaves ps" "$(wait_watched "$T" no 10 && echo yes)" yes
for _ in $(seq 200); do [ -n "$(ls "$TMP/incidents" 2>/dev/null)" ] && break; sleep 0.1; done
"$MS" incidents > "$TMP/inc-list.txt"
check_cmd "incidents: no raw ESC or newline" no_raw "$TMP/inc-list.txt"
check "incidents: a header and one line" "$(wc -l < "$TMP/inc-list.txt")" 2
check "incidents: the comm column shows the name as text" \
	"$(awk -v p="$T" '$4 == p { print $5 }' "$TMP/inc-list.txt")" "$SHOWN"
check "incidents: BYTES lines up (header and row equally long)" \
	"$(awk '{ print length($0) }' "$TMP/inc-list.txt" | sort -u | wc -l)" 1
ID=$("$MS" incidents -j | jq -r --argjson p "$T" '.[] | select(.pid == $p) | .id')
"$MS" incidents show "$ID" > "$TMP/inc.txt"
check_cmd "incident text: no raw ESC or newline" no_raw "$TMP/inc.txt"
check "incident text: first line" "$(head -1 "$TMP/inc.txt" | sed 's/ at .*//')" \
	"PID $T ($SHOWN) $TMP/$SHOWN/$SHOWN: killed by SIGKILL"

# the daemon's log: watching, no longer watching, the incident: names as text
check_cmd "daemon log: no raw ESC or newline" no_raw "$TMP/daemon.log"
# (watching, the incident, no longer watching: at least those three)
named=$(grep -cF "PID $T (" "$TMP/daemon.log")
check "daemon log: every line naming the target names it as text (at least 3, unnamed 0)" \
	"$((named >= 3)) $((named - $(grep -cF "PID $T ($SHOWN)" "$TMP/daemon.log")))" "1 0"
exit 0
