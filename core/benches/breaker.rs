//! Breaker cost per call: `admit` then `record` on one `Breaker` with the default config,
//! from 1 thread and from 2 threads sharing the breaker. The clock is synthetic (100 ns per
//! call, so buckets roll over as they would at 10 M calls/s) to measure the breaker and not
//! the clock. `failures_10pct` records every tenth call as a failure: a failure sums the
//! window (100 buckets) to decide whether to trip, so it shows the slow path's share.
//!
//! For 2 threads the figure is the wall time per call of each thread (both run `iters`
//! calls at once), so it compares directly with the 1-thread figure.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_core::breaker::{Breaker, BreakerConfig, Outcome};

/// `iters` calls on `breaker`, every `fail_every`-th a failure (0: none).
fn calls(breaker: &Breaker, iters: u64, fail_every: u64) {
    for i in 0..iters {
        let now = Duration::from_nanos(i * 100);
        let admitted = breaker.admit(now).expect("the breaker stays closed");
        let outcome = if fail_every != 0 && i % fail_every == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        black_box(breaker.record(admitted.permit, outcome, now));
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker");
    for (name, fail_every) in [("success", 0), ("failures_10pct", 10)] {
        group.bench_function(format!("{name}/1_thread"), |b| {
            let breaker = Breaker::new(BreakerConfig::default()).expect("default config");
            b.iter_custom(|iters| {
                let start = Instant::now();
                calls(&breaker, iters, fail_every);
                start.elapsed()
            })
        });
        group.bench_function(format!("{name}/2_threads"), |b| {
            let breaker = Breaker::new(BreakerConfig::default()).expect("default config");
            b.iter_custom(|iters| {
                let start = Instant::now();
                thread::scope(|s| {
                    s.spawn(|| calls(&breaker, iters, fail_every));
                    calls(&breaker, iters, fail_every);
                });
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
