//! Requests kube's typed API never sends: malformed bodies, paths, selectors and content
//! types get a `Status` (never a panic), and metadata-only reads.

use faultline_kube_emulator::ApiServer;
use http::{Method, Request};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use kube::ResourceExt;
use serde_json::{json, Value};

async fn send(
    client: &kube::Client,
    method: Method,
    uri: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_requests_get_a_status() {
    let server = ApiServer::new();
    let client = server.client();
    let pods = "/api/v1/namespaces/default/pods";
    let cases = [
        (
            Method::POST,
            pods.to_owned(),
            "application/json",
            "{not json",
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            pods.to_owned(),
            "application/json",
            "[1, 2]",
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            pods.to_owned(),
            "application/json",
            r#"{"kind": "Pod", "apiVersion": "v2"}"#,
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{pods}?labelSelector=a%20in%20(b"),
            "",
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{pods}?labelSelector=%21%21x"),
            "",
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{pods}?limit=many"),
            "",
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{pods}?continue=zz"),
            "",
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{pods}?watch=maybe"),
            "",
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            "/apis/nowhere.example/v1/things".to_owned(),
            "",
            "",
            404,
            "NotFound",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default/pods/p/exec".to_owned(),
            "",
            "",
            404,
            "NotFound",
        ),
        (
            Method::GET,
            "/api/v1/pods/p".to_owned(),
            "",
            "",
            404,
            "NotFound",
        ),
        (Method::GET, "//api".to_owned(), "", "", 404, "NotFound"),
        (
            Method::GET,
            "/api/v1/namespaces/default/configmaps/%ff%fe".to_owned(),
            "",
            "",
            404,
            "NotFound",
        ),
        (
            Method::POST,
            format!("{pods}/p"),
            "application/json",
            "{}",
            405,
            "MethodNotAllowed",
        ),
        (
            Method::PUT,
            "/apis".to_owned(),
            "application/json",
            "{}",
            405,
            "MethodNotAllowed",
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/c".to_owned(),
            "text/plain",
            "{}",
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/c".to_owned(),
            "application/json-patch+json",
            "{}",
            400,
            "BadRequest",
        ),
        (
            Method::DELETE,
            "/api/v1/namespaces/default/configmaps/c".to_owned(),
            "application/json",
            "{oops",
            400,
            "BadRequest",
        ),
    ];
    let configmaps: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let c: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"}})).unwrap();
    configmaps.create(&PostParams::default(), &c).await.unwrap();
    for (method, uri, content_type, body, code, reason) in cases {
        let (got, status) = send(&client, method.clone(), &uri, content_type, body).await;
        assert_eq!(
            (got, status["kind"].as_str(), status["reason"].as_str()),
            (code, Some("Status"), Some(reason)),
            "{method} {uri} {body}"
        );
    }
    assert!(configmaps.get("c").await.is_ok(), "the server still serves");
}

#[tokio::test]
async fn metadata_only_reads_return_partial_object_metadata() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let c: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "c", "labels": {"a": "b"}}, "data": {"k": "v"}}),
    )
    .unwrap();
    api.create(&PostParams::default(), &c).await.unwrap();
    let listed = api.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].labels()["a"], "b");
    let got = api.get_metadata("c").await.unwrap();
    assert_eq!(got.types.unwrap().kind, "PartialObjectMetadata");
}
