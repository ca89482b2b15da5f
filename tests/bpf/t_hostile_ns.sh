#!/bin/bash
# Claims (namespaces and processes among hostile neighbours):
# - a client in a PID namespace below memsightd's (unshare -p -f --mount-proc)
#   names its own processes: attach 1, top 1 and ps mean its PID 1, never the
#   host's, and it cannot see or detach host processes; a client whose PIDs
#   cannot be translated (memsightd in a namespace below it) is refused every
#   request that names PIDs with a clear reason; ping and stats work; memsight
#   itself run inside a PID namespace says it cannot match PIDs there
#   (BPF sees host PIDs) instead of reporting zeros;
# - a process whose main thread exited while another thread runs on (before
#   or after the attach) is watched through that thread: its leak is counted
#   exactly, by memsight top and by memsightd, and its RSS is the real one,
#   not 0;
# - after an exec under `memsight top -p PID`, the report names the new
#   program's exe beside its comm (memsightd's ps too); when the new program
#   maps an allocator that was not probed at attach (its own copy of libc),
#   top marks the tracked figures unavailable and names it, never a silent 0;
# - a process with an executable mapping that is not an ELF (a JIT's file)
#   above libc attaches; every attach failure we can provoke says why.
. "$(dirname "$0")/lib.sh"

cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = off
CONF
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }

# the error text after "memsight: error: ", and whether it says something
reason() { sed -n 's/^memsight: error: //p' "$1" | head -1; }
has_reason() { [ -n "$(reason "$1" | tr -d ' ')" ]; }

# ---- a client in another PID namespace --------------------------------------
start_target "$O/tests/targets/leaky" "$TMP/leaky.out"
LPID=$TPID
"$MS" attach "$LPID" > /dev/null
# a client in a PID namespace below memsightd's: its PIDs are translated both
# ways, and it sees only its own processes. It runs as PID 1 of its namespace.
cat > "$TMP/ns-client.sh" <<'SH'
MS=$1 OUT=$2 HOSTPID=$3
"$MS" attach 1 > "$OUT/a1.out" 2>&1; echo $? > "$OUT/a1.rc"
"$MS" ps -j > "$OUT/ps.json" 2> "$OUT/ps.err"
"$MS" top 1 --json > "$OUT/top1.json" 2> "$OUT/top1.err"
"$MS" detach "$HOSTPID" > "$OUT/det.out" 2>&1; echo $? > "$OUT/det.rc"
"$MS" top "$HOSTPID" --json > "$OUT/tophost.out" 2>&1; echo $? > "$OUT/tophost.rc"
"$MS" attach 4242 > "$OUT/a4242.out" 2>&1; echo $? > "$OUT/a4242.rc"
touch "$OUT/ready"
while [ ! -e "$OUT/go" ]; do sleep 0.1; done
SH
mkdir "$TMP/ns"
unshare -p -f --kill-child --mount-proc bash "$TMP/ns-client.sh" "$MS" "$TMP/ns" "$LPID" &
UPID=$!
PIDS_TO_KILL+=("$UPID")
for ((i = 0; i < 300; i++)); do [ -e "$TMP/ns/ready" ] && break; sleep 0.1; done
NSPID=$(pgrep -P "$UPID" | head -1)
check "PID namespace client: attach 1 succeeds" "$(cat "$TMP/ns/a1.rc")" 0
check "PID namespace client: attach 1 watches its own PID 1 (host PID $NSPID)" \
	"$("$MS" ps -j | jq -c '[.processes[].pid] | sort')" "$(echo "[$LPID,$NSPID]" | jq -c sort)"
check "PID namespace client: ps shows only its PID 1" \
	"$(jq -c '[.processes[] | [.pid, .comm]]' "$TMP/ns/ps.json")" '[[1,"bash"]]'
check "PID namespace client: top 1 is its PID 1" \
	"$(jq -c '[.pid, .comm]' "$TMP/ns/top1.json")" '[1,"bash"]'
check "PID namespace client: cannot detach a host process" "$(cat "$TMP/ns/det.rc")" 1
check_cmd "PID namespace client: ... it is not watched for it" grep -q "is not watched" "$TMP/ns/det.out"
check "PID namespace client: cannot see a host process with top" "$(cat "$TMP/ns/tophost.rc")" 1
check "PID namespace client: ... no data of it" "$(grep -c leaky "$TMP/ns/tophost.out")" 0
check "PID namespace client: attach of a PID it does not have fails" "$(cat "$TMP/ns/a4242.rc")" 1
check_cmd "PID namespace client: ... no such process" grep -q "no such process: 4242" "$TMP/ns/a4242.out"
touch "$TMP/ns/go"
wait "$UPID"
check "host PID 1 never watched, ours still is" \
	"$(wait_watched "$NSPID" no 10; "$MS" ps -j | jq -c '[.processes[].pid]')" "[$LPID]"

