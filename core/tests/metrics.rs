//! Events emitted on a bus come out of `Metrics::encode` as the documented Prometheus
//! series: exact names, labels and values, histogram buckets, and dropped events when the
//! recorder falls behind. Synchronised on `Recorder::wait_for`, never on sleeps.

use std::sync::Arc;
use std::time::Duration;

use faultline_core::event::{
    BreakerScope, BreakerState, CloseReason, EventBus, EventKind, FallbackReason, RetryDenial, Side,
};
use faultline_core::metrics::{Metrics, CONTENT_TYPE, DURATION_BUCKETS, MAX_METHODS, OVERFLOW};
use faultline_core::rpc::RpcErrorKind;

/// The value of the sample line `series` (name and labels exactly as exposed).
fn value<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
}

fn number(text: &str, series: &str) -> f64 {
    let Some(value) = value(text, series) else {
        panic!("no sample {series} in\n{text}");
    };
    value.parse().unwrap()
}

fn call(side: Side, method: &str, error: Option<RpcErrorKind>, micros: u64) -> EventKind {
    EventKind::CallFinished {
        side,
        service: "Echo".into(),
        method: method.into(),
        instance: Some("127.0.0.1:8888".into()),
        error,
        fallback: false,
        duration: Duration::from_micros(micros),
        budget: None,
    }
}

/// Emits `events` on a fresh bus and returns the exposition once all are recorded.
async fn expose(events: Vec<EventKind>) -> String {
    let bus = EventBus::new(64);
    let metrics = Metrics::new();
    let mut recorder = metrics.subscribe(&bus);
    let n = events.len() as u64;
    for event in events {
        bus.emit(event);
        tokio::time::advance(Duration::from_millis(1)).await;
    }
    assert!(recorder.wait_for(n).await);
    assert_eq!(recorder.handled(), n);
    metrics.encode()
}

const OK_ECHO: &str =
    r#"rpc_system="apache_thrift",rpc_service="Echo",rpc_method="echo",status="ok""#;

#[tokio::test(start_paused = true)]
async fn call_durations_are_histograms_by_side_method_and_status() {
    let text = expose(vec![
        call(Side::Client, "echo", None, 300),
        call(Side::Client, "echo", None, 2_000),
        call(Side::Client, "echo", Some(RpcErrorKind::Timeout), 1_200_000),
        call(Side::Server, "echo", None, 90),
    ])
    .await;

    let bucket = |le: &str| format!("rpc_client_duration_seconds_bucket{{{OK_ECHO},le=\"{le}\"}}");
    assert_eq!(value(&text, &bucket("0.00025")), Some("0"));
    assert_eq!(value(&text, &bucket("0.0005")), Some("1"));
    assert_eq!(value(&text, &bucket("0.001")), Some("1"));
    assert_eq!(value(&text, &bucket("0.0025")), Some("2"));
    assert_eq!(value(&text, &bucket("+Inf")), Some("2"));
    assert_eq!(
        value(
            &text,
            &format!("rpc_client_duration_seconds_count{{{OK_ECHO}}}")
        ),
        Some("2")
    );
    let sum = number(
        &text,
        &format!("rpc_client_duration_seconds_sum{{{OK_ECHO}}}"),
    );
    assert!((sum - 0.0023).abs() < 1e-12, "sum {sum}");

    let timeout =
        r#"rpc_system="apache_thrift",rpc_service="Echo",rpc_method="echo",status="timeout""#;
    let bucket = |le: &str| format!("rpc_client_duration_seconds_bucket{{{timeout},le=\"{le}\"}}");
    assert_eq!(value(&text, &bucket("1")), Some("0"));
    assert_eq!(value(&text, &bucket("2.5")), Some("1"));

    assert_eq!(
        value(
            &text,
            &format!("rpc_server_duration_seconds_bucket{{{OK_ECHO},le=\"0.0001\"}}")
        ),
        Some("1")
    );
    assert_eq!(
        value(
            &text,
            &format!("rpc_server_duration_seconds_count{{{OK_ECHO}}}")
        ),
        Some("1")
    );
    assert_eq!(
        value(&text, &format!("rpc_client_requests_total{{{OK_ECHO}}}")),
        Some("2")
    );
    assert_eq!(
        value(&text, &format!("rpc_client_requests_total{{{timeout}}}")),
        Some("1")
    );
    assert_eq!(
        value(&text, &format!("rpc_server_requests_total{{{OK_ECHO}}}")),
        Some("1")
    );
    assert!(text.contains("# TYPE rpc_client_duration_seconds histogram\n"));
    assert!(text.contains("# TYPE rpc_client_requests_total counter\n"));
    assert_eq!(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");

    // Every documented boundary and +Inf, in order, for one series.
    let bounds: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            line.strip_prefix(&format!(
                "rpc_server_duration_seconds_bucket{{{OK_ECHO},le=\""
            ))
        })
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let expected: Vec<String> = DURATION_BUCKETS
        .iter()
        .map(f64::to_string)
        .chain(["+Inf".to_owned()])
        .collect();
    assert_eq!(bounds, expected);
}

