#!/bin/bash
# tests/fuzz/seeds.sh BUILD_DIR - (re)make the seed corpora under
# BUILD_DIR/fuzz/seeds/<target>/ from what the build already has: the tiny
# ELFs of mkseeds, the symboliser and Go fixtures, system binaries (whole,
# stripped, compressed, truncated), the committed request lines, the
# shipped config and real /proc files. Called by fuzz.mk; seeds are inputs
# only, the fuzzers write what they find to BUILD_DIR/fuzz/corpus/.
set -eu
O=$1
cd "$(dirname "$0")/../.."
S=$O/fuzz/seeds
SYMFIX=$O/fixtures/symbolize
GOFIX=$O/fixtures/goruntime
rm -rf "$S"
mkdir -p "$S"/{elf,symbolize,goruntime,ctl_proto,config,procfs,unwind,ustacks,textsafe,cgroup,sampler_table,podinfo,report_read,budget_file,pprof_read,http_auth}

"$O/fuzz/mkseeds" "$S"

# -- symbolize: the fixture in its shapes, /bin/true in more, cut at header
# boundaries and in the middle of the section table
sym=$S/symbolize
for f in sym_fixture sym_fixture_nopie sym_fixture.debug sym_fixture_zdebug trunc_hdr trunc_shdr; do
	cp "$SYMFIX/$f" "$sym/fixture-$f"
done
cp "$SYMFIX/bid/sym_fixture" "$sym/fixture-stripped"
cp "$SYMFIX/linked/sym_fixture" "$sym/fixture-debuglink"
objcopy --compress-debug-sections=zstd "$SYMFIX/sym_fixture" "$sym/fixture-zstd" 2>/dev/null ||
	rm -f "$sym/fixture-zstd"
cp /bin/true "$sym/true"
strip -o "$sym/true-stripped" /bin/true
objcopy --remove-section=.gnu_debuglink --add-gnu-debuglink="$SYMFIX/sym_fixture.debug" \
	/bin/true "$sym/true-debuglink" 2>/dev/null || rm -f "$sym/true-debuglink"
for n in 64 200 1000 4096 20000; do
	head -c "$n" /bin/true > "$sym/true-head$n"
