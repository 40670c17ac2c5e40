#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each and fails on any crash.
#
#   fuzz/smoke.sh SECONDS [TARGET...]
#
# Nightly with AddressSanitizer when `cargo +nightly` works, else stable with
# `--sanitizer none` (no ASan, and -malloc_limit_mb is then not enforced: libFuzzer's
# malloc hooks need a sanitizer). Installs cargo-fuzz if it is missing. Builds every target
# once (release, debug assertions on), then runs them one after another with the committed
# seeds and regressions as read-only corpora, new inputs going to a scratch folder.
# Crash inputs land in fuzz/artifacts/<target>/; see FUZZING.md for triage.
set -euo pipefail

SECONDS_PER_TARGET="${1:?usage: fuzz/smoke.sh SECONDS [TARGET...]}"
shift
cd "$(dirname "$0")"

# Per-run limits: any single allocation above MALLOC_MB (or RSS above RSS_MB) is a crash.
MALLOC_MB="${MALLOC_MB:-64}"
RSS_MB="${RSS_MB:-1024}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

if cargo +nightly --version >/dev/null 2>&1; then
    toolchain=(+nightly)
    sanitizer=(--sanitizer address)
else
    echo "smoke.sh: no nightly toolchain, fuzzing on stable without ASan" >&2
    toolchain=()
    sanitizer=(--sanitizer none)
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
fi

cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}" --debug-assertions

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
    corpora=("seeds/$target")
    if [ -d "regressions/$target" ]; then
        corpora+=("regressions/$target")
    fi
    mkdir -p "$scratch/$target"
    echo "== $target (${SECONDS_PER_TARGET}s)"
    if ! cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" --debug-assertions "$target" \
        "$scratch/$target" "${corpora[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" \
        -dict=dict/thrift.dict \
        -malloc_limit_mb="$MALLOC_MB" \
        -rss_limit_mb="$RSS_MB" \
        -timeout=10 \
        -print_final_stats=1 2>"$scratch/$target.log"; then
        failed+=("$target")
        tail -n 60 "$scratch/$target.log" >&2
    fi
    grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" \
        "$scratch/$target.log" || true
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "smoke.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "smoke.sh: ${#targets[@]} targets, ${SECONDS_PER_TARGET}s each, no crash"
