//! The located YAML loader end to end: every kind of error lands on the right file, line and
//! column with a message that says what was expected, the limits hold, and no input panics.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use faultline_chaos::spec::de::from_value;
use faultline_chaos::spec::located::{
    parse_bytes, parse_documents, Document, SpecError, MAX_DEPTH, MAX_INPUT_BYTES,
};
use faultline_core::config::{FieldErrors, FieldPath, Validate};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NetworkChaos {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    action: Action,
    mode: Mode,
    delay: Option<Delay>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Delay,
    Loss,
    Partition,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    One,
    All,
    Fixed,
    FixedPercent,
    RandomMaxPercent,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    #[serde(with = "faultline_core::config::duration")]
    latency: Duration,
    #[serde(default, with = "faultline_core::config::duration::option")]
    jitter: Option<Duration>,
}

impl Validate for Delay {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        errors.check(
            self.latency <= Duration::from_secs(60),
            || path.field("latency"),
            || format!("must be at most 1m, got {:?}", self.latency),
        );
    }
}

const VALID: &str = "\
apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata:
  name: delay
spec:
  action: delay
  mode: one
  delay:
    latency: 10ms
    jitter: 1ms
";

fn file() -> &'static Path {
    Path::new("exp.yaml")
}

fn one(text: &str) -> Document {
    let mut documents = parse_documents(text, file()).expect("test input parses");
    assert_eq!(documents.len(), 1, "{text}");
    documents.remove(0)
}

/// `(line, column, message)` of deserializing `text` as a `NetworkChaos`.
fn chaos_error(text: &str) -> (usize, usize, String) {
    let error = one(text)
        .deserialize::<NetworkChaos>()
        .expect_err("test input is invalid");
    (error.location.line, error.location.column, error.message)
}

fn parse_error(text: &str) -> SpecError {
    parse_documents(text, file()).expect_err("test input is refused")
}

#[test]
fn a_valid_file_deserializes() {
    let chaos: NetworkChaos = one(VALID).deserialize().unwrap();
    assert_eq!(chaos.kind, "NetworkChaos");
    assert_eq!(chaos.api_version, "chaos-mesh.org/v1alpha1");
    assert_eq!(chaos.metadata.name, "delay");
    assert!(chaos.metadata.labels.is_empty());
    assert_eq!(chaos.spec.action, Action::Delay);
    assert_eq!(chaos.spec.mode, Mode::One);
    let delay = chaos.spec.delay.unwrap();
    assert_eq!(delay.latency, Duration::from_millis(10));
    assert_eq!(delay.jitter, Some(Duration::from_millis(1)));
}

#[test]
fn unknown_field_points_at_the_key_and_suggests_the_closest() {
    let text = VALID.replace("    latency: 10ms", "    laterncy: 10ms");
    assert_eq!(
        chaos_error(&text),
        (
            9,
            5,
            r#"spec.delay.laterncy: unknown field "laterncy", did you mean "latency"?"#.into()
        )
    );
}

