//! The Kubernetes manifests under `manifests/` (the controller's install, the sweep Job,
//! the cluster examples) read as the API server would read them, and agree with each other
//! and with the product: every document is a known Kubernetes type with no field that type
//! lacks (a misspelt field is silently dropped by `kubectl apply`), the Deployment's
//! namespace, ServiceAccount and image exist where it says, kustomization.yaml lists what
//! the install needs and nothing else, the ClusterRole grants exactly the controller's
//! calls, the sweep Job really shards by completion index, and the cluster experiment
//! targets the Service that echo-service.yaml deploys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use faultline_chaos::kube::connect::CHAOS_MESH_GROUP;
use faultline_chaos::spec::chaos_mesh::Kind;
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_file, SpecDocument};
use faultline_chaos::spec::located::parse_documents;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Container, Namespace, PersistentVolumeClaim, Pod, PodSpec, Service, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::Resource;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const CONTROLLER: &str = "faultline-controller";
const SYSTEM_NAMESPACE: &str = "faultline-system";
/// Files of `manifests/` applied on their own, never by `kubectl apply -k manifests/`:
/// installing the controller must not start a 100-core-hour sweep.
const STANDALONE: [&str; 2] = ["sim-sweep-job.yaml", "sim-sweep-collect.yaml"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifests() -> PathBuf {
    root().join("manifests")
}

/// Every `.yaml` file under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The documents of a YAML file as JSON values, read as the experiment loader reads them.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_documents(&text, path)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|document| document.value().clone())
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Where in `original` something is that `written` (the typed value written back) lacks
/// or has changed: a field the type does not have, or a value it does not keep.
fn not_kept(original: &Value, written: &Value, at: &str, out: &mut Vec<String>) {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    Some(kept) => not_kept(value, kept, &format!("{at}.{key}"), out),
                    None => out.push(format!("{at}.{key}: no such field")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                not_kept(x, y, &format!("{at}[{i}]"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{at}: {a} read as {b}")),
    }
}

/// `value` as a `T`, failing on a value of the wrong type (with its path) and on any field
/// `T` does not have: k8s-openapi, like the API server's decoder, skips unknown fields,
/// so the value is written back and compared with what was read.
fn typed<T: DeserializeOwned + Serialize>(value: &Value, what: &str) -> T {
    let parsed: T = serde_path_to_error::deserialize(value.clone())
        .unwrap_or_else(|e| panic!("{what}: {} ({})", e.path(), e.inner()));
    let written = serde_json::to_value(&parsed).expect("serializes");
    let mut problems = Vec::new();
    not_kept(value, &written, "", &mut problems);
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
    parsed
}

/// `kustomization.yaml`: the fields this repository uses, no others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Kustomization {
    api_version: String,
    kind: String,
    resources: Vec<String>,
    #[serde(default)]
    images: Vec<KustomizeImage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KustomizeImage {
    name: String,
    new_name: Option<String>,
    new_tag: Option<String>,
}

/// Every object of the manifests, typed.
#[derive(Default)]
struct Objects {
    namespaces: Vec<(PathBuf, Namespace)>,
    service_accounts: Vec<(PathBuf, ServiceAccount)>,
    cluster_roles: Vec<(PathBuf, ClusterRole)>,
    cluster_role_bindings: Vec<(PathBuf, ClusterRoleBinding)>,
    deployments: Vec<(PathBuf, Deployment)>,
    jobs: Vec<(PathBuf, Job)>,
    pods: Vec<(PathBuf, Pod)>,
    claims: Vec<(PathBuf, PersistentVolumeClaim)>,
    services: Vec<(PathBuf, Service)>,
    crds: Vec<(PathBuf, CustomResourceDefinition)>,
    experiments: Vec<PathBuf>,
    kustomizations: Vec<(PathBuf, Kustomization)>,
}

fn is<T: Resource>(api_version: &str, kind: &str) -> bool {
    api_version == T::API_VERSION && kind == T::KIND
}

fn objects() -> Objects {
    let mut objects = Objects::default();
    for path in yaml_files(&manifests()) {
        for (i, value) in documents(&path).iter().enumerate() {
            let what = format!("{} (document {})", relative(&path), i + 1);
            let api_version = value["apiVersion"].as_str().unwrap_or_default();
            let kind = value["kind"].as_str().unwrap_or_default();
            let at = path.clone();
            match (api_version, kind) {
                (v, k) if is::<Namespace>(v, k) => {
                    objects.namespaces.push((at, typed(value, &what)))
                }
                (v, k) if is::<ServiceAccount>(v, k) => {
                    objects.service_accounts.push((at, typed(value, &what)))
                }
                (v, k) if is::<ClusterRole>(v, k) => {
                    objects.cluster_roles.push((at, typed(value, &what)))
                }
                (v, k) if is::<ClusterRoleBinding>(v, k) => objects
                    .cluster_role_bindings
                    .push((at, typed(value, &what))),
                (v, k) if is::<Deployment>(v, k) => {
                    objects.deployments.push((at, typed(value, &what)))
                }
                (v, k) if is::<Job>(v, k) => objects.jobs.push((at, typed(value, &what))),
                (v, k) if is::<Pod>(v, k) => objects.pods.push((at, typed(value, &what))),
                (v, k) if is::<PersistentVolumeClaim>(v, k) => {
                    objects.claims.push((at, typed(value, &what)))
                }
                (v, k) if is::<Service>(v, k) => objects.services.push((at, typed(value, &what))),
                (v, k) if is::<CustomResourceDefinition>(v, k) => {
                    objects.crds.push((at, typed(value, &what)))
                }
                ("faultline.dev/v1alpha1", "Experiment") => objects.experiments.push(at),
                ("kustomize.config.k8s.io/v1beta1", "Kustomization") => {
                    let parsed: Kustomization = serde_path_to_error::deserialize(value.clone())
                        .unwrap_or_else(|e| panic!("{what}: {} ({})", e.path(), e.inner()));
                    objects.kustomizations.push((at, parsed));
                }
                (v, k) => {
                    panic!("{what}: {v:?} {k:?} is not a kind this test knows; add it to objects()")
                }
            }
        }
    }
    objects
}

fn name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

fn namespace(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or_default()
}

fn controller(objects: &Objects) -> (&Path, &Deployment) {
    let found: Vec<_> = objects
        .deployments
        .iter()
        .filter(|(_, d)| name(&d.metadata) == CONTROLLER)
        .collect();
    assert_eq!(found.len(), 1, "one Deployment {CONTROLLER}");
    (&found[0].0, &found[0].1)
}

fn pod_spec(deployment: &Deployment) -> &PodSpec {
    deployment
        .spec
        .template
        .spec
        .as_ref()
        .expect("a pod template")
}

fn env_field_ref<'a>(container: &'a Container, var: &str) -> Option<&'a str> {
    container
        .env
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.name == var)
        .and_then(|e| e.value_from.as_ref())
        .and_then(|v| v.field_ref.as_ref())
        .map(|f| f.field_path.as_str())
}

