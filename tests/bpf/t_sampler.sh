#!/bin/bash
# Claims (issue 17, the observer's half): a process started with the sampler
# library (LD_PRELOAD=libmemsight_sampler.so) is attached at the library's
# USDT sites, not the malloc uprobes (the uprobe programs never run); the
# report says so; the library's own frames are hidden, so the leaking
# function tops its stack; at mean 1 the figures are exact and not called
# estimates; at 512 KiB (the default) and 4 KiB they are estimates within
# stated margins; memsight's --sample-bytes is written into the library and
# put back on detach; a sample drawn with the mean before memsight changed it
# is scaled with its own (not lost: figures are estimates, not lower
# bounds); memsightd attaches the same way; a library of another
# ABI is left alone (the uprobes, as without it).
. "$(dirname "$0")/lib.sh"

# SAMPLER_LIB: another build of the library to test against (default: this tree's)
LIB=$(realpath "${SAMPLER_LIB:-$O/libmemsight_sampler.so}")
[ -f "$LIB" ] || { fail "no $LIB (built by make)"; exit 1; }
leakfn='[.stacks[] | select(.kind == "malloc" and .frames[0].func == "leak_a") | .inuse_bytes] | add'

# lib_mean PID: the library's memsight_sampler_mean_bytes in PID now (a
# shared object's load bias is the start of its mapping at file offset 0)
lib_mean() {
	python3 - "$1" "$LIB" "$(nm -D "$LIB" | awk '$3 == "memsight_sampler_mean_bytes" {print $1}')" <<'PY'
import sys, struct
pid, lib, vaddr = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
for l in open(f"/proc/{pid}/maps"):
	f = l.split()
	if len(f) >= 6 and f[5] == lib and int(f[2], 16) == 0:
		base = int(f[0].split("-")[0], 16)
		break
with open(f"/proc/{pid}/mem", "rb") as m:
	m.seek(base + vaddr)
	print(struct.unpack("<Q", m.read(8))[0])
PY
}

# run_prog NAME: run_cnt of our program NAME (bpf_stats on)
run_prog() {
	local runs=0 r
	for id in $OUR_IDS; do
		r=$(bpftool prog show id "$id" -j 2>/dev/null | jq -r --arg n "$1" 'select(.name == $n) | .run_cnt // 0')
		[ -n "$r" ] && runs=$((runs + r))
	done
	echo "$runs"
}
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 > /proc/sys/kernel/bpf_stats_enabled
trap 'echo "$stats_was" > /proc/sys/kernel/bpf_stats_enabled; cleanup' EXIT

# 1. mean 1 (the library's, from its environment): every allocation, exact
start_target env "$TMP/t1.out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES=1 "$O/tests/targets/leaky"
start_memsight "$TMP/s1.json" "$TMP/s1.err" top -p "$TPID" -d 0 -n 0 --json
kill -USR1 "$TPID"
wait_for "$TMP/t1.out" '^done' 30
entry=$(run_prog ms_entry) sess=$(run_prog ms_alloc_session) usdt=$(run_prog ms_usdt_alloc)
kill -INT "$MPID"; wait "$MPID"
J=$TMP/s1.json
echo "figures: mean 1: ms_entry ran $entry, ms_alloc_session $sess, ms_usdt_alloc $usdt times"
check "mean 1: allocator probe said" "$(jq -r .tracked.allocator_probe "$J")" \
	"sampler library (USDT), mean 1 bytes"
check "mean 1: said at attach" "$(grep -c 'sampler library (USDT), mean 1 bytes (the library.s own), no malloc uprobes' "$TMP/s1.err")" 1
check "mean 1: no malloc uprobe ran (entry $entry, session $sess)" "$((entry + sess))" 0
check "mean 1: the USDT program ran at every malloc-family call (leaky's 9523 but its 10 mmaps)" \
	"$usdt" 9513
check "mean 1: leak_a exact, topping its stack" "$(jq "$leakfn" "$J")" 4096000
check "mean 1: total in use exact" "$(jq .tracked.inuse_bytes "$J")" 4211536
check "mean 1: not called estimates" "$(jq .tracked.estimates "$J")" false
check "mean 1: nothing lost" "$(jq .events.lower_bound "$J")" false
check "mean 1: the library remembered every sample (its dropped count read)" \
	"$(jq .tracked.sampler_dropped "$J")" 0