# a client whose PIDs cannot be translated (memsightd below it: its PID is 0
# there) is refused every request that names PIDs; ping and stats work
cat > "$TMP/ns2.conf" <<CONF
[metrics]
listen = off
CONF
unshare -p -f --kill-child --mount-proc "$O/memsightd" --socket "$TMP/ns2.sock" \
	--config "$TMP/ns2.conf" > "$TMP/ns2.log" 2>&1 &
PIDS_TO_KILL+=("$!")
wait_for "$TMP/ns2.log" 'ready: control socket|error' 20
ns2() { MEMSIGHT_SOCKET=$TMP/ns2.sock "$MS" "$@"; }
for req in "attach $LPID" "top $LPID" "ps" "detach $LPID"; do
	# shellcheck disable=SC2086
	ns2 $req > "$TMP/ns.out" 2> "$TMP/ns.err"; rc=$?
	check "client above memsightd's PID namespace: '$req' refused" "$rc" 1
	check_cmd "client above memsightd's PID namespace: '$req' says why" \
		grep -q 'another PID namespace than this client' "$TMP/ns.err"
	check "client above memsightd's PID namespace: '$req' printed no data" \
		"$(wc -c < "$TMP/ns.out")" 0
done
check "client above memsightd's PID namespace: ping works" "$(ns2 ping 2>&1)" '{"ok":true}'
check "client above memsightd's PID namespace: stats works" "$(ns2 stats -j 2>&1 | jq -r .ok)" true
kill "${PIDS_TO_KILL[-1]}"
check "the same requests from our namespace work" \
	"$("$MS" top "$LPID" --json | jq -r .pid)" "$LPID"
"$MS" detach "$LPID" > /dev/null
# memsight itself inside a PID namespace: BPF sees host PIDs, so the PID it
# is given names no events there; it says so instead of reporting zeros
cat > "$TMP/inns.sh" <<'SH'
"$1/tests/targets/leaky" > "$2/inns-leaky.out" 2>&1 &
while ! grep -q '^ready' "$2/inns-leaky.out"; do sleep 0.1; done
"$3" top -p $! -d 1 > "$2/inns.out" 2> "$2/inns.err"
echo $? > "$2/inns.rc"
kill $!
SH
for mp in --mount-proc ""; do
	unshare -p -f $mp bash "$TMP/inns.sh" "$O" "$TMP" "$MS"
	check "memsight top inside a PID namespace ${mp:-(host /proc)}: fails" "$(cat "$TMP/inns.rc")" 1
	check_cmd "memsight top inside a PID namespace ${mp:-(host /proc)}: says why" \
		grep -q 'runs in a PID namespace of its own' "$TMP/inns.err"
done

# ---- main thread exited, another runs on ---------------------------------------
"$O/tests/targets/orphan" > "$TMP/orphan.out" 2>&1 &
OPID=$!
PIDS_TO_KILL+=("$OPID")
wait_for "$TMP/orphan.out" '^alone' 10
check "orphan: its main thread is a zombie" \
	"$(awk '/^State:/ {print $2}' /proc/"$OPID"/status)" Z
start_memsight "$TMP/orphan.json" "$TMP/orphan.err" top -p "$OPID" -d 0 -n 0 --json --unwind fp
kill -USR1 "$OPID"
wait_for "$TMP/orphan.out" '^done' 20
kill -INT "$MPID"; wait "$MPID" 2>/dev/null
check "orphan: memsight top attaches" "$(grep -c 'attached to PID' "$TMP/orphan.err")" 1
check "orphan: memsight top counts leak_here exactly" \
	"$(stack_field "$TMP/orphan.json" leak_here inuse_bytes)" 4096000
check "orphan: memsight top's RSS holds the leak" \
	"$(jq '.rss.total_bytes > 4096000' "$TMP/orphan.json")" true
# memsight top, when the main thread exits during the observation: marked
start_target "$O/tests/targets/orphan" "$TMP/late1.out" late
start_memsight "$TMP/late1.json" "$TMP/late1.err" top -p "$TPID" -d 0 --json --unwind fp
kill -USR1 "$TPID"	# the main thread exits
wait_for "$TMP/late1.out" '^alone' 10
kill -INT "$MPID"; wait "$MPID" 2>/dev/null
check "main thread exits during memsight top: figures marked a lower bound" \
	"$(jq -c '.events | [.probes_at_risk, .lower_bound]' "$TMP/late1.json")" '[1,true]'