/// `image` split at the tag: `("ghcr.io/faultline-rs/faultline", "0.1.0")`.
fn image_parts(image: &str) -> (&str, &str) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    let colon = image[slash..].rfind(':').map(|i| slash + i);
    match colon {
        Some(colon) => (&image[..colon], &image[colon + 1..]),
        None => (image, "latest"),
    }
}

#[test]
fn every_manifest_is_a_known_kubernetes_type_with_no_unknown_field() {
    let objects = objects();
    // Each kind the repository ships, found and read (objects() panics on anything else).
    assert_eq!(objects.namespaces.len(), 1);
    assert_eq!(objects.crds.len(), 1);
    assert_eq!(objects.cluster_roles.len(), 1);
    assert_eq!(objects.cluster_role_bindings.len(), 1);
    assert_eq!(objects.jobs.len(), 1);
    assert_eq!(objects.pods.len(), 1);
    assert_eq!(objects.claims.len(), 1);
    assert_eq!(objects.services.len(), 1);
    assert_eq!(
        objects.deployments.len(),
        3,
        "controller, echo-az1, echo-az2"
    );
    assert_eq!(objects.kustomizations.len(), 1);
    assert!(objects.experiments.len() >= 6, "{:?}", objects.experiments);

    // The check itself catches a misspelt field, which serde alone would not.
    let mut deployment = documents(&manifests().join("deployment.yaml")).remove(0);
    deployment["spec"]["template"]["spec"]["serviceAcountName"] = Value::from(CONTROLLER);
    let caught = std::panic::catch_unwind(|| typed::<Deployment>(&deployment, "typo"));
    assert!(caught.is_err(), "a misspelt field is reported");

    // Namespaced objects say their namespace (`kubectl apply` would put them in the
    // current one otherwise); cluster-scoped ones do not.
    let namespaced = objects
        .service_accounts
        .iter()
        .map(|(p, o)| (p, &o.metadata))
        .chain(objects.deployments.iter().map(|(p, o)| (p, &o.metadata)))
        .chain(objects.jobs.iter().map(|(p, o)| (p, &o.metadata)))
        .chain(objects.pods.iter().map(|(p, o)| (p, &o.metadata)))
        .chain(objects.claims.iter().map(|(p, o)| (p, &o.metadata)))
        .chain(objects.services.iter().map(|(p, o)| (p, &o.metadata)));
    for (path, meta) in namespaced {
        assert!(
            !namespace(meta).is_empty(),
            "{} {}: no namespace",
            relative(path),
            name(meta)
        );
    }
    let cluster_scoped = objects
        .cluster_roles
        .iter()
        .map(|(p, o)| (p, &o.metadata))
        .chain(
            objects
                .cluster_role_bindings
                .iter()
                .map(|(p, o)| (p, &o.metadata)),
        )
        .chain(objects.namespaces.iter().map(|(p, o)| (p, &o.metadata)));
    for (path, meta) in cluster_scoped {
        assert!(
            meta.namespace.is_none(),
            "{}: cluster-scoped",
            relative(path)
        );
    }
}