# churn's last round ends in frees and no sample after them: strdup's,
# posix_memalign's and realloc's (gcc drops the calloc and aligned_alloc
# whose memory churn never uses); their records are still pending in the
# library, and counted as freed (the exact total above depends on it)
check "mean 1: churn's last three frees read pending, counted as freed" \
	"$(jq .tracked.sampler_pending_frees "$J")" 3

# 1b. --unwind fp: the USDT program walks the frame pointers itself, never
# outside the stack's mapping (bpf/stacks.bpf.h inner_stack_id): the same
# stacks as the kernel's walker, to the line, nothing lost
start_target env "$TMP/t1b.out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES=1 "$O/tests/targets/leaky"
start_memsight "$TMP/s1b.json" "$TMP/s1b.err" top -p "$TPID" -d 0 -n 0 --json --unwind fp
kill -USR1 "$TPID"
wait_for "$TMP/t1b.out" '^done' 30
kill -INT "$MPID"; wait "$MPID"
J=$TMP/s1b.json
check "fp: leak_a exact" "$(jq "$leakfn" "$J")" 4096000
check "fp: leak_a's stack down to the start of main" "$(jq -r '[.stacks[] | select(.kind == "malloc" and
	.frames[0].func == "leak_a") | [.frames[].func] | join(" ")] | unique | join(",")' "$J")" \
	"leak_a main __libc_start_call_main"
check "fp: total in use exact" "$(jq .tracked.inuse_bytes "$J")" 4211536
check "fp: no stack errors, nothing lost" "$(jq '.events | .stack_errors + .stack_collisions' "$J") $(jq .events.lower_bound "$J")" "0 false"

# 2. the default mean (512 KiB, nothing set): churner allocates 409.6 MB in
# 4 KiB blocks (~780 samples: the estimate's sd is ~3.6%; 15% is 4 sd) and frees them all
start_target env "$TMP/t2.out" LD_PRELOAD="$LIB" "$O/tests/targets/churner"
start_memsight "$TMP/s2.json" "$TMP/s2.err" top -p "$TPID" -d 0 -n 0 --json
kill -USR1 "$TPID"
wait_for "$TMP/t2.out" '^done' 60
kill -INT "$MPID"; wait "$MPID"
J=$TMP/s2.json
a=$(jq '[.stacks[] | select(.frames[0].func == "churn_here") | .alloc_bytes] | add' "$J")
echo "figures: 512 KiB: churn_here allocated ~$a of 409600000 B; $(jq .events.allocs "$J") samples"
check "512 KiB: mechanism and mean said" "$(jq -r .tracked.allocator_probe "$J")" \
	"sampler library (USDT), mean 524288 bytes"
check "512 KiB: churn_here's 409.6 MB estimated within 15% ($a)" "$(within 15 "$a" 409600000)" yes
check "512 KiB: churn_here holds nothing (sampled frees seen)" \
	"$(jq '[.stacks[] | select(.frames[0].func == "churn_here") | .inuse_bytes] | add' "$J")" 0
check "512 KiB: called estimates" "$(jq .tracked.estimates "$J")" true

# 3. the library's own 4 KiB mean (its environment): leak_a's 1000 x 4 KiB
# blocks give ~630 samples (sd ~2.4%; 25% is 10 sd)
start_target env "$TMP/t3.out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES=4096 "$O/tests/targets/leaky"
start_memsight "$TMP/s3.json" "$TMP/s3.err" top -p "$TPID" -d 0 -n 0 --json
kill -USR1 "$TPID"
wait_for "$TMP/t3.out" '^done' 30
kill -INT "$MPID"; wait "$MPID"
J=$TMP/s3.json
check "4 KiB: the library's mean read" "$(jq -r .tracked.allocator_probe "$J")" \
	"sampler library (USDT), mean 4096 bytes"
a=$(jq "$leakfn" "$J")
check "4 KiB: leak_a within 25% of 4096000 ($a)" "$(within 25 "$a" 4096000)" yes
check "4 KiB: nothing lost" "$(jq .events.lower_bound "$J")" false

