#!/bin/bash
# Claims (issue 15, "/metrics slowloris"): an unprivileged user trickling
# header bytes into many connections to memsightd's /metrics cannot keep them:
# each is cut at the server's deadline (5 s for the request to arrive and the
# response to go out; a byte does not extend it), a scrape from another address
# is answered at once, one from the attacker's own address once its connections
# are cut; and a real Prometheus keeps scraping, every scrape up, while an
# attacker holding 240 connections from four addresses reconnects all the time.
. "$(dirname "$0")/lib.sh"

MPORT=$((20000 + $$ % 5000 + 17)); PPORT=$((MPORT + 1))
chmod 755 "$TMP"	# nobody reads the attacker's script
start_daemon --metrics "127.0.0.1:$MPORT" || { fail "daemon did not start"; exit 0; }
# the deadline counts from the connect: right while a connection carries one
# request (libmicrohttpd closes it after the response)
check_cmd "a connection carries one request (Connection: close)" \
	bash -c "curl -sf -D - -o /dev/null 'http://127.0.0.1:$MPORT/metrics' | grep -qi '^Connection: close'"
dl_caps=$(for t in /proc/"$DPID"/task/*; do [ "$(cat "$t/comm")" = http-deadline ] && awk '/^CapEff/ {print $2}' "$t/status"; done)
check "the deadline thread has no capabilities" "$dl_caps" 0000000000000000
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# slow.py PORT SECONDS RECONNECT IP:N...: hold N connections from each source
# address, send one header byte a second on each (never the end of the
# headers), note when the server closes each; with RECONNECT, replace a closed
# one at the next tick. Prints how many were opened and cut, and the shortest
# and longest life of a cut one.
cat > "$TMP/slow.py" <<'PY'
import selectors, socket, sys, time
port, secs, reconnect = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
want = [(a.split(":")[0], int(a.split(":")[1])) for a in sys.argv[4:]]
hdr = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 4000
sel = selectors.DefaultSelector()
opened = cut = 0
lives = []
def open_one(ip):
    global opened
    s = socket.socket()
    t0 = time.monotonic()	# before the server can start its clock
    try:
        s.bind((ip, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        todo.append(ip)
        return
    s.setblocking(False)
    opened += 1
    sel.register(s, selectors.EVENT_READ, [ip, t0, 0])
def closed(key):
    global cut
    ip, t0, _ = key.data
    sel.unregister(key.fileobj)
    key.fileobj.close()
    cut += 1
    lives.append(time.monotonic() - t0)
    if reconnect:
        todo.append(ip)
todo = [ip for ip, n in want for _ in range(n)]
end = time.monotonic() + secs
next_tick = time.monotonic()
while time.monotonic() < end:
    if time.monotonic() >= next_tick:
        next_tick += 1
        again, todo = todo, []
        for ip in again:
            open_one(ip)
        for key in list(sel.get_map().values()):
            d = key.data
            try:
                key.fileobj.send(hdr[d[2]:d[2] + 1])
                d[2] += 1
            except OSError:
                closed(key)
    for key, _ in sel.select(max(0.0, min(next_tick, end) - time.monotonic())):
        try:
            if key.fileobj.recv(4096):
                continue	# an error page: its end is the close
        except BlockingIOError:
            continue
        except OSError:
            pass
        closed(key)
print("opened", opened)
print("cut", cut)
print("open", len(sel.get_map()))
print("min %.2f" % min(lives or [0]))
print("max %.2f" % max(lives or [0]))
PY
stat_of() { sed -n "s/^$1 //p" "$2"; }
# ge A B: A >= B, both decimal numbers (anything else is false)
ge() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?$ && $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] &&
		awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'
}

# 1: 128 slow connections, all of 127.0.0.1's share (64) and as many from
# 127.0.0.2, held for 14 s
as_nobody /usr/bin/python3 "$TMP/slow.py" "$MPORT" 14 0 127.0.0.1:64 127.0.0.2:64 > "$TMP/s1.out" 2>&1 &
SLOW=$!
sleep 2
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 --max-time 5 "http://127.0.0.1:$MPORT/metrics")
check "slowloris: scrape from another address answered within 5 s" "$code" 200
# from the attacker's own address: refused while its 64 hang on, answered
# once the deadline has cut them (they are 2 s old now: 3 s, a retry a second)
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --retry 30 --retry-all-errors --retry-delay 1 \
	--max-time 15 "http://127.0.0.1:$MPORT/metrics" 2> /dev/null)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "scrape from 127.0.0.1 answered after $ms ms"
check "slowloris: scrape from the attacker's address answered" "$code" 200
check_cmd "slowloris: ... within 10 s of its first try ($ms ms)" [ "$ms" -le 10000 ]
wait "$SLOW"
cat "$TMP/s1.out"
check "slowloris: all 128 connected" "$(stat_of opened "$TMP/s1.out")" 128
check "slowloris: the server cut every one" "$(stat_of cut "$TMP/s1.out")/$(stat_of open "$TMP/s1.out") open" "128/0 open"
lo=$(stat_of min "$TMP/s1.out") hi=$(stat_of max "$TMP/s1.out")
check_cmd "slowloris: none cut before the 5 s deadline (shortest $lo s)" ge "$lo" 4.9
check_cmd "slowloris: each cut by 10 s (longest $hi s)" ge 10 "$hi"

# 2: a real Prometheus scraping every second, started while an attacker holds
# 240 connections (60 from each of four addresses) and reconnects each one cut;
# every scrape is a new connection (one request a connection)
as_nobody /usr/bin/python3 "$TMP/slow.py" "$MPORT" 25 1 127.0.0.4:60 127.0.0.5:60 127.0.0.6:60 127.0.0.7:60 \
	> "$TMP/s2.out" 2>&1 &
SLOW=$!
sleep 2
pstart=$(date +%s)
start_prometheus "$MPORT" "$PPORT"
wait "$SLOW"
pend=$(date +%s)
cat "$TMP/s2.out"
check_cmd "Prometheus: the attacker connected 240 and was cut and reconnected" \
	ge "$(stat_of cut "$TMP/s2.out")" 240
prom() {
	curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" \
		--data-urlencode "time=$pend" | jq -r '.data.result[0].value[1] // empty' |
		grep . || echo none
}
win="[$((pend - pstart))s]"
n=$(prom "count_over_time(up{job=\"memsight\"}$win)")
up=$(prom "sum_over_time(up{job=\"memsight\"}$win)")
echo "Prometheus during the attack: $up of $n scrapes up"
check_cmd "Prometheus: at least 5 scrapes during the attack ($n)" ge "$n" 5
check "Prometheus: every scrape during the attack up" "$up" "$([ "$n" != none ] && echo "$n")"
w=$(prom "memsight_watched_processes{job=\"memsight\"}")
check_cmd "Prometheus: a memsight series scraped ($w)" [ "$w" != none ]
d=$(prom "max_over_time(scrape_duration_seconds{job=\"memsight\"}$win)")
check_cmd "Prometheus: longest scrape under 0.8 s ($d s)" ge 0.8 "$d"
kill "$PROMPID"; wait "$PROMPID" 2>/dev/null
check_cmd "daemon alive" kill -0 "$DPID"
