#!/bin/bash
# Claims: memsightd's files cannot be turned against it or against others.
# - At the control socket's path only nothing or a stale socket is replaced:
#   a regular file or a symlink is left alone and memsightd refuses to start
#   saying what is there; a second memsightd refuses a live daemon's socket
#   ("memsightd already runs at PATH") and the first stays reachable; a
#   daemon never removes a socket that is no longer the one it bound.
# - A socket directory (or one above it, or one on the configured path) that
#   another user owns or may write is refused, naming it; so is a path
#   through another user's symlink.
# - The socket is born with its final mode (0660, root's group until the
#   chown) and its group is set without following a link swapped in for it.
# - An incidents directory that is a symlink or world-writable turns the
#   flight recorder off, saying why in the log and in `memsight stats`.
# - memsight and memsightd do not watch themselves: explicit requests get an
#   error, a rule matching memsightd skips it.
. "$(dirname "$0")/lib.sh"

GRP=mshf$$
groupadd "$GRP" || { fail "cannot create a test group"; exit 0; }
trap 'groupdel "$GRP" 2>/dev/null; cleanup' EXIT
chmod 755 "$TMP"
mkdir -m 700 "$TMP/inc"
# conf FILE INCIDENTS_DIR [RULE]: a daemon config
conf() {
	printf '[daemon]\nsocket_group = %s\n[incidents]\ndir = %s\n[metrics]\nlisten = off\n' \
		"$GRP" "$2" > "$1"
	[ -z "$3" ] || printf '[rules]\n%s\n' "$3" >> "$1"
}
conf "$TMP/d.conf" "$TMP/inc"
# refused SOCKET LOG: memsightd on SOCKET; its exit status, or 99 if it
# started serving there instead (then it is stopped)
refused() {
	local p i
	"$O/memsightd" --config "$TMP/d.conf" --socket "$1" > "$2" 2>&1 &
	p=$!
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$p" 2>/dev/null || break
		grep -q 'ready: control socket' "$2" && { kill -TERM "$p"; wait "$p"; return 99; }
		sleep 0.1
	done
	wait "$p"
}

# --- what is at the socket's path ----------------------------------------------
mkdir -m 755 "$TMP/s"
echo keep > "$TMP/s/file.sock"
refused "$TMP/s/file.sock" "$TMP/file.log"; rc=$?
check "regular file at the socket path: refuses to start" "$rc" 1
check "regular file at the socket path: kept" "$(cat "$TMP/s/file.sock")" keep
check_cmd "regular file at the socket path: says what is there" \
	grep -q "$TMP/s/file.sock is a regular file, not a socket: left alone" "$TMP/file.log"

echo secret > "$TMP/victim"
ln -s "$TMP/victim" "$TMP/s/link.sock"
refused "$TMP/s/link.sock" "$TMP/link.log"; rc=$?
check "symlink at the socket path: refuses to start" "$rc" 1
check "symlink at the socket path: kept, target untouched" \
	"$(readlink "$TMP/s/link.sock") $(cat "$TMP/victim")" "$TMP/victim secret"
check_cmd "symlink at the socket path: says so" \
	grep -q "$TMP/s/link.sock is a symbolic link, not a socket" "$TMP/link.log"

# a socket nobody accepts on (its daemon died): replaced
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$TMP/memsight.sock"
check "stale socket planted" "$(stat -c %F "$TMP/memsight.sock")" socket
conf "$TMP/d1.conf" "$TMP/inc-link"
ln -s "$TMP/inc" "$TMP/inc-link"
start_daemon --config "$TMP/d1.conf" || { fail "daemon did not start"; exit 0; }
D1=$DPID
check "stale socket: replaced, the daemon answers" "$("$MS" ping)" '{"ok":true}'

# --- incidents directory as a symlink: recorder off, and said so ------------------
check_cmd "incidents dir a symlink: the log says the recorder is off and why" \
	grep -q "flight recorder off: cannot use $TMP/inc-link: is a symbolic link" \
	"$TMP/daemon.log"
