#!/bin/bash
# Claims: the control socket serves root and its group only; a client that
# gets past the file mode anyway is refused by its credentials; garbage,
# oversized and half-written requests get an error (or are dropped) while
# the daemon keeps serving everyone else, and a client that reads a large
# response slowly but steadily gets all of it. Error replies carry a code the CLI
# decides on; --socket works before the command; options the daemon's view
# cannot honour are refused, not ignored.
. "$(dirname "$0")/lib.sh"

start_group_daemon || exit 0
check "socket mode is 0660 root:$GRP" "$(stat -c '%a %U:%G' "$MEMSIGHT_SOCKET")" "660 root:$GRP"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_member() { setpriv --reuid=65534 --regid=65534 --groups="$GID" "$@"; }

as_nobody "$MS" ping > "$TMP/o" 2> "$TMP/e"; rc=$?
check "non-member cannot use the socket: exit status" "$rc" 1
check_cmd "non-member: says permission denied" grep -qi 'permission denied' "$TMP/e"
check "group member may use it" "$(as_member "$MS" ping)" '{"ok":true}'
# a socket opened up by mistake: the credential check still says no
chmod 666 "$MEMSIGHT_SOCKET"
as_nobody "$MS" ping > "$TMP/o" 2> "$TMP/e"; rc=$?
check "world-writable socket: non-member still refused" "$rc" 1
check_cmd "world-writable socket: daemon says why" grep -q 'serves root and the socket' "$TMP/e"

cat > "$TMP/hostile.py" <<'PY'
import json, os, socket, sys, time
path = os.environ["MEMSIGHT_SOCKET"]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)      # blocking, like the CLI: waits in the backlog
    s.settimeout(30)
    return s
def line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf.decode("utf-8", "replace").strip()
case = sys.argv[1]
if case == "garbage":
    s = conn(); s.sendall(bytes(range(1, 256)).replace(b"\n", b"") + b"\n"); print(line(s))
    s.sendall(b"ping\n"); print(line(s))
elif case == "nul":
    s = conn(); s.sendall(b"attach pid=1\x00 comm=x\n"); print(line(s))
elif case == "long":
    s = conn(); s.sendall(b"a" * 5000); print(line(s))
    try:
        s.sendall(b"ping\n"); print(repr(s.recv(100)))
    except OSError as e:
        print("closed:", e.__class__.__name__)
elif case == "notwatched":
    s = conn(); s.sendall(b"top pid=%d\n" % int(sys.argv[2])); print(line(s))
elif case == "stall":
    s = conn(); s.sendall(b"pi")
    t = conn(); t.sendall(b"ping\n"); print(line(t))
    time.sleep(11)
    print(repr(s.recv(100)))
elif case == "slowread":
    # a large response read steadily, more slowly than CLIENT_IDLE_NS allows
    # for all of it: the client is never stalled, so it gets all of it
    s = conn(); s.sendall(b"dump pid=%d format=folded\n" % int(sys.argv[2]))
    # the dump of 20,000 stacks takes 10 s and more to compute on a loaded VM
    s.settimeout(120)
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head, _, got = buf.partition(b"\n")
    want = json.loads(head)["payload_bytes"]
    t0 = time.time()
    while len(got) < want and time.time() - t0 < 13:
        d = s.recv(8192)
        if not d:
            break
        got += d
        time.sleep(0.25)
    slow = len(got)
    while len(got) < want:
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
    print(want > 2 * slow, len(got) == want)
elif case == "flood":
    for i in range(200):
        s = conn(); s.sendall(os.urandom(300) + b"\n"); s.close()
    s = conn(); s.sendall(b"ping\n"); print(line(s))
