//! Selector semantics: which pods match, and how each mode chooses among them (Chaos Mesh's
//! `FilterObjectsByMode`, rounding included), deterministically by seed.

use faultline_chaos::spec::chaos_mesh::{
    select, PodInfo, PodSelectorSpec, SelectError, SelectorMode,
};
use faultline_core::rng::SplitMix64;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

fn spec(value: serde_json::Value) -> PodSelectorSpec {
    serde_json::from_value(value).expect("selector")
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pod(namespace: &str, name: &str, labels: &[(&str, &str)]) -> PodInfo {
    PodInfo {
        name: name.into(),
        namespace: namespace.into(),
        labels: map(labels),
        phase: "Running".into(),
        ..PodInfo::default()
    }
}

/// Ten pods `shop/cart-0..9` labelled app=cart, in scrambled order.
fn carts() -> Vec<PodInfo> {
    [7, 2, 9, 0, 4, 1, 8, 3, 6, 5]
        .iter()
        .map(|i| pod("shop", &format!("cart-{i}"), &[("app", "cart")]))
        .collect()
}

fn names(chosen: &[&PodInfo]) -> Vec<String> {
    chosen.iter().map(|p| p.name.clone()).collect()
}

fn count(mode: SelectorMode, value: Option<&str>, seed: u64) -> usize {
    let pods = carts();
    select(&spec(json!({})), mode, value, &pods, &SplitMix64::new(seed))
        .map(|chosen| chosen.len())
        .unwrap_or(usize::MAX)
}

#[test]
fn namespaces_and_label_selectors_must_all_match() {
    let selector = spec(
        json!({"namespaces": ["shop", "db"], "labelSelectors": {"app": "cart", "tier": "web"}}),
    );
    assert!(selector.matches(&pod(
        "shop",
        "a",
        &[("app", "cart"), ("tier", "web"), ("x", "y")]
    )));
    assert!(!selector.matches(&pod("shop", "a", &[("app", "cart")])));
    assert!(!selector.matches(&pod("other", "a", &[("app", "cart"), ("tier", "web")])));
    assert!(spec(json!({})).matches(&pod("any", "a", &[])));
}

#[test]
fn expression_selectors_in_notin_exists_doesnotexist() {
    let expr = |op: &str, values: &[&str]| {
        spec(json!({"expressionSelectors": [{"key": "tier", "operator": op, "values": values}]}))
    };
    let web = pod("n", "a", &[("tier", "web")]);
    let db = pod("n", "b", &[("tier", "db")]);
    let bare = pod("n", "c", &[]);
    let check = |s: PodSelectorSpec| [s.matches(&web), s.matches(&db), s.matches(&bare)];
    assert_eq!(check(expr("In", &["web", "cache"])), [true, false, false]);
    assert_eq!(check(expr("NotIn", &["web"])), [false, true, true]);
    assert_eq!(check(expr("Exists", &[])), [true, true, false]);
    assert_eq!(check(expr("DoesNotExist", &[])), [false, false, true]);
    assert_eq!(check(expr("Like", &["web"])), [false, false, false]);
}

#[test]
fn annotation_and_field_selectors() {
    let mut annotated = pod("shop", "cart-1", &[]);
    annotated.annotations = map(&[("chaos", "yes")]);
    annotated.node = Some("node-a".into());
    assert!(spec(json!({"annotationSelectors": {"chaos": "yes"}})).matches(&annotated));
    assert!(!spec(json!({"annotationSelectors": {"chaos": "no"}})).matches(&annotated));
    let fields = |f: serde_json::Value| spec(json!({"fieldSelectors": f})).matches(&annotated);
    assert!(fields(
        json!({"metadata.name": "cart-1", "metadata.namespace": "shop"})
    ));
    assert!(fields(
        json!({"status.phase": "Running", "spec.nodeName": "node-a"})
    ));
    assert!(!fields(json!({"metadata.name": "cart-2"})));
    assert!(!fields(json!({"spec.restartPolicy": "Always"})));
}

#[test]
fn pods_name_the_candidates_outright() {
    let selector =
        spec(json!({"pods": {"shop": ["cart-1", "cart-2"]}, "labelSelectors": {"app": "other"}}));
    assert!(selector.matches(&pod("shop", "cart-1", &[])));
    assert!(!selector.matches(&pod("shop", "cart-3", &[])));
    assert!(!selector.matches(&pod("db", "cart-1", &[])));
}

#[test]
fn pod_phase_selectors_include_and_exclude() {
    let mut pending = pod("n", "a", &[]);
    pending.phase = "Pending".into();
    let running = pod("n", "b", &[]);
    let phases = |p: &[&str]| spec(json!({"podPhaseSelectors": p}));
    assert!(phases(&["Running"]).matches(&running));
    assert!(!phases(&["Running"]).matches(&pending));
    assert!(phases(&["!Running"]).matches(&pending));
    assert!(!phases(&["!Running"]).matches(&running));
    assert!(phases(&["Running", "Pending"]).matches(&pending));
}

#[test]
fn nodes_and_node_selectors() {
    let mut scheduled = pod("n", "a", &[]);
    scheduled.node = Some("node-a".into());
    scheduled.node_labels = map(&[("zone", "z1")]);
    assert!(spec(json!({"nodes": ["node-a"]})).matches(&scheduled));
    assert!(!spec(json!({"nodes": ["node-b"]})).matches(&scheduled));
    assert!(!spec(json!({"nodes": ["node-a"]})).matches(&pod("n", "b", &[])));
    assert!(spec(json!({"nodeSelectors": {"zone": "z1"}})).matches(&scheduled));
    assert!(!spec(json!({"nodeSelectors": {"zone": "z2"}})).matches(&scheduled));
}

#[test]
fn an_empty_selector_is_detectable() {
    assert!(spec(json!({})).is_empty());
    assert!(spec(json!({"labelSelectors": {}, "pods": {}})).is_empty());
    let whole_namespace = spec(json!({"namespaces": ["shop"]}));
    assert!(!whole_namespace.is_empty());
    assert!(whole_namespace.matches_everything());
    assert!(
        !spec(json!({"namespaces": ["shop"], "labelSelectors": {"app": "cart"}}))
            .matches_everything()
    );
    assert!(!spec(json!({"podPhaseSelectors": ["Running"]})).matches_everything());
}

#[test]
fn mode_one_picks_one_and_all_picks_all_in_name_order() {
    let pods = carts();
    let rng = SplitMix64::new(1);
    assert_eq!(
        select(&spec(json!({})), SelectorMode::One, None, &pods, &rng).map(|c| c.len()),
        Ok(1)
    );
    let all = select(&spec(json!({})), SelectorMode::All, None, &pods, &rng).expect("all");
    let expected: Vec<String> = (0..10).map(|i| format!("cart-{i}")).collect();
    assert_eq!(names(&all), expected);
}

#[test]
fn mode_fixed_takes_value_pods_at_most_all() {
    assert_eq!(count(SelectorMode::Fixed, Some("3"), 7), 3);
    assert_eq!(count(SelectorMode::Fixed, Some("10"), 7), 10);
    assert_eq!(count(SelectorMode::Fixed, Some("25"), 7), 10);
}

#[test]
fn mode_fixed_percent_rounds_up() {
    // ceil(10 * p / 100), as FilterObjectsByMode computes it.
    assert_eq!(count(SelectorMode::FixedPercent, Some("25"), 1), 3);
    assert_eq!(count(SelectorMode::FixedPercent, Some("1"), 1), 1);
    assert_eq!(count(SelectorMode::FixedPercent, Some("50"), 1), 5);
    assert_eq!(count(SelectorMode::FixedPercent, Some("99"), 1), 10);
    assert_eq!(count(SelectorMode::FixedPercent, Some("100"), 1), 10);
}

#[test]
fn mode_random_max_percent_draws_a_percentage_then_rounds_up() {
    // A percentage p in 0..=30 is drawn, then ceil(10 * p / 100) pods: 0 to 3.
    let counts: BTreeSet<usize> = (0..500)
        .map(|seed| count(SelectorMode::RandomMaxPercent, Some("30"), seed))
        .collect();
    assert_eq!(counts, BTreeSet::from([0, 1, 2, 3]));
    let full: BTreeSet<usize> = (0..500)
        .map(|seed| count(SelectorMode::RandomMaxPercent, Some("100"), seed))
        .collect();
    assert!(
        full.contains(&10) && full.iter().all(|c| *c <= 10),
        "{full:?}"
    );
}

#[test]
fn bad_values_and_no_matches_are_errors() {
    let pods = carts();
    let rng = SplitMix64::new(0);
    let bad = |mode, value| select(&spec(json!({})), mode, value, &pods, &rng).map(|c| c.len());
    assert!(matches!(
        bad(SelectorMode::Fixed, Some("0")),
        Err(SelectError::BadValue { .. })
    ));
    assert!(matches!(
        bad(SelectorMode::Fixed, None),
        Err(SelectError::BadValue { .. })
    ));
    assert!(matches!(
        bad(SelectorMode::FixedPercent, Some("101")),
        Err(SelectError::BadValue { .. })
    ));
    assert!(matches!(
        bad(SelectorMode::RandomMaxPercent, Some("x")),
        Err(SelectError::BadValue { .. })
    ));
    let none = spec(json!({"namespaces": ["nowhere"]}));
    assert_eq!(
        select(&none, SelectorMode::All, None, &pods, &rng),
        Err(SelectError::NoPodSelected)
    );
}

#[test]
fn choices_are_distinct_sorted_and_replay_by_seed() {
    let pods = carts();
    let mut reversed = pods.clone();
    reversed.reverse();
    let pick = |candidates: &[PodInfo], seed| {
        let chosen = select(
            &spec(json!({"labelSelectors": {"app": "cart"}})),
            SelectorMode::Fixed,
            Some("4"),
            candidates,
            &SplitMix64::new(seed),
        );
        names(&chosen.expect("fixed 4"))
    };
    let mut distinct_choices = BTreeSet::new();
    for seed in 0..50 {
        let chosen = pick(&pods, seed);
        let mut sorted = chosen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(chosen, sorted, "sorted and distinct");
        assert_eq!(chosen.len(), 4);
        assert_eq!(chosen, pick(&pods, seed), "same seed, same pick");
        assert_eq!(
            chosen,
            pick(&reversed, seed),
            "candidate order does not matter"
        );
        distinct_choices.insert(chosen);
    }
    assert!(distinct_choices.len() > 10, "seeds vary the pick");
}

#[test]
fn no_mode_and_value_makes_selection_panic() {
    let modes = [
        SelectorMode::One,
        SelectorMode::All,
        SelectorMode::Fixed,
        SelectorMode::FixedPercent,
        SelectorMode::RandomMaxPercent,
    ];
    let values = [
        None,
        Some(""),
        Some("-1"),
        Some("0"),
        Some("1"),
        Some("100"),
        Some("101"),
        Some("9223372036854775807"),
        Some("-9223372036854775808"),
        Some("99999999999999999999"),
        Some("+"),
    ];
    let pods = carts();
    for size in [0, 1, 10] {
        for mode in modes {
            for value in values {
                for seed in 0..20 {
                    let chosen = select(
                        &spec(json!({})),
                        mode,
                        value,
                        &pods[..size],
                        &SplitMix64::new(seed),
                    );
                    assert!(chosen.map_or(true, |c| c.len() <= size));
                }
            }
        }
    }
}