"$MS" stats -j > "$TMP/stats1.json"
check "incidents dir a symlink: stats say off, with the reason" \
	"$(jq -r '.flight_recorder + " " + .flight_recorder_off' "$TMP/stats1.json")" \
	"off cannot use $TMP/inc-link: is a symbolic link (not followed)"

# --- a second daemon on a live socket -------------------------------------------
refused "$MEMSIGHT_SOCKET" "$TMP/second.log"; rc=$?
check "second daemon on a live socket: refuses to start" "$rc" 1
check_cmd "second daemon: says memsightd already runs there" \
	grep -q "memsightd already runs at $MEMSIGHT_SOCKET" "$TMP/second.log"
check "second daemon: the first is still reachable" "$("$MS" ping)" '{"ok":true}'

# a socket that is no longer ours is not removed: D2 binds the path after
# D1's socket was removed; D1 stopping leaves D2's in place
rm "$MEMSIGHT_SOCKET"
conf "$TMP/d2.conf" "$TMP/inc" "include comm=memsightd"
start_daemon --config "$TMP/d2.conf" || { fail "second daemon did not start"; exit 0; }
D2=$DPID
kill -TERM "$D1"
for ((i = 0; i < 300; i++)); do kill -0 "$D1" 2>/dev/null || break; sleep 0.1; done
check "first daemon stopped" "$(kill -0 "$D1" 2>/dev/null && echo running || echo gone)" gone
check "stopping a daemon leaves the socket another one bound" "$("$MS" ping)" '{"ok":true}'

# a rule matching memsightd (comm=memsightd): it skips itself, silently
check "rule matching memsightd: memsightd not watched" \
	"$("$MS" ps -j | jq --argjson p "$D2" '[.processes[] | select(.pid == $p)] | length')" 0
check "rule matching memsightd: no attach attempted on itself" \
	"$(grep -cE "(watching|cannot watch) PID $D2 " "$TMP/daemon.log")" 0
"$MS" attach --comm memsightd > /dev/null 2> "$TMP/e"
check "attach --comm memsightd: memsightd still not watched" \
	"$(watched "$D2" && echo yes || echo no)" no

# --- self attach ------------------------------------------------------------------
"$MS" attach "$D2" > "$TMP/o" 2> "$TMP/e"; rc=$?
check "attach memsightd's own PID: refused" "$rc" 1
check_cmd "attach memsightd's own PID: says memsightd does not watch itself" \
	grep -q "memsightd does not watch itself" "$TMP/e"
check "attach memsightd's own PID: not watched" "$(watched "$D2" && echo yes || echo no)" no
# (watching itself, memsight fed on its own events and never ended)
timeout -k 10 60 sh -c 'exec "$1" top -p $$ -d 1' sh "$MS" > "$TMP/o" 2> "$TMP/e"; rc=$?
check "memsight top -p <its own PID>: refused" "$rc" 1
check_cmd "memsight top -p <its own PID>: says memsight does not watch itself" \
	grep -q "memsight does not watch itself" "$TMP/e"

check "incidents dir ours (0700): recorder on" \
	"$("$MS" stats -j | jq -r '.flight_recorder + " " + (has("flight_recorder_off") | tostring)')" \
	"on false"
kill -TERM "$D2"
for ((i = 0; i < 300; i++)); do kill -0 "$D2" 2>/dev/null || break; sleep 0.1; done
check "a daemon removes its own socket when it stops" \
	"$([ -e "$MEMSIGHT_SOCKET" ] && echo present || echo removed)" removed

# --- socket directories others may change ---------------------------------------
mkdir -m 755 "$TMP/nobody"
chown 65534:65534 "$TMP/nobody"
refused "$TMP/nobody/memsight.sock" "$TMP/nobody.log"; rc=$?
check "socket dir owned by nobody: refused" "$rc" 1
check_cmd "socket dir owned by nobody: names it and its owner" \
	grep -q "$TMP/nobody (owner uid 65534, group gid 65534, mode 0755) may be changed by other users" \
	"$TMP/nobody.log"