done
size=$(stat -c %s "$SYMFIX/sym_fixture")
head -c $((size - 100)) "$SYMFIX/sym_fixture" > "$sym/fixture-cut-shdrs"
# a module and its debug file, joined by the marker fuzz_symbolize splits at
for pair in bid/sym_fixture:sym_fixture.debug linked/sym_fixture:sym_fixture.debug \
	    crc/sym_fixture_nobid:sym_fixture_nobid.debug \
	    badcrc/sym_fixture_nobid:badcrc/sym_fixture_nobid.debug \
	    bid/sym_fixture:sym_fixture_otherbid.debug; do
	mod=${pair%%:*} dbg=${pair#*:}
	{ cat "$SYMFIX/$mod"; printf 'MSDEBUG!'; cat "$SYMFIX/$dbg"; } \
		> "$sym/pair-$(echo "$mod-$dbg" | tr / _)"
done

# -- goruntime: tiny crafted binaries, one real stripped Go binary and a PIE,
# and real headers cut short
go=$S/goruntime
cp "$GOFIX/leaky-stripped" "$go/leaky-stripped"
cp "$GOFIX/leaky-pie" "$go/leaky-pie"
for n in 64 4096 65536; do
	head -c "$n" "$GOFIX/leaky" > "$go/leaky-head$n"
done
cp "$S/symbolize/tiny-le64" "$go/not-go"

# -- elf: every single-file seed of the two above (the readers on top of it
# see these files)
for f in "$sym"/* "$go"/*; do
	case $(basename "$f") in pair-*) continue ;; esac
	cp "$f" "$S/elf/$(basename "$(dirname "$f")")-$(basename "$f")"
done

# -- ctl_proto: the committed request lines, one stream of several, one line
# too long for the reader
ctl=$S/ctl_proto
cp tests/fuzz/seeds/ctl_proto/* "$ctl/"
for f in tests/fuzz/seeds/ctl_proto/*; do cat "$f"; echo; done > "$ctl/stream"
{ printf 'attach comm='; head -c 4100 /dev/zero | tr '\0' a; printf '\nping\n'; } > "$ctl/too-long"
printf '{"ok":true,"payload_bytes":18446744073709551615}' > "$ctl/payload-header"

# -- config: the shipped file and the test fixtures
cp deploy/memsightd.conf "$S/config/memsightd.conf"
cp tests/fixtures/config/*.conf "$S/config/"

# -- http_auth: Authorization values, right and wrong
printf 'Bearer fuzz-token-0123456789abcdef' > "$S/http_auth/bearer"
printf 'Basic YWxpY2U6cGE6c3M=' > "$S/http_auth/basic"
printf 'Basic Ym9iOmh1bnRlcjIy' > "$S/http_auth/basic-bob"
printf 'Basic Ym9iOmh1bnRlcjIz' > "$S/http_auth/basic-wrong"
printf 'bearer   fuzz-token-0123456789abcde' > "$S/http_auth/bearer-short"
printf 'Digest username="alice"' > "$S/http_auth/digest"
# -- budget_file: the committed budgets files, and one broken at its last line
cp tests/fixtures/budgets/*.budgets "$S/budget_file/"
printf 'max-leaked 1M\nmax-leaked a=1K\nmax-leaked a=2K\n' > "$S/budget_file/twice"

# -- procfs: first byte picks the file (0 maps, 1 status, 2 stat, 3 comm, 4 cgroup)
p=$S/procfs
i=0
for name in maps status stat comm cgroup; do
	# (a NUL cannot go through a shell variable: print the selector each time)
	sel="\\$(printf %03o "$i")"
	{ printf "$sel"; cat "/proc/self/$name"; } > "$p/self-$name"
	for d in tests/fixtures/procfs/*/*/; do
		[ -f "$d$name" ] || continue
		tag=$(basename "$(dirname "$d")")-$(basename "$d")
		{ printf "$sel"; cat "$d$name"; } > "$p/$tag-$name"
	done
	i=$((i + 1))
done
for f in tests/fixtures/config/proc/*/cgroup; do
	[ -f "$f" ] || continue
	{ printf '\004'; cat "$f"; } > "$p/cgroup-$(basename "$(dirname "$f")")"
done
# cgroup: first byte picks the parser (0 /proc/PID/cgroup, 1 mountinfo, 2 flat keys,
# 3 limit, 4 memory.pressure); the fixtures' files and this machine's
c=$S/cgroup
{ printf '\000'; cat /proc/self/cgroup; } > "$c/self-cgroup"
{ printf '\001'; cat /proc/self/mountinfo; } > "$c/self-mountinfo"
for d in tests/fixtures/cgroup/*/; do
	tag=$(basename "$d")
	for f in "$d"proc/*/cgroup; do { printf '\000'; cat "$f"; } > "$c/$tag-cgroup"; done
	{ printf '\001'; cat "$d/mountinfo"; } > "$c/$tag-mountinfo"
	find "$d" -name memory.stat -o -name memory.events -o -name memory.oom_control |
		while read -r f; do { printf '\002'; cat "$f"; } > "$c/$tag-$(basename "$f")"; done
	find "$d" -name memory.max -o -name memory.limit_in_bytes |
		while read -r f; do { printf '\003'; cat "$f"; } > "$c/$tag-$(basename "$f")"; done
	find "$d" -name memory.pressure |
		while read -r f; do { printf '\004'; cat "$f"; } > "$c/$tag-pressure"; done
done
# podinfo: the runtimes' OCI specs of the container fixtures, as they are
find tests/fixtures/container -name config.json | sort | while read -r f; do
	cp "$f" "$S/podinfo/$(basename "$(dirname "$f")" | cut -c1-12)-$(echo "$f" | cksum | cut -d' ' -f1)"
done
# report_read: the hand-written reports of every shape diff reads
cp tests/fixtures/diff/* "$S/report_read/"
# pprof_read: memsight's run --pprof (raw protobuf) and Go's heap profile (gzipped)
cp tests/fixtures/pprof/* "$S/pprof_read/"
# unwind: 8 registers + max + pc mode, then stack bytes (zeros; a counting pattern)
u=$S/unwind
head -c 66 /dev/zero > "$u/zero"
{ head -c 66 /dev/zero; seq 1 400 | tr '\n' ' '; } > "$u/pattern"
# ustacks: (op, sample, key) triples: bind, bind again, retire, forget, unbind
printf '\000\001\005\000\002\005\002\001\000\000\003\011\003\002\001\001\003\000' > "$S/ustacks/ops"

# textsafe: names from targets: an escape sequence and a newline, raw and UTF-8
# C1, a bidi override, UTF-8 of every length, invalid bytes
printf '\033[31m\033[2J\n' > "$S/textsafe/comm-escape"
printf 'a\233[2J\302\233x\342\200\256evil' > "$S/textsafe/c1-bidi"
printf 'caf\303\251 \346\227\245 \360\237\220\233 \300\257\355\240\200\364\220\200\200\377' \
	> "$S/textsafe/utf8"
# sampler_table: 200 inserts of distinct pointers (the fuzz build has 64 slots:
# collisions and drops), then their removes
for op in 001 000; do
	for i in $(seq 0 199); do printf "\\$op\\$(printf %03o "$i")\\007"; done
done > "$S/sampler_table/fill-drain"