# 4. --sample-bytes written into the library while attached, put back after
start_target env "$TMP/t4.out" LD_PRELOAD="$LIB" "$O/tests/targets/leaky"
start_memsight "$TMP/s4.json" "$TMP/s4.err" top -p "$TPID" -d 0 -n 0 --json --sample-bytes 8192
mean_during=$(lib_mean "$TPID")
kill -INT "$MPID"; wait "$MPID"
check "--sample-bytes 8192: the session's mean said" "$(jq -r .tracked.allocator_probe "$TMP/s4.json")" \
	"sampler library (USDT), mean 8192 bytes"
check "--sample-bytes 8192: written into the library while attached" "$mean_during" 8192
check "--sample-bytes 8192: the library's 512 KiB put back on detach" "$(lib_mean "$TPID")" 524288

# 4b. the mean changed under a running countdown: leaky's thread allocated
# through the library at 4 KiB (a first SIGUSR1) before memsight attached
# and set mean 1, so its next sample still comes from a countdown drawn at
# 4 KiB. That sample is recorded with its own mean, not lost: the figures
# are estimates and not lower bounds. leak_a's 1000 x 4 KiB after attach:
# N blocks unsampled before that sample (P(N >= k) = e^-k, the countdown
# being exponential), the sample weighs 1/(1 - e^-1) = 1.58 blocks, the
# rest exact: off by (0.58 - N) blocks; 1% is N >= 41, P = e^-41.
start_target env "$TMP/t8.out" LD_PRELOAD="$LIB" MEMSIGHT_SAMPLE_BYTES=4096 "$O/tests/targets/leaky"
kill -USR1 "$TPID"
wait_for "$TMP/t8.out" '^done' 30
start_memsight "$TMP/s8.json" "$TMP/s8.err" top -p "$TPID" -d 0 -n 0 --json --sample-bytes 1
kill -USR1 "$TPID"
for _ in $(seq 600); do [ "$(grep -c '^done' "$TMP/t8.out")" -ge 2 ] && break; sleep 0.05; done
kill -INT "$MPID"; wait "$MPID"
J=$TMP/s8.json
a=$(jq "$leakfn" "$J")
echo "figures: mean 4 KiB -> 1 under a running countdown: leak_a ~$a of 4096000; $(jq .events.allocs "$J") samples"
check "mean changed: the session's mean said" "$(jq -r .tracked.allocator_probe "$J")" \
	"sampler library (USDT), mean 1 bytes"
check "mean changed: the sample at the old mean kept: not lower bounds" \
	"$(jq .events.lower_bound "$J")" false
check "mean changed: called estimates (one sample scaled at 4 KiB)" "$(jq .tracked.estimates "$J")" true
check "mean changed: leak_a within 1% of 4096000 ($a)" "$(within 1 "$a" 4096000)" yes

# 5. memsightd attaches the same way, ps says so, and its figures are exact at
# mean 1 (set by memsightd: a thread's countdown drawn before takes the new
# mean only after it runs out, its sample scaled with the old mean (4b);
# leaky's thread has allocated nothing through the library before SIGUSR1,
# so its first countdown is drawn with mean 1)
start_target env "$TMP/t5.out" LD_PRELOAD="$LIB" "$O/tests/targets/leaky"
printf '[metrics]\nlisten = off\n' > "$TMP/memsightd.conf"
start_daemon --config "$TMP/memsightd.conf" --sample-bytes 1 || { fail "daemon did not start"; exit 1; }
check "daemon: attach" "$("$MS" attach "$TPID" > /dev/null; echo $?)" 0
check "daemon: the library's mean set to 1" "$(lib_mean "$TPID")" 1
kill -USR1 "$TPID"
wait_for "$TMP/t5.out" '^done' 30
check "daemon: ps says the mechanism" "$("$MS" ps -j | jq -r --argjson p "$TPID" \
	'.processes[] | select(.pid == $p) | .allocator_probe')" "sampler library (USDT), mean 1 bytes"