#[test]
fn the_controller_deployment_refers_to_objects_that_exist() {
    let objects = objects();
    let (_, deployment) = controller(&objects);
    let ns = namespace(&deployment.metadata);
    assert_eq!(ns, SYSTEM_NAMESPACE);
    assert!(
        objects
            .namespaces
            .iter()
            .any(|(p, n)| name(&n.metadata) == ns && p.ends_with("manifests/namespace.yaml")),
        "namespace {ns} is created by manifests/namespace.yaml"
    );
    let spec = &deployment.spec;
    assert_eq!(spec.replicas, Some(2), "two replicas, one leading");
    let template_labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone());
    for (key, value) in spec.selector.match_labels.clone().unwrap_or_default() {
        assert_eq!(
            template_labels.as_ref().and_then(|l| l.get(&key)),
            Some(&value),
            "the selector selects the template's pods"
        );
    }

    let pod = pod_spec(deployment);
    let account = pod
        .service_account_name
        .as_deref()
        .expect("serviceAccountName");
    assert_eq!(account, CONTROLLER);
    assert!(
        objects
            .service_accounts
            .iter()
            .any(|(p, a)| name(&a.metadata) == account
                && namespace(&a.metadata) == ns
                && p.ends_with("manifests/rbac.yaml")),
        "ServiceAccount {ns}/{account} is in rbac.yaml"
    );
    let role = &objects.cluster_roles[0].1;
    let binding = &objects.cluster_role_bindings[0].1;
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(
        binding.role_ref.api_group.as_deref(),
        Some("rbac.authorization.k8s.io")
    );
    assert_eq!(binding.role_ref.name, name(&role.metadata));
    assert!(
        binding
            .subjects
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|s| s.kind == "ServiceAccount"
                && s.name == account
                && s.namespace.as_deref() == Some(ns)),
        "the ClusterRoleBinding binds {ns}/{account}"
    );

    assert_eq!(pod.containers.len(), 1);
    let container = &pod.containers[0];
    assert!(
        container.command.is_none(),
        "the image's entrypoint is faultline"
    );
    assert_eq!(
        container.args.as_deref(),
        Some(&["chaos".to_owned(), "controller".to_owned()][..])
    );
    // --identity and --lease-namespace default to these.
    assert_eq!(env_field_ref(container, "POD_NAME"), Some("metadata.name"));
    assert_eq!(
        env_field_ref(container, "POD_NAMESPACE"),
        Some("metadata.namespace")
    );
    // The binary answers no HTTP: a probe would restart it or keep it unready forever.
    assert!(container.liveness_probe.is_none());
    assert!(container.readiness_probe.is_none());
    assert!(container.startup_probe.is_none());
    let resources = container.resources.as_ref().expect("resources");
    for (what, quantities) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        let quantities = quantities.as_ref().unwrap_or_else(|| panic!("no {what}"));
        assert!(quantities.contains_key("cpu"), "{what}.cpu");
        assert!(quantities.contains_key("memory"), "{what}.memory");
    }
}

