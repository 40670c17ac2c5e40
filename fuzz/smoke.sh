#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, prints a table of what each run reached, and
# fails on any crash. The short CI smoke run and the long campaigns are the same script.
#
#   fuzz/smoke.sh SECONDS [TARGET...]
#
# Environment:
#   JOBS=N        targets run N at a time (default 1)
#   CORPUS=DIR    new inputs are kept in DIR/<target> (default: a scratch folder, deleted)
#   MALLOC_MB=64  any single allocation above this is a crash
#   RSS_MB=1024   resident memory above this is a crash
#
# Nightly with AddressSanitizer when `cargo +nightly` works, else stable with
# `--sanitizer none` (no ASan, and -malloc_limit_mb is then not enforced: libFuzzer's
# malloc hooks need a sanitizer). ASan runs with detect_stack_use_after_return=0: that check
# costs a fake stack frame per call of libFuzzer's own instrumented loop (a third of the
# decode targets' time) and guards against a bug safe Rust cannot write.
# Installs cargo-fuzz if it is missing. Builds every target once (release, debug assertions
# on) and runs copies of the binaries, so editing the code during a long run changes
# nothing. The committed seeds and regressions are read-only corpora. Crash inputs land in
# fuzz/artifacts/<target>/; see FUZZING.md for triage.
set -euo pipefail

SECONDS_PER_TARGET="${1:?usage: fuzz/smoke.sh SECONDS [TARGET...]}"
shift
if [ -n "${CORPUS:-}" ]; then
    CORPUS="$(realpath -m "$CORPUS")"
fi
cd "$(dirname "$0")"

JOBS="${JOBS:-1}"
MALLOC_MB="${MALLOC_MB:-64}"
RSS_MB="${RSS_MB:-1024}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=0}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

if cargo +nightly --version >/dev/null 2>&1; then
    toolchain=(+nightly)
    sanitizer=address
else
    echo "smoke.sh: no nightly toolchain, fuzzing on stable without ASan" >&2
    toolchain=()
    sanitizer=none
fi

build=(cargo "${toolchain[@]}" fuzz build --sanitizer "$sanitizer" --debug-assertions)
if [ "$#" -gt 0 ]; then
    targets=("$@")
    for target in "${targets[@]}"; do
        "${build[@]}" "$target"
    done
else
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
    "${build[@]}"
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/bin"
for target in "${targets[@]}"; do
    cp "target/$triple/release/$target" "$scratch/bin/"
done

# Runs one target; its log goes to $scratch/<target>.log, its exit status to .status.
run_target() {
    local target="$1" corpus
    corpus="${CORPUS:-$scratch/corpus}/$target"
    mkdir -p "$corpus" "artifacts/$target"
    # The experiment parser starts from the shipped experiments and Chaos Mesh's examples;
    # the decoders from their generated seeds.
    local seeds dict
    case "$target" in
        parse_experiment)
            seeds=(../manifests/examples ../chaos/tests/fixtures/chaos-mesh)
            dict=dict/experiment.dict
            ;;
        *)
            seeds=("seeds/$target")
            dict=dict/thrift.dict
            ;;
    esac
    if [ -d "regressions/$target" ]; then
        seeds+=("regressions/$target")
    fi
    local status=0
    "$scratch/bin/$target" "$corpus" "${seeds[@]}" \
        -artifact_prefix="artifacts/$target/" \
        -max_total_time="$SECONDS_PER_TARGET" \
        -dict="$dict" \
        -malloc_limit_mb="$MALLOC_MB" \
        -rss_limit_mb="$RSS_MB" \
        -timeout=10 \
        -print_final_stats=1 >"$scratch/$target.log" 2>&1 || status=$?
    echo "$status" >"$scratch/$target.status"
    echo "== $target: exit $status"
}

echo "smoke.sh: ${#targets[@]} targets x ${SECONDS_PER_TARGET}s, $JOBS at a time, sanitizer $sanitizer"
for target in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n || true
    done
    run_target "$target" &
done
wait

# One row per target, from libFuzzer's last status line and its final stats.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }
printf '%-20s %12s %9s %6s %7s %9s %7s  %s\n' target execs exec/s cov ft new-units rss-mb result
failed=()
for target in "${targets[@]}"; do
    log="$scratch/$target.log"
    last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    result=ok
    if [ "$(cat "$scratch/$target.status")" != 0 ]; then
        result=CRASH
        failed+=("$target")
    fi
    printf '%-20s %12s %9s %6s %7s %9s %7s  %s\n' "$target" \
        "$(stat number_of_executed_units "$log")" "$(stat average_exec_per_sec "$log")" \
        "${cov:--}" "${ft:--}" "$(stat new_units_added "$log")" "$(stat peak_rss_mb "$log")" \
        "$result"
done

for target in "${failed[@]}"; do
    echo "---- $target" >&2
    tail -n 60 "$scratch/$target.log" >&2
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "smoke.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "smoke.sh: ${#targets[@]} targets, ${SECONDS_PER_TARGET}s each, no crash"
