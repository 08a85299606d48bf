#!/bin/sh
# `auto-vfio list` on a synthetic machine of 1024 devices in 256 IOMMU groups,
# against (a) the classic shell loop that runs lspci once per device and
# (b) one bare lspci over the same tree. Prints medians and ratios; targets:
# at least 100x faster than (a), at most 1.5x the time of (b). Numbers only:
# it never fails on a missed target.
#
#   REPS=7 LOOP_REPS=3 BUILD=build sh bench/list-bench.sh
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
REPS=${REPS:-7}
LOOP_REPS=${LOOP_REPS:-3}
case $BUILD in /*) build=$BUILD ;; *) build=$top/$BUILD ;; esac
prog=$build/auto-vfio
gen=$build/tests/mkbigtree

if ! command -v lspci >/dev/null 2>&1; then
	echo "list-bench: lspci not found (apt-get install pciutils); skipped"
	exit 0
fi
make -C "$top" -s BUILD="$BUILD" "$BUILD/auto-vfio" "$BUILD/tests/mkbigtree" >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/list-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
T=$tmp/tree
"$gen" "$T" 1024 256

now_ns() { date +%s%N; }

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# time_cmd REPS FUNCTION: one line of nanoseconds per run
time_cmd() {
	i=0
	while [ "$i" -lt "$1" ]; do
		t0=$(now_ns)
		"$2" >/dev/null
		t1=$(now_ns)
		echo $((t1 - t0))
		i=$((i + 1))
	done
}

run_list() { "$prog" --root "$T" list --all --no-color; }
run_lspci() { lspci -A linux-sysfs -O sysfs.path="$T/sys/bus/pci" -nn; }
run_loop() {
	for d in "$T"/sys/kernel/iommu_groups/*/devices/*; do
		n=${d#*/iommu_groups/}
		n=${n%%/*}
		printf 'IOMMU Group %s ' "$n"
		lspci -A linux-sysfs -O sysfs.path="$T/sys/bus/pci" -nns "${d##*/}"
	done
}

# the three must agree on what they see before their times mean anything
n_list=$(run_list | grep -c '^  [0-9a-f]\{4\}:')
n_lspci=$(run_lspci | wc -l)
if [ "$n_list" != 1024 ] || [ "$n_lspci" != 1024 ]; then
	echo "list-bench: devices seen: auto-vfio list $n_list, lspci $n_lspci (expected 1024)"
fi

run_list >/dev/null # warm the page cache
list_ns=$(time_cmd "$REPS" run_list | median)
lspci_ns=$(time_cmd "$REPS" run_lspci | median)
loop_ns=$(time_cmd "$LOOP_REPS" run_loop | median)

awk -v list="$list_ns" -v lspci="$lspci_ns" -v loop="$loop_ns" -v reps="$REPS" \
	-v lreps="$LOOP_REPS" 'BEGIN {
	printf "list-bench: 1024 devices, 256 IOMMU groups (median of %d runs, loop %d)\n", reps, lreps
	printf "  auto-vfio list              %10.1f ms\n", list / 1e6
	printf "  (b) lspci -nn, one run      %10.1f ms\n", lspci / 1e6
	printf "  (a) shell loop of lspci -s  %10.1f ms\n", loop / 1e6
	printf "  loop / list   = %7.1fx  (target >= 100x: %s)\n", loop / list,
		(loop / list >= 100) ? "met" : "MISSED"
	printf "  list / lspci  = %7.2fx  (target <= 1.5x: %s)\n", list / lspci,
		(list / lspci <= 1.5) ? "met" : "MISSED"
}'
