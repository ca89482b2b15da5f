#!/bin/bash
# The sampler library's semantics (issue 17): the same programs with and
# without libmemsight_sampler.so preloaded, detached and attached (counting
# uprobes on its USDT sites raise its semaphores, as libbpf's attach does).
#
#   tests/sampler/run.sh [BUILD_DIR]
#
# Prints PASS/FAIL lines and "sampler: N passed, N failed"; writes
# "N M" to BUILD_DIR/sampler.result for tests/run-all.sh. About 30 s.
O=${1:-build}
cd "$(dirname "$0")/.." && cd .. || exit 1
LIB=$(realpath "$O/libmemsight_sampler.so")
T=$O/tests/sampler
export SAMPLER_DLLIB=$(realpath "$T/libdlalloc.so")
rm -f "$O/sampler.result"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { echo "PASS sampler: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL sampler: $*"; fail=$((fail + 1)); }

for f in "$LIB" "$T/semantics" "$T/cxx" "$SAMPLER_DLLIB" "$T/table_stress"; do
	[ -e "$f" ] || { ko "$f missing (make)"; echo "sampler: $pass passed, $fail failed"
		echo "$pass $fail" > "$O/sampler.result"; exit 1; }
done

# every probe site is the 5-byte nop the kernel optimises, with a semaphore
sites=$(readelf -n "$LIB" | awk '/Provider: memsight/ { p = 1 } p && /Location:/ {
	gsub(",", ""); print $2, $6; p = 0 }')
nsites=0 badsites=0
while read -r loc sem; do
	nsites=$((nsites + 1))
	bytes=$(objdump -d --start-address="$loc" --stop-address=$((loc + 5)) "$LIB" |
		awk -F'\t' '/^ *[0-9a-f]+:/ { print $2 }' | tr -d ' \n')
	[ "$bytes" = 0f1f440000 ] && [ "$((sem))" -ne 0 ] || badsites=$((badsites + 1))
done <<< "$sites"
[ "$nsites" -ge 2 ] && [ "$badsites" -eq 0 ] &&
	ok "$nsites USDT sites, each nopl 0x0(%rax,%rax,1) (0f 1f 44 00 00) with a semaphore" ||
	ko "USDT sites: $nsites found, $badsites not a 5-byte nop with a semaphore"
for s in memsight_sampler_abi memsight_sampler_mean_bytes memsight_sampler_dropped; do
	nm -D --defined-only "$LIB" | grep -q " $s$" || ko "$s not exported"
done
nm -D --defined-only "$LIB" | grep -q " memsight_sampler_dropped$" && ok "globals exported"

# run NAME ENV... -- CMD...: its ok/FAIL lines counted, its facts kept in $TMP/NAME
run() {
	local name=$1; shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
	env "${envs[@]}" timeout 300 "$@" > "$TMP/$name.out" 2>&1
	local rc=$?
	grep '^#' "$TMP/$name.out" | sed "s/^/  $name: /"
	grep '^fact ' "$TMP/$name.out" > "$TMP/$name.facts"
	local n
	n=$(grep -c '^ok ' "$TMP/$name.out")
	if [ "$rc" -eq 0 ] && ! grep -q '^FAIL' "$TMP/$name.out" && [ "$n" -gt 0 ]; then
		ok "$name: $n checks"
	else
		ko "$name (exit $rc):"; grep '^FAIL' "$TMP/$name.out" | sed 's/^/    /'
		tail -3 "$TMP/$name.out" | sed 's/^/    | /'
	fi
}
same_facts() {
	if diff "$TMP/plain.facts" "$TMP/$1.facts" > "$TMP/$1.diff"; then
		ok "$1: same pointers' usable sizes, errno and failure results as without it"
	else
		ko "$1: the allocator behaves differently:"; sed 's/^/    /' "$TMP/$1.diff"
	fi
}

# MEMSIGHT_SAMPLE_BYTES: a decimal number > 0, anything else leaves the default
badenv=0
for v in 4096:4096 1:1 "":524288 0:524288 -1:524288 abc:524288 12x:524288 " 7":524288 \
	 99999999999999999999999:524288 18446744073709551615:524288; do
	got=$(MEMSIGHT_SAMPLE_BYTES=${v%:*} LD_PRELOAD=$LIB timeout 10 "$T/semantics" --print-mean)
	[ "$got" = "mean ${v##*:}" ] || { badenv=1; echo "    '${v%:*}' gave '$got'"; }
done
[ "$badenv" -eq 0 ] && ok "MEMSIGHT_SAMPLE_BYTES: numbers taken, garbage and overflow ignored" ||
	ko "MEMSIGHT_SAMPLE_BYTES parsing"

run plain -- "$T/semantics"
run preload-detached "LD_PRELOAD=$LIB" -- "$T/semantics"
same_facts preload-detached
run preload-detached-mean1 "LD_PRELOAD=$LIB" MEMSIGHT_SAMPLE_BYTES=1 -- "$T/semantics"
same_facts preload-detached-mean1
run attached-mean1 "LD_PRELOAD=$LIB" MEMSIGHT_SAMPLE_BYTES=1 -- "$T/semantics" --attach "$LIB"
same_facts attached-mean1
run attached-512k "LD_PRELOAD=$LIB" MEMSIGHT_SAMPLE_BYTES=524288 -- \
	"$T/semantics" --attach "$LIB" --threads-iters 1000000
