#!/bin/bash
# Claims (issue 14, "C and C++ servers as they are shipped"), on Debian 12's
# redis-server 7.0 (with its libjemalloc2) under redis-benchmark and on
# memcached 1.6 under a bounded set load, each started here on a loopback
# port of its own, without persistence, and stopped at the end:
#  - no allocation is shown as "[stack unavailable]" and no stack is dropped
#    (collisions, table full, quota), by default (redis: 20,000 SETs of random
#    keys give some 19,900 distinct stacks today) and with --unwind dwarf;
#  - no two rows print alike;
#  - memcached: the slab pages it mallocs (one per `item_size_max`, 1 MiB)
#    are counted exactly: count = sum of `stats slabs` total_pages, bytes =
#    total_malloced, all still in use; by default and with --unwind dwarf;
#  - with --unwind dwarf, redis and memcached: every stack down to main or
#    a thread's start, no frame outside an executable mapping, no run of
#    [unknown] frames (memcached's stripped code is still unnamed);
#  - redis with --unwind dwarf: allocation counts
#    exact against its own counters: one dict entry and one key copy (dbAdd)
#    per key SET created (its keyspace), one argv array per command and one
#    string object per argument (INFO commandstats). When the DWARF ring
#    overflows (events.dwarf_stacks_lost) a count may fall short by at most
#    that many, and the check says so.
#  - by default (no --unwind; auto unwinds these with DWARF, bounded by
#    --dwarf-rate), the same: stacks down to main or a thread's start, no
#    frame outside an executable mapping (a frame-pointer walk read redis's
#    key bytes as return addresses, and looped 126 times on a heap word in
#    memcached), no run of [unknown] frames, the redis counts exact, and the
#    reason for the unwinding chosen (tracked.unwind_reason).
#  - what allocations cost with the allocator's rounding: redis (jemalloc):
#    its dict entries (24 B asked for) cost jemalloc's 32 B class each; what
#    memsight holds in use with the rounding equals redis's own used_memory
#    growth (malloc_usable_size sums) between two INFOs taken while attached,
#    within the two INFO clients' own buffers; memcached (glibc): each 1 MiB
#    slab page costs 1 MiB plus glibc's header rounding, exactly.
# Ends with a table: figure, memsight, the server's own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gorel.sh"	# free_port

CST="python3 $(dirname "$0")/cstacks.py"
TABLE=$TMP/table
MIB=1048576

for b in redis-server redis-cli redis-benchmark memcached python3; do
	command -v "$b" > /dev/null || { fail "$b is not installed (scripts/deps.sh)"; exit 1; }
done

row() {	# FIGURE MEMSIGHT TRUTH
	printf '%-62s %14s %14s\n' "$1" "$2" "$3" >> "$TABLE"
}

# check_count DESCRIPTION GOT TRUTH LOST: GOT == TRUTH when no DWARF stack
# was lost; otherwise TRUTH - LOST <= GOT <= TRUTH (a lost stack is counted
# under its frame-pointer stack, outside the stack sought)
check_count() {
	if [ "$4" -eq 0 ]; then
		check "$1 exact" "$2" "$3"
	elif [ "$2" -le "$3" ] && [ "$2" -ge $(($3 - $4)) ]; then
		pass "$1 ($2 of $3, $4 DWARF stacks not copied: within them)"
	else
		fail "$1: got '$2', expected '$3' (or down to $(($3 - $4)): $4 DWARF stacks not copied)"
	fi
}

