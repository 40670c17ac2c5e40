//! The value rules Chaos Mesh's admission webhook applies to fields of every kind, each
//! mirroring the Go function named on it (chaos-mesh `api/v1alpha1/*_webhook.go`).

use super::{ExpressionSelector, PodSelectorSpec, SelectorMode};
use faultline_core::config::{duration, FieldErrors, FieldPath};

/// Go's `strconv.Atoi`: an optional sign, then decimal digits, in `i64`.
pub(crate) fn go_atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `mode` and `value` of a pod selector. Mirrors `PodSelector.Validate`
/// (common_webhook.go): `fixed` needs a whole number > 0, `fixed-percent` and
/// `random-max-percent` a whole number in 1..=100. `path` holds `mode` and `value`.
pub(crate) fn selector_mode(
    mode: SelectorMode,
    value: Option<&str>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let value = value.unwrap_or("");
    let (name, ok, allowed) = match mode {
        SelectorMode::One | SelectorMode::All => return,
        SelectorMode::Fixed => (
            "fixed",
            go_atoi(value).is_some_and(|n| n > 0),
            "a whole number of pods > 0",
        ),
        SelectorMode::FixedPercent => (
            "fixed-percent",
            go_atoi(value).is_some_and(|n| (1..=100).contains(&n)),
            "a whole percentage in 1..=100",
        ),
        SelectorMode::RandomMaxPercent => (
            "random-max-percent",
            go_atoi(value).is_some_and(|n| (1..=100).contains(&n)),
            "a whole percentage in 1..=100",
        ),
    };
    errors.check(
        ok,
        || path.field("value"),
        || format!("mode {name} needs value to be {allowed}, got {value:?}"),
    );
}

/// The expression selectors of `selector`. Mirrors Kubernetes' `labels.NewRequirement`
/// (reached through `metav1.LabelSelectorAsSelector` when Chaos Mesh selects pods): `In`
/// and `NotIn` need values, `Exists` and `DoesNotExist` take none.
pub(crate) fn pod_selector(selector: &PodSelectorSpec, path: &FieldPath, errors: &mut FieldErrors) {
    let expressions = selector.expression_selectors.iter().flatten();
    for (i, expression) in expressions.enumerate() {
        expression_selector(
            expression,
            &path.field("expressionSelectors").index(i),
            errors,
        );
    }
}

fn expression_selector(
    expression: &ExpressionSelector,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let has_values = expression.values.as_ref().is_some_and(|v| !v.is_empty());
    match expression.operator.as_str() {
        "In" | "NotIn" => errors.check(
            has_values,
            || path.field("values"),
            || format!("operator {} needs at least one value", expression.operator),
        ),
        "Exists" | "DoesNotExist" => errors.check(
            !has_values,
            || path.field("values"),
            || format!("operator {} takes no values", expression.operator),
        ),
        other => errors.push(
            path.field("operator"),
            format!("must be one of In, NotIn, Exists, DoesNotExist, got {other:?}"),
        ),
    }
}

/// A duration field. Mirrors `Duration.Validate` (common_webhook.go): empty is allowed
/// (the field's default applies), anything else must parse with Go's syntax. faultline's
/// parser also refuses a sign, which Go accepts: no fault lasts a negative time.
pub(crate) fn go_duration(text: Option<&str>, path: &FieldPath, errors: &mut FieldErrors) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        if let Err(error) = duration::parse(text) {
            errors.push(path.clone(), error.to_string());
        }
    }
}

/// A required duration (`delay.latency`): present, non-empty and Go syntax.
pub(crate) fn required_duration(text: &str, path: &FieldPath, errors: &mut FieldErrors) {
    match text.is_empty() {
        true => errors.push(path.clone(), "is required, e.g. \"100ms\""),
        false => go_duration(Some(text), path, errors),
    }
}

/// A percentage written as a decimal string (`loss: "25"`, `correlation: "0.5"`). Mirrors
/// `FloatStr.Validate` (common_webhook.go, `strconv.ParseFloat(s, 32)`); the range 0..=100
/// is what `tc netem` accepts, checked here rather than at injection. An optional field
/// that is absent or empty takes Chaos Mesh's default `"0"`.
pub(crate) fn percentage(
    text: Option<&str>,
    required: bool,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let text = match text.filter(|t| !t.is_empty()) {
        Some(text) => text,
        None if required => {
            return errors.push(path.clone(), "is required: a percentage in 0..=100")
        }
        None => return,
    };
    let ok = text
        .parse::<f32>()
        .is_ok_and(|p| (0.0..=100.0).contains(&p));
    errors.check(
        ok,
        || path.clone(),
        || format!("must be a decimal percentage in 0..=100 (e.g. \"25\", \"0.5\"), got {text:?}"),
    );
}

/// A bandwidth rate (`"1mbps"`, `"100kbit"`). Mirrors `Rate.Validate` /
/// `isValidRateUnit` (networkchaos_webhook.go): an unsigned integer, then a unit.
pub(crate) fn rate(text: &str, path: &FieldPath, errors: &mut FieldErrors) {
    errors.check(
        super::values::rate_bytes_per_second(text).is_some(),
        || path.clone(),
        || {
            let units: Vec<&str> = super::values::rate_units().collect();
            format!(
                "must be an unsigned integer and a unit ({}), e.g. \"1mbps\", got {text:?}",
                units.join(", ")
            )
        },
    );
}

/// An integer field with a lower bound (the CRD's `minimum`, which the API server checks).
pub(crate) fn at_least(value: Option<i64>, min: i64, path: &FieldPath, errors: &mut FieldErrors) {
    if let Some(value) = value {
        errors.check(
            value >= min,
            || path.clone(),
            || format!("must be >= {min}, got {value}"),
        );
    }
}