#[test]
fn the_image_tag_is_the_crate_version_everywhere() {
    let objects = objects();
    let (_, kustomization) = &objects.kustomizations[0];
    assert_eq!(kustomization.images.len(), 1);
    let entry = &kustomization.images[0];
    let (_, deployment) = controller(&objects);
    let image = pod_spec(deployment).containers[0]
        .image
        .as_deref()
        .expect("image");
    let (repository, tag) = image_parts(image);
    assert_eq!(
        entry.name, repository,
        "kustomize's images: entry names the Deployment's image"
    );
    assert_eq!(entry.new_name.as_deref().unwrap_or(&entry.name), repository);
    assert_eq!(entry.new_tag.as_deref(), Some(tag));
    assert_eq!(tag, env!("CARGO_PKG_VERSION"), "the image of this release");
    // The sweep Job and the examples run the same image.
    let pod_specs = objects
        .deployments
        .iter()
        .filter_map(|(_, d)| d.spec.template.spec.as_ref())
        .chain(
            objects
                .jobs
                .iter()
                .filter_map(|(_, j)| j.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
        );
    let mut checked = 0;
    for spec in pod_specs {
        for container in &spec.containers {
            assert_eq!(
                container.image.as_deref(),
                Some(image),
                "{}",
                container.name
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "controller, two echo zones, sweep");
}

#[test]
fn kustomization_lists_the_install_and_nothing_else() {
    let objects = objects();
    let (path, kustomization) = &objects.kustomizations[0];
    assert!(path.ends_with("manifests/kustomization.yaml"));
    assert_eq!(kustomization.api_version, "kustomize.config.k8s.io/v1beta1");
    assert_eq!(kustomization.kind, "Kustomization");
    let listed: BTreeSet<&str> = kustomization.resources.iter().map(String::as_str).collect();
    assert_eq!(listed.len(), kustomization.resources.len(), "listed twice");
    for resource in &listed {
        assert!(
            manifests().join(resource).is_file(),
            "kustomization.yaml lists {resource}, which does not exist"
        );
    }
    // Every manifest of manifests/ and manifests/crds/ is listed, except the standalone
    // sweep files; the examples are not part of the install.
    let mut expected = BTreeSet::new();
    for path in yaml_files(&manifests()) {
        let file = path
            .strip_prefix(manifests())
            .expect("under manifests/")
            .to_string_lossy()
            .replace('\\', "/");
        if file.starts_with("examples/") || file == "kustomization.yaml" {
            continue;
        }
        if STANDALONE.contains(&file.as_str()) {
            assert!(
                !listed.contains(file.as_str()),
                "{file} must not be installed"
            );
            continue;
        }
        expected.insert(file);
    }
    let listed: BTreeSet<String> = listed.into_iter().map(str::to_owned).collect();
    assert_eq!(listed, expected);
    // The namespace comes first so `kubectl apply -k` has it before anything in it.
    assert_eq!(kustomization.resources[0], "namespace.yaml");
}

#[test]
fn the_cluster_role_names_one_group_per_rule_without_wildcards_or_repeats() {
    // Which verbs it grants is compared with the calls the code makes in
    // chaos/tests/kube_rbac.rs, against the in-memory API server.
    let objects = objects();
    let (_, role) = &objects.cluster_roles[0];
    assert_eq!(name(&role.metadata), CONTROLLER);
    assert!(role.aggregation_rule.is_none());
    let mut granted: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (i, rule) in role.rules.as_deref().unwrap_or_default().iter().enumerate() {
        assert!(
            rule.non_resource_urls.is_none(),
            "rule {i}: non-resource URLs"
        );
        let groups = rule.api_groups.as_deref().unwrap_or_default();
        assert_eq!(groups.len(), 1, "rule {i}: one API group per rule");
        let resources = rule.resources.as_deref().unwrap_or_default();
        assert!(!resources.is_empty(), "rule {i}: no resource");
        for value in groups.iter().chain(resources).chain(&rule.verbs) {
            assert!(!value.contains('*'), "rule {i}: wildcard {value}");
        }
        for resource in resources {
            let verbs = granted
                .entry((groups[0].clone(), resource.clone()))
                .or_default();
            for verb in &rule.verbs {
                assert!(
                    verbs.insert(verb.clone()),
                    "rule {i}: {verb} {resource} twice"
                );
            }
        }
        // Only the CRDs are narrowed to names: the ten Chaos Mesh kinds' CRDs, which
        // discovery reads by name.
        match resources {
            [crds] if crds == "customresourcedefinitions" => {
                let names: BTreeSet<String> = rule
                    .resource_names
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                let wanted: BTreeSet<String> = Kind::ALL
                    .iter()
                    .map(|k| format!("{}.{CHAOS_MESH_GROUP}", k.plural()))
                    .collect();
                assert_eq!(names, wanted, "the Chaos Mesh CRDs, by name");
            }
            _ => assert!(rule.resource_names.is_none(), "rule {i}: resourceNames"),
        }
    }

    // The Experiment rules name the group and plural the shipped CRD declares.
    let crd = &objects.crds[0].1;
    assert_eq!(name(&crd.metadata), "experiments.faultline.dev");
    assert!(granted.contains_key(&(crd.spec.group.clone(), crd.spec.names.plural.clone())));
    assert!(granted.contains_key(&(
        crd.spec.group.clone(),
        format!("{}/status", crd.spec.names.plural)
    )));
}

/// `$(VAR)` replaced as the kubelet does for the variables of `vars` (others kept).
fn expand(arg: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = arg.to_owned();
    for (var, value) in vars {
        out = out.replace(&format!("$({var})"), value);
    }
    out
}

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    args.get(at + 1)
        .unwrap_or_else(|| panic!("{flag} without a value"))
}

#[test]
fn the_sweep_job_runs_one_shard_per_completion_index() {
    let objects = objects();
    let (_, job) = &objects.jobs[0];
    let spec = job.spec.as_ref().expect("spec");
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    let completions = spec.completions.expect("completions");
    assert!(completions > 1);
    let parallelism = spec.parallelism.expect("parallelism");
    assert!((1..=completions).contains(&parallelism));
    let pod = spec.template.spec.as_ref().expect("pod spec");
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(pod.containers.len(), 1);
    let container = &pod.containers[0];
    assert!(
        container.command.is_none(),
        "the image's entrypoint is faultline"
    );
    let args = container.args.clone().expect("args");
    assert_eq!(args[..2], ["sim", "sweep"]);

    // The kubelet expands $(VAR) only for variables of the container's env.
    assert_eq!(
        env_field_ref(container, "JOB_COMPLETION_INDEX"),
        Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
    );
    let shard = flag(&args, "--shard");
    assert_eq!(
        shard,
        format!("$(JOB_COMPLETION_INDEX)/{completions}"),
        "--shard I/N with N = completions"
    );
    let out = flag(&args, "--out");
    assert!(
        out.contains("$(JOB_COMPLETION_INDEX)"),
        "one result file per shard: {out}"
    );
    assert!(
        out.contains(&format!("-of-{completions}.")),
        "{out} names the shard count"
    );
    let seeds = faultline_sim::sweep::parse_seeds(flag(&args, "--seeds")).expect("--seeds");
    assert_eq!(seeds, 0..100_000);

    // Every index gets a valid shard and its own file; together they cover the range once.
    let count = u64::try_from(completions).expect("positive");
    let mut files = BTreeSet::new();
    let mut covered = 0;
    for index in 0..count {
        let vars = BTreeMap::from([("JOB_COMPLETION_INDEX", index.to_string())]);
        let (i, n) = faultline_sim::sweep::parse_shard(&expand(shard, &vars)).expect("shard");
        assert_eq!((i, n), (index, count));
        let part = faultline_sim::sweep::shard(seeds.clone(), i, n);
        assert!(!part.is_empty());
        covered += part.end - part.start;
        assert!(files.insert(expand(out, &vars)));
    }
    assert_eq!(covered, 100_000);

    // Threads as many as the whole cores the pod asks for.
    let jobs: u32 = flag(&args, "--jobs").parse().expect("--jobs N");
    let cpu = &container
        .resources
        .as_ref()
        .expect("resources")
        .requests
        .as_ref()
        .expect("requests")["cpu"];
    assert_eq!(cpu.0, jobs.to_string(), "--jobs matches the CPU request");

    // The experiment comes from a ConfigMap, the results go to the claim the file makes
    // (and the collecting pod mounts).
    let mounts = container.volume_mounts.as_deref().unwrap_or_default();
    let volumes = pod.volumes.as_deref().unwrap_or_default();
    let volume_at = |file: &str| {
        let mount = mounts
            .iter()
            .filter(|m| file.starts_with(&format!("{}/", m.mount_path)))
            .max_by_key(|m| m.mount_path.len())
            .unwrap_or_else(|| panic!("{file} is on no volume"));
        volumes
            .iter()
            .find(|v| v.name == mount.name)
            .unwrap_or_else(|| panic!("no volume {}", mount.name))
    };
    let experiment = volume_at(&args[2]);
    let config_map = experiment.config_map.as_ref().expect("a ConfigMap volume");
    let results = volume_at(out);
    let claim = &results
        .persistent_volume_claim
        .as_ref()
        .expect("a PVC volume")
        .claim_name;
    assert!(objects
        .claims
        .iter()
        .any(|(_, c)| name(&c.metadata) == claim
            && namespace(&c.metadata) == namespace(&job.metadata)));
    let (_, collect) = &objects.pods[0];
    assert_eq!(namespace(&collect.metadata), namespace(&job.metadata));
    let collect_claims: Vec<&str> = collect
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.as_str())
        .collect();
    assert_eq!(collect_claims, [claim.as_str()]);
    // The recipe in the file's comments creates that ConfigMap, under the key read.
    let text = std::fs::read_to_string(manifests().join("sim-sweep-job.yaml")).expect("text");
    let key = Path::new(&args[2])
        .file_name()
        .expect("a file")
        .to_string_lossy();
    assert!(
        text.contains(&format!("create configmap {}", config_map.name))
            && text.contains(&format!("--from-file={key}=")),
        "the comments create ConfigMap {} with key {key}",
        config_map.name
    );

    // A shard that finds failing seeds exits 1 having written its file: its index fails
    // without a rerun (which would give the same result); FailIndex needs a per-index
    // backoff limit.
    assert!(spec.backoff_limit_per_index.is_some());
    let rules = &spec
        .pod_failure_policy
        .as_ref()
        .expect("podFailurePolicy")
        .rules;
    let on_exit = |code: i32| {
        rules
            .iter()
            .find(|r| {
                r.on_exit_codes
                    .as_ref()
                    .is_some_and(|e| e.operator == "In" && e.values.contains(&code))
            })
            .map(|r| r.action.as_str())
    };
    assert_eq!(on_exit(1), Some("FailIndex"));
    assert_eq!(on_exit(2), Some("FailJob"));
    for rule in rules {
        if let Some(codes) = &rule.on_exit_codes {
            assert_eq!(
                codes.container_name.as_deref(),
                Some(container.name.as_str())
            );
        }
    }
}

#[test]
fn the_sweep_arguments_are_accepted_by_faultline_sim_sweep() {
    let objects = objects();
    let container = &objects.jobs[0]
        .1
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let vars = BTreeMap::from([("JOB_COMPLETION_INDEX", "7".to_owned())]);
    let args: Vec<String> = container
        .args
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|a| expand(a, &vars))
        .collect();
    // The experiment path (/experiments/...) does not exist here: the command gets past
    // its argument parsing and stops at reading the file, which it names.
    let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(&args)
        .output()
        .expect("runs faultline");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("Usage:"), "the arguments parse: {stderr}");
    assert!(stderr.contains(&args[2]), "{stderr}");
}