# observe NAME PID WORKLOAD [MEMSIGHT ARGS...]: `memsight top -p PID -d 0 -n 0
# --json` while the function WORKLOAD runs, then Ctrl-C. Leaves
# $TMP/NAME.json, the maps of PID before detaching ($TMP/NAME.maps) and the
# stack figures ($TMP/NAME.q, see cstacks.py).
observe() {
	local name=$1 pid=$2 work=$3 i rc; shift 3
	start_memsight "$TMP/$name.json" "$TMP/$name.err" top -p "$pid" -d 0 -n 0 --json "$@" &&
		wait_for "$TMP/$name.err" '^memsight: observing' 30 ||
		{ fail "$name: memsight did not attach"; cat "$TMP/$name.err"; return 1; }
	"$work" || { fail "$name: the load failed"; return 1; }
	cp "/proc/$pid/maps" "$TMP/$name.maps"
	kill -INT "$MPID"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$MPID" 2> /dev/null || break
		sleep 0.1
	done
	kill -0 "$MPID" 2> /dev/null && { kill -9 "$MPID"; fail "$name: memsight did not stop in 60 s"; }
	wait "$MPID"; rc=$?
	check "$name: memsight exits 0 after Ctrl-C" "$rc" 0
	jq -e .stacks "$TMP/$name.json" > /dev/null || { fail "$name: no JSON"; cat "$TMP/$name.err"; return 1; }
	$CST quality "$TMP/$name.json" "$TMP/$name.maps" > "$TMP/$name.q" ||
		{ fail "$name: cstacks.py failed"; return 1; }
	grep '^#' "$TMP/$name.q" || true
}

q() { awk -v k="$2" '$1 == k { print $2 }' "$TMP/$1.q"; }
ev() { jq -r ".events.$2" "$TMP/$1.json"; }

# losses NAME: nothing shown as [stack unavailable], no stack dropped
losses() {
	local n=$1 e
	check "$n: no allocation under [stack unavailable]" "$(q "$n" unavailable_allocs)" 0
	for e in stack_errors stack_collisions stack_table_full stack_quota; do
		check "$n: events.$e" "$(ev "$n" "$e")" 0
	done
	check "$n: not a lower bound" "$(jq -r .events.lower_bound "$TMP/$n.json")" false
	row "$n: stacks (distinct)" "$(q "$n" stacks)" -
	row "$n: allocations under [stack unavailable]" "$(q "$n" unavailable_allocs)" 0
}

# fallbacks NAME: allocations whose stack was not copied for DWARF unwinding
# (the ring was full, or the process's copies per second were spent): those
# are counted under their frame-pointer stack, partial here
fallbacks() { echo $(( $(ev "$1" dwarf_stacks_lost) + $(ev "$1" dwarf_stacks_over_rate) )); }

# whole NAME: issue 14's stack claims. With N stacks walked by frame pointers
# instead (fallbacks), up to N stacks may be partial, and a run of [unknown]
# frames is not judged.
whole() {
	local n=$1 lost
	lost=$(fallbacks "$n")
	check "$n: rows that print like another row" "$(q "$n" dup_rows)" 0
	check "$n: the report says why it unwinds as it does (tracked.unwind_reason)" \
		"$(jq -r 'if .tracked.unwind_reason then "given" else "none" end' "$TMP/$n.json")" given
	row "$n: unwinding (tracked.unwind)" "$(jq -r .tracked.unwind "$TMP/$n.json")" -
	row "$n: allocations with a partial stack" "$(q "$n" partial_allocs)" 0
	row "$n: frames outside exec mappings" "$(q "$n" frames_outside_exec) of $(q "$n" frames)" 0
	row "$n: longest run of [unknown] frames" "$(q "$n" longest_unknown_run)" -
	row "$n: rows if cut at the first junk frame, alike merged" "$(q "$n" rows_if_cut)" -
	if [ "$lost" -gt 0 ]; then
		check "$n: allocations with a partial stack <= DWARF stacks not copied ($lost)" \
			"$(( $(q "$n" partial_allocs) <= lost ))" 1
		check "$n: stacks with a frame outside an executable mapping <= DWARF stacks not copied ($lost)" \
			"$(( $(q "$n" stacks_outside_exec) <= lost ))" 1
		return
	fi
	check "$n: allocations whose stack reaches main or a thread start" \
		"$(( $(q "$n" allocs) - $(q "$n" partial_allocs) )) of $(q "$n" allocs)" \
		"$(q "$n" allocs) of $(q "$n" allocs)"
	check "$n: frames outside an executable mapping" "$(q "$n" frames_outside_exec)" 0
	check "$n: no run of [unknown] frames (longest <= 1)" "$(( $(q "$n" longest_unknown_run) <= 1 ))" 1
}

