#!/bin/bash
# Claims (issue 19, part 3: access), against a live memsightd watching the
# bundled leaky, its listener configured with TLS (a self-signed certificate
# made here by openssl), a bearer token and basic auth from files, and
# /metrics left open:
# - every other path (/, /web/app.js, /api/ps, /debug/pprof/, heap?pid=N, an
#   unknown path) answers 401 with WWW-Authenticate (Bearer and Basic) to no
#   credentials, a wrong token or a wrong password, at once; 200 to the
#   token or a user's password; /metrics answers without credentials;
# - plain HTTP to the TLS port fails cleanly (no answer, no hang) and the
#   daemon serves on; a client that does not trust the certificate fails;
# - `go tool pprof` (the Makefile's Go) reads
#   https://user:pass@.../debug/pprof/heap?pid=N with -tls_ca: leak_a holds
#   4,096,000 B in use; without credentials it gets nothing;
# - the web view loads in headless Chromium with basic auth over that TLS
#   (the certificate trusted by its SPKI hash only): leaky's 4,211,536 B in
#   the table, leak_a in the flame graph, every API call answered 200;
#   without credentials the page does not load;
# - SIGHUP and `memsight reload` read the token file again: the old token is
#   refused, the new one taken; a token file made world-readable is refused
#   by the reload, the old credentials kept; the daemon's log never shows a
#   secret;
# - with nothing open, a real Prometheus scrapes /metrics over TLS with the
#   token's credentials_file; a job without it is down;
# - a token file or TLS key others may read, or a missing one, or a key that
#   is not the certificate's, stops the daemon at start with a message naming
#   the file or saying why.
. "$(dirname "$0")/lib.sh"

: "${GO:=$(sed -n 's/^GO_1_19 ?= *//p' Makefile)}"
[ -x "$GO" ] || { fail "no Go toolchain at '$GO' (make deps installs golang-go)"; exit 0; }
export HOME=$TMP GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOTOOLCHAIN=local GOFLAGS=
command -v openssl > /dev/null || { fail "no openssl (make deps installs it)"; exit 0; }

TOKEN=memsight-test-token-$RANDOM$RANDOM-abcdef
TOKEN2=memsight-test-token-rotated-$RANDOM$RANDOM
PASS='s3cret:with-colon'
(
	umask 077
	echo "$TOKEN" > "$TMP/token"
	printf '# who may look\nalice:%s\nbob:other-password\n' "$PASS" > "$TMP/users"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
		> "$TMP/openssl.log" 2>&1
)
chmod 644 "$TMP/cert.pem"
[ -s "$TMP/cert.pem" ] || { fail "openssl made no certificate: $(tail -2 "$TMP/openssl.log")"; exit 0; }

MPORT=$((20000 + $$ % 5000 + 37))
conf() {
	cat <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = 127.0.0.1:$MPORT
tls_cert = $TMP/cert.pem
tls_key = ${1:-$TMP/key.pem}
token_file = ${2:-$TMP/token}
users_file = $TMP/users
${3-open_paths = /metrics}
[incidents]
dir = $TMP/incidents
CONF
}
conf > "$TMP/memsightd.conf"
U=https://127.0.0.1:$MPORT
# status of a GET of U$1 with curl options $2...: "CODE" (body in $TMP/body)
get() { curl -s --max-time 5 --cacert "$TMP/cert.pem" -o "$TMP/body" -D "$TMP/hdr" \
	-w '%{http_code}' "${@:2}" "$U$1"; }

start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/l.out" || { fail "leaky did not start"; exit 0; }
LPID=$TPID
"$MS" attach "$LPID" > /dev/null
check "leaky watched" "$(wait_watched "$LPID" yes 10 && echo yes)" yes
kill -USR1 "$LPID"
wait_for "$TMP/l.out" '^done' 30 || { fail "leaky did not leak"; exit 0; }
sleep 1.5	# a snapshot: the pprof index and the page's table