/// Every container's security context and the pod's, as the restricted Pod Security
/// Standard (enforced on faultline-system) wants them, plus a read-only root filesystem.
fn assert_restricted(what: &str, pod: &PodSpec) {
    let pod_context = pod.security_context.as_ref();
    let pod_non_root = pod_context.and_then(|c| c.run_as_non_root);
    let pod_seccomp = pod_context
        .and_then(|c| c.seccomp_profile.as_ref())
        .map(|p| p.type_.clone());
    assert_ne!(pod.host_network, Some(true), "{what}");
    assert_ne!(pod.host_pid, Some(true), "{what}");
    for volume in pod.volumes.as_deref().unwrap_or_default() {
        assert!(volume.host_path.is_none(), "{what}: hostPath");
    }
    assert!(
        pod.init_containers.is_none(),
        "{what}: check init containers too"
    );
    for container in &pod.containers {
        let what = format!("{what} container {}", container.name);
        let context = container.security_context.as_ref().expect(&what);
        assert_eq!(
            context.run_as_non_root.or(pod_non_root),
            Some(true),
            "{what}: runAsNonRoot"
        );
        assert_eq!(context.allow_privilege_escalation, Some(false), "{what}");
        assert_ne!(context.privileged, Some(true), "{what}");
        assert_eq!(context.read_only_root_filesystem, Some(true), "{what}");
        let dropped = context
            .capabilities
            .as_ref()
            .and_then(|c| c.drop.clone())
            .unwrap_or_default();
        assert_eq!(dropped, ["ALL"], "{what}: capabilities");
        assert!(
            context
                .capabilities
                .as_ref()
                .and_then(|c| c.add.as_ref())
                .is_none(),
            "{what}: no capability added"
        );
        let seccomp = context
            .seccomp_profile
            .as_ref()
            .map(|p| p.type_.clone())
            .or(pod_seccomp.clone());
        assert_eq!(
            seccomp.as_deref(),
            Some("RuntimeDefault"),
            "{what}: seccomp"
        );
        let resources = container.resources.as_ref().expect(&what);
        assert!(
            resources.requests.is_some() && resources.limits.is_some(),
            "{what}: resources"
        );
    }
}

