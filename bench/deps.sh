#!/bin/sh
# Install (or check) what the overhead benchmark needs beyond memsight's own
# build deps (scripts/deps.sh): bpftrace for the memleak-equivalent column,
# wrk to load the Go service, Go to build it. Idempotent: apt only runs when
# a package is missing.
set -eu

PKGS="bpftrace wrk golang-go jq procps"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bench: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "bench: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null
