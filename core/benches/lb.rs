//! Pick cost per call: zone-aware over 100 instances in 3 zones (all local instances
//! healthy, and with a quarter of the local zone ejected so that calls spill across
//! zones weighted by RTT), with smooth WRR over the same 100 instances for reference.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use faultline_core::lb::{Balancer, Feedback, Picker, WeightedRoundRobin, ZoneAware, ZoneConfig};
use faultline_core::rpc::{Call, Instance, RpcError};

const ZONES: [&str; 3] = ["a", "b", "c"];

fn instances() -> Vec<Arc<Instance>> {
    (0..100)
        .map(|i| {
            let zone = ZONES[i % 3];
            Arc::new(Instance::new(format!("10.0.{}.{i}:8888", i % 3)).with_zone("r", zone))
        })
        .collect()
}

fn report(picker: &dyn Picker, index: usize, latency: Duration, error: Option<&RpcError>) {
    picker.feedback(index, Feedback { latency, error });
}

/// A zone-aware picker whose remote zones have RTT samples; `eject` local instances have
/// failed enough to be ejected.
fn zone_picker(eject: usize) -> Arc<dyn Picker> {
    let picker = ZoneAware::new(ZoneConfig::new("a"), None).build(instances());
    let timeout = RpcError::Timeout {
        budget: Duration::from_millis(100),
    };
    for (i, instance) in picker.instances().iter().enumerate() {
        match instance.zone.as_deref() {
            Some("b") => report(&*picker, i, Duration::from_micros(2_800), None),
            Some("c") => report(&*picker, i, Duration::from_micros(3_200), None),
            _ => {}
        }
    }
    let local: Vec<usize> = (0..picker.instances().len())
        .filter(|&i| picker.instances()[i].zone.as_deref() == Some("a"))
        .take(eject)
        .collect();
    for i in local {
        for _ in 0..5 {
            report(&*picker, i, Duration::from_millis(100), Some(&timeout));
        }
    }
    picker
}

fn picks(c: &mut Criterion) {
    let call = Call::new("echo", Bytes::new());
    let mut group = c.benchmark_group("pick_100_instances_3_zones");
    let wrr = WeightedRoundRobin.build(instances());
    group.bench_function("wrr", |b| b.iter(|| black_box(wrr.pick(black_box(&call)))));
    let local = zone_picker(0);
    group.bench_function("zone_aware_local_healthy", |b| {
        b.iter(|| black_box(local.pick(black_box(&call))))
    });
    let spilling = zone_picker(8);
    group.bench_function("zone_aware_spilling", |b| {
        b.iter(|| black_box(spilling.pick(black_box(&call))))
    });
    group.finish();
}

criterion_group!(benches, picks);
criterion_main!(benches);