# start_server LOG READY COMMAND...: start COMMAND (its @PORT@ replaced by a
# free port) with output to LOG, until READY PORT succeeds (20 s at most);
# a server that exits at once (its port taken meanwhile) is started again on
# another port, twice at most. Sets SPORT and SPID.
start_server() {
	local log=$1 ready=$2 try i; shift 2
	for ((try = 0; try < 3; try++)); do
		SPORT=$(free_port) || return 1
		"${@//@PORT@/$SPORT}" > "$log" 2>&1 &
		SPID=$!; PIDS_TO_KILL+=("$SPID")
		for ((i = 0; i < 200; i++)); do
			"$ready" "$SPORT" && return 0
			kill -0 "$SPID" 2> /dev/null || break
			sleep 0.1
		done
		kill -9 "$SPID" 2> /dev/null; wait "$SPID" 2> /dev/null
		echo "server did not start on port $SPORT:" >&2; cat "$log" >&2
	done
	return 1
}

# listening PORT: something listens on TCP PORT (state 0A in /proc/net/tcp)
listening() {
	awk -v p="$(printf '%04X' "$1")" '$4 == "0A" && $2 ~ (":" p "$") { f = 1 } END { exit !f }' \
		/proc/net/tcp
}

# ---------------------------------------------------------------- redis
mkdir -p "$TMP/redis"
redis_ready() { [ "$(timeout 5 redis-cli -p "$1" ping 2> /dev/null)" = PONG ]; }
start_server "$TMP/redis.log" redis_ready redis-server --port @PORT@ --bind 127.0.0.1 \
	--dir "$TMP/redis" --save '' --appendonly no --daemonize no ||
	{ fail "redis-server did not start"; exit 1; }
rport=$SPORT RPID=$SPID
rcli() { timeout 20 redis-cli -p "$rport" "$@"; }

# redis-benchmark: 20,000 SETs of keys drawn from a million, then GETs and
# LPUSHes; every count below comes from the server, not from these numbers
bench() {	# ARGS...
	timeout 120 redis-benchmark -p "$rport" -r 1000000 -q "$@" >> "$TMP/bench.out" 2>&1
}
redis_load_default() { bench -t set -n 20000 -c 4 && bench -t get,lpush -n 2000 -c 4; }
redis_load_dwarf() { bench -t set,get,lpush -n 2000 -c 1; }

