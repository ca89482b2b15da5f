#!/bin/bash
# Claim (issue "Hostile conditions"): a process in another mount namespace,
# chrooted into a tmpfs that holds its binary and its own musl libc.so (path
# nowhere on the host, nor under /proc/PID/root, so only
# /proc/PID/map_files reaches them), has musl's allocator probed and is
# reported exactly, with its frames, musl's own included, named.
. "$(dirname "$0")/lib.sh"

NS=$TMP/ns
MUSL=$NS/lib/ld-musl-x86_64.so.1	# the loader is musl's libc.so itself
mkdir -p "$NS"
# inside: a private tmpfs at $NS laid out as a root: /only-here, whose
# PT_INTERP /lib/ld-musl-x86_64.so.1 resolves to the copy in that root
unshare -m --propagation private sh -c "
	mount -t tmpfs none '$NS' &&
	mkdir '$NS/lib' &&
	cp '$O/tests/targets/leaky-musl' '$NS/only-here' &&
	cp -L /lib/ld-musl-x86_64.so.1 '$MUSL' &&
	exec chroot '$NS' /only-here" > "$TMP/t.out" 2>&1 &
wait_for "$TMP/t.out" '^ready' 10 || { fail "target did not start in its namespace"; exit 0; }
TPID=$(awk '/^ready/ {print $2}' "$TMP/t.out")
PIDS_TO_KILL+=("$TPID")
check "the binary and its libc are not visible from here" \
	"$([ -e "$NS/only-here" ] || [ -e "$MUSL" ] && echo visible || echo hidden)" hidden
check "it runs in another mount namespace" \
	"$([ "$(readlink /proc/"$TPID"/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] &&
		echo yes)" yes
check "its mapped paths do not resolve under /proc/PID/root (it is chrooted)" \
	"$([ -e "/proc/$TPID/root$MUSL" ] && echo resolves || echo no)" no
maps_has() { grep -qE "$1" /proc/"$TPID"/maps && echo yes || echo no; }
check "its libc is the private musl (mapped: musl, glibc)" \
	"$(maps_has " $MUSL\$") $(maps_has 'libc\.so\.6')" "yes no"

start_memsight "$TMP/j.json" "$TMP/j.err" top -p "$TPID" -d 0 -n 0 --json
# one line per probed module: exactly one, the namespace's musl libc.so
check "the one module probed is the namespace's musl libc.so" \
	"$(sed -n 's/^memsight: attached to PID .*: [0-9]* probes in \(.*\) (.*)$/\1/p' \
		"$TMP/j.err")" "$MUSL"
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
kill -INT "$MPID"; wait "$MPID"; rc=$?
check "exit status" "$rc" 0

# kind_field KIND FUNC FIELD: FIELD summed over KIND stacks having FUNC as a frame
kind_field() {
	jq --arg k "$1" --arg f "$2" --arg x "$3" '[.stacks[] | select(.kind == $k) |
		select(any(.frames[]; .func == $f)) | .[$x]] | add // 0' "$TMP/j.json"
}
check "leak_a found by name and exact" "$(stack_field "$TMP/j.json" leak_a inuse_bytes)" 4096000
check "leak_a's stack is symbolised: leak_a, then main" \
	"$(jq -c '[.stacks[] | select(any(.frames[]; .func == "leak_a")) |
		[.frames[0:2][].func]] | unique' "$TMP/j.json")" '[["leak_a","main"]]'
check "leak_b: 500 calloc(25, 4) exact" "$(kind_field calloc leak_b inuse_bytes)" 50000
# musl's calloc calls malloc@plt, which is probed too: were the nested call
# counted, it would show as malloc returning into calloc
check "leak_b: musl's calloc -> malloc counted once" \
	"$(kind_field calloc leak_b alloc_count) $(kind_field malloc calloc alloc_count)" "500 0"
check "leak_c: the grown buffer is 64 KiB in use" \
	"$(stack_field "$TMP/j.json" leak_c inuse_bytes)" 65536
# 13 reallocs from NULL, 16 B up to 64 KiB: musl's realloc(NULL, 16) jumps to its
# internal malloc, which has no probe, so all 13 stay realloc (glibc: 12 + 1 malloc)
n=$(kind_field realloc leak_c alloc_count)
check "leak_c: 13 reallocs of 16 B .. 64 KiB, all under realloc" \
	"$n $(kind_field realloc leak_c alloc_bytes)" "13 131056"
# posix_memalign calls aligned_alloc@plt, also probed: counted once, as posix_memalign
pm=$(kind_field posix_memalign churn alloc_count)
check "churn: 2000 posix_memalign(64, 256) counted once each" \
	"$pm $(kind_field aligned_alloc posix_memalign alloc_count)" "2000 0"
# the two checks above are not vacuous: the nested calls did reach the probes
check "nested calls seen: >= 500 calloc -> malloc + 2000 posix_memalign -> aligned_alloc" \
	"$(jq '.events.nested_calls >= 2500' "$TMP/j.json")" true
check "churn freed everything" "$(stack_field "$TMP/j.json" churn inuse_bytes)" 0
# strdup is in musl's libc.so: found by name in the file only map_files reaches
check "a frame in musl's libc is named: strdup, 2000 x 10 B" \
	"$(jq -c --arg m "$MUSL" '[.stacks[] | .frames[0] as $f |
		select($f.func == "strdup" and $f.module == $m) | .alloc_bytes] | add' \
		"$TMP/j.json")" 20000
check "every free was of a tracked block" "$(jq .events.frees_untracked "$TMP/j.json")" 0
# leak_a + leak_b + leak_c
check "total exact" "$(jq .tracked.inuse_bytes "$TMP/j.json")" 4211536
# musl's usable sizes are not read: said so with a reason, never a 0
check "musl: in use with the allocator's rounding unavailable, with a reason" \
	"$(jq -r '[.tracked.inuse_usable_bytes, (.tracked.usable_unavailable | length > 0)] | @text' "$TMP/j.json")" \
	'[null,true]'
check "musl: leak_a's stack says why it has no usable size" \
	"$(jq -r '[.stacks[] | select(.kind == "malloc" and any(.frames[]; .func == "leak_a")) |
		(.inuse_usable_bytes == null and (.usable_unavailable | length > 0))] | all' "$TMP/j.json")" true
check "exe is the path inside the namespace" "$(jq -r .exe "$TMP/j.json")" "$NS/only-here"
kill -USR2 "$TPID"
check_cmd "the target's buffers are intact after the probes went" \
	wait_for "$TMP/t.out" '^verified' 10