check "daemon: ps text says it under the process" "$("$MS" ps | grep -c 'allocator probe: sampler library (USDT), mean 1 bytes')" 1
ms_json "$TPID"
check "daemon: leak_a exact" "$(jq "$leakfn" "$TMP/$TPID.json")" 4096000
check "daemon: detach" "$("$MS" detach "$TPID" > /dev/null; echo $?)" 0
wait_watched "$TPID" no
check "daemon: detach put the library's 512 KiB back" "$(lib_mean "$TPID")" 524288
# a rule: a process started later, with the library, is attached at its USDT sites too
check "daemon: rule for comm churner" "$("$MS" attach --comm churner > /dev/null; echo $?)" 0
start_target env "$TMP/t7.out" LD_PRELOAD="$LIB" "$O/tests/targets/churner"
wait_watched "$TPID" yes 10
check "daemon: the rule's process got the USDT probes" "$("$MS" ps -j | jq -r --argjson p "$TPID" \
	'.processes[] | select(.pid == $p) | .allocator_probe')" "sampler library (USDT), mean 1 bytes"

# 7. page faults at the library's mean: toucher maps and touches 200 MiB
# (51,200 pages, mmap, no malloc); under the library at 512 KiB one fault in
# 128 is walked (every 8th without it, t_rss), each sample standing for its
# window of 128. Off by at most a window per CPU the toucher ran on and per
# migration: 2% is 8 windows. The library's mean 4 KiB would give every 8th.
start_target env "$TMP/t7.out" LD_PRELOAD="$LIB" "$O/tests/targets/toucher"
start_memsight "$TMP/s7.json" "$TMP/s7.err" top -p "$TPID" -d 0 -n 0 --json
kill -USR1 "$TPID"
wait_for "$TMP/t7.out" '^done' 30
"$MS" top -p "$TPID" -d 0.5 --faults > "$TMP/faults7.txt" 2>/dev/null
kill -INT "$MPID"; wait "$MPID"
J=$TMP/s7.json
a=$(jq '[.stacks[] | select(.kind == "fault" and .frames[0].func == "touch_pages") | .alloc_bytes] | add' "$J")
echo "figures: faults at 512 KiB: touch_pages faulted in ~$a of $((200 * 1048576)) B"
check "faults: one in 128 sampled, said in JSON" "$(jq .rss.fault_sample_pages "$J")" 128
check "faults: and in the fault view" "$(grep -c '^page faults by stack: .*(one fault in 128 sampled' "$TMP/faults7.txt")" 1
check "faults: touch_pages's 200 MiB within 2% ($a)" "$(within 2 "$a" $((200 * 1048576)))" yes
check "faults: every sample stands for 128 pages (counts $(jq -c '[.stacks[] | select(.kind == "fault") | .alloc_count]' "$J"))" \
	"$(jq '[.stacks[] | select(.kind == "fault") | .alloc_count % 128] | (length > 0 and all(. == 0))' "$J")" true

# 6. a library of another ABI is left alone: the uprobes, as without it
ABI=$(awk '$2 == "MEMSIGHT_SAMPLER_ABI" {print $3 + 0}' include/memsight_sampler.h)
python3 - "$LIB" "$TMP/libmemsight_sampler.so" "$(nm -D "$LIB" | awk '$3 == "memsight_sampler_abi" {print $1}')" "$ABI" <<'PY'
import sys, subprocess
src, dst, vaddr, abi = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4])
b = bytearray(open(src, "rb").read())
# the ABI word lives in a read-only segment whose file offset = vaddr - (p_vaddr - p_offset)
out = subprocess.run(["readelf", "-lW", src], capture_output=True, text=True).stdout
for l in out.splitlines():
	f = l.split()
	if f and f[0] == "LOAD":
		off, va, fsz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
		if va <= vaddr < va + fsz:
			o = vaddr - va + off
			assert b[o:o + 4] == abi.to_bytes(4, "little")
			b[o:o + 4] = (abi + 1).to_bytes(4, "little")
open(dst, "wb").write(b)
PY
start_target env "$TMP/t6.out" LD_PRELOAD="$TMP/libmemsight_sampler.so" MEMSIGHT_SAMPLE_BYTES=1 \
	"$O/tests/targets/leaky"
start_memsight "$TMP/s6.json" "$TMP/s6.err" top -p "$TPID" -d 0 -n 0 --json
kill -INT "$MPID"; wait "$MPID"
check "ABI $((ABI + 1)): uprobes" "$(jq -r .tracked.allocator_probe "$TMP/s6.json")" uprobes