kill "$TPID"
"$MS" attach "$OPID" > "$TMP/o" 2> "$TMP/e"; rc=$?
check "orphan: memsightd attaches" "$rc $(watched "$OPID" && echo watched)" "0 watched"
kill -USR1 "$OPID"
wait_for_n "$TMP/orphan.out" '^done' 2 20
ms_json "$OPID"
check "orphan: memsightd counts leak_here exactly" \
	"$(stack_field "$TMP/$OPID.json" leak_here inuse_bytes)" 4096000
# RSS and threads come with the next snapshot (one a second here)
for ((i = 0; i < 100; i++)); do
	"$MS" ps -j > "$TMP/ps.json"
	jq -e --argjson p "$OPID" '.processes[] | select(.pid == $p) | has("rss_bytes")' \
		"$TMP/ps.json" > /dev/null && break
	sleep 0.1
done
check "orphan: memsightd's RSS is the process's, not 0" \
	"$(jq --argjson p "$OPID" '.processes[] | select(.pid == $p) | .rss_bytes > 8192000' "$TMP/ps.json")" true
check "orphan: threads counted" \
	"$(jq --argjson p "$OPID" '.processes[] | select(.pid == $p) | .threads' "$TMP/ps.json")" 2
kill "$OPID"

# the main thread exits while memsightd already watches the process
start_target "$O/tests/targets/orphan" "$TMP/late.out" late
OPID=$TPID
"$MS" attach "$OPID" > /dev/null
kill -USR1 "$OPID"	# the main thread exits
wait_for "$TMP/late.out" '^alone' 10
# the kernel's PID filter matched the main thread's memory: a probe added or
# removed anywhere on the same function would drop ours, so memsightd attaches
# again without it (at its next snapshot) and counts from there
wait_for "$TMP/daemon.log" "PID $OPID .*main thread exited" 20
check_cmd "main thread exits after attach: memsightd attaches again, unfiltered" \
	wait_for_n "$TMP/daemon.log" "^memsightd: watching PID $OPID " 2 5
# another watcher's probes on the same functions come and go meanwhile
start_target "$O/tests/targets/leaky" "$TMP/other.out"
"$MS" attach "$TPID" > /dev/null && "$MS" detach "$TPID" > /dev/null
kill "$TPID"
kill -USR1 "$OPID"	# the worker leaks
wait_for "$TMP/late.out" '^done' 20
ms_json "$OPID"
check "main thread exits after attach: leak_here exact" \
	"$(stack_field "$TMP/$OPID.json" leak_here inuse_bytes)" 4096000
# a snapshot after the exit (one a second) must show the RSS, not 0
rss=0
for ((i = 0; i < 100; i++)); do
	rss=$("$MS" ps -j | jq --argjson p "$OPID" '.processes[] | select(.pid == $p) | .rss_bytes')
	[ "${rss:-0}" != null ] && [ "${rss:-0}" -gt 4096000 ] && break
	sleep 0.1
done
check "main thread exits after attach: RSS holds the leak, not 0" \
	"$([ "${rss:-0}" != null ] && [ "${rss:-0}" -gt 4096000 ] && echo yes || echo "no: $rss")" yes
kill "$OPID"

# ---- exec under memsight top ---------------------------------------------------
start_target "$O/tests/targets/execer" "$TMP/exec.out" "$O/tests/targets/leaky"
EPID=$TPID
start_memsight "$TMP/exec.json" "$TMP/exec.err" top -p "$EPID" -d 0 --json
kill -USR1 "$EPID"
wait_for_n "$TMP/exec.out" '^ready' 2 10
kill -INT "$MPID"; wait "$MPID" 2>/dev/null
check "exec: top says it exec'd" "$(jq -r .execed "$TMP/exec.json")" true
check "exec: top's comm is the new program's" "$(jq -r .comm "$TMP/exec.json")" leaky
check "exec: top's exe is the new program's" "$(jq -r .exe "$TMP/exec.json")" \
	"$(readlink -f "$O/tests/targets/leaky")"
check "exec into the same libc: no unprobed allocator" \
	"$(jq -r .tracked.unprobed_allocator "$TMP/exec.json")" null
kill "$EPID"
# the same after an exec into a program run with its own copy of libc: its
# malloc was never probed, so none of its allocations can be seen; the
# tracked figures must say so, not read 0 (they did before)
mkdir -p "$TMP/plibc"
cp "$(ldd "$O/tests/targets/leaky" | awk '$1 == "libc.so.6" { print $3 }')" "$TMP/plibc/"
start_target "$O/tests/targets/execer" "$TMP/exec3.out" "$(command -v env)" \
	LD_LIBRARY_PATH="$TMP/plibc" "$O/tests/targets/leaky"
