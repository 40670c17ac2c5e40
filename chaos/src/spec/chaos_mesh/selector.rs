//! Which pods a Chaos Mesh selector picks: [`PodSelectorSpec::matches`] for one candidate
//! (Chaos Mesh's `SelectPods` and its selector chain, pkg/selector/pod) and [`select`] for
//! the `mode` / `value` choice among the matches (`FilterObjectsByMode`,
//! pkg/selector/generic/mode.go), drawn from a seeded [`SplitMix64`] so a run replays.

use super::rules::go_atoi;
use super::{ExpressionSelector, PodSelectorSpec, SelectorMode};
use faultline_core::rng::SplitMix64;
use std::collections::BTreeMap;
use std::fmt;

/// What a selector can see of one pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodInfo {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// `spec.nodeName`, if scheduled.
    pub node: Option<String>,
    /// The labels of that node (for `nodeSelectors`).
    pub node_labels: BTreeMap<String, String>,
}

impl PodSelectorSpec {
    /// No field is set at all.
    pub fn is_empty(&self) -> bool {
        self.matches_everything() && self.namespaces.as_ref().is_none_or(Vec::is_empty)
    }

    /// Nothing narrows the choice below whole namespaces: every pod of `namespaces` (or,
    /// when none are named, of the object's namespace) matches. A Kubernetes backend must
    /// refuse such a selector unless told otherwise.
    pub fn matches_everything(&self) -> bool {
        let map_empty =
            |m: &Option<BTreeMap<String, String>>| m.as_ref().is_none_or(BTreeMap::is_empty);
        let list_empty = |l: &Option<Vec<String>>| l.as_ref().is_none_or(Vec::is_empty);
        map_empty(&self.label_selectors)
            && map_empty(&self.annotation_selectors)
            && map_empty(&self.field_selectors)
            && map_empty(&self.node_selectors)
            && self.expression_selectors.as_ref().is_none_or(Vec::is_empty)
            && self.pods.as_ref().is_none_or(BTreeMap::is_empty)
            && list_empty(&self.nodes)
            && list_empty(&self.pod_phase_selectors)
    }

    /// Whether `pod` is a candidate. As in Chaos Mesh, a non-empty `pods` names the
    /// candidates outright and the other fields are not consulted; otherwise every field
    /// that is set must match. No `namespaces` means any namespace here: Chaos Mesh's
    /// webhook fills in the object's own namespace first (`PodSelector.Default`).
    pub fn matches(&self, pod: &PodInfo) -> bool {
        if let Some(pods) = self.pods.as_ref().filter(|p| !p.is_empty()) {
            return pods
                .get(&pod.namespace)
                .is_some_and(|names| names.contains(&pod.name));
        }
        let namespaces = self.namespaces.as_deref().unwrap_or_default();
        (namespaces.is_empty() || namespaces.contains(&pod.namespace))
            && all_equal(self.label_selectors.as_ref(), &pod.labels)
            && all_equal(self.annotation_selectors.as_ref(), &pod.annotations)
            && all_equal(self.node_selectors.as_ref(), &pod.node_labels)
            && self
                .expression_selectors
                .iter()
                .flatten()
                .all(|e| expression_matches(e, &pod.labels))
            && self
                .field_selectors
                .iter()
                .flatten()
                .all(|(k, v)| field_matches(k, v, pod))
            && self
                .nodes
                .as_ref()
                .filter(|n| !n.is_empty())
                .is_none_or(|nodes| pod.node.as_ref().is_some_and(|node| nodes.contains(node)))
            && phase_matches(
                self.pod_phase_selectors.as_deref().unwrap_or_default(),
                &pod.phase,
            )
    }
}

fn all_equal(wanted: Option<&BTreeMap<String, String>>, have: &BTreeMap<String, String>) -> bool {
    wanted
        .into_iter()
        .flatten()
        .all(|(key, value)| have.get(key) == Some(value))
}