# ---- curl: who gets what ------------------------------------------------
for p in / /web/app.js /api/ps "/api/top?pid=$LPID" /debug/pprof/ "/debug/pprof/heap?pid=$LPID" /nowhere; do
	got=$(get "$p")
	got="$got $(grep -ic '^www-authenticate: bearer realm="memsightd"' "$TMP/hdr")"
	got="$got$(grep -ic '^www-authenticate: basic realm="memsightd"' "$TMP/hdr")"
	got="$got/$(get "$p" -H "Authorization: Bearer $TOKEN-x")"
	got="$got/$(get "$p" -H "Authorization: Bearer ${TOKEN%?}")"
	got="$got/$(get "$p" -u "alice:${PASS}x")/$(get "$p" -u "bob:$PASS")"
	check "$p: 401 with both challenges to none, wrong token (longer, shorter), wrong password" \
		"$got" "401 11/401/401/401/401"
done
for p in / /web/app.js /api/ps /debug/pprof/ "/debug/pprof/heap?pid=$LPID"; do
	check "$p: 200 to the token, to alice's and bob's passwords" \
		"$(get "$p" -H "Authorization: Bearer $TOKEN")/$(get "$p" -u "alice:$PASS")/$(get "$p" -u bob:other-password)" \
		200/200/200
done
check "/nowhere with the token: 404 (credentials first, then the route)" \
	"$(get /nowhere -H "Authorization: Bearer $TOKEN")" 404
check "/metrics is open: 200 without credentials, its series there" \
	"$(get /metrics)/$(grep -c "^memsight_process_heap_inuse_bytes{.*pid=\"$LPID\"" "$TMP/body")" 200/1
check "api/ps with the token: leaky holds 4,211,536 B" \
	"$(get /api/ps -H "Authorization: Bearer $TOKEN" >/dev/null; jq --argjson p "$LPID" '.processes[] | select(.pid == $p) | .heap_inuse_bytes' "$TMP/body")" \
	4211536
t0=$(date +%s%N)
get /api/ps > /dev/null
check "a 401 comes at once (under 1 s)" "$((($(date +%s%N) - t0) / 1000000000))" 0

# ---- TLS ------------------------------------------------------------------
t0=$(date +%s%N)
curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$MPORT/metrics"
rc=$?
check "plain HTTP to the TLS port: no answer (curl 52 or 56), not a timeout (28)" \
	"$([ "$rc" = 52 ] || [ "$rc" = 56 ] && echo "refused")" refused
check "... within the connection deadline (5 s)" \
	"$([ $((($(date +%s%N) - t0) / 1000000)) -lt 6000 ] && echo yes)" yes
curl -s --max-time 5 -o /dev/null "$U/metrics"
check "a client that does not trust the certificate: curl 60" "$?" 60
check "served on after both" "$(get /metrics)" 200

# ---- go tool pprof over HTTPS with basic auth --------------------------
# `go tool pprof` fetches URLs with its own client (cmd/pprof/pprof.go), which
# ignores -tls_ca (that flag is the standalone pprof's, and the symbolizer's
# here): it trusts the system's roots, which Go reads from SSL_CERT_FILE.
pprof() { "$GO" tool pprof -symbolize=none -top -tls_ca="$TMP/cert.pem" "$@" 2>&1; }
HEAP="127.0.0.1:$MPORT/debug/pprof/heap?pid=$LPID"
pprof "https://alice:$PASS@$HEAP" > "$TMP/pprof-noca.out"
check "go tool pprof with only -tls_ca: the certificate not trusted (Go's quirk, README says)" \
	"$(grep -c 'x509: certificate signed by unknown authority' "$TMP/pprof-noca.out")" 1
SSL_CERT_FILE=$TMP/cert.pem pprof -sample_index=inuse_space "https://alice:$PASS@$HEAP" \
	> "$TMP/pprof.out"