# redis_truth NAME: its own counters after the observation, in $TMP/NAME.truth;
# commandstats first, before our own queries add to it. Not counted: the
# test's CONFIG RESETSTAT before memsight attached; the two INFO MEMORY of
# redis_measured are (memsight saw them).
redis_truth() {
	{
		rcli info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ {
			sub("cmdstat_", "", $1); print "calls_" $1, $3
			if ($1 != "config|resetstat") n += $3 }
			END { print "commands", n + 0 }'
		# keys SET created: all keys but the one LPUSH fills
		echo "set_keys $(( $(rcli dbsize) - $(rcli exists mylist) ))"
		rcli info memory | tr -d '\r' | awk -F: '/^(used_memory|allocator_allocated):/ { print $1, $2 }'
	} > "$TMP/$1.truth"
	sed "s/^/# $1 truth: /" "$TMP/$1.truth"
}
t() { awk -v k="$2" '$1 == k { print $2 + 0 }' "$TMP/$1.truth"; }
# redis_counts NAME: allocation counts against INFO
redis_counts() {
	local n=$1 lost got truth args
	lost=$(fallbacks "$n")
	got=$($CST count "$TMP/$n.json" zmalloc,dictAddRaw,dbAdd,setKey)
	truth=$(t "$n" set_keys)
	row "$n: dict entries of keys SET (keyspace)" "$got" "$truth"
	check_count "$n: one dict entry per key SET created" "$got" "$truth" "$lost"
	got=$($CST count "$TMP/$n.json" _sdsnewlen,dbAdd,setKey)
	row "$n: key copies of keys SET (keyspace)" "$got" "$truth"
	check_count "$n: one key copy per key SET created" "$got" "$truth" "$lost"
	got=$($CST count "$TMP/$n.json" zmalloc,processMultibulkBuffer)
	truth=$(t "$n" commands)
	row "$n: argv arrays (commandstats calls)" "$got" "$truth"
	check_count "$n: one argv array per command" "$got" "$truth" "$lost"
	# arguments of each command redis-benchmark sends (it asks CONFIG GET
	# first), and redis_measured's INFO MEMORY
	args=$(( 3 * $(t "$n" calls_set) + 2 * $(t "$n" calls_get) + 3 * $(t "$n" calls_lpush) +
		3 * $(t "$n" 'calls_config|get') + 2 * $(t "$n" calls_info) ))
	check "$n: no command other than SET, GET, LPUSH, CONFIG GET, INFO" "$(t "$n" commands)" \
		$(( $(t "$n" calls_set) + $(t "$n" calls_get) + $(t "$n" calls_lpush) +
		$(t "$n" 'calls_config|get') + $(t "$n" calls_info) ))
	got=$($CST count "$TMP/$n.json" zmalloc,createEmbeddedStringObject,processMultibulkBuffer)
	row "$n: argument objects (commandstats calls x argc)" "$got" "$args"
	check_count "$n: one string object per argument" "$got" "$args" "$lost"
}

used_memory() { rcli info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
# redis_measured: the load between two readings of used_memory, both taken
# while memsight is attached (U0, U1), so that both see the same allocations
redis_measured() { U0=$(used_memory) && "$REDIS_LOAD" && U1=$(used_memory); }

# redis_usable NAME: in use with jemalloc's rounding against used_memory
# (redis adds and subtracts malloc_usable_size() of each block). Between U0
# and U1, memsight saw every allocation and free but those of blocks made
# before it attached (events.free_unknown: redis's idle cron frees none here);
# the difference is the clients that ran the two INFOs: the first one's
# buffers are in U0 and freed later, the second one's are in U1, both freed
# before memsight reads. A client's buffers are under 64 KiB (querybuf 32 KiB
# + reply 16 KiB + the client); the difference must be within one of them.
redis_usable() {
	local n=$1 m d entries eu
	m=$(jq .tracked.inuse_usable_bytes "$TMP/$n.json")
	d=$((U1 - U0))
	row "$n: in use asked for / with the rounding / used_memory delta" \
		"$(jq .tracked.inuse_bytes "$TMP/$n.json") / $m" "$d"
	check "$n: in use with the rounding is known (jemalloc's size classes)" \
		"$(jq -r '.tracked.usable_unavailable // "known"' "$TMP/$n.json")" known
	check "$n: used_memory delta - in use with the rounding within one client's buffers (64 KiB)" \
		"$(( d - m <= 65536 && m - d <= 65536 ))" 1
	# dictAddRaw's entries: 24 B asked for, jemalloc's 32 B class
	read -r entries eu < <(jq -r '[.stacks[] | select(.kind == "malloc" and any(.frames[];
		.func == "dictAddRaw") and any(.frames[]; .func == "dbAdd") and .alloc_bytes == 24 * .alloc_count)] |
		"\(map(.alloc_count) | add // 0) \(map(.alloc_usable_bytes) | add // 0)"' "$TMP/$n.json")
	check "$n: dict entries cost jemalloc's 32 B class each (of $entries)" "$eu" $((32 * entries))
}

