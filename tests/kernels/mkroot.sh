#!/bin/bash
# mkroot.sh O OUT.cpio.gz: the root file system of a test guest, as an
# initramfs: memsight, memsightd, the test targets, the test scripts, and the
# host's own copies of the programs the tests call, each with its shared
# libraries (and their separate debug files, as the host has them), so the
# guest runs exactly the binaries the host suite runs. busybox-static fills in
# what init needs (mount, poweroff).
set -euo pipefail
O=$1 OUT=$2
cd "$(dirname "$0")/../.."
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/memsight-guestroot.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT

# the programs tests/bpf/*.sh and lib.sh run
TOOLS="bash jq bpftool curl grep sed awk mawk cat sleep date mktemp rm basename dirname comm
wc sort uniq tr tail head timeout tee cp mv mkdir ls uname id env seq cut xargs readlink
stat touch printf expr chmod ln sync nproc ps pgrep pkill find sh kill true false test
xmllint cmp"

copy() {	# copy a file to the same path under ROOT (symlinks kept as links to their target)
	local f=$1 real
	[ -e "$ROOT$f" ] && return 0
	mkdir -p "$ROOT$(dirname "$f")"
	if [ -L "$f" ]; then
		real=$(readlink -f "$f")
		copy "$real"
		ln -sf "$real" "$ROOT$f"
	else
		cp -a "$f" "$ROOT$f"
	fi
}

debug_file() {	# the host's separate debug file of an ELF, by build id, if installed
	local id
	id=$(readelf -n "$1" 2>/dev/null | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' | head -1)
	[ -n "$id" ] && [ -e "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] &&
		copy "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
	return 0
}

copy_elf() {	# an executable and every library it loads
	local f=$1 lib
	copy "$f"
	debug_file "$f"
	file -L "$f" | grep -q 'dynamically linked' || return 0
	for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
		copy "$lib"
		copy "$(readlink -f "$lib")"
		debug_file "$(readlink -f "$lib")"
	done
}

for t in $TOOLS; do
	p=$(command -v "$t" 2>/dev/null) || continue
	[[ $p == /* ]] || continue	# a shell builtin
	copy_elf "$(readlink -f "$p")"
	[ "$(readlink -f "$p")" != "$p" ] && copy "$p"
done
# /bin and /lib are links to /usr/... on Debian 12: keep them so
for l in /bin /sbin /lib /lib64; do [ -L "$l" ] && ln -sfn "$(readlink "$l")" "$ROOT$l"; done
mkdir -p "$ROOT/usr/local/bin"
cp /bin/busybox "$ROOT/usr/local/bin/busybox"
for a in mount umount poweroff mkdir; do ln -sf busybox "$ROOT/usr/local/bin/$a"; done
[ -e "$ROOT/usr/bin/mount" ] || ln -sf /usr/local/bin/busybox "$ROOT/usr/bin/mount"

# memsight, its targets and the suite, laid out as in the work tree
W=$ROOT/ms
mkdir -p "$W/$O/tests/targets" "$W/$O/fixtures/goproc"
for b in memsight memsightd; do copy_elf "$(readlink -f "$O/$b")"; cp "$O/$b" "$W/$O/$b"; done
for b in "$O"/tests/targets/*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	cp "$b" "$W/$O/tests/targets/"
	copy_elf "$(readlink -f "$b")"
done
cp "$O"/tests/targets/*.goversion "$W/$O/tests/targets/"
[ -x "$O/fixtures/goproc/target" ] && cp "$O/fixtures/goproc/target" "$W/$O/fixtures/goproc/"
# t_go's service built with the Go matrix's newest release
if [ -r "$O/fixtures/gomatrix/releases" ]; then
	nv=$(tail -1 "$O/fixtures/gomatrix/releases")
	mkdir -p "$W/$O/fixtures/gomatrix/$nv"
	cp "$O/fixtures/gomatrix/releases" "$W/$O/fixtures/gomatrix/"
	cp "$O/fixtures/gomatrix/$nv/goservice-stripped" "$O/fixtures/gomatrix/$nv/goversion" \
	   "$W/$O/fixtures/gomatrix/$nv/"
fi
cp -r tests "$W/tests"
rm -rf "$W/tests/fixtures"
# but t_run's budgets file (a few lines)
mkdir -p "$W/tests/fixtures"
cp -r tests/fixtures/budgets "$W/tests/fixtures/"
# a musl program's loader lives at its own path
for l in /lib/ld-musl-x86_64.so.1 /usr/lib/musl/lib/libc.so; do [ -e "$l" ] && copy "$l"; done

mkdir -p "$ROOT"/{proc,sys,dev,tmp,run,etc,root,var/tmp}
echo 'root:x:0:0:root:/root:/bin/bash' > "$ROOT/etc/passwd"
echo 'root:x:0:' > "$ROOT/etc/group"
echo '127.0.0.1 localhost' > "$ROOT/etc/hosts"
printf 'hosts: files\n' > "$ROOT/etc/nsswitch.conf"
cp tests/kernels/init.sh "$ROOT/init"
chmod 0755 "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
