#!/bin/sh
# Build each libFuzzer harness against the library (built by 'make fuzz' with
# clang and coverage) and run it for FUZZ_SECONDS over its seed corpus.
# New inputs go to the build directory; a crash leaves FUZZ_BUILD/NAME-crash-*:
# fix it, then add the file to tests/fuzz/corpus/NAME/ as a regression input.
# Environment: FUZZ_BUILD, FUZZ_SECONDS, FUZZ_CFLAGS, FUZZ_LIBS (from the Makefile).
set -eu
build=${FUZZ_BUILD:-build/fuzz}
secs=${FUZZ_SECONDS:-5}
flags="-std=c11 -D_GNU_SOURCE -g -O1 -Isrc/lib -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all ${FUZZ_CFLAGS:-}"
failed=0

for src in tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	seeds=tests/fuzz/corpus/${name#fuzz-}
	# the Debian files the other tests use are seeds for qemu.conf too
	extra=""
	[ "$name" = fuzz-evdev ] && extra=tests/data
	# shellcheck disable=SC2086
	clang $flags -o "$build/$name" "$src" "$build/libauto-vfio.a" ${FUZZ_LIBS:-}
	mkdir -p "$build/corpus/$name"
	if ! "$build/$name" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$build/$name-" "$build/corpus/$name" "$seeds" $extra \
		>"$build/$name.log" 2>&1; then
		tail -n 40 "$build/$name.log" >&2
		echo "$name: FAILED (input kept as $build/$name-*)" >&2
		failed=1
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$name.log")
	echo "$name: ${execs:-?} executions in ${secs}s, no failure"
done
exit $failed
