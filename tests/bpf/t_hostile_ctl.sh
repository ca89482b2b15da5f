#!/bin/bash
# Claims (denial of service on the control socket):
# - a hundred slow clients of five unprivileged uids trickling bytes (and
#   reconnecting when cut) never lock root out: each uid gets its share of
#   the slots, the rest are told "busy", root's ping and ps answer within a
#   few seconds throughout, and every slow client is cut at its deadline;
# - a root client pipelining thousands of stats and svg dumps that reads
#   nothing neither stalls the others (their pings answer within seconds
#   while it is at it) nor gets more served than its socket holds, nor grows
#   the daemon (VmRSS stays within +4 MB);
# - the CLI against a server that never answers, or whose listen backlog is
#   full, gives up at MEMSIGHT_TIMEOUT with "did not answer within N s".
. "$(dirname "$0")/lib.sh"

start_group_daemon || exit 0

cat > "$TMP/hostile.py" <<'PY'
import json, os, socket, sys, threading, time
path = os.environ["MEMSIGHT_SOCKET"]
case = sys.argv[1]

def trickle(secs, n):
    # n connections at once, each sending one byte every 0.5 s and never a
    # '\n'; a cut connection is replaced. Reports how each one ended.
    busy, cuts, lives, lock = [0], [], [], threading.Lock()
    stop = time.time() + secs
    def one():
        while time.time() < stop:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(0.5)
            try:
                s.connect(path)
            except OSError:
                time.sleep(0.2)
                continue
            t0 = time.time()
            while True:
                try:
                    s.send(b"x")
                    d = s.recv(4096)
                except socket.timeout:
                    if time.time() >= stop:
                        with lock: lives.append(time.time() - t0)
                        break
                    continue
                except OSError:
                    # closed: a busy line may still wait to be read
                    try:
                        d = s.recv(4096)
                    except OSError:
                        d = b""
                if b'"code":"busy"' in d:
                    with lock: busy[0] += 1
                    time.sleep(0.5)
                elif not d:
                    with lock: cuts.append(time.time() - t0)
                else:
                    with lock: cuts.append(-1.0)   # answered: not a trickle
                break
            s.close()
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(json.dumps({"busy": busy[0], "cut": len(cuts), "min_cut": min(cuts, default=0),
                      "max_cut": max(cuts, default=0), "alive_at_end": len(lives)}))

def pipeline(secs, line):
    # write line again and again, read nothing; reconnect when cut
    stop, sent, conns = time.time() + secs, 0, 0
    while time.time() < stop:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        conns += 1
        s.settimeout(0.5)
        chunk = line * 64
        while time.time() < stop:
            try:
                sent += s.send(chunk) // len(line)
            except socket.timeout:
                continue
            except OSError:
                break
        s.close()
    print(json.dumps({"requests_sent": sent, "connections": conns}))

if case == "trickle":
    trickle(float(sys.argv[2]), int(sys.argv[3]))
elif case == "pipeline":
    pipeline(float(sys.argv[2]), sys.argv[3].encode() + b"\n")
elif case == "silent":
    # accepts and never answers
    l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    l.bind(sys.argv[2]); l.listen(16)
    print("ready", flush=True)
    held = []
    while True:
        c, _ = l.accept(); held.append(c)
elif case == "full":
    # never accepts, and its backlog is filled up to the brim
    l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    l.bind(sys.argv[2]); l.listen(1)
    held = []
    while True:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(sys.argv[2])
        except BlockingIOError:
            break
        held.append(c)
    print("ready", len(held), flush=True)
    time.sleep(3600)
PY

# root asks N times, one every 2 s: how many answered within 5 s, and the slowest
root_asks() {
	local n=$1 ok=0 slow=0 t0 t1 ms i
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N)
		MEMSIGHT_TIMEOUT=5 "$MS" "${@:2}" > "$TMP/ask.out" 2>> "$TMP/ask.err" && ok=$((ok + 1))
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		[ $ms -gt $slow ] && slow=$ms
		sleep 2
	done
	echo "$ok $slow"
}

# the daemon's CPU time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$DPID"/stat; }

# (1) slow clients: 5 uids x 20 connections, 22 s of trickling
cpu0=$(cpu_ticks); wall0=$(date +%s%N)
for u in 65530 65531 65532 65533 65534; do
	# Debian's python3: one under root's home may not be open to other uids
	setpriv --reuid=$u --regid=$u --groups="$GID" /usr/bin/python3 "$TMP/hostile.py" trickle 22 20 \
		> "$TMP/trickle.$u" 2>&1 &
	PIDS_TO_KILL+=($!)
done
# their connections and the listening socket: more than one uid's share
# once they are under way (a loaded machine starts 100 threads slowly), and
# never more than the 56 slots that are not root's
held_now() { ls -l /proc/"$DPID"/fd 2>/dev/null | grep -c socket; }
for ((i = 0; i < 100; i++)); do [ "$(held_now)" -gt 40 ] && break; sleep 0.1; done
sleep 1
held=$(held_now)
check_cmd "100 slow clients: the daemon holds 56 of them at most ($((held - 1)))" \
	test "$held" -gt 17 -a "$held" -le 57
read -r ok slow <<< "$(root_asks 5 ping)"
check "100 slow clients of 5 uids: root's ping answered every time" "$ok" 5
check_cmd "100 slow clients: root's slowest ping under 3 s ($slow ms)" test "$slow" -lt 3000
read -r ok slow <<< "$(root_asks 3 ps)"
check "100 slow clients: root's ps answered every time" "$ok" 3
for ((i = 0; i < 400; i++)); do
	[ "$(cat "$TMP"/trickle.* | grep -c '^{')" -ge 5 ] && break
	sleep 0.1
