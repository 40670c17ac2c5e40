#!/usr/bin/env bash
# Hand-written mutants against the fuzz targets: each removes one decoder limit or check in
# a scratch copy of the committed tree (never in the working tree), builds the target that
# should notice (nightly + ASan + debug assertions, as smoke.sh), runs it SECONDS from the
# committed seeds and regressions, and prints caught / missed with the time to catch.
#
#   fuzz/mutate.sh [SECONDS] [MUTANT...]      (default 60 s, every mutant)
#
# Slow (a build per mutant): not part of .ci/run. See FUZZING.md, "Seeded bugs".
set -euo pipefail

SECONDS_PER_MUTANT="${1:-60}"
shift || true
repo="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=0}"

# name | file | exact text | replacement | target
MUTANTS=(
    "container-count|core/src/protocol/input.rs|if min_bytes > remaining {|if false && min_bytes > remaining {|decode_compact"
    "depth-limit|core/src/protocol/input.rs|if self.depth >= self.limits.max_depth {|if false && self.depth >= self.limits.max_depth {|decode_compact"
    "varint32-high-bits|core/src/protocol/varint.rs|read_uleb128(input, 5, 0xF0, expected)|read_uleb128(input, 5, 0x80, expected)|crosscheck_compact"
)

wanted=("$@")
# The mutants build in their own target directory (the scratch copies live elsewhere, so
# their faultline crates get their own artifacts); registry dependencies are hard-linked
# from fuzz/target when it exists, which saves the 15-minute cold build. Cargo replaces
# files rather than writing into them, so fuzz/target is never changed.
if [ ! -d "$repo/fuzz/target-mutants" ] && [ -d "$repo/fuzz/target" ]; then
    cp -al "$repo/fuzz/target" "$repo/fuzz/target-mutants"
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
printf '%-20s %-20s %-8s %s\n' mutant target result time
for mutant in "${MUTANTS[@]}"; do
    IFS='|' read -r name file from to target <<<"$mutant"
    if [ "${#wanted[@]}" -gt 0 ] && [[ ! " ${wanted[*]} " =~ " $name " ]]; then
        continue
    fi
    scratch="$(mktemp -d)"
    git -C "$repo" archive HEAD | tar -x -C "$scratch"
    # Exactly one occurrence must change, or the mutant is stale.
    FROM="$from" TO="$to" perl -0pi -e '$n = s/\Q$ENV{FROM}\E/$ENV{TO}/g; die "pattern found $n times\n" unless $n == 1' "$scratch/$file"
    (cd "$scratch/fuzz" && cargo +nightly fuzz build --sanitizer address --debug-assertions \
        --target-dir "$repo/fuzz/target-mutants" "$target" >"$scratch/build.log" 2>&1)
    seeds=("$repo/fuzz/seeds/$target")
    [ -d "$repo/fuzz/regressions/$target" ] && seeds+=("$repo/fuzz/regressions/$target")
    mkdir -p "$scratch/corpus" "$scratch/artifacts"
    start="$(date +%s.%N)"
    status=0
    "$repo/fuzz/target-mutants/$triple/release/$target" "$scratch/corpus" "${seeds[@]}" \
        -artifact_prefix="$scratch/artifacts/" -max_total_time="$SECONDS_PER_MUTANT" \
        -dict="$repo/fuzz/dict/thrift.dict" -malloc_limit_mb=64 -rss_limit_mb=1024 \
        -timeout=10 >"$scratch/run.log" 2>&1 || status=$?
    took="$(echo "$(date +%s.%N) - $start" | bc)"
    result=missed
    [ "$status" != 0 ] && result=caught
    printf '%-20s %-20s %-8s %.1fs\n' "$name" "$target" "$result" "$took"
    [ "$result" = caught ] && grep -m1 -A1 'panicked at\|ERROR: libFuzzer' "$scratch/run.log" | tail -1
    rm -rf "$scratch"
done