#[tokio::test(start_paused = true)]
async fn breaker_state_gauge_follows_transitions_per_scope() {
    let service = BreakerScope::Service {
        caller: "probe".into(),
        callee: "Echo".into(),
        method: "echo".into(),
    };
    let instance = BreakerScope::Instance {
        addr: "10.1.0.7:8888".into(),
    };
    let transition = |scope: &BreakerScope, from, to| EventKind::BreakerTransition {
        scope: scope.clone(),
        from,
        to,
        samples: 200,
        error_rate: 0.6,
    };
    use BreakerState::{Closed, HalfOpen, Open};
    let text = expose(vec![
        transition(&service, Closed, Open),
        EventKind::BreakerRejected {
            scope: service.clone(),
        },
        EventKind::BreakerRejected {
            scope: service.clone(),
        },
        transition(&service, Open, HalfOpen),
        transition(&instance, Closed, Open),
        transition(&instance, Open, HalfOpen),
        transition(&instance, HalfOpen, Closed),
    ])
    .await;

    let svc = r#"scope="service",caller="probe",rpc_service="Echo",rpc_method="echo""#;
    let inst = r#"scope="instance",instance="10.1.0.7:8888""#;
    assert_eq!(
        value(&text, &format!("faultline_breaker_state{{{svc}}}")),
        Some("2")
    );
    assert_eq!(
        value(&text, &format!("faultline_breaker_state{{{inst}}}")),
        Some("0")
    );
    for (scope, from, to, count) in [
        (svc, "closed", "open", "1"),
        (svc, "open", "half_open", "1"),
        (inst, "closed", "open", "1"),
        (inst, "open", "half_open", "1"),
        (inst, "half_open", "closed", "1"),
    ] {
        let series =
            format!("faultline_breaker_transitions_total{{{scope},from=\"{from}\",to=\"{to}\"}}");
        assert_eq!(value(&text, &series), Some(count), "{series}");
    }
    assert_eq!(
        value(
            &text,
            &format!(
                "faultline_breaker_transitions_total{{{svc},from=\"half_open\",to=\"closed\"}}"
            )
        ),
        None
    );
    assert_eq!(
        value(
            &text,
            &format!("faultline_breaker_rejections_total{{{svc}}}")
        ),
        Some("2")
    );
    assert!(text.contains("# TYPE faultline_breaker_state gauge\n"));
}

