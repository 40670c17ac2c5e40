//! The target pods' own view of a run: each target pod that asks to be scraped
//! (`prometheus.io/scrape: "true"`, `prometheus.io/port`, optionally `prometheus.io/path`)
//! is read when the run starts and again at its end, and the report gives, per pod, how
//! much each counter grew (calls served, breaker transitions and rejections, fallbacks,
//! malformed frames) and the breakers' final state. For a service that calls others, that
//! is its own breakers and fallbacks under the faults, which the probe cannot see.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::Client;

use crate::report::PodMetrics;
use crate::spec::experiment::Target;

/// The series read: counters (reported as their growth) and the breaker-state gauge.
const COUNTERS: [&str; 5] = [
    "rpc_server_requests_total",
    "faultline_breaker_transitions_total",
    "faultline_breaker_rejections_total",
    "faultline_fallbacks_total",
    "faultline_malformed_frames_total",
];
const GAUGES: [&str; 1] = ["faultline_breaker_state"];
/// How long one scrape may take.
const SCRAPE_WITHIN: Duration = Duration::from_secs(2);

/// One pod that exposes metrics.
#[derive(Debug, Clone)]
pub struct Scraped {
    pub pod: String,
    url: String,
}

/// The target's pods that ask to be scraped.
pub async fn scraped_pods(client: &Client, target: &Target) -> Result<Vec<Scraped>, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let selector = target
        .labels()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|err| format!("listing the target's pods: {err}"))?;
    Ok(list
        .items
        .iter()
        .filter_map(|pod| {
            let annotations = pod.metadata.annotations.as_ref()?;
            if annotations.get("prometheus.io/scrape").map(String::as_str) != Some("true") {
                return None;
            }
            let port: u16 = annotations.get("prometheus.io/port")?.parse().ok()?;
            let path = annotations
                .get("prometheus.io/path")
                .cloned()
                .unwrap_or_else(|| "/metrics".to_owned());
            let ip = pod.status.as_ref()?.pod_ip.clone()?;
            let host = match ip.contains(':') {
                true => format!("[{ip}]"),
                false => ip,
            };
            Some(Scraped {
                pod: pod.metadata.name.clone()?,
                url: format!("http://{host}:{port}{path}"),
            })
        })
        .collect())
}

/// Reads every pod's series now; per pod, its values or why they could not be read.
pub async fn scrape_all(
    pods: &[Scraped],
) -> BTreeMap<String, Result<BTreeMap<String, f64>, String>> {
    let http: HttpClient<_, Empty<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let mut found = BTreeMap::new();
    for pod in pods {
        let read = async {
            let uri: http::Uri = pod
                .url
                .parse()
                .map_err(|err| format!("{}: {err}", pod.url))?;
            let response = http.get(uri).await.map_err(|err| err.to_string())?;
            if !response.status().is_success() {
                return Err(format!("{} answered {}", pod.url, response.status()));
            }
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| err.to_string())?
                .to_bytes();
            Ok(parse(&String::from_utf8_lossy(&body)))
        };
        let read = match tokio::time::timeout(SCRAPE_WITHIN, read).await {
            Ok(read) => read,
            Err(_) => Err(format!(
                "{} did not answer within {SCRAPE_WITHIN:?}",
                pod.url
            )),
        };
        found.insert(pod.pod.clone(), read);
    }
    found
}

/// The series of the text exposition format that this module reads: `name{labels}` ->
/// value (a sample's timestamp, if any, is ignored).
pub fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut series = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let name = &line[..name_end];
        if !COUNTERS.contains(&name) && !GAUGES.contains(&name) {
            continue;
        }
        let key_end = match line[name_end..].starts_with('{') {
            true => line.rfind('}').map_or(line.len(), |i| i + 1),
            false => name_end,
        };
        let value = line[key_end..]
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok());
        if let Some(value) = value {
            series.insert(line[..key_end].to_owned(), value);
        }
    }
    series
}

/// Per pod: counters as their growth from `before` to `after`, gauges as at the end.
pub fn compare(
    before: &BTreeMap<String, Result<BTreeMap<String, f64>, String>>,
    after: &BTreeMap<String, Result<BTreeMap<String, f64>, String>>,
) -> Vec<PodMetrics> {
    after
        .iter()
        .map(|(pod, read)| {
            let empty = BTreeMap::new();
            let earlier = match before.get(pod) {
                Some(Ok(series)) => series,
                _ => &empty,
            };
            match read {
                Ok(series) => PodMetrics {
                    pod: pod.clone(),
                    series: series
                        .iter()
                        .filter_map(|(key, value)| {
                            let is_gauge = GAUGES.iter().any(|g| key.starts_with(g));
                            let shown = match is_gauge {
                                true => *value,
                                false => value - earlier.get(key).copied().unwrap_or(0.0),
                            };
                            (is_gauge || shown != 0.0).then(|| (key.clone(), shown))
                        })
                        .collect(),
                    error: None,
                },
                Err(err) => PodMetrics {
                    pod: pod.clone(),
                    series: BTreeMap::new(),
                    error: Some(err.clone()),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_series_it_knows_with_labels_and_timestamps_and_skips_the_rest() {
        let text = "# HELP rpc_server_requests Inbound RPCs finished, by status\n\
            # TYPE rpc_server_requests counter\n\
            rpc_server_requests_total{rpc_service=\"Echo\",status=\"ok\"} 412\n\
            faultline_breaker_state{scope=\"instance\",key=\"a}b\"} 1 1700000000000\n\
            faultline_fallbacks_total 3\n\
            rpc_server_duration_seconds_bucket{le=\"0.001\"} 9\n\
            faultline_fallbacks_total{reason=\"x\"} not-a-number\n";
        let series = parse(text);
        assert_eq!(
            series,
            BTreeMap::from([
                (
                    "rpc_server_requests_total{rpc_service=\"Echo\",status=\"ok\"}".to_owned(),
                    412.0
                ),
                (
                    "faultline_breaker_state{scope=\"instance\",key=\"a}b\"}".to_owned(),
                    1.0
                ),
                ("faultline_fallbacks_total".to_owned(), 3.0),
            ])
        );
    }

    #[test]
    fn counters_show_their_growth_gauges_their_last_value_and_unread_pods_why() {
        let read = |pairs: &[(&str, f64)]| -> Result<BTreeMap<String, f64>, String> {
            Ok(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
        };
        let before = BTreeMap::from([
            (
                "a".to_owned(),
                read(&[
                    ("faultline_fallbacks_total", 5.0),
                    ("faultline_breaker_state", 0.0),
                ]),
            ),
            ("b".to_owned(), read(&[("faultline_fallbacks_total", 1.0)])),
        ]);
        let after = BTreeMap::from([
            (
                "a".to_owned(),
                read(&[
                    ("faultline_fallbacks_total", 9.0),
                    ("faultline_breaker_state", 1.0),
                ]),
            ),
            ("b".to_owned(), Err("gone".to_owned())),
        ]);
        let compared = compare(&before, &after);
        assert_eq!(compared[0].series["faultline_fallbacks_total"], 4.0);
        assert_eq!(compared[0].series["faultline_breaker_state"], 1.0);
        assert_eq!(compared[1].error.as_deref(), Some("gone"));
    }
}
