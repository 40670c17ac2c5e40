//! One chaos object's life under the stand-in: finalizer, desired phase, records,
//! injection, recovery and conditions, one store write per step.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::duration;
use super::select::{select, Rng};
use super::{Behaviour, ChaosMesh, FINALIZER, PAUSE_ANNOTATION};
use crate::clock::mix;
use crate::server::ApiServer;
use crate::write::strings;

const INJECTED: &str = "Injected";
const NOT_INJECTED: &str = "Not Injected";

/// A chaos object, by where it is stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Id {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// What the stand-in remembers of one chaos object.
pub(crate) struct Experiment {
    pub uid: String,
    created: Instant,
    run_since: Option<Instant>,
    duration: Option<Duration>,
    injection_due: bool,
    checked_at: Instant,
    failure_reported: bool,
}

impl Experiment {
    pub(crate) fn new(uid: String, now: Instant) -> Self {
        Experiment {
            uid,
            created: now,
            run_since: None,
            duration: None,
            injection_due: false,
            checked_at: now,
            failure_reported: false,
        }
    }

    /// When this experiment next needs a look: its injection or the end of its duration.
    pub(crate) fn next_deadline(&self, config: &ChaosMesh) -> Option<Instant> {
        let injection = self
            .run_since
            .filter(|_| self.injection_due)
            .map(|since| since + config.inject_after);
        let end = self.duration.map(|d| self.created + d);
        [injection, end]
            .into_iter()
            .flatten()
            .filter(|deadline| *deadline > self.checked_at)
            .min()
    }

    /// Makes the next write this object needs; false when there is none now.
    pub(crate) fn step(
        &mut self,
        config: &ChaosMesh,
        server: &ApiServer,
        id: &Id,
        object: &Value,
        rng: &mut Rng,
    ) -> bool {
        let now = Instant::now();
        self.checked_at = now;
        let metadata = &object["metadata"];
        let deleting = metadata.get("deletionTimestamp").is_some();
        let finalizers = strings(metadata.get("finalizers"));
        let modify = |change: &dyn Fn(&mut Value)| {
            server.modify(
                &id.api_version,
                &id.kind,
                Some(&id.namespace),
                &id.name,
                change,
            );
        };
        if !finalizers.iter().any(|f| f == FINALIZER) {
            if !deleting {
                modify(&|o: &mut Value| {
                    let mut finalizers = strings(o["metadata"].get("finalizers"));
                    finalizers.push(FINALIZER.to_owned());
                    o["metadata"]["finalizers"] = json!(finalizers);
                });
                return true;
            }
            return false;
        }
        let spec = &object["spec"];
        let pod_kill = id.kind == "PodChaos" && spec["action"] == "pod-kill";
        let one_shot = id.kind == "PodChaos"
            && matches!(spec["action"].as_str(), Some("pod-kill" | "container-kill"));
        let paused = metadata["annotations"][PAUSE_ANNOTATION] == "true";
        self.duration = spec["duration"].as_str().and_then(duration::parse);
        let expired = self.duration.is_some_and(|d| now >= self.created + d);
        let run = !deleting && (one_shot || !(expired || paused));
        if !run {
            self.run_since = None;
        } else if self.run_since.is_none() {
            self.run_since = Some(now);
        }
        let mut status = if object["status"].is_object() {
            object["status"].clone()
        } else {
            json!({})
        };
        if !status["experiment"].is_object() {
            status["experiment"] = json!({});
        }
        status["experiment"]["desiredPhase"] = if run { "Run" } else { "Stop" }.into();
        let mut killed = Vec::new();
        match status["experiment"]["containerRecords"].as_array_mut() {
            None if !deleting => match self.targets(config, server, object, rng) {
                Ok(targets) => {
                    let records: Vec<Value> = targets
                            .iter()
                            .map(|target| {
                                json!({"id": target, "selectorKey": ".", "phase": NOT_INJECTED, "injectedCount": 0, "recoveredCount": 0})
                            })
                            .collect();
                    status["experiment"]["containerRecords"] = Value::Array(records);
                }
                Err(message) => self.report(server, object, &message),
            },
            None => {}
            Some(records) => {
                let due = self
                    .run_since
                    .is_some_and(|since| now >= since + config.inject_after);
                for record in records.iter_mut().filter(|r| r.is_object()) {
                    let injected_before = record["injectedCount"].as_i64().unwrap_or(0) > 0;
                    if run
                        && due
                        && config.behaviour == Behaviour::Inject
                        && record["phase"] == NOT_INJECTED
                        && !(one_shot && injected_before)
                    {
                        record["phase"] = INJECTED.into();
                        record["injectedCount"] =
                            (record["injectedCount"].as_i64().unwrap_or(0) + 1).into();
                        if pod_kill {
                            killed.extend(record["id"].as_str().map(str::to_owned));
                        }
                    } else if !run && record["phase"] == INJECTED {
                        record["phase"] = NOT_INJECTED.into();
                        record["recoveredCount"] =
                            (record["recoveredCount"].as_i64().unwrap_or(0) + 1).into();
                    }
                }
            }
        }
        let records = status["experiment"]["containerRecords"].as_array().cloned();
        self.injection_due = run
            && config.behaviour == Behaviour::Inject
            && records.as_ref().is_some_and(|r| {
                r.iter().any(|x| {
                    x["phase"] == NOT_INJECTED
                        && !(one_shot && x["injectedCount"].as_i64().unwrap_or(0) > 0)
                })
            });
        status["conditions"] = conditions(records.as_deref(), paused);
        if status != object["status"] {
            modify(&|o: &mut Value| o["status"] = status.clone());
            for pod in killed {
                if let Some((namespace, name)) = pod.split_once('/') {
                    let _already_gone_is_fine = server.delete("v1", "Pod", Some(namespace), name);
                }
            }
            return true;
        }
        let recovered = records.iter().flatten().all(|r| r["phase"] == NOT_INJECTED);
        if deleting && recovered {
            modify(&|o: &mut Value| {
                let rest: Vec<String> = strings(o["metadata"].get("finalizers"))
                    .into_iter()
                    .filter(|f| f != FINALIZER)
                    .collect();
                o["metadata"]["finalizers"] = json!(rest);
            });
            return true;
        }
        false
    }

