//! Chaos Mesh's pod selection: `spec.selector` (namespaces, pods, label, expression,
//! annotation, field and phase selectors) over the stored pods, then `spec.mode`/`spec.value`
//! (one, all, fixed, fixed-percent, random-max-percent) with a seeded choice.

use serde_json::Value;

use crate::clock::mix;
use crate::selector::LabelSelector;

/// A deterministic random source (SplitMix64).
pub(crate) struct Rng(pub u64);

impl Rng {
    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_add(1);
        (mix(self.0) % bound as u64) as usize
    }
}

/// `namespace/name` of the pods `chaos` selects, or why none are.
pub(crate) fn select(chaos: &Value, pods: &[Value], rng: &mut Rng) -> Result<Vec<String>, String> {
    let selector = &chaos["spec"]["selector"];
    let own_namespace = chaos["metadata"]["namespace"].as_str().unwrap_or_default();
    let mut labels = LabelSelector::from_map(
        selector["labelSelectors"]
            .as_object()
            .unwrap_or(&Default::default()),
    );
    for expression in selector["expressionSelectors"]
        .as_array()
        .into_iter()
        .flatten()
    {
        labels = labels.with_expression(expression)?;
    }
    let annotations = LabelSelector::from_map(
        selector["annotationSelectors"]
            .as_object()
            .unwrap_or(&Default::default()),
    );
    let namespaces: Vec<&str> = match selector["namespaces"].as_array() {
        Some(listed) if !listed.is_empty() => listed.iter().filter_map(Value::as_str).collect(),
        _ => vec![own_namespace],
    };
    let named = selector["pods"].as_object();
    let phases: Vec<&str> = selector["podPhaseSelectors"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = selector["fieldSelectors"].as_object();
    let candidates: Vec<String> = pods
        .iter()
        .filter(|pod| pod["metadata"].get("deletionTimestamp").is_none())
        .filter(|pod| {
            let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            let placed = match named {
                Some(named) => named
                    .get(namespace)
                    .and_then(Value::as_array)
                    .is_some_and(|names| names.iter().any(|n| n == name)),
                None => namespaces.contains(&namespace),
            };
            let phase = pod["status"]["phase"].as_str().unwrap_or_default();
            placed
                && labels.matches(pod["metadata"]["labels"].as_object())
                && annotations.matches(pod["metadata"]["annotations"].as_object())
                && (phases.is_empty() || phases.contains(&phase))
                && fields.is_none_or(|fields| {
                    fields.iter().all(|(path, wanted)| {
                        let actual = path.split('.').try_fold(*pod, |node, key| node.get(key));
                        actual.and_then(Value::as_str) == wanted.as_str()
                    })
                })
        })
        .map(|pod| {
            format!(
                "{}/{}",
                pod["metadata"]["namespace"].as_str().unwrap_or_default(),
                pod["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if candidates.is_empty() {
        return Err("no pod is selected".into());
    }
    let count = count(chaos, candidates.len(), rng)?;
    if count == 0 {
        return Err("no pod is selected".into());
    }
    Ok(choose(candidates, count, rng))
}

/// How many of `available` pods `spec.mode` and `spec.value` ask for.
fn count(chaos: &Value, available: usize, rng: &mut Rng) -> Result<usize, String> {
    let mode = chaos["spec"]["mode"].as_str().unwrap_or_default();
    let value = chaos["spec"]["value"].as_str().unwrap_or_default();
    let number = || {
        value
            .parse::<usize>()
            .map_err(|_| format!("mode {mode} needs an integer value, got {value:?}"))
    };
    let percent = || {
        number().and_then(|p| {
            if p <= 100 {
                Ok(p)
            } else {
                Err(format!("value {p} is out of the range 0-100"))
            }
        })
    };
    Ok(match mode {
        "one" => 1,
        "all" => available,
        "fixed" => number()?.min(available),
        "fixed-percent" => available * percent()? / 100,
        "random-max-percent" => {
            let max = percent()?;
            available * rng.below(max + 1) / 100
        }
        other => return Err(format!("mode {other:?} is not supported")),
    })
}

/// `count` of `candidates`, picked by a partial Fisher-Yates shuffle, in candidate order.
fn choose(mut candidates: Vec<String>, count: usize, rng: &mut Rng) -> Vec<String> {
    let total = candidates.len();
    for i in 0..count.min(total) {
        let j = i + rng.below(total - i);
        candidates.swap(i, j);
    }
    candidates.truncate(count);
    candidates.sort();
    candidates
}