same_facts attached-512k
# the tables of sampled pointers under threads handing pointers to each other
if timeout 60 "$T/table_stress" > "$TMP/table_stress.out" 2>&1; then
	ok "table under threads: $(sed -n 's/^# //p' "$TMP/table_stress.out"), every remove found its pointer"
else
	ko "table under threads:"; sed 's/^/    | /' "$TMP/table_stress.out"
fi
run cxx-plain -- "$T/cxx"
run cxx-attached-mean1 "LD_PRELOAD=$LIB" MEMSIGHT_SAMPLE_BYTES=1 -- "$T/cxx" --attach "$LIB"

# the project's own C targets (target.h protocol) with the sampler loaded
# drive BIN [ENV...]: ready, SIGUSR1, done, (leaky: SIGUSR2, verified), SIGTERM;
# prints the target's output, returns its exit status (1 on a timeout). Each
# run writes a file of its own, made before the target starts: a background
# job's '> FILE' truncates only once its child runs, so a reused file could
# show the run before's 'ready' and 'done' (and SIGUSR1 then killed the child
# before it even opened the file: the run before's output was compared).
drive() {
	local bin=$1 out i pid; shift
	out=$(mktemp "$TMP/drive.XXXXXX") || return 1
	env "$@" "$bin" > "$out" 2>&1 &
	pid=$!
	for i in $(seq 100); do grep -q '^ready' "$out" && break; sleep 0.1; done
	kill -USR1 "$pid"
	for i in $(seq 300); do grep -q '^done' "$out" && break; sleep 0.1; done
	if [ "${bin##*/}" = leaky ]; then
		kill -USR2 "$pid"
		for i in $(seq 100); do grep -q '^verified' "$out" && break; sleep 0.1; done
	fi
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	cat "$out"
	grep -q '^done' "$out" || return 1
	return $rc
}
for t in leaky manystacks threads cxxjump; do
	bin=$O/tests/targets/$t
	[ -x "$bin" ] || { ko "$t: $bin missing (make)"; continue; }
	# the status is drive's, not grep's
	a=$(drive "$bin" X=1 | grep -v '^ready'; exit "${PIPESTATUS[0]}"); ra=$?
	b=$(drive "$bin" "LD_PRELOAD=$LIB" MEMSIGHT_SAMPLE_BYTES=1 | grep -v '^ready'
	    exit "${PIPESTATUS[0]}"); rb=$?
	if [ "$ra" = "$rb" ] && [ "$a" = "$b" ] && [ -n "$b" ]; then
		ok "$t under the sampler (mean 1): same output and exit status ($rb)"
	else
		ko "$t under the sampler: exit $rb (alone $ra), output differs:"
		diff <(echo "$a") <(echo "$b") | head -5 | sed 's/^/    /'
	fi
done

# Debian's redis-server: its jemalloc is libjemalloc.so.2 with unprefixed names,
# so its malloc/calloc/realloc/free bind to the sampler, which forwards to it
bind=$(LD_DEBUG=bindings LD_PRELOAD=$LIB redis-server --version 2>&1)
if echo "$bind" | grep -q "redis-server \[0\] to $LIB \[0\]: normal symbol .malloc'" &&
   echo "$bind" | grep -q "$LIB \[0\] to [^ ]*libjemalloc.so.2 \[0\]: normal symbol .malloc'"; then
	ok "redis-server's malloc binds to the sampler, the sampler's to libjemalloc.so.2"
else
	ko "redis-server's malloc does not go through the sampler to jemalloc"
fi
for mean in 524288 1; do
	sock=$TMP/redis.sock
	LD_PRELOAD=$LIB MEMSIGHT_SAMPLE_BYTES=$mean redis-server --port 0 --unixsocket "$sock" \
		--save '' --appendonly no --dir "$TMP" > "$TMP/redis.log" 2>&1 &
	rpid=$!
	for i in $(seq 100); do [ "$(redis-cli -s "$sock" ping 2>/dev/null)" = PONG ] && break
		sleep 0.1; done
	bout=$(timeout 120 redis-benchmark -s "$sock" -r 100000 -n 20000 -c 4 -t set,get,lpush -q \
		2>&1 | tr '\r' '\n' | grep 'requests per second')
	alloc=$(redis-cli -s "$sock" info memory | tr -d '\r' | sed -n 's/^mem_allocator://p')
	keys=$(redis-cli -s "$sock" dbsize)
	redis-cli -s "$sock" shutdown nosave > /dev/null 2>&1
	wait "$rpid"; rrc=$?
	if [ "$(echo "$bout" | grep -c 'requests per second')" -eq 3 ] && [ "$rrc" -eq 0 ] &&
	   [ "${alloc%%-*}" = jemalloc ] && [ "${keys:-0}" -gt 1000 ]; then
		ok "redis-server ($alloc) under the sampler at mean $mean: $keys keys," \
		   "$(echo "$bout" | sed 's/ requests per second.*//' | tr '\n' ' ')requests/s"
	else
		ko "redis-server under the sampler at mean $mean: exit $rrc, allocator '$alloc', keys '$keys'"
		echo "$bout" | tail -3 | sed 's/^/    | /'; tail -3 "$TMP/redis.log" | sed 's/^/    | /'
	fi
done

echo "sampler: $pass passed, $fail failed"
echo "$pass $fail" > "$O/sampler.result"
[ "$fail" -eq 0 ]
