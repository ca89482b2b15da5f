#!/bin/bash
# Claim: `memsight run -- redis-server` (Debian's, linked with libjemalloc)
# sees the server's own allocator from its first instruction, and its
# figures agree with what redis says of itself. The server is filled with
# 10,000 keys of 1000 B (SET through redis-cli --pipe), its INFO memory is
# read, then SHUTDOWN NOSAVE ends it (status 0, which memsight passes on):
#   - jemalloc is probed (the mechanism names it): the loader maps it after
#     the exec stop, so memsight stops the program again at its entry point;
#   - peak RSS >= used_memory_rss as INFO reported it (the kernel's
#     high-water mark of the whole run against one moment's RSS);
#   - bytes still allocated at exit, counted as jemalloc's usable sizes (what
#     redis's zmalloc adds up: je_malloc_usable_size of each block), the
#     malloc family's alone (not jemalloc's own mmaps of its extents, nor
#     thread stacks), against used_memory: memsight counts every block, redis
#     only those made through zmalloc, so memsight - used_memory is what was
#     allocated outside zmalloc (the C library's own blocks, Lua's VM, whose
#     blocks redis counts apart as used_memory_lua) and the difference of
#     the INFO client's buffers and the SHUTDOWN client's (under 64 KiB, as
#     t_distro_c.sh finds); so used_memory - 64 KiB <= memsight <=
#     used_memory + used_memory_lua + 256 KiB, and the dataset's ~12 MB must
#     be there: the bound is tight where it matters;
#   - the pprof profile's in-use total is the report's leaked bytes, exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gorel.sh"	# free_port

for b in redis-server redis-cli; do
	command -v "$b" > /dev/null || { fail "$b is not installed (scripts/deps.sh installs it)"; exit 0; }
done
N=10000 SIZE=1000 KIB=1024
mkdir -p "$TMP/redis"
PORT=$(free_port) || { fail "no free port"; exit 0; }
rcli() { timeout 20 redis-cli -p "$PORT" "$@"; }
"$MS" run --report "$TMP/r.json" --pprof "$TMP/r.pb.gz" -- redis-server --port "$PORT" \
	--bind 127.0.0.1 --dir "$TMP/redis" --save '' --appendonly no --daemonize no \
	> "$TMP/redis.out" 2> "$TMP/run.err" &
RUNPID=$!
PIDS_TO_KILL+=("$RUNPID")
for ((i = 0; i < 300; i++)); do
	[ "$(rcli ping 2> /dev/null)" = PONG ] && break
	kill -0 "$RUNPID" 2> /dev/null || break
	sleep 0.1
done
[ "$(rcli ping 2> /dev/null)" = PONG ] || { fail "redis-server did not start under memsight run";
	cat "$TMP/run.err" "$TMP/redis.out"; exit 0; }

V=$(head -c "$SIZE" /dev/zero | tr '\0' v)
awk -v n="$N" -v v="$V" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%06d %s\r\n", i, v }' |
	rcli --pipe > "$TMP/pipe.out" 2>&1
check "fill: $N SETs answered, no error" "$(grep -c "errors: 0, replies: $N" "$TMP/pipe.out")" 1
check "fill: $N keys" "$(rcli dbsize)" "$N"
rcli info memory | tr -d '\r' > "$TMP/info"
info() { sed -n "s/^$1://p" "$TMP/info"; }
UM=$(info used_memory) RSS=$(info used_memory_rss) LUA=$(info used_memory_lua)
check "redis's allocator is jemalloc" "$(info mem_allocator | cut -d- -f1)" jemalloc
rcli shutdown nosave > /dev/null 2>&1
wait "$RUNPID"
check "SHUTDOWN NOSAVE: redis's status 0 comes back through memsight run" "$?" 0
J=$TMP/r.json
jq -e . "$J" > /dev/null || { fail "no JSON report"; cat "$TMP/run.err"; exit 0; }
check "report: the command's status" "$(jq .exit_status "$J")" 0
check "report: jemalloc is probed" \
	"$(jq -r '.processes[0].mechanism' "$J" | grep -c 'every allocation' | tr -d '\n')$(jq -r \
	'.processes[0].mechanism' "$J" | grep -c 'libjemalloc')" 11
check "report: exact, not estimated" "$(jq .total.estimate "$J")" false
PEAK=$(jq .processes[0].peak_rss_bytes "$J")
check "peak RSS ($PEAK) >= redis's used_memory_rss ($RSS)" "$((PEAK >= RSS))" 1
# the malloc family in use at exit with jemalloc's rounding: all of it but the mmap stacks
M=$(jq '.processes[0].profile | .tracked.inuse_usable_bytes -
	([.stacks[] | select(.kind == "mmap") | .inuse_usable_bytes] | add // 0)' "$J")
echo "in use at exit (usable, malloc family) $M, used_memory $UM, used_memory_lua $LUA"
check "in use at exit ($M B) >= used_memory ($UM B) - 64 KiB" "$((M >= UM - 64 * KIB))" 1
check "in use at exit ($M B) <= used_memory + used_memory_lua ($LUA B) + 256 KiB" \
	"$((M <= UM + LUA + 256 * KIB))" 1
check "the dataset is in it: at least $N x $SIZE B" "$((M >= N * SIZE))" 1

: "${GO:=$(sed -n 's/^GO_1_19 ?= *//p' Makefile)}"
if [ -x "$GO" ]; then
	check "pprof: in use at exit is the report's leaked bytes" \
		"$(HOME=$TMP GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOTOOLCHAIN=local GOFLAGS= \
		"$GO" tool pprof -symbolize=none -top -unit=B -sample_index=inuse_space "$TMP/r.pb.gz" \
		2> /dev/null | sed -n 's/.*Total samples = \([0-9]*\)B.*/\1/p')" \
		"$(jq .total.leaked_bytes "$J")"
else
	fail "no Go toolchain at '$GO' (make deps installs golang-go)"
fi