#[test]
fn unknown_field_with_nothing_close_lists_the_valid_ones() {
    let text = VALID.replace("  mode: one", "  mode: one\n  zzz: 1");
    let (line, column, message) = chaos_error(&text);
    assert_eq!((line, column), (8, 3));
    assert!(
        message.ends_with(r#"unknown field "zzz", expected one of "action", "mode", "delay""#),
        "{message}"
    );
}

#[test]
fn missing_field_points_at_the_mapping_that_lacks_it() {
    let text = VALID.replace("    latency: 10ms\n", "");
    assert_eq!(
        chaos_error(&text),
        (8, 3, r#"spec.delay: missing field "latency""#.into())
    );
    let text = VALID.replace("kind: NetworkChaos\n", "");
    assert_eq!(chaos_error(&text), (1, 1, r#"missing field "kind""#.into()));
}

#[test]
fn wrong_type_points_at_the_value() {
    let text = VALID.replace("  name: delay", "  name:\n    - a");
    assert_eq!(
        chaos_error(&text),
        (
            5,
            5,
            "metadata.name: expected a string, found a sequence".into()
        )
    );
    let text = VALID.replace("  name: delay", "  name: {a: 1}");
    let (line, column, message) = chaos_error(&text);
    assert_eq!((line, column), (4, 9));
    assert!(message.ends_with("found a mapping"), "{message}");
}

#[test]
fn bad_variant_points_at_the_value_and_suggests_the_closest() {
    let text = VALID.replace("mode: one", "mode: fixed-percnt");
    assert_eq!(
        chaos_error(&text),
        (
            7,
            9,
            r#"spec.mode: unknown variant "fixed-percnt", did you mean "fixed-percent"?"#.into()
        )
    );
}

#[test]
fn a_custom_error_such_as_a_bad_duration_points_at_the_value() {
    let text = VALID.replace("jitter: 1ms", "jitter: 5 parsecs");
    let (line, column, message) = chaos_error(&text);
    assert_eq!((line, column), (10, 13));
    assert!(
        message.starts_with(r#"spec.delay.jitter: invalid duration "5 parsecs""#),
        "{message}"
    );
}

#[test]
fn yaml_syntax_errors_have_their_own_position() {
    let error = parse_error("a: 1\nb: [1, 2\nc: 3\n");
    assert!(error.message.starts_with("YAML syntax error"), "{error}");
    assert_eq!(error.location.line, 3, "{error}");
    let error = parse_error("a: 1\n  b: 2\n");
    assert_eq!(
        (error.location.line, error.location.column),
        (2, 4),
        "{error}"
    );
    assert!(error
        .to_string()
        .starts_with("exp.yaml:2:4: YAML syntax error"));
}

#[test]
fn a_document_that_is_not_a_mapping_fails_at_its_start() {
    let text = "---\na: 1\n---\n\n  - just\n  - a list\n";
    let documents = parse_documents(text, file()).unwrap();
    assert_eq!(documents.len(), 2);
    let error = documents[1].deserialize::<Metadata>().unwrap_err();
    assert_eq!((error.location.line, error.location.column), (5, 3));
    assert_eq!(error.message, "expected struct Metadata, found a sequence");
    assert_eq!(documents[1].start(), error.location);
}

#[test]
fn positions_in_later_documents_refer_to_the_whole_file() {
    let text = format!("# first\n---\n{VALID}---\n---\n{VALID}...\n---\n{VALID}");
    let documents = parse_documents(&text, file()).unwrap();
    assert_eq!(documents.len(), 3, "the empty document is skipped");
    let starts: Vec<usize> = documents.iter().map(|d| d.start().line).collect();
    assert_eq!(starts, [3, 15, 27]);
    let latency = FieldPath::root()
        .field("spec")
        .field("delay")
        .field("latency");
    let lines: Vec<usize> = documents.iter().map(|d| d.locate(&latency).line).collect();
    assert_eq!(lines, [11, 23, 35]);
    assert_eq!(documents[2].locate(&latency).to_string(), "exp.yaml:35:5");
    assert_eq!(documents[2].locate_value(&latency).column, 14);
    let broken = text
        .replacen("mode: one", "mode: 1", 3)
        .replacen("mode: 1", "mode: one", 2);
    let documents = parse_documents(&broken, file()).unwrap();
    let error = documents[2].deserialize::<NetworkChaos>().unwrap_err();
    assert_eq!((error.location.line, error.location.column), (33, 9));
}

#[test]
fn locate_falls_back_to_the_deepest_existing_node() {
    let document = one(VALID);
    let spec = FieldPath::root().field("spec");
    assert_eq!(document.locate(&spec.field("nope").field("deeper")).line, 5);
    assert_eq!(document.locate(&spec.field("mode").field("x")).column, 9);
    assert_eq!(document.locate(&FieldPath::root()).line, 1);
    let list = one("items:\n  - a\n  - b: 1\n");
    let second = FieldPath::root().field("items").index(1);
    assert_eq!(list.locate(&second.field("b")).line, 3);
    assert_eq!(list.locate(&second.field("b")).column, 5);
    assert_eq!(
        list.locate(&FieldPath::root().field("items").index(9)).line,
        1
    );
}

#[test]
fn deserialize_at_reads_a_subtree_and_keeps_full_paths() {
    let document = one(VALID);
    let delay_path = FieldPath::root().field("spec").field("delay");
    let delay: Delay = document.deserialize_at(&delay_path).unwrap();
    assert_eq!(delay.latency, Duration::from_millis(10));
    let error = document
        .deserialize_at::<Metadata>(&delay_path)
        .unwrap_err();
    assert_eq!((error.location.line, error.location.column), (9, 5));
    assert_eq!(
        error.message,
        r#"spec.delay.latency: unknown field "latency", expected one of "name", "labels""#
    );
    let missing = document
        .deserialize_at::<Delay>(&FieldPath::root().field("status"))
        .unwrap_err();
    assert_eq!(missing.message, "status: missing");
    assert_eq!(missing.location.line, 1);
}

#[test]
fn validate_errors_are_located() {
    let document = one(&VALID.replace("latency: 10ms", "latency: 2m"));
    let path = FieldPath::root().field("spec").field("delay");
    let delay: Delay = document.deserialize_at(&path).unwrap();
    let mut errors = FieldErrors::default();
    delay.validate_at(&path, &mut errors);
    let located = document.locate_errors(&errors);
    assert_eq!(located.len(), 1);
    assert_eq!(
        located[0].to_string(),
        "exp.yaml:9:5: spec.delay.latency: must be at most 1m, got 120s"
    );
}

#[test]
fn from_value_paths_point_at_the_failing_value() {
    let value = json!({"latency": "10ms", "jitter": ["x"]});
    let error = from_value::<Delay>(&value).unwrap_err();
    assert_eq!(error.path.to_string(), "jitter");
    assert!(error.message.contains("found a sequence"), "{error}");
    let value = json!([{"name": "a"}, {"name": 5}]);
    let error = from_value::<Vec<Metadata>>(&value).unwrap_err();
    assert_eq!(error.path.to_string(), "[1].name");
    assert_eq!(error.message, "expected a string, found the integer 5");
}

#[test]
fn the_json_view_follows_the_core_schema() {
    let document = one(
        "a: yes\nb: no\nc: on\nd: true\ne: ~\nf: 0x10\ng: 1.5\nh: '1'\n80: http\n\
         i: 123456789012345678901234567890\nj: !!str 12\n",
    );
    assert_eq!(
        document.value(),
        &json!({"a": "yes", "b": "no", "c": "on", "d": true, "e": null, "f": 16, "g": 1.5,
                "h": "1", "80": "http", "i": 1.2345678901234568e29, "j": "12"})
    );
}

#[test]
fn values_json_cannot_hold_are_refused_where_written() {
    let error = parse_error("a: 1\nb: .nan\n");
    assert_eq!((error.location.line, error.location.column), (2, 4));
    assert!(error.message.contains("not a finite number"), "{error}");
    let error = parse_error("a: 1e400\n");
    assert!(error.message.contains("out of range"), "{error}");
}

#[test]
fn duplicate_keys_are_refused_at_the_second() {
    let error = parse_error("a: 1\nb:\n  c: 1\n  c: 2\n");
    assert_eq!((error.location.line, error.location.column), (4, 3));
    assert_eq!(
        error.message,
        r#"duplicate key "c" (first at line 3, column 3)"#
    );
}

#[test]
fn keys_must_be_strings_and_merge_keys_and_foreign_tags_are_refused() {
    let error = parse_error("a: 1\n[x]: 2\n");
    assert_eq!(error.location.line, 2);
    assert!(error.message.contains("found a sequence"), "{error}");
    let error = parse_error("a: &x 1\n*x : 2\n");
    assert!(error.message.contains("must be a string"), "{error}");
    let error = parse_error("base: &b {x: 1}\nother:\n  <<: *b\n");
    assert_eq!((error.location.line, error.location.column), (3, 3));
    assert!(error.message.contains("merge keys"), "{error}");
    let error = parse_error("a: !secret xyz\n");
    assert_eq!((error.location.line, error.location.column), (1, 4));
    assert!(error.message.contains("not supported"), "{error}");
    let error = parse_error("a: !!set {x}\n");
    assert!(error.message.contains("not supported"), "{error}");
}

#[test]
fn aliases_expand_within_budget() {
    let document = one("base: &b {x: 1}\nuse: *b\nlist: [*b, *b]\n");
    assert_eq!(document.value()["use"], json!({"x": 1}));
    assert_eq!(document.value()["list"], json!([{"x": 1}, {"x": 1}]));
    let use_x = FieldPath::root().field("use").field("x");
    assert_eq!(
        document.locate(&use_x).line,
        1,
        "children keep the anchor's positions"
    );
    assert_eq!(
        document.locate_value(&FieldPath::root().field("use")).line,
        2
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    let error = parse_error(&text);
    assert!(error.message.contains("aliases are expanded"), "{error}");
    assert!(error.location.line <= 10);
}

#[test]
fn nesting_and_size_are_bounded() {
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let error = parse_error(&deep);
    assert!(error.message.contains("nesting deeper than 64"), "{error}");
    assert_eq!(error.location.column, MAX_DEPTH + 1);
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_documents(&ok, file()).is_ok());
    let block: String = (0..=MAX_DEPTH)
        .map(|depth| format!("{}k:\n", "  ".repeat(depth)))
        .collect();
    assert!(parse_error(&block).message.contains("nesting"));
    let huge = format!("a: \"{}\"\n", "x".repeat(MAX_INPUT_BYTES));
    let error = parse_error(&huge);
    assert!(error.message.contains("at most 1048576"), "{error}");
    assert_eq!((error.location.line, error.location.column), (1, 1));
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let error = parse_bytes(b"a: 1\r\nbc: d\xffe\n", file()).unwrap_err();
    assert_eq!((error.location.line, error.location.column), (2, 6));
    assert!(
        error.message.contains("invalid UTF-8 at byte 11"),
        "{error}"
    );
    let documents = parse_bytes(VALID.as_bytes(), file()).unwrap();
    assert_eq!(documents[0].value()["kind"], "NetworkChaos");
}

/// The number of characters in each line of `text`, split as YAML splits lines.
fn line_lengths(text: &str) -> Vec<usize> {
    text.replace("\r\n", "\n")
        .split(['\n', '\r'])
        .map(|line| line.chars().count())
        .collect()
}

/// Parses `text` and, for what parses, deserializes each document; every location any of
/// this reports must lie within `text`.
fn check_locations(text: &str) -> Result<(), TestCaseError> {
    let lengths = line_lengths(text);
    let within = |error: &SpecError| -> Result<(), TestCaseError> {
        let (line, column) = (error.location.line, error.location.column);
        prop_assert!(line >= 1 && line <= lengths.len(), "{error} in {text:?}");
        prop_assert!(
            column >= 1 && column <= lengths[line - 1] + 1,
            "{error} in {text:?}"
        );
        Ok(())
    };
    match parse_documents(text, file()) {
        Err(error) => within(&error)?,
        Ok(documents) => {
            for document in documents {
                if let Err(error) = document.deserialize::<NetworkChaos>() {
                    within(&error)?;
                }
            }
        }
    }
    Ok(())
}

const YAML_CHARS: &[char] = &[
    '-', ':', ' ', '\n', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '\'', '"', '#', '?',
    '%', '@', '`', '\t', 'a', '1', '.', '~', '\r', '<', 'é',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics_and_errors_lie_within_it(text in "(?s).{0,200}") {
        check_locations(&text)?;
    }

    #[test]
    fn yaml_like_text_never_panics_and_errors_lie_within_it(
        chars in prop::collection::vec(prop::sample::select(YAML_CHARS), 0..120)
    ) {
        check_locations(&chars.into_iter().collect::<String>())?;
    }

    #[test]
    fn mutated_valid_yaml_never_panics_and_errors_lie_within_it(
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(YAML_CHARS), 0usize..4),
            1..8,
        )
    ) {
        let mut chars: Vec<char> = format!("{VALID}---\n{VALID}").chars().collect();
        for (at, c, removed) in edits {
            let at = at.index(chars.len());
            let end = (at + removed).min(chars.len());
            chars.splice(at..end, [c]);
        }
        let text: String = chars.into_iter().collect();
        check_locations(&text)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Err(error) = parse_bytes(&bytes, file()) {
            prop_assert!(error.location.line >= 1 && error.location.column >= 1);
            prop_assert!(error.location.line <= bytes.len() + 1);
        }
    }
}