# redis_run NAME LOAD [MEMSIGHT ARGS...]: a fresh keyspace and counters
redis_run() {
	local n=$1; REDIS_LOAD=$2; shift 2
	rcli flushall > /dev/null && rcli config resetstat > /dev/null || { fail "$n: redis-cli"; return; }
	observe "$n" "$RPID" redis_measured "$@" || return
	redis_truth "$n"
	losses "$n"
	whole "$n"
	redis_counts "$n"
	redis_usable "$n"
	row "$n: DWARF stacks lost (ring full)" "$(ev "$n" dwarf_stacks_lost)" -
}

t0=$(date +%s)
redis_run redis-default redis_load_default
# not a check: today's > 16,000 distinct stacks are the junk frames below
# the first (key bytes read as return addresses); cut there, they are a few
echo "note: redis-default: $(q redis-default stacks) distinct stacks, $(q redis-default rows_if_cut) if cut at the first junk frame"
redis_run redis-dwarf redis_load_dwarf --unwind dwarf
rcli shutdown nosave > /dev/null 2>&1
wait "$RPID" 2> /dev/null
echo "redis: $(( $(date +%s) - t0 )) s"

# ---------------------------------------------------------------- memcached
MC_N=10000 MC_BIG=200
# mc_load: MC_N sets of values of five sizes (five slab classes), then
# MC_BIG of 100,000 bytes (read into a buffer of their own: the allocation
# whose frame-pointer walk loops on a heap word), each answered STORED;
# bounded: 52 MB of values in a 128 MiB cache, no eviction
mc_load() {
	timeout 120 python3 - "$mport" "$MC_N" "$MC_BIG" <<'EOF'
import socket, sys
port, n, big = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sizes = [50, 200, 800, 3000, 12000]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
keys = [(i, sizes[i % 5]) for i in range(n)] + [(n + i, 100000) for i in range(big)]
for start in range(0, len(keys), 100):
	batch = keys[start:start + 100]
	s.sendall(b"".join(b"set key:%08d 0 0 %d\r\n%s\r\n" % (i, size, b"v" * size)
			   for i, size in batch))
	for i, size in batch:
		if f.readline() != b"STORED\r\n":
			sys.exit("set %d not stored" % i)
EOF
}
# mc_stats ARGS...: "name value" lines of memcached's `stats ARGS`
mc_stats() {
	timeout 20 python3 - "$mport" "$@" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(("stats %s\r\n" % " ".join(sys.argv[2:])).strip().encode() + b"\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
	d = s.recv(65536)
	if not d:
		sys.exit("connection closed")
	buf += d
for l in buf.decode().splitlines():
	if l.startswith("STAT "):
		print(l[5:])
EOF
}
mc_sum() { awk -v k="$2" '{ split($1, a, ":") } a[length(a)] == k { s += $2 } END { print s + 0 }' "$1"; }

# mc_work: what memsight observes: the counters before, then the load
mc_work() {
	mc_stats slabs > "$TMP/$mc_name.slabs0" && mc_stats settings > "$TMP/$mc_name.settings" &&
		mc_load
}

# mc_usable NAME PAGES PAGE: what slab pages cost in glibc's malloc: a page
# from the heap is a chunk of PAGE + 8 rounded up to 16, all but 8 bytes of
# it usable; an mmapped one, PAGE + 8 rounded up to 4 KiB, all but its 16 B
# header; which one glibc chose (its mmap threshold moves) is not ours to know
mc_usable() {
	local n=$1 pages=$2 page=$3 got heap mm nmm
	got=$(jq --argjson p "$page" '[.stacks[] | select(.kind == "malloc" and .alloc_count > 0 and
		.alloc_bytes == .alloc_count * $p) | .inuse_usable_bytes] | add // 0' "$TMP/$n.json")
	heap=$(( (page + 8 + 15) / 16 * 16 - 8 )) mm=$(( (page + 8 + 4095) / 4096 * 4096 - 16 ))
	nmm=$(( (got - pages * heap) / (mm - heap) ))
	row "$n: slab page bytes in use with the rounding" "$got" "$pages pages"
	check "$n: slab pages in use with glibc's rounding: $nmm mmapped ($mm B), the rest heap chunks ($heap B)" \
		"$got" "$(( nmm >= 0 && nmm <= pages ? nmm * mm + (pages - nmm) * heap : -1 ))"
}