PY
out=$(python3 "$TMP/hostile.py" garbage)
check "garbage line: error reply" "$(echo "$out" | head -1 | jq -r '.ok, (.error | startswith("bad request"))' | tr '\n' ' ')" "false true "
check "garbage line: same connection still served" "$(echo "$out" | tail -1)" '{"ok":true}'
check "garbage line: its code is bad_request" "$(echo "$out" | head -1 | jq -r .code)" bad_request
check "embedded NUL: refused" "$(python3 "$TMP/hostile.py" nul | jq .ok)" false
out=$(python3 "$TMP/hostile.py" long)
check "5000-byte line: error reply" "$(echo "$out" | head -1 | jq -r .error)" "request line too long (max 4096 bytes)"
check_cmd "5000-byte line: connection closed after" bash -c "echo '$out' | tail -1 | grep -qE \"^b''|closed\""
out=$(python3 "$TMP/hostile.py" stall)
check "half-written request: others served meanwhile" "$(echo "$out" | head -1)" '{"ok":true}'
check "half-written request: staller dropped after the idle timeout" "$(echo "$out" | tail -1)" "b''"
check "200 random-byte clients: daemon still serves" "$(python3 "$TMP/hostile.py" flood)" '{"ok":true}'
check "bad requests are counted" "$("$MS" stats -j | jq '.bad_requests >= 202')" true

# global options before the command; the environment's socket out of the way
out=$(env -u MEMSIGHT_SOCKET "$MS" --socket "$MEMSIGHT_SOCKET" ping 2> "$TMP/e"); rc=$?
check "memsight --socket PATH ping: exit status" "$rc" 0
check "memsight --socket PATH ping: the daemon answers" "$out" '{"ok":true}'
out=$(env -u MEMSIGHT_SOCKET "$MS" -v --socket="$MEMSIGHT_SOCKET" ps -j | jq -r .ok)
check "memsight -v --socket=PATH ps: the daemon answers" "$out" true
env -u MEMSIGHT_SOCKET "$MS" --socket "$TMP/nobody.sock" ping > /dev/null 2> "$TMP/e"; rc=$?
check "--socket before the command is the socket used: a wrong one fails" "$rc" 1
check_cmd "--socket before the command: the error names that socket" \
	grep -q "$TMP/nobody.sock" "$TMP/e"

sleep 300 &
SPID=$!
PIDS_TO_KILL+=("$SPID")
check "a PID not watched: the reply's code is not_watched" \
	"$(python3 "$TMP/hostile.py" notwatched "$SPID" | jq -r '.ok, .code' | tr '\n' ' ')" \
	"false not_watched "
"$MS" attach "$SPID" > /dev/null 2> "$TMP/e" || { fail "attach $SPID: $(cat "$TMP/e")"; }
"$MS" top "$SPID" -n 1 --json > "$TMP/top.json" 2> "$TMP/e"; rc=$?
check "top PID of a watched process: memsightd's report" "$rc $(jq .pid "$TMP/top.json")" \
	"0 $SPID"
"$MS" top "$SPID" --sample-bytes 4096 > "$TMP/o" 2> "$TMP/e"; rc=$?
check "top PID --sample-bytes against memsightd: refused (usage)" "$rc" 2
check "top PID --sample-bytes against memsightd: no report" "$(wc -c < "$TMP/o")" 0
check_cmd "top PID --sample-bytes against memsightd: says why" \
	grep -q -- "--sample-bytes applies to an observation here (use -p $SPID)" "$TMP/e"
"$MS" detach "$SPID" > /dev/null 2>&1
"$MS" detach "$SPID" > /dev/null 2> "$TMP/e"; rc=$?
check "detach of a PID not watched: error" "$rc" 1
check_cmd "detach of a PID not watched: the text stays for humans" \
	grep -q "PID $SPID is not watched" "$TMP/e"
# the daemon's not_watched code, not its text, sends top to observe here
"$MS" top "$SPID" -d 0.2 -n 1 --json > "$TMP/top.json" 2> "$TMP/e"; rc=$?
check "top PID not watched by memsightd: observed here instead" \
	"$rc $(jq .pid "$TMP/top.json") $(grep -c 'not watched by memsightd; observing it here' "$TMP/e")" \
	"0 $SPID 1"
# a response longer than a slow reader takes CLIENT_IDLE_NS to read: dropping
# it when its request is 10 s old cut it off with most still unsent
start_target "$O/tests/targets/manystacks" "$TMP/m.out"; MPID=$TPID
"$MS" attach "$MPID" > /dev/null 2> "$TMP/e" || fail "attach manystacks: $(cat "$TMP/e")"
kill -USR1 "$MPID"
wait_for "$TMP/m.out" '^done' 60 || fail "manystacks did not finish"
check "a large response read slowly for 13 s: all of it, not cut off at the idle timeout" \
	"$(python3 "$TMP/hostile.py" slowread "$MPID")" "True True"
check_cmd "daemon still alive" kill -0 "$DPID"
