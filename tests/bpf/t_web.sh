#!/bin/bash
# Claims (issue 19, part 2: the web view), against a live memsightd watching
# the bundled leaky twice, once under the comm `<script>alert(1)</script>`,
# and goservice with 30 goroutines leaked:
# - / is the page, with a strict Content-Security-Policy and no inline script;
#   its script and style come from the binary;
# - /api/ps, /api/top?pid=N, /api/history?pid=N, /api/explain?pid=N and
#   /api/incidents are the daemon's JSON:
#   leaky holds exactly 4,211,536 B in use after one round, leak_a 4,096,000;
#   /api/explain's parts add up to the RSS, its tracked malloc is the
#   stacks'; /api/incidents lists the recorder's (empty) store; bad requests
#   get a 4xx and a reason;
# - in headless Chromium (Debian's chromium, driven by puppeteer-core, pinned
#   in lib.sh and installed into $O/webtest): the table shows 4,211,536 B for
#   leaky; the flame graph's leak_a frame is as wide, as a share of the graph,
#   as its bytes are of all; clicking it zooms (it spans the graph, leak_b is
#   gone); search marks leak_a/b/c; the timeline draws its points; the
#   markup comm is shown as text and no dialog opens, no script error;
#   goservice's goroutine sites show main.leakHandler with the count its
#   /stats says it leaked; explain and incidents show; a daemon restart is said, and the page
#   comes back by itself.
# Screenshots in $TMP; WEB_SHOTS=DIR keeps a copy of them.
. "$(dirname "$0")/lib.sh"

code() { curl -s -o "$TMP/body" -w '%{http_code}' "$@"; }

MPORT=$((20000 + $$ % 5000 + 31))
printf '[daemon]\nsnapshot_interval_s = 1\n[metrics]\nlisten = 127.0.0.1:%s\n[incidents]\ndir = %s\n' \
	"$MPORT" "$TMP/incidents" > "$TMP/memsightd.conf"
U=http://127.0.0.1:$MPORT
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/l.out" || { fail "leaky did not start"; exit 0; }
LPID=$TPID
LEAKY_COMM='<script>alert(1)</script>' start_target "$O/tests/targets/leaky" "$TMP/x.out" ||
	{ fail "leaky (markup comm) did not start"; exit 0; }
XPID=$TPID
GPORT=$((25000 + $$ % 5000 + 31))
start_target "$O/tests/targets/goservice" "$TMP/g.out" "127.0.0.1:$GPORT" ||
	{ fail "goservice did not start"; exit 0; }
GPID=$TPID
"$MS" attach "$LPID" > /dev/null
"$MS" attach "$XPID" > /dev/null
"$MS" attach "$GPID" > /dev/null
check "leaky watched" "$(wait_watched "$LPID" yes 10 && echo yes)" yes
kill -USR1 "$LPID" "$XPID"
wait_for "$TMP/l.out" '^done' 30 || { fail "leaky did not leak"; exit 0; }
wait_for "$TMP/x.out" '^done' 30 || { fail "leaky (markup comm) did not leak"; exit 0; }
check "goservice watched" "$(wait_watched "$GPID" yes 10 && echo yes)" yes
curl -sf "http://127.0.0.1:$GPORT/leak?r=[1-30]" > /dev/null
GLEAKED=$(curl -sf "http://127.0.0.1:$GPORT/stats" | jq .leaked)
check "goservice leaked its goroutines" "$GLEAKED" 30
sleep 1.5	# a snapshot or two: history points

# ---- the page and the API, with curl -----------------------------------
curl -s -D "$TMP/hdr" -o "$TMP/page" "$U/"
check "page: CSP allows only its own script" \
	"$(grep -ic "^content-security-policy: default-src 'none'; script-src 'self';" "$TMP/hdr")" 1
check "page: no inline script (each <script> has a src)" \
	"$(grep -o '<script[^>]*>' "$TMP/page" | grep -vc ' src=')" 0
check "page: its script is served" "$(code "$U/web/app.js")" 200
check "page: the served script is web/app.js" "$(cmp -s "$TMP/body" web/app.js && echo same)" same
check "api/ps: leaky holds 4,211,536 B in use" \
	"$(curl -s "$U/api/ps" | jq --argjson p "$LPID" '.processes[] | select(.pid == $p) | .heap_inuse_bytes')" \
	4211536
curl -s "$U/api/top?pid=$LPID" > "$TMP/top.json"
check "api/top: leak_a holds 4,096,000 B in use" "$(stack_field "$TMP/top.json" leak_a inuse_bytes)" 4096000
check "api/history: points of RSS (anon, file, shmem) and heap" \
	"$(curl -s "$U/api/history?pid=$LPID" | jq '[.rss_history[] | select(.rss_bytes > 0 and .anon_bytes > 0 and .file_bytes > 0 and .shmem_bytes >= 0 and .heap_inuse_bytes == 4211536)] | length > 0')" true
check "api/history: goservice's goroutines over time" \
	"$(curl -s "$U/api/history?pid=$GPID" | jq '[.rss_history[] | select(.goroutines >= 1)] | length > 0')" true
curl -s "$U/api/explain?pid=$LPID" > "$TMP/explain.json"
check "api/explain: tracked malloc in use is the stacks' (4,211,536 B)" \
	"$(jq .bytes.malloc_inuse "$TMP/explain.json")/$(jq '[.stacks[] | select(.kind != "mmap") | .inuse_bytes] | add' "$TMP/top.json")" \
	4211536/4211536