#[test]
fn every_pod_runs_non_root_read_only_and_without_capabilities() {
    let objects = objects();
    let mut checked = 0;
    for (path, deployment) in &objects.deployments {
        assert_restricted(&relative(path), pod_spec(deployment));
        checked += 1;
    }
    for (path, job) in &objects.jobs {
        let spec = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        assert_restricted(&relative(path), spec.expect("pod spec"));
        checked += 1;
    }
    for (path, pod) in &objects.pods {
        assert_restricted(&relative(path), pod.spec.as_ref().expect("pod spec"));
        checked += 1;
    }
    assert_eq!(checked, 5);
    let (_, ns) = &objects.namespaces[0];
    let labels = ns.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("pod-security.kubernetes.io/enforce")
            .map(String::as_str),
        Some("restricted")
    );
}

fn cluster_experiment() -> (Value, Experiment) {
    let path = manifests().join("examples/zone-failover-cluster.yaml");
    let loaded = load_file(&path).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(loaded.len(), 1);
    let SpecDocument::Experiment(experiment) = &loaded[0].spec else {
        panic!("not an Experiment");
    };
    (loaded[0].document.value().clone(), (**experiment).clone())
}

fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn the_cluster_experiment_targets_the_echo_service() {
    let objects = objects();
    let (raw, experiment) = cluster_experiment();
    assert!(
        raw["spec"].get("topology").is_none(),
        "clusters have no topology"
    );
    let target = &experiment.spec.target;
    assert_eq!(
        experiment.metadata.namespace.as_deref(),
        Some(target.namespace.as_str())
    );

    // The Service the kube backend looks for: `<service in lower case>` in the target's
    // namespace, with the target's port.
    assert_eq!(objects.services.len(), 1);
    let (_, service) = &objects.services[0];
    assert_eq!(name(&service.metadata), target.service.to_lowercase());
    assert_eq!(namespace(&service.metadata), target.namespace);
    let service_spec = service.spec.as_ref().expect("spec");
    let port = service_spec
        .ports
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|p| p.port == i32::from(target.port))
        .unwrap_or_else(|| panic!("the Service has port {}", target.port));
    let selector = service_spec.selector.clone().expect("a selector");

    // Its pods: every echo Deployment the Service selects, in the target's namespace.
    let echo: Vec<&Deployment> = objects
        .deployments
        .iter()
        .map(|(_, d)| d)
        .filter(|d| name(&d.metadata) != CONTROLLER)
        .collect();
    assert_eq!(echo.len(), 2);
    let mut replicas_by_zone = BTreeMap::new();
    for deployment in &echo {
        assert_eq!(namespace(&deployment.metadata), target.namespace);
        let spec = &deployment.spec;
        let labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        assert!(
            selects(&selector, &labels),
            "the Service selects {labels:?}"
        );
        assert!(selects(&target.labels(), &labels), "the target's labels");
        let zone = labels.get("zone").expect("a zone label").clone();
        replicas_by_zone.insert(zone.clone(), spec.replicas.unwrap_or(1));

        // The Service's targetPort is the container port faultline serve listens on,
        // and the zone the pod serves in is its label.
        let pod = spec.template.spec.as_ref().expect("pod spec");
        let container = &pod.containers[0];
        let container_port = match port.target_port.as_ref().expect("targetPort") {
            IntOrString::Int(n) => *n,
            IntOrString::String(named) => {
                container
                    .ports
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|p| p.name.as_deref() == Some(named))
                    .unwrap_or_else(|| panic!("no container port {named}"))
                    .container_port
            }
        };
        let args = container.args.clone().expect("args");
        assert_eq!(args[0], "serve");
        assert_eq!(flag(&args, "--listen"), format!("0.0.0.0:{container_port}"));
        assert_eq!(flag(&args, "--service"), target.service);
        assert_eq!(flag(&args, "--zone"), "$(ZONE)");
        assert_eq!(
            env_field_ref(container, "ZONE"),
            Some("metadata.labels['zone']")
        );
    }
    let zones: BTreeSet<&String> = replicas_by_zone.keys().collect();
    let caller_zone = target.caller_zone.as_ref().expect("callerZone");
    assert!(
        zones.contains(caller_zone),
        "{caller_zone} is one of {zones:?}"
    );

    // Each fault's selector picks pods of the echo Deployments; az1-down leaves one of
    // the caller's zone standing.
    for fault in &experiment.spec.faults {
        let selector: BTreeMap<String, String> =
            serde_json::from_value(fault.spec["selector"]["labelSelectors"].clone())
                .unwrap_or_else(|e| panic!("{}: {e}", fault.name));
        let picked: i32 = echo
            .iter()
            .map(|d| &d.spec)
            .filter(|s| {
                let labels = s.template.metadata.as_ref().and_then(|m| m.labels.clone());
                selects(&selector, &labels.unwrap_or_default())
            })
            .map(|s| s.replicas.unwrap_or(1))
            .sum();
        assert!(picked > 0, "{}: selects no echo pod", fault.name);
        if fault.spec["mode"] == "fixed" {
            let value: i32 = fault.spec["value"]
                .as_str()
                .expect("value")
                .parse()
                .expect("a count");
            assert!(
                value < picked,
                "{}: leaves a pod of the {picked}",
                fault.name
            );
        }
    }
}

