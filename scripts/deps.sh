#!/bin/sh
# Install (or check) everything memsight needs to build, test and demo on
# Debian 12. Idempotent: apt is only called when a package is missing.
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev \
libcmocka-dev libmicrohttpd-dev libjson-c-dev g++ libclang-rt-14-dev libxml2-utils pkg-config jq prometheus systemd python3-yaml golang-go binutils procps psmisc musl-tools libc6-dbg \
qemu-system-x86 busybox-static cpio file curl libcapstone-dev libprotobuf-c-dev protobuf-c-compiler etcd-server \
redis-server redis-tools memcached strace systemtap-sdt-dev chromium openssl"
# TLS on memsightd's listener is libmicrohttpd's: Debian 12's libmicrohttpd12
# is built with GnuTLS (it depends on libgnutls30), so MHD_USE_TLS works with
# nothing more; openssl makes t_http_auth's self-signed certificate.

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# npm fetches esbuild's release binaries (tests/fixtures/gorelease.sh); a
# Node.js from elsewhere may bring its own npm, which serves as well
command -v npm > /dev/null 2>&1 || missing="$missing npm"
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "memsight: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "memsight: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# prometheus, etcd-server, redis-server and memcached are test subjects,
# started by the tests on loopback ports of their own: keep apt from
# starting them as services on their default ports (a policy-rc.d already
# in place is left as it is)
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