done
check "slow clients: every trickler reported" "$(cat "$TMP"/trickle.* | grep -c '^{')" 5
# a client waiting for the rest of its line must not be polled in a loop
pct=$((($(cpu_ticks) - cpu0) * 100 / $(getconf CLK_TCK) * 1000000000 / \
	($(date +%s%N) - wall0) ))
check_cmd "slow clients: the daemon used $pct% of a CPU meanwhile, < 20%" test "$pct" -lt 20
busy=$(cat "$TMP"/trickle.* | jq -s 'map(.busy) | add')
cut=$(cat "$TMP"/trickle.* | jq -s 'map(.cut) | add')
check_cmd "slow clients: those over their uid's share were told busy ($busy)" test "$busy" -ge 20
check_cmd "slow clients: at least 56 were cut ($cut)" test "$cut" -ge 56
# connected and sent a byte at once: cut at the 10 s request deadline,
# never early, and never later than the deadline with generous margin
check "slow clients: none cut before 9 s" \
	"$(cat "$TMP"/trickle.* | jq -s 'map(select(.cut > 0) | .min_cut) | min >= 9')" true
check "slow clients: none kept past 16 s" \
	"$(cat "$TMP"/trickle.* | jq -s 'map(.max_cut) | max <= 16')" true
check "slow clients: the daemon counts the busy ones" \
	"$("$MS" stats -j | jq --argjson b "$busy" '.busy_clients >= $b')" true

# (2) pipelining: thousands of stats, then of svg dumps, nothing read
start_target "$O/tests/targets/leaky" "$TMP/t.out"; LPID=$TPID
"$MS" attach "$LPID" > /dev/null 2> "$TMP/e" || fail "attach leaky: $(cat "$TMP/e")"
kill -USR1 "$LPID"
wait_for "$TMP/t.out" '^done' 30 || fail "leaky did not finish"
"$MS" dump "$LPID" --format svg -o "$TMP/one.svg" 2> "$TMP/e"
check_cmd "one svg dump of leaky works ($(wc -c < "$TMP/one.svg") bytes)" test -s "$TMP/one.svg"
rss() { awk '/^VmRSS:/ { print $2 }' /proc/"$DPID"/status; }
for req in "stats" "dump pid=$LPID format=svg"; do
	rss0=$(rss)
	req0=$("$MS" stats -j | jq .requests)
	python3 "$TMP/hostile.py" pipeline 10 "$req" > "$TMP/pipe.out" 2>&1 &
	PPID_=$!
	PIDS_TO_KILL+=("$PPID_")
	# VmRSS every 0.2 s while it is at it
	while kill -0 "$PPID_" 2> /dev/null; do rss; sleep 0.2; done > "$TMP/rss.log" &
	SAMPLER=$!
	sleep 2
	read -r ok slow <<< "$(root_asks 3 ping)"
	wait "$PPID_" "$SAMPLER"
	peak=$(sort -n "$TMP/rss.log" | tail -1)
	# handled for it: all requests but the 3 pings and this stats itself
	handled=$(($("$MS" stats -j | jq .requests) - req0 - 3 - 1))
	sent=$(jq .requests_sent "$TMP/pipe.out")
	check_cmd "pipelining '$req': thousands of requests written ($sent)" test "$sent" -ge 1000
	check "pipelining '$req': others' pings answered every time meanwhile" "$ok" 3
	check_cmd "pipelining '$req': slowest ping under 3 s ($slow ms)" test "$slow" -lt 3000
	# it is served only as fast as it reads: what its socket buffer holds
	# (~200 kB), not the thousands it wrote
	check_cmd "pipelining '$req': the daemon handled $handled of its $sent requests, <= 1000" \
		test "$handled" -le 1000
	# one response (a few kB) buffered for it at a time: +4 MB is a wide margin
	check_cmd "pipelining '$req': daemon VmRSS $rss0 -> at most $peak kB, within +4 MB" \
		test $((peak - rss0)) -lt 4096
done

# (3) the CLI's deadline, connect included
python3 "$TMP/hostile.py" silent "$TMP/silent.sock" > "$TMP/silent.out" 2>&1 &
PIDS_TO_KILL+=($!)
python3 "$TMP/hostile.py" full "$TMP/full.sock" > "$TMP/full.out" 2>&1 &
PIDS_TO_KILL+=($!)
wait_for "$TMP/silent.out" '^ready' 10
wait_for "$TMP/full.out" '^ready' 10
for s in silent full; do
	t0=$(date +%s%N)
	MEMSIGHT_TIMEOUT=2 timeout 30 "$MS" --socket "$TMP/$s.sock" ping > /dev/null 2> "$TMP/e"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "CLI against a $s server: exits 1" "$rc" 1
	check_cmd "CLI against a $s server: says it did not answer within 2 s" \
		grep -q "memsightd did not answer within 2 s" "$TMP/e"
	check_cmd "CLI against a $s server: gives up after 2 s, not much later ($ms ms)" \
		test "$ms" -ge 1900 -a "$ms" -lt 10000
done
MEMSIGHT_TIMEOUT=abc "$MS" ping > /dev/null 2> "$TMP/e"; rc=$?
check "MEMSIGHT_TIMEOUT=abc: refused" "$rc" 1
check_cmd "MEMSIGHT_TIMEOUT=abc: says what it must be" grep -q "MEMSIGHT_TIMEOUT must be" "$TMP/e"
check_cmd "daemon still alive" kill -0 "$DPID"
