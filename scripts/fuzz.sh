#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each, every target
#
# Each target starts from its seeds in Fuzz/Corpus/TARGET and keeps what it finds in
# .build-fuzz/corpus/TARGET; a crash is written to .build-fuzz/crashes/TARGET/ and the script
# exits non-zero. The last line per target gives the executions run and the crashes found.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzManifest FuzzClusterService FuzzClusterConfig FuzzDuration FuzzStoreRequest)
scratch=$PWD/.build-fuzz

# SwiftPM caches the file list of a path dependency with the manifest that names it: a
# changed Fuzz/Package.swift makes it read Interlink's sources again.
touch Fuzz/Package.swift
# Debug build: assertions and preconditions stay on; ASan finds memory errors. The linker's
# "Cannot export local symbol" warnings about ASan are harmless and filtered out.
for target in "${targets[@]}"; do
  swift build --package-path Fuzz --scratch-path "$scratch/build" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "$target" 2>&1 \
    | grep -v 'Cannot export local symbol' | grep -E 'error|warning: unre|Compiling Fuzz|complete' ; [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
done
bin=$(swift build --package-path Fuzz --scratch-path "$scratch/build" --show-bin-path)

status=0
for target in "${targets[@]}"; do
  corpus=$scratch/corpus/$target crashes=$scratch/crashes/$target
  mkdir -p "$corpus" "$crashes"
  log=$scratch/$target.log
  "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" "Fuzz/Corpus/$target" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  found=$(find "$crashes" -type f | wc -l)
  echo "$target: ${runs:-?} executions in ${seconds} s, $found crash files in $crashes (exit $rc)"
  [ "$rc" -eq 0 ] || { status=1; grep -m5 -E 'ERROR|Fatal|Precondition|deadly' "$log"; }
  rm -rf /dev/shm/interlink-fuzz-* 2>/dev/null
done
exit $status