#[tokio::test(start_paused = true)]
async fn resilience_events_are_counted_by_reason() {
    let echo: Arc<str> = "echo".into();
    let retry = |error| EventKind::Retry {
        method: echo.clone(),
        attempt: 1,
        error,
    };
    let denied = |reason| EventKind::RetryDenied {
        method: echo.clone(),
        reason,
    };
    let fallback = |reason| EventKind::Fallback {
        method: echo.clone(),
        reason,
    };
    let pick = |instance: &str, zone: Option<&str>, local| EventKind::BalancerPick {
        method: echo.clone(),
        instance: instance.into(),
        zone: zone.map(Into::into),
        local,
    };
    let text = expose(vec![
        retry(RpcErrorKind::Io),
        retry(RpcErrorKind::Io),
        retry(RpcErrorKind::Timeout),
        denied(RetryDenial::Budget),
        denied(RetryDenial::Budget),
        denied(RetryDenial::ChainStop),
        EventKind::BackupRequest {
            method: echo.clone(),
            after: Duration::from_millis(5),
        },
        fallback(FallbackReason::Timeout),
        fallback(FallbackReason::BreakerOpen),
        fallback(FallbackReason::BreakerOpen),
        fallback(FallbackReason::Error(RpcErrorKind::Application)),
        pick("a:1", Some("az1"), true),
        pick("a:1", Some("az1"), true),
        pick("b:1", Some("az2"), false),
        pick("c:1", None, false),
        EventKind::ZoneWeights {
            local_zone: "az1".into(),
            remote_share: 0.5,
            remote_rtt: Duration::from_millis(1),
        },
        EventKind::ZoneWeights {
            local_zone: "az1".into(),
            remote_share: 0.125,
            remote_rtt: Duration::from_micros(4_500),
        },
        EventKind::DeadlineExceeded {
            side: Side::Client,
            method: echo.clone(),
            budget: Duration::from_millis(50),
        },
        EventKind::DeadlineExceeded {
            side: Side::Server,
            method: echo.clone(),
            budget: Duration::from_millis(40),
        },
        EventKind::MalformedFrame {
            peer: "127.0.0.1:50000".into(),
            error: "frame_too_large",
            offset: 0,
        },
        EventKind::ConnectionClosed {
            peer: "127.0.0.1:50000".into(),
            reason: CloseReason::Malformed,
        },
        EventKind::ConnectionClosed {
            peer: "127.0.0.1:50001".into(),
            reason: CloseReason::ReadTimeout,
        },
        EventKind::ConnectionClosed {
            peer: "127.0.0.1:50002".into(),
            reason: CloseReason::ReadTimeout,
        },
    ])
    .await;

    let expected = [
        (
            r#"faultline_retries_total{rpc_method="echo",error_type="io_error"}"#,
            "2",
        ),
        (
            r#"faultline_retries_total{rpc_method="echo",error_type="timeout"}"#,
            "1",
        ),
        (
            r#"faultline_retries_denied_total{rpc_method="echo",reason="budget"}"#,
            "2",
        ),
        (
            r#"faultline_retries_denied_total{rpc_method="echo",reason="chain_stop"}"#,
            "1",
        ),
        (r#"faultline_backup_requests_total{rpc_method="echo"}"#, "1"),
        (
            r#"faultline_fallbacks_total{rpc_method="echo",reason="timeout"}"#,
            "1",
        ),
        (
            r#"faultline_fallbacks_total{rpc_method="echo",reason="breaker_open"}"#,
            "2",
        ),
        (
            r#"faultline_fallbacks_total{rpc_method="echo",reason="error",error_type="application_error"}"#,
            "1",
        ),
        (
            r#"faultline_balancer_picks_total{instance="a:1",zone="az1",local="true"}"#,
            "2",
        ),
        (
            r#"faultline_balancer_picks_total{instance="b:1",zone="az2",local="false"}"#,
            "1",
        ),
        (
            r#"faultline_balancer_picks_total{instance="c:1",zone="",local="false"}"#,
            "1",
        ),
        (r#"faultline_zone_remote_share{zone="az1"}"#, "0.125"),
        (r#"faultline_zone_remote_rtt_seconds{zone="az1"}"#, "0.0045"),
        (
            r#"faultline_deadline_exceeded_total{side="client",rpc_method="echo"}"#,
            "1",
        ),
        (
            r#"faultline_deadline_exceeded_total{side="server",rpc_method="echo"}"#,
            "1",
        ),
        (
            r#"faultline_malformed_frames_total{error="frame_too_large"}"#,
            "1",
        ),
        (
            r#"faultline_server_connections_closed_total{reason="malformed"}"#,
            "1",
        ),
        (
            r#"faultline_server_connections_closed_total{reason="read_timeout"}"#,
            "2",
        ),
        ("faultline_events_dropped_total", "0"),
    ];
    for (series, count) in expected {
        assert_eq!(value(&text, series), Some(count), "{series} in\n{text}");
    }
    assert!(text.contains("# TYPE faultline_zone_remote_share gauge\n"));
}

#[tokio::test(start_paused = true)]
async fn a_lagging_recorder_counts_the_events_it_lost() {
    let bus = EventBus::new(4);
    let metrics = Metrics::new();
    let mut recorder = metrics.subscribe(&bus);
    // On this single-threaded runtime the recorder cannot run before the next await, so
    // ten events overrun a bus that keeps four.
    for _ in 0..10 {
        bus.emit(call(Side::Server, "echo", None, 50));
    }
    assert!(recorder.wait_for(10).await);
    let text = metrics.encode();
    assert_eq!(value(&text, "faultline_events_dropped_total"), Some("6"));
    assert_eq!(
        value(&text, &format!("rpc_server_requests_total{{{OK_ECHO}}}")),
        Some("4")
    );

    // After catching up, it records again without loss.
    bus.emit(call(Side::Server, "echo", None, 50));
    assert!(recorder.wait_for(11).await);
    let text = metrics.encode();
    assert_eq!(value(&text, "faultline_events_dropped_total"), Some("6"));
    assert_eq!(
        value(&text, &format!("rpc_server_requests_total{{{OK_ECHO}}}")),
        Some("5")
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_ends_when_the_bus_is_gone() {
    let bus = EventBus::new(4);
    let metrics = Metrics::new();
    let mut recorder = metrics.subscribe(&bus);
    bus.emit(call(Side::Client, "echo", None, 10));
    drop(bus);
    assert!(recorder.wait_for(1).await);
    assert!(!recorder.wait_for(2).await, "no second event can come");
    assert_eq!(recorder.handled(), 1);
}

#[tokio::test(start_paused = true)]
async fn method_names_from_the_wire_cannot_grow_series_without_bound() {
    let mut events: Vec<EventKind> = (0..MAX_METHODS + 3)
        .map(|i| call(Side::Server, &format!("m{i}"), None, 10))
        .collect();
    events.push(call(Side::Server, "m0", None, 10));
    let text = expose(events).await;

    let requests = |method: &str| {
        format!(
            "rpc_server_requests_total{{rpc_system=\"apache_thrift\",rpc_service=\"Echo\",rpc_method=\"{method}\",status=\"ok\"}}"
        )
    };
    assert_eq!(
        value(&text, &requests("m0")),
        Some("2"),
        "seen before the bound"
    );
    let last_kept = format!("m{}", MAX_METHODS - 1);
    assert_eq!(value(&text, &requests(&last_kept)), Some("1"));
    assert_eq!(value(&text, &requests(&format!("m{MAX_METHODS}"))), None);
    assert_eq!(value(&text, &requests(OVERFLOW)), Some("3"));
    let series = text
        .lines()
        .filter(|line| line.starts_with("rpc_server_requests_total{"))
        .count();
    assert_eq!(series, MAX_METHODS + 1);
}

#[test]
fn an_empty_registry_exposes_only_the_dropped_counter() {
    let text = Metrics::new().encode();
    assert_eq!(
        text,
        "# HELP faultline_events_dropped_total Events the metrics recorder lost because it fell behind the event bus.\n\
         # TYPE faultline_events_dropped_total counter\n\
         faultline_events_dropped_total 0\n"
    );
}