#[test]
fn the_cluster_experiment_keeps_zone_failovers_faults_and_hypothesis() {
    let (_, cluster) = cluster_experiment();
    let path = manifests().join("examples/zone-failover.yaml");
    let loaded = load_file(&path).unwrap_or_else(|e| panic!("{}", e[0]));
    let SpecDocument::Experiment(simulated) = &loaded[0].spec else {
        panic!("not an Experiment");
    };
    let (a, b) = (&cluster.spec, &simulated.spec);
    assert_eq!(a.hypothesis, b.hypothesis);
    assert_eq!(a.abort, b.abort);
    assert_eq!(a.workload, b.workload);
    assert_eq!(a.client, b.client);
    assert_eq!(a.target.service, b.target.service);
    assert_eq!(a.target.caller_zone, b.target.caller_zone);
    assert_eq!(a.faults.len(), b.faults.len());
    for (x, y) in a.faults.iter().zip(&b.faults) {
        assert_eq!(
            (
                &x.name,
                x.at,
                x.duration,
                &x.kind,
                &x.spec["selector"],
                &x.spec["action"]
            ),
            (
                &y.name,
                y.at,
                y.duration,
                &y.kind,
                &y.spec["selector"],
                &y.spec["action"]
            )
        );
    }
}

#[test]
fn the_echo_pods_use_flags_that_faultline_serve_has() {
    let objects = objects();
    let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--help"])
        .output()
        .expect("runs faultline");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{help}");
    let mut checked = 0;
    for (_, deployment) in &objects.deployments {
        let args = pod_spec(deployment).containers[0]
            .args
            .clone()
            .unwrap_or_default();
        if args.first().map(String::as_str) != Some("serve") {
            continue;
        }
        for arg in args.iter().filter(|a| a.starts_with("--")) {
            assert!(
                help.contains(&format!("{arg} ")),
                "faultline serve has no {arg}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
}

#[test]
fn files_named_by_the_e2e_script_and_readme_exist() {
    for file in ["tests/e2e-cluster.sh", "manifests/README.md"] {
        let text = std::fs::read_to_string(root().join(file)).expect(file);
        let mut named = 0;
        for word in text.split(|c: char| c.is_whitespace() || "\"'`()=,;".contains(c)) {
            let word = word.trim_end_matches(['.', ':']);
            if word.starts_with("manifests/") && word.ends_with(".yaml") {
                assert!(root().join(word).is_file(), "{file} names {word}");
                named += 1;
            }
        }
        assert!(named >= 2, "{file}: {named}");
    }
}
