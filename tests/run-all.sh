#!/bin/bash
# The whole suite: cmocka unit tests, then real-BPF integration tests.
# Prints one closing line "N passed, N failed[, N skipped]".
O=${1:-build}
cd "$(dirname "$0")/.." || exit 1
tests/run-unit.sh "$O" $(find "$O/tests/unit" -maxdepth 1 -type f -name "test_*" ! -name "*.*" | sort)
tests/bpf/run.sh "$O"
read -r up uf < "$O/unit.result"
read -r ip if is < "$O/integration.result"
p=$((up + ip)); f=$((uf + if))
echo
echo "total: $p passed, $f failed, $is skipped"
[ "$f" -eq 0 ]
