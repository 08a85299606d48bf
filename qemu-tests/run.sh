#!/bin/sh
# Entry point of `make qemu-check`: run every qemu-tests/*-test.sh in turn
# (each boots its own guests, prints PASS/FAIL lines and ends with
# "N passed, N failed") and add their counts up. A script that dies without
# its summary line counts as one failure, so a broken test cannot pass.
#
#   sh qemu-tests/run.sh [NAME...]     NAME: bind, grub, ... (default: all)
#
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
cd "$here/.."
sh tools/deps.sh qemu

work=$here/work
mkdir -p "$work"

if [ $# -gt 0 ]; then
	tests=""
	for n in "$@"; do tests="$tests qemu-tests/${n%-test.sh}-test.sh"; done
else
	tests=$(ls qemu-tests/*-test.sh)
fi

passed=0
failed=0
start=$(date +%s)
for t in $tests; do
	name=$(basename "$t" .sh)
	echo "#### $name"
	out=$work/$name.out
	t0=$(date +%s)
	# Keep going after a failing script: the total must cover all of them.
	# Output shows live; the status travels through a file past the pipe.
	{
		rc=0
		sh "$t" 2>&1 || rc=$?
		echo "$rc" >"$out.rc"
	} | tee "$out"
	rc=$(cat "$out.rc")
	last=$(tail -n 1 "$out")
	p=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
	f=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "FAIL $name: ended without a summary line (exit status $rc)"
		p=0
		f=1
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $name: exit status $rc with no failed check"
		f=1
	fi
	echo "#### $name: $p passed, $f failed in $(($(date +%s) - t0))s"
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "#### all: $(echo $tests | wc -w) scripts in $(($(date +%s) - start))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