EPID=$TPID
start_memsight "$TMP/exec3.json" "$TMP/exec3.err" top -p "$EPID" -d 0 --json
kill -USR1 "$EPID"
wait_for_n "$TMP/exec3.out" '^ready' 2 10
check_cmd "exec into another libc: it is the copy" grep -q "$TMP/plibc/libc.so.6" /proc/"$EPID"/maps
kill -USR1 "$EPID"	# leaky leaks 4,096,000 B through the copy
wait_for "$TMP/exec3.out" '^done' 10
kill -INT "$MPID"; wait "$MPID" 2>/dev/null
check "exec into another libc: top says the allocator was not probed" \
	"$(jq -r .tracked.unprobed_allocator "$TMP/exec3.json")" "$TMP/plibc/libc.so.6"
check "exec into another libc: tracked figures marked unavailable" \
	"$(jq -r '.tracked.unavailable // "not marked"' "$TMP/exec3.json" | grep -c "not probed")" 1
check "exec into another libc: top warns" "$(grep -c "was not probed at attach" "$TMP/exec3.err")" 1
kill "$EPID"
start_target "$O/tests/targets/execer" "$TMP/exec2.out" "$O/tests/targets/leaky"
EPID=$TPID
"$MS" attach "$EPID" > /dev/null
kill -USR1 "$EPID"
wait_for_n "$TMP/exec2.out" '^ready' 2 10
wait_watched "$EPID" yes 10
check "exec: memsightd's exe is the new program's" \
	"$("$MS" ps -j | jq -r --argjson p "$EPID" '.processes[] | select(.pid == $p) | .exe')" \
	"$(readlink -f "$O/tests/targets/leaky")"
kill "$EPID"

# ---- attach failures and their reasons -------------------------------------------
# an executable mapping of a file that is no ELF, placed above libc (JITs do this)
cat > "$TMP/execmap.py" <<'PY'
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
top = max(int(l.split("-")[1].split()[0], 16) for l in open("/proc/self/maps")
          if "/libc.so" in l)
fd = os.open(sys.argv[1], os.O_RDONLY)
a = top
for i in range(4096):
    # PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED_NOREPLACE: the first free MiB above libc
    if libc.mmap(a, 4096, 1 | 4, 2 | 0x100000, fd, 0) == a:
        break
    a += 1 << 20
else:
    sys.exit("no room above libc")
print("ready", os.getpid(), flush=True)
signal.pause()
PY
echo "no ELF here" > "$TMP/jit.bin"
start_target python3 "$TMP/jitproc.out" "$TMP/execmap.py" "$TMP/jit.bin"
JPID=$TPID
check_cmd "non-ELF executable mapping above libc: it is there" grep -q "$TMP/jit.bin" /proc/"$JPID"/maps
"$MS" top -p "$JPID" -d 0.5 > "$TMP/o" 2> "$TMP/e"; rc=$?
check "non-ELF executable mapping: memsight top attaches" "$rc" 0
"$MS" attach "$JPID" > "$TMP/o" 2> "$TMP/e"; rc=$?
check "non-ELF executable mapping: memsightd attaches" \
	"$rc $(watched "$JPID" && echo watched)" "0 watched"

# each failure we can provoke, by the CLI alone and through memsightd
true & gone=$!; wait $gone
start_target "$O/tests/targets/stripped-static" "$TMP/ss.out"
SPID=$TPID
fails=("$gone:no such process" "2:has no user memory" "$SPID:no allocator found"
       "$JPID:already")
for f in "${fails[@]}"; do
	pid=${f%%:*} want=${f#*:}
	if [ "$pid" != "$JPID" ]; then
		"$MS" top -p "$pid" -d 0.5 > "$TMP/o" 2> "$TMP/e"; rc=$?
		check "memsight top -p $pid fails" "$rc" 1
		check_cmd "memsight top -p $pid says why ($(reason "$TMP/e"))" has_reason "$TMP/e"
		check_cmd "memsight top -p $pid: '$want'" grep -q "$want" "$TMP/e"
	fi
	"$MS" attach "$pid" > "$TMP/o" 2> "$TMP/e"; rc=$?
	check "memsightd attach $pid fails" "$rc" 1
	check_cmd "memsightd attach $pid says why ($(reason "$TMP/e"))" has_reason "$TMP/e"
	check_cmd "memsightd attach $pid: '$want'" grep -q "$want" "$TMP/e"
done
# a rule that matches a process memsightd cannot watch: its log says why
"$MS" attach --exe '*/stripped-static' > /dev/null
wait_for "$TMP/daemon.log" "cannot watch PID $SPID " 30
check_cmd "rule match that cannot be watched: the log says why" \
	grep -qE "cannot watch PID $SPID \[[^]]+\]: .*no allocator found" "$TMP/daemon.log"
check "no 'cannot watch' line with an empty reason" \
	"$(grep -cE 'cannot watch PID [0-9]+ \[[^]]*\]: *$' "$TMP/daemon.log")" 0