check "socket dir owned by nobody: no socket made" "$(ls -A "$TMP/nobody" | wc -l)" 0
mkdir -m 777 "$TMP/open"
chmod 777 "$TMP/open"
refused "$TMP/open/sub/memsight.sock" "$TMP/open.log"; rc=$?
check "world-writable directory above the socket's: refused" "$rc" 1
check_cmd "world-writable directory above the socket's: names it" \
	grep -q "$TMP/open (owner uid 0, group gid 0, mode 0777) may be changed" "$TMP/open.log"

ln -s "$TMP/s" "$TMP/ulink"
chown -h 65534:65534 "$TMP/ulink"
refused "$TMP/ulink/memsight.sock" "$TMP/ulink.log"; rc=$?
check "socket path through another user's symlink: refused" "$rc" 1
check_cmd "socket path through another user's symlink: names it" \
	grep -q "$TMP/ulink is a symbolic link owned by uid 65534" "$TMP/ulink.log"

# --- mode and group from the start, group set without following links ------------
# strace holds the daemon for 8 s before it sets the group: the socket as
# bind made it is what anyone could reach then; and a symlink to a victim
# file swapped in for it then must not get the group (chown follows links).
echo secret > "$TMP/victim2"
chmod 600 "$TMP/victim2"
# (through root's own symlink, as /var/run -> /run: fine)
ln -s "$TMP/s" "$TMP/rlink"
SOCK3=$TMP/rlink/three.sock
strace -f -qq -o /dev/null -e trace=chown,fchownat,lchown \
	-e inject=chown,fchownat,lchown:delay_enter=8000000 \
	"$O/memsightd" --config "$TMP/d.conf" --socket "$SOCK3" > "$TMP/d3.log" 2>&1 &
D3=$!
PIDS_TO_KILL+=("$D3")
for ((i = 0; i < 1200; i++)); do [ -S "$SOCK3" ] && break; sleep 0.05; done
check "as bound, before the chown: 0660 root:root" "$(stat -c '%a %U:%G' "$SOCK3")" "660 root:root"
mv "$SOCK3" "$TMP/s/three.moved"
ln -s "$TMP/victim2" "$SOCK3"
wait_for "$TMP/d3.log" 'ready: control socket|error' 60
D3D=$(pgrep -P "$D3" -x memsightd)
PIDS_TO_KILL+=($D3D)
check "a link swapped in before the chown: the victim keeps its group and mode" \
	"$(stat -c '%a %U:%G' "$TMP/victim2")" "600 root:root"
check "a link swapped in before the chown: the link got the group, not followed" \
	"$(stat -c '%G' "$SOCK3")" "$GRP"
# the daemon, not strace: strace would let go of it and leave it running
kill -TERM "$D3D"
for ((i = 0; i < 300; i++)); do kill -0 "$D3D" 2>/dev/null || break; sleep 0.1; done
check "daemon under strace stopped" "$(kill -0 "$D3D" 2>/dev/null && echo running || echo gone)" gone
wait "$D3"
check "a daemon does not remove what replaced its socket" \
	"$(readlink "$SOCK3")" "$TMP/victim2"

# --- an incidents directory anyone may write -------------------------------------
mkdir -m 777 "$TMP/inc-open"
chmod 777 "$TMP/inc-open"
conf "$TMP/d4.conf" "$TMP/inc-open"
start_daemon --config "$TMP/d4.conf" || { fail "daemon did not start"; exit 0; }
check "incidents dir world-writable: stats say off, with the reason" \
	"$("$MS" stats -j | jq -r '.flight_recorder + " " + .flight_recorder_off')" \
	"off cannot use $TMP/inc-open: is writable by group or others, or owned by another user"
check_cmd "incidents dir world-writable: the log says so" \
	grep -q "flight recorder off: cannot use $TMP/inc-open: is writable by group or others" \
	"$TMP/daemon.log"
check "socket made by a daemon with a group: 0660 root:group" \
	"$(stat -c '%a %U:%G' "$MEMSIGHT_SOCKET")" "660 root:$GRP"
