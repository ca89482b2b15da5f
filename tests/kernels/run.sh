#!/bin/bash
# run.sh O: the kernel matrix. Boots each kernel of tests/kernels/matrix (a
# Debian package, downloaded by apt and unpacked, never installed) under
# qemu-system-x86_64 with software emulation and a root file system made by
# mkroot.sh, runs the smoke suite (SMOKE below: the same test files the host
# runs) inside, and collects their PASS/FAIL lines from the guest's second
# serial port. Writes $O/kernels.log and "passed failed skipped" to
# $O/kernels.result; closes with "kernels: N passed, N failed".
O=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
SMOKE=${MS_KERNEL_SMOKE:-t_kernel,t_top_leaky,t_rss,t_sampled,t_dwarf,t_go,t_daemon_kill,t_run}
KDIR=$O/kernels
LOG=$O/kernels.log
mkdir -p "$KDIR"
: > "$LOG"

skip() {
	echo "################################################################"
	echo "# SKIPPING the kernel matrix: $*"
	echo "################################################################"
	echo "0 0 1" > "$O/kernels.result"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "not running as root (apt-get download, qemu)"
command -v qemu-system-x86_64 > /dev/null || skip "no qemu-system-x86_64 (scripts/deps.sh installs it)"

# the image package a (meta)package stands for, and its vmlinuz under $KDIR
fetch_kernel() {
	local pkg=$1 img deb
	img=$(apt-cache depends "$pkg" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$img" ] || img=$pkg
	if ! ls "$KDIR/$img"/boot/vmlinuz-* > /dev/null 2>&1; then
		rm -rf "$KDIR/$img" "$KDIR/dl"
		mkdir -p "$KDIR/dl"
		(cd "$KDIR/dl" && apt-get download "$img" > /dev/null 2>&1) ||
			{ apt-get update -qq > /dev/null 2>&1 && (cd "$KDIR/dl" && apt-get download "$img" > /dev/null); } ||
			return 1
		dpkg-deb -x "$KDIR"/dl/*.deb "$KDIR/$img" || return 1
		rm -rf "$KDIR/dl" "$KDIR/$img/lib/modules" "$KDIR/$img/usr"
	fi
	ls "$KDIR/$img"/boot/vmlinuz-*
}

echo "kernels: building the guest root file system"
tests/kernels/mkroot.sh "$O" "$KDIR/root.cpio.gz" || { echo "FAIL kernels: mkroot" >> "$LOG"; }
kvm=() timescale=5
[ -w /dev/kvm ] && kvm=(-enable-kvm -cpu host) timescale=1

while read -r name pkg expect; do
	[[ -z $name || $name == \#* ]] && continue
	[ -s "$KDIR/root.cpio.gz" ] || break
	vmlinuz=$(fetch_kernel "$pkg") || { echo "FAIL $name: cannot download $pkg" >> "$LOG"; continue; }
	echo "kernels: booting $name ($(basename "$vmlinuz")) with ${SMOKE//,/ }"
	start=$(date +%s)
	rm -f "$KDIR/$name.console" "$KDIR/$name.results"
	timeout "${MS_KERNEL_TIMEOUT:-2400}" qemu-system-x86_64 "${kvm[@]}" -m 2048 -smp 2 \
		-display none -monitor none -no-reboot \
		-kernel "$vmlinuz" -initrd "$KDIR/root.cpio.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 ms.tests=$SMOKE ms.expect=${expect// /,} ms.timescale=$timescale" \
		-serial "file:$KDIR/$name.console" -serial "file:$KDIR/$name.results"
	rc=$?
	tr -d '\r' < "$KDIR/$name.results" | sed -n 's/^\(PASS\|FAIL\) \(.*\)/\1 '"$name"'\/\2/p' >> "$LOG"
	tr -d '\r' < "$KDIR/$name.results" | grep '^guest: \|^memsight \|^kernel \|^  ' | sed "s/^/  [$name] /"
	if ! tr -d '\r' < "$KDIR/$name.results" | grep -q '^guest: done'; then
		echo "FAIL $name: the guest did not finish (qemu exit $rc); console tail:" >> "$LOG"
		tail -30 "$KDIR/$name.console" | sed 's/^/    /' >> "$LOG"
	fi
	echo "kernels: $name took $(($(date +%s) - start)) s"
done < tests/kernels/matrix

p=$(grep -c '^PASS' "$LOG"); f=$(grep -c '^FAIL' "$LOG")
grep -A30 '^FAIL' "$LOG" | head -60
echo "kernels: $p passed, $f failed"
echo "$p $f 0" > "$O/kernels.result"
[ "$f" -eq 0 ]