# mc_run NAME [MEMSIGHT ARGS...]: a fresh memcached, observed under mc_load
mc_run() {
	local n=$1 pid pages0 malloced0 page got; shift
	# ready when listening, without a connection before memsight attaches:
	# a worker thread's first connection allocates its buffers, to be seen
	start_server "$TMP/$n.log" listening memcached -u root -l 127.0.0.1 -p @PORT@ -U 0 \
		-m 128 -t 2 || { fail "$n: memcached did not start"; return; }
	mport=$SPORT pid=$SPID
	mc_name=$n
	observe "$n" "$pid" mc_work "$@" || { kill "$pid"; return; }
	pages0=$(mc_sum "$TMP/$n.slabs0" total_pages)
	malloced0=$(mc_sum "$TMP/$n.slabs0" total_malloced)
	page=$(awk '$1 == "item_size_max" { print $2 }' "$TMP/$n.settings")
	check "$n: slab page size" "$page" "$MIB"
	mc_stats > "$TMP/$n.stats"; mc_stats slabs > "$TMP/$n.slabs"
	check "$n: every set stored, none evicted" \
		"$(mc_sum "$TMP/$n.stats" cmd_set) $(mc_sum "$TMP/$n.stats" curr_items) $(mc_sum "$TMP/$n.stats" evictions)" \
		"$((MC_N + MC_BIG)) $((MC_N + MC_BIG)) 0"
	losses "$n"
	whole "$n"
	# slab pages: malloc'd one page at a time (do_slabs_newslab), never freed;
	# a stack whose every allocation is one page holds slab pages only
	jq -r --argjson p "$page" '[.stacks[] | select(.kind == "malloc" and .alloc_count > 0 and
		.alloc_bytes == .alloc_count * $p)] | [map(.alloc_count), map(.alloc_bytes),
		map(.inuse_bytes)] | map(add // 0) | join(" ")' "$TMP/$n.json" > "$TMP/$n.pages"
	read -r got_n got_b got_u < "$TMP/$n.pages"
	truth_n=$(( $(mc_sum "$TMP/$n.slabs" total_pages) - pages0 ))
	truth_b=$(( $(mc_sum "$TMP/$n.slabs" total_malloced) - malloced0 ))
	check "$n: slab pages malloc'd = stats slabs total_pages" "$got_n" "$truth_n"
	check "$n: slab page bytes = stats slabs total_malloced" "$got_b" "$truth_b"
	check "$n: slab pages all still in use" "$got_u" "$truth_b"
	mc_usable "$n" "$got_n" "$page"
	row "$n: slab pages (sum of total_pages)" "$got_n" "$truth_n"
	row "$n: slab page bytes (total_malloced)" "$got_b" "$truth_b"
	row "$n: allocations / sets" "$(q "$n" allocs)" "$((MC_N + MC_BIG)) sets"
	row "$n: DWARF stacks lost (ring full)" "$(ev "$n" dwarf_stacks_lost)" -
	kill "$pid"; wait "$pid" 2> /dev/null
}

t0=$(date +%s)
mc_run memcached-default
mc_run memcached-dwarf --unwind dwarf
echo "memcached: $(( $(date +%s) - t0 )) s"

echo
printf '%-62s %14s %14s\n' figure memsight "server's own"
cat "$TABLE"
