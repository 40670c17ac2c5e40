#!/usr/bin/env bash
# Measures what packet loss does to faultline's client on the real kernel TCP stack, to
# keep the simulation's loss model (sim/src/tcp_loss.rs) honest.
#
# nftables drops a random LOSS_PER_MILLE/1000 of the packets to and from one loopback
# port (both directions: the `input` hook sees loopback packets either way), a
# `faultline serve` listens there, and `faultline call --qps` offers open-loop load
# twice: over one multiplexed connection, then over the exclusive pool (a connection per
# call in flight, mostly idle between calls). Compare its p99 lines with the
# packet-loss scenario in simulation (BENCHMARKS.md).
#
# Needs root and nftables (apt-get install nftables); anywhere else it prints a notice
# and exits 0. Usage: scripts/kernel-loss.sh   (LOSS_PER_MILLE=12 PORT=19090 QPS=1000
# DURATION=10s)
set -euo pipefail

LOSS_PER_MILLE=${LOSS_PER_MILLE:-12}
PORT=${PORT:-19090}
QPS=${QPS:-1000}
DURATION=${DURATION:-10s}
TABLE=faultline_kernel_loss

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null; then
    echo "kernel-loss: skipped (needs root and nftables; apt-get install nftables)"
    exit 0
fi
if ! nft add table inet "$TABLE" 2>/dev/null; then
    echo "kernel-loss: skipped (nftables is not usable here)"
    exit 0
fi

cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/faultline

server=
cleanup() {
    nft delete table inet "$TABLE" 2>/dev/null || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
}
trap cleanup EXIT

"$bin" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
    "$bin" call --to "127.0.0.1:$PORT" --message ready --timeout 100ms >/dev/null 2>&1 && break
    sleep 0.1
done

nft add chain inet "$TABLE" input '{ type filter hook input priority 0; policy accept; }'
nft add rule inet "$TABLE" input tcp dport "$PORT" numgen random mod 1000 '<' "$LOSS_PER_MILLE" drop
nft add rule inet "$TABLE" input tcp sport "$PORT" numgen random mod 1000 '<' "$LOSS_PER_MILLE" drop

echo "kernel-loss: $LOSS_PER_MILLE/1000 of the packets to and from 127.0.0.1:$PORT dropped; $QPS calls/s for $DURATION"
for mode in multiplexed exclusive; do
    flag=
    [ "$mode" = multiplexed ] && flag=--multiplex
    echo "== $mode"
    "$bin" call --to "127.0.0.1:$PORT" --message x --timeout 1s \
        --qps "$QPS" --duration "$DURATION" $flag || true
done