/// Kubernetes' `labels.Requirement.Matches`; an unknown operator matches nothing.
fn expression_matches(expression: &ExpressionSelector, labels: &BTreeMap<String, String>) -> bool {
    let values = expression.values.as_deref().unwrap_or_default();
    let label = labels.get(&expression.key);
    match expression.operator.as_str() {
        "In" => label.is_some_and(|l| values.contains(l)),
        "NotIn" => label.is_none_or(|l| !values.contains(l)),
        "Exists" => label.is_some(),
        "DoesNotExist" => label.is_none(),
        _ => false,
    }
}

/// The pod field selectors Kubernetes supports that a [`PodInfo`] carries; any other
/// field matches nothing.
fn field_matches(field: &str, value: &str, pod: &PodInfo) -> bool {
    match field {
        "metadata.name" => pod.name == value,
        "metadata.namespace" => pod.namespace == value,
        "status.phase" => pod.phase == value,
        "spec.nodeName" => pod.node.as_deref() == Some(value),
        _ => false,
    }
}

/// Chaos Mesh's `phaseSelector.Match` (pkg/selector/pod/phase_selector.go): `Running`
/// includes, `!Failed` excludes; with no including entry every phase not excluded matches.
fn phase_matches(selectors: &[String], phase: &str) -> bool {
    let mut included = Vec::new();
    let mut excluded = false;
    for selector in selectors.iter().map(|s| s.trim()) {
        match selector.strip_prefix('!') {
            Some(name) => excluded |= name.trim() == phase,
            None => included.push(selector),
        }
    }
    !excluded && (included.is_empty() || included.contains(&phase))
}

/// Why no pod could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// No candidate matched the selector (Chaos Mesh's `ErrNoPodSelected`).
    NoPodSelected,
    /// `value` does not fit `mode` (see `validate`).
    BadValue { mode: SelectorMode, value: String },
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectError::NoPodSelected => f.write_str("no pod is selected"),
            SelectError::BadValue { mode, value } => {
                write!(f, "value {value:?} does not fit mode {mode:?}")
            }
        }
    }
}

impl std::error::Error for SelectError {}

/// The pods `selector`, `mode` and `value` choose among `candidates`, as Chaos Mesh's
/// `FilterObjectsByMode` does: `one` picks one, `all` all, `fixed` `min(value, matches)`,
/// `fixed-percent` `ceil(matches * value / 100)`, `random-max-percent` draws a percentage
/// in `0..=value` and then takes `ceil(matches * p / 100)` (possibly none). The matches are
/// ordered by (namespace, name) before drawing and the choice is returned in that order,
/// so the result depends only on the candidates and the generator's seed.
pub fn select<'a>(
    selector: &PodSelectorSpec,
    mode: SelectorMode,
    value: Option<&str>,
    candidates: &'a [PodInfo],
    rng: &SplitMix64,
) -> Result<Vec<&'a PodInfo>, SelectError> {
    let mut matched: Vec<&PodInfo> = candidates.iter().filter(|p| selector.matches(p)).collect();
    matched.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let count = matched.len();
    if count == 0 {
        return Err(SelectError::NoPodSelected);
    }
    let bad_value = || SelectError::BadValue {
        mode,
        value: value.unwrap_or("").to_owned(),
    };
    let number = || value.and_then(go_atoi).ok_or_else(bad_value);
    let percent_of = |percent: u64| (count as u64 * percent).div_ceil(100) as usize;
    let chosen = match mode {
        SelectorMode::One => 1,
        SelectorMode::All => count,
        SelectorMode::Fixed => match number()? {
            n if n <= 0 => return Err(bad_value()),
            n => usize::try_from(n).map_or(count, |n| n.min(count)),
        },
        SelectorMode::FixedPercent => match number()? {
            p @ 1..=100 => percent_of(p as u64),
            _ => return Err(bad_value()),
        },
        SelectorMode::RandomMaxPercent => match number()? {
            max @ 1..=100 => percent_of(rng.below(max as u64 + 1)),
            _ => return Err(bad_value()),
        },
    };
    let mut indexes = choose_indexes(count, chosen, rng);
    indexes.sort_unstable();
    Ok(indexes.into_iter().map(|i| matched[i]).collect())
}

/// `k` distinct indexes in `0..n`, uniformly (a partial Fisher-Yates shuffle).
fn choose_indexes(n: usize, k: usize, rng: &SplitMix64) -> Vec<usize> {
    let mut pool: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool
}