    fn targets(
        &self,
        config: &ChaosMesh,
        server: &ApiServer,
        object: &Value,
        rng: &mut Rng,
    ) -> Result<Vec<String>, String> {
        if let Behaviour::FailSelection(message) = &config.behaviour {
            return Err(message.clone());
        }
        let salt = self
            .uid
            .bytes()
            .fold(0u64, |hash, b| mix(hash ^ u64::from(b)));
        rng.0 ^= salt;
        select(object, &server.list("v1", "Pod", None), rng)
            .map_err(|why| format!("Failed to select targets: {why}"))
    }

    /// Records a selection failure as Chaos Mesh does, a `Warning` event on the object (once).
    fn report(&mut self, server: &ApiServer, object: &Value, message: &str) {
        if self.failure_reported {
            return;
        }
        self.failure_reported = true;
        let metadata = &object["metadata"];
        let name = metadata["name"].as_str().unwrap_or_default();
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": format!("{name}.{}", self.uid.get(..8).unwrap_or(&self.uid)),
                "namespace": metadata["namespace"],
            },
            "involvedObject": {
                "apiVersion": object["apiVersion"],
                "kind": object["kind"],
                "name": name,
                "namespace": metadata["namespace"],
                "uid": metadata["uid"],
            },
            "reason": "Failed",
            "message": message,
            "type": "Warning",
            "source": {"component": "chaos-controller-manager"},
            "count": 1,
        });
        let _event_is_best_effort = server.put(event);
    }
}

/// Chaos Mesh's four common conditions, derived from the records and the pause annotation.
fn conditions(records: Option<&[Value]>, paused: bool) -> Value {
    let all = |phase: &str| records.is_some_and(|r| r.iter().all(|x| x["phase"] == phase));
    let condition = |kind: &str, holds: bool| json!({"type": kind, "status": if holds { "True" } else { "False" }});
    json!([
        condition("Selected", records.is_some()),
        condition("AllInjected", all(INJECTED)),
        condition("AllRecovered", all(NOT_INJECTED)),
        condition("Paused", paused),
    ])
}