check "go tool pprof https://alice:...@/debug/pprof/heap (SSL_CERT_FILE, -tls_ca): leak_a 4000kB in use" \
	"$(awk '$NF == "leak_a" {print $1}' "$TMP/pprof.out")" 4000kB
SSL_CERT_FILE=$TMP/cert.pem pprof "https://$HEAP" > "$TMP/pprof-none.out"
check "... without credentials: no profile, the 401 said" \
	"$(grep -c leak_a "$TMP/pprof-none.out")/$(grep -c '401 Unauthorized' "$TMP/pprof-none.out")" 0/1

# ---- the web view in Chromium with basic auth ---------------------------
if need_browser; then
	SPKI=$(openssl x509 -in "$TMP/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	       openssl dgst -sha256 -binary | base64)
	NODE_PATH=$PUP/node_modules CHROMIUM=$CHROMIUM timeout 90 node tests/bpf/web_auth_check.js \
		"$U" "$LPID" alice "$PASS" "$SPKI" "$TMP" > "$TMP/web.json" 2> "$TMP/web.err"
	if jq -e . "$TMP/web.json" > /dev/null 2>&1; then
		r() { jq -r "$1" "$TMP/web.json"; }
		check "browser: ran to its end" "$(r '.fatal // "ok"')" ok
		check "browser: without credentials the page does not load (the challenge unanswered)" \
			"$(r .without_credentials)" "Error: net::ERR_INVALID_AUTH_CREDENTIALS"
		check "browser: with alice's password, over TLS" "$(r .with_credentials)/$(r .tls)" 200/TLS\ 1.3
		check "browser: the table shows leaky's bytes in use" "$(r .inuse_text)" "4,211,536 B"
		check "browser: the flame graph's leak_a holds 4,096,000 B" "$(r .leak_a_value)" 4096000
		check "browser: every API call of the page answered 200" \
			"$(r '[.api_status[]] | (length > 0) and all(. == 200)')" true
		check "browser: no script error" "$(r '.errors | length')" 0
		check "screenshot web-auth.png saved" "$([ -s "$TMP/web-auth.png" ] && echo yes)" yes
		[ -n "$WEB_SHOTS" ] && cp "$TMP/web-auth.png" "$WEB_SHOTS"/
	else
		fail "the browser run said nothing: $(tail -5 "$TMP/web.err")"
	fi
fi

# ---- a rotated token, read again on SIGHUP ------------------------------
echo "$TOKEN2" > "$TMP/token"
kill -HUP "$DPID"
wait_for "$TMP/daemon.log" 'HTTP credentials read again' 10 > /dev/null
check "after SIGHUP: the old token refused, the new one taken, passwords still" \
	"$(get /api/ps -H "Authorization: Bearer $TOKEN")/$(get /api/ps -H "Authorization: Bearer $TOKEN2")/$(get /api/ps -u "alice:$PASS")" \
	401/200/200
echo "$TOKEN" > "$TMP/token"
check "memsight reload reads them again too: the first token back" \
	"$("$MS" reload > /dev/null && get /api/ps -H "Authorization: Bearer $TOKEN")/$(get /api/ps -H "Authorization: Bearer $TOKEN2")" \
	200/401
echo "$TOKEN2" > "$TMP/token"
"$MS" reload > /dev/null
chmod 644 "$TMP/token"
kill -HUP "$DPID"
wait_for "$TMP/daemon.log" 'old HTTP credentials kept' 10 > /dev/null
check "a reload that finds the token file readable by all keeps the old credentials" \
	"$(get /api/ps -H "Authorization: Bearer $TOKEN2")/$(grep -c "reload failed: .*$TMP/token: .*mode is 0644" "$TMP/daemon.log")" \
	200/1
check_cmd "daemon alive" kill -0 "$DPID"
check "no secret in the daemon's log" \
	"$(grep -cE -- "$TOKEN|$TOKEN2|${PASS%%:*}|other-password|PRIVATE KEY" "$TMP/daemon.log")" 0
kill -TERM "$DPID"
wait "$DPID"

# ---- refused at start -----------------------------------------------------
# start_bad CONF: the daemon's exit status and its log (it must not start)
start_bad() {
	timeout 30 "$O/memsightd" --socket "$TMP/bad.sock" --config "$1" > "$TMP/bad.log" 2>&1
	echo $?
}
conf "" "$TMP/token" > "$TMP/bad1.conf"	# the token file is 0644 from above
check "a token file others may read: the daemon stops at start, naming it and its mode" \
	"$(start_bad "$TMP/bad1.conf")/$(grep -c "$TMP/token: holds a secret but its mode is 0644" "$TMP/bad.log")" \
	1/1
chmod 600 "$TMP/token"
chmod 640 "$TMP/key.pem"
conf "" "" "" > "$TMP/ok.conf"	# nothing open
start_daemon --config "$TMP/ok.conf" || fail "daemon did not start with a key of mode 0640"
check "a key readable by its group only is taken; /metrics now needs credentials" \
	"$(get /metrics -H "Authorization: Bearer $TOKEN2")/$(get /metrics)" 200/401

# ---- Prometheus scrapes with the token, as deploy/prometheus says ---------
PPORT=$((25000 + $$ % 5000 + 37))
cp "$TMP/token" "$TMP/prom-token"
cat > "$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: with_token
    scheme: https
    authorization:
      type: Bearer
      credentials_file: $TMP/prom-token
    tls_config:
      ca_file: $TMP/cert.pem
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
  - job_name: without
    scheme: https
    tls_config:
      ca_file: $TMP/cert.pem
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
YML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$PPORT" > "$TMP/prom.log" 2>&1 &
PIDS_TO_KILL+=("$!")
ups=""
for ((i = 0; i < 150; i++)); do
	ups=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=up" 2>/dev/null |
	      jq -r '[.data.result[] | "\(.metric.job)=\(.value[1])"] | sort | join(",")' 2>/dev/null)
	[ "$ups" = "with_token=1,without=0" ] && break
	sleep 0.2