check "api/explain: the parts add up to the RSS" \
	"$(jq '([.bytes[]] | add) == .rss_bytes and .rss_bytes > 0' "$TMP/explain.json")" true
check "api/incidents: the recorder is on, nothing recorded" \
	"$(curl -s "$U/api/incidents" | jq -c '[.flight_recorder, .incidents]')" '["on",[]]'
check "api/top without pid: 400" "$(code "$U/api/top")" 400
check "api/top?pid=abc: 400" "$(code "$U/api/top?pid=abc")" 400
check "api/history of a process not watched: 404 with a reason" \
	"$(code "$U/api/history?pid=1")/$(jq -r .code "$TMP/body")" 404/not_watched
check "api/top by POST: 405" "$(code -X POST "$U/api/top?pid=$LPID")" 405
check "api/ps still answered" "$(code "$U/api/ps")" 200

# ---- in a real browser -------------------------------------------------
need_browser || exit 0
NODE_PATH=$PUP/node_modules CHROMIUM=$CHROMIUM timeout 90 \
	node tests/bpf/web_check.js "$U" "$LPID" "$XPID" "$TMP" "$GPID" > "$TMP/web.json" 2> "$TMP/web.err" &
NPID=$!
PIDS_TO_KILL+=("$NPID")
# the restart the page must survive: stopped until the page says so, then
# started on the same port with leaky watched again
browser_made() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -e "$TMP/$1" ] && return 0
		kill -0 "$NPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
if browser_made restart-now; then
	kill -TERM "$DPID"
	wait "$DPID"
	browser_made seen-gone
	start_daemon --config "$TMP/memsightd.conf" || fail "daemon did not start again"
	"$MS" attach "$LPID" > /dev/null
fi
wait "$NPID"
jq -e . "$TMP/web.json" > /dev/null 2>&1 ||
	{ fail "the browser run said nothing: $(tail -5 "$TMP/web.err")"; exit 0; }
r() { jq -r "$1" "$TMP/web.json"; }
check "browser: ran to its end" "$(r '.fatal // "ok"')" ok
[ "$(r '.fatal // ""')" ] && echo "the page said: $(r '.notes | join(" | ")')" >&2
check "browser: no script error" "$(r '.page_errors | length')" 0
check "browser: while the daemon restarts, only refused connections" \
	"$(r '[.errors[] | select(test("ERR_CONNECTION_REFUSED") | not)] | length')" 0
check "browser: the table shows leaky's bytes in use" "$(r .inuse_text)" "4,211,536 B"
check "browser: leaky's comm" "$(r .comm_text)" leaky
check "browser: the markup comm is text" "$(r .xss_comm_text)" "<script>alert(1"
check "browser: ... in the process title too" "$(r .xss_title | grep -c '^PID [0-9]* <script>alert(1 (')" 1
check "browser: no script element from a comm" "$(r .scripts_in_table)/$(r .scripts_total)" 0/1
check "browser: no dialog opened" "$(r '.dialogs | length')" 0
check "browser: the graph's total is the stacks' bytes in use" "$(r .root_value)" \
	"$(jq '[.stacks[].inuse_bytes] | add' "$TMP/top.json")"
check "browser: leak_a's frame holds 4,096,000 B" "$(r .leak_a_value)" 4096000
check "browser: leak_a's width is its share of the graph (within 0.1%)" \
	"$(r '(.leak_a_width / .root_width - .leak_a_value / .root_value) | fabs < 0.001')" true
check "browser: after a click leak_a spans the graph" "$(r '.zoom_leak_a_width == .flame_width')" true
check "browser: ... and its siblings are gone" "$(r .zoom_leak_b_frames)" 0
check "browser: ... the graph says so" "$(r '.zoom_info | test("zoomed on leak_a: 4,096,000 B")')" true
check "browser: search marks leak_a, leak_b, leak_c" "$(r '.search_matches | join(",")')" \
	leak_a,leak_b,leak_c
check "browser: the timeline draws RSS, anon, file, shmem and heap points" \
	"$(r '.timeline_series | join(",")')/$(r '.timeline_points >= 5')" \
	rss_bytes,anon_bytes,file_bytes,shmem_bytes,heap_inuse_bytes/true
check "browser: goservice's goroutine timeline draws its points" "$(r '.go_timeline_points >= 1')" true
check "browser: ... and leaky, not Go, has no goroutine chart" "$(r .go_timeline_shown)" false
check "browser: goservice's goroutines at main.leakHandler's go statement: what /stats says leaked" \
	"$(r '[.go_sites[] | select(.site | startswith("main.leakHandler")) | .count] | add')" "$GLEAKED"
check "browser: goservice's goroutines in the table: the sites' sum" \
	"$(r '.go_goroutines_text')" "$(r '[.go_sites[].count] | add')"
check "browser: explain shows tracked malloc in use" "$(r .explain_malloc_text)" "4,211,536 B"
check "browser: incidents: none recorded" "$(r .incidents_note)" "no incident recorded"
check "browser: a daemon gone is said" "$(r '.restart_status | test("^memsightd unreachable")')" true
check "browser: ... and once back, the page shows leaky again by itself" \
	"$(r .after_restart_listed)" true
for s in web web-zoom web-xss web-go; do
	check "screenshot $s.png saved" "$([ -s "$TMP/$s.png" ] && echo yes)" yes
done
[ -n "$WEB_DEBUG" ] && cat "$TMP/web.json"
[ -n "$WEB_SHOTS" ] && cp "$TMP"/web*.png "$WEB_SHOTS"/
exit 0
