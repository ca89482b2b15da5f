#!/bin/bash
# /init of a test guest (tests/kernels/run.sh): mounts what the suite needs,
# runs the test files named on the kernel command line (ms.tests=a,b) exactly
# as tests/bpf/run.sh runs them on the host, writes "PASS ..."/"FAIL ..." lines
# to the second serial port and powers off. The console (first port) gets
# everything else.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
busybox ip link set lo up
exec 3> /dev/ttyS1
cd /ms || exit 1
export O=build MS=build/memsight RESULTS=/tmp/results
: > "$RESULTS"

tests=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^ms\.tests=//p' | tr ',' ' ')
# the features the matrix says this kernel has (tests/bpf/t_kernel.sh checks them)
MS_KERNEL_EXPECT=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^ms\.expect=//p' | tr ',' ' ')
export MS_KERNEL_EXPECT
# time bounds in the tests, stretched under software emulation
MS_TIME_SCALE=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^ms\.timescale=//p')
export MS_TIME_SCALE=${MS_TIME_SCALE:-1}
echo "guest: kernel $(uname -r), $(nproc) CPUs, tests: $tests" >&3
"$MS" version >&3 2>&1
for t in $tests; do
	echo "=== $t"
	start=$(date +%s)
	bash tests/bpf/run1.sh "tests/bpf/$t.sh" 900
	echo "guest: $t took $(($(date +%s) - start)) s" >&3
done
cat "$RESULTS" >&3
echo "guest: done" >&3
exec 3>&-
sync
poweroff -f
