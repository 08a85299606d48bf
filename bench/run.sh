#!/bin/sh
# Entry point of `make bench`: run every bench/*-bench.sh in turn. Benchmarks
# print numbers and do not judge them; a benchmark that cannot measure is
# reported and the others still run.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
cd "$here/.."

status=0
for b in bench/*-bench.sh; do
	[ -e "$b" ] || continue
	echo "#### $(basename "$b" .sh)"
	t0=$(date +%s)
	if ! sh "$b"; then
		echo "#### $(basename "$b" .sh): could not measure"
		status=1
	fi
	echo "#### $(basename "$b" .sh): $(($(date +%s) - t0))s"
done
exit "$status"
