#!/bin/bash
# Claims (issue "Hostile conditions"): the metrics HTTP thread runs with no
# capabilities while the daemon thread keeps its own; slow clients holding
# half-sent requests and an oversized header neither stop scrapes from
# elsewhere nor hurt the daemon.
. "$(dirname "$0")/lib.sh"

MPORT=$((20000 + $$ % 5000 + 11))
start_daemon --metrics "127.0.0.1:$MPORT" || { fail "daemon did not start"; exit 0; }
curl -sf "http://127.0.0.1:$MPORT/metrics" > /dev/null
http_caps=$(for t in /proc/"$DPID"/task/*; do [ "$(cat "$t/comm")" = MHD-single ] && awk '/^CapEff/ {print $2}' "$t/status"; done)
main_caps=$(awk '/^CapEff/ {print $2}' /proc/"$DPID"/task/"$DPID"/status)
check "HTTP thread has no capabilities" "$http_caps" 0000000000000000
check "daemon thread keeps its own" "$([ "$main_caps" != 0000000000000000 ] && echo yes)" yes

cat > "$TMP/slow.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = []
for i in range(20):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")   # never finished
        held.append(s)
    except OSError:
        pass
big = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    big.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
    r = big.recv(100)
    print("big:", r.split(b"\r\n")[0].decode() if r else "closed")
except OSError as e:
    print("big: closed", e.__class__.__name__)
time.sleep(float(sys.argv[2]))
print("held", len(held))
PY
python3 "$TMP/slow.py" "$MPORT" 4 > "$TMP/slow.out" 2>&1 &
SLOW=$!
sleep 1
# a scrape from another loopback address while those hang on
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 --max-time 5 "http://127.0.0.1:$MPORT/metrics")
check "scrape served while slow clients hang on" "$code" 200
wait "$SLOW"
check_cmd "oversized header refused or cut off" grep -qE '^big: (HTTP/1.1 4[0-9][0-9]|closed)' "$TMP/slow.out"
check_cmd "daemon alive" kill -0 "$DPID"
check "scrape after the attack" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")" 200