done
check "a real Prometheus scrapes /metrics over TLS with the token file; without it, up is 0" \
	"$ups" "with_token=1,without=0"
check "... and stores memsightd's series from the job with the token only" \
	"$(curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=count by (job) ({__name__=~"memsight_.+"}) > 0' |
	   jq -r '[.data.result[].metric.job] | join(",")')" with_token
kill -TERM "$DPID"
wait "$DPID"
chmod 604 "$TMP/key.pem"
conf > "$TMP/bad2.conf"
check "a TLS key others may read: stops at start, naming it" \
	"$(start_bad "$TMP/bad2.conf")/$(grep -c "$TMP/key.pem: holds a secret but its mode is 0604" "$TMP/bad.log")" \
	1/1
conf "$TMP/key.pem" "$TMP/no-such-token" > "$TMP/bad3.conf"
chmod 600 "$TMP/key.pem"
check "a missing token file: stops at start, naming it" \
	"$(start_bad "$TMP/bad3.conf")/$(grep -c "$TMP/no-such-token: cannot open: No such file" "$TMP/bad.log")" \
	1/1
(umask 077; openssl genrsa -out "$TMP/other.pem" 2048 > /dev/null 2>&1)
conf "$TMP/other.pem" > "$TMP/bad4.conf"
check "a key that is not the certificate's: stops at start, GnuTLS's reason said" \
	"$(start_bad "$TMP/bad4.conf")/$(grep -c "cannot listen on 127.0.0.1:$MPORT: GnuTLS failed to setup x509 certificate/key: The certificate and the given key do not match" "$TMP/bad.log")" \
	1/1
check "no secret in those messages either" "$(grep -cE -- "$TOKEN2|PRIVATE KEY" "$TMP/bad.log")" 0
exit 0
