//! The HTTP side: a `tower::Service` that kube's client sends its requests to. It routes a
//! request (path, method, query, content type, accept header) to discovery or to a verb on
//! a resource, answers with JSON, a `Status` or a watch stream, and logs the access.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use serde_json::{json, Value};

use crate::access::{Access, Verb};
use crate::delete::{delete, delete_collection, DeleteOptions, Deleted};
use crate::discovery;
use crate::error::ApiError;
use crate::path::{route, Route, Target};
use crate::query::Query;
use crate::read::{get, list, render, ListOptions};
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Key, Shared, State};
use crate::watch::{watch, View, WatchOptions};
use crate::write::{create, patch, update, PatchKind, Place, WriteOptions, Written};

pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// The default watch timeout, as the real server's minimum request timeout.
const WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Clone)]
pub(crate) struct Handler {
    pub shared: Arc<Shared>,
}

impl tower::Service<Request<kube::client::Body>> for Handler {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<kube::client::Body>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let reply = match body.collect_bytes().await {
                Ok(body) => handle(&shared, &parts.method, &parts.uri, &parts.headers, &body),
                Err(e) => Reply::error(&ApiError::bad_request(format!("unreadable body: {e}"))),
            };
            Ok(reply.into_response())
        })
    }
}

enum Reply {
    Json {
        code: u16,
        body: Value,
        warnings: Vec<String>,
    },
    Stream(ResponseBody),
}

impl Reply {
    fn ok(code: u16, body: Value) -> Self {
        Reply::Json {
            code,
            body,
            warnings: Vec::new(),
        }
    }

    fn error(error: &ApiError) -> Self {
        Reply::ok(error.code, error.to_status())
    }

    fn code(&self) -> u16 {
        match self {
            Reply::Json { code, .. } => *code,
            Reply::Stream(_) => 200,
        }
    }

    fn into_response(self) -> Response<ResponseBody> {
        let (code, body, warnings) = match self {
            Reply::Json {
                code,
                body,
                warnings,
            } => (
                code,
                Full::new(Bytes::from(body.to_string())).boxed_unsync(),
                warnings,
            ),
            Reply::Stream(body) => (200, body, Vec::new()),
        };
        let mut response = Response::new(body);
        *response.status_mut() =
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        for warning in warnings {
            let text = format!("299 - {}", json!(warning));
            if let Ok(value) = header::HeaderValue::from_str(&text) {
                headers.append(header::WARNING, value);
            }
        }
        response
    }
}

impl From<Result<Reply, ApiError>> for Reply {
    fn from(result: Result<Reply, ApiError>) -> Self {
        result.unwrap_or_else(|e| Reply::error(&e))
    }
}

fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let query_text = uri.query().unwrap_or_default();
    let query = Query::parse(query_text);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut state = shared.lock();
    let routed = route(uri.path(), |g, v, r| {
        state
            .registry
            .by_resource(g, v, r)
            .is_some_and(|t| t.namespaced)
    });
    let mut access = Access {
        verb: Verb::Get,
        group: String::new(),
        version: String::new(),
        resource: String::new(),
        subresource: None,
        namespace: None,
        name: None,
        path: uri.path().to_owned(),
        query: query_text.to_owned(),
        code: 0,
    };
    let reply = match routed {
        Some(Route::Resource(target)) => {
            access.group.clone_from(&target.group);
            access.version.clone_from(&target.version);
            access.resource.clone_from(&target.resource);
            access.subresource.clone_from(&target.subresource);
            access.namespace.clone_from(&target.namespace);
            access.name.clone_from(&target.name);
            let request = Incoming {
                method,
                query: &query,
                headers,
                accept: &accept,
                body,
            };
            let (verb, reply) = resource(shared, &mut state, &target, &request);
            access.verb = verb;
            reply
        }
        Some(_) if *method != Method::GET => Reply::error(&ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
        Some(discovery_route) => discover(&state, discovery_route, &accept, &mut access),
        None => Reply::error(&ApiError::no_route()),
    };
    access.code = reply.code();
    state.access.push(access);
    reply
}

fn discover(state: &State, routed: Route, accept: &str, access: &mut Access) -> Reply {
    let aggregated = accept.contains("as=APIGroupDiscoveryList");
    let document = match routed {
        Route::Version => Some(discovery::version()),
        Route::CoreVersions if aggregated => Some(discovery::aggregated(&state.registry, true)),
        Route::CoreVersions => Some(discovery::core_versions()),
        Route::Groups if aggregated => Some(discovery::aggregated(&state.registry, false)),
        Route::Groups => Some(discovery::groups(&state.registry)),
        Route::Group(group) => {
            access.group.clone_from(&group);
            discovery::group(&state.registry, &group)
        }
        Route::Resources { group, version } => {
            access.group.clone_from(&group);
            access.version.clone_from(&version);
            discovery::resources(&state.registry, &group, &version)
        }
        Route::Resource(_) => None,
    };
    match document {
        Some(document) => Reply::ok(200, document),
        None => Reply::error(&ApiError::no_route()),
    }
}

struct Incoming<'a> {
    method: &'a Method,
    query: &'a Query,
    headers: &'a HeaderMap,
    accept: &'a str,
    body: &'a [u8],
}

fn resource(
    shared: &Arc<Shared>,
    state: &mut State,
    target: &Target,
    request: &Incoming<'_>,
) -> (Verb, Reply) {
    let method = request.method;
    let named = target.name.is_some();
    let watching = match request.query.flag("watch") {
        Ok(watching) => watching,
        Err(error) => return (Verb::List, Reply::error(&error)),
    };
    let verb = match (method.as_str(), named) {
        ("GET", true) => Verb::Get,
        ("GET", false) if watching => Verb::Watch,
        ("GET", false) => Verb::List,
        ("POST", false) => Verb::Create,
        ("PUT", true) => Verb::Update,
        ("PATCH", true) => Verb::Patch,
        ("DELETE", true) => Verb::Delete,
        ("DELETE", false) => Verb::DeleteCollection,
        _ => {
            let error = ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            );
            return (Verb::Get, Reply::error(&error));
        }
    };
    let Some(rt) = state
        .registry
        .by_resource(&target.group, &target.version, &target.resource)
    else {
        return (verb, Reply::error(&ApiError::no_route()));
    };
    let status = match target.subresource.as_deref() {
        None => false,
        Some("status") if rt.version(&target.version).is_some_and(|v| v.status) => true,
        Some(_) => return (verb, Reply::error(&ApiError::no_route())),
    };
    let unscoped = rt.namespaced && target.namespace.is_none();
    let allowed = match verb {
        Verb::Get | Verb::Update | Verb::Patch => !unscoped,
        Verb::Create | Verb::Delete | Verb::DeleteCollection => !unscoped && !status,
        Verb::List | Verb::Watch => !status,
    };
    if !allowed {
        let error = if named || status {
            ApiError::no_route()
        } else {
            ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            )
        };
        return (verb, Reply::error(&error));
    }
    let reply = serve(shared, state, &rt, target, status, verb, request).into();
    (verb, reply)
}

fn serve(
    shared: &Arc<Shared>,
    state: &mut State,
    rt: &Arc<ResourceType>,
    target: &Target,
    status: bool,
    verb: Verb,
    request: &Incoming<'_>,
) -> Result<Reply, ApiError> {
    let query = request.query;
    let namespace = target.namespace.as_deref().filter(|_| rt.namespaced);
    let version = target.version.as_str();
    let partial = request.accept.contains("as=PartialObjectMetadata");
    let view = View {
        rt: Arc::clone(rt),
        version: version.to_owned(),
        partial,
    };
    let place = Place {
        rt,
        version,
        namespace,
        name: target.name.as_deref(),
        status,
    };
    let write_options = || -> Result<WriteOptions, ApiError> {
        Ok(WriteOptions {
            dry_run: query.dry_run()?,
            strict: query.strict()?,
        })
    };
    let key = Key {
        group: rt.group.clone(),
        resource: rt.plural.clone(),
        namespace: namespace.unwrap_or_default().to_owned(),
        name: target.name.clone().unwrap_or_default(),
    };
    match verb {
        Verb::Get => Ok(Reply::ok(200, view.object(&get(state, rt, version, &key)?))),
        Verb::List => {
            let options = ListOptions {
                labels: labels(query)?,
                fields: fields(query, rt)?,
                limit: query.number("limit")?,
                continue_token: query.non_empty("continue").map(str::to_owned),
                resource_version: query.get("resourceVersion").map(str::to_owned),
                exact: query.get("resourceVersionMatch") == Some("Exact"),
            };
            let mut listed = list(state, rt, version, namespace, &options)?;
            if partial {
                let items: Vec<Value> = listed["items"]
                    .as_array()
                    .map(|items| items.iter().map(|i| view.object(i)).collect())
                    .unwrap_or_default();
                listed["items"] = Value::Array(items);
                listed["apiVersion"] = "meta.k8s.io/v1".into();
                listed["kind"] = "PartialObjectMetadataList".into();
            }
            Ok(Reply::ok(200, listed))
        }
        Verb::Watch => {
            let send_initial_events = query.flag("sendInitialEvents")?;
            let bookmarks = query.flag("allowWatchBookmarks")?;
            if send_initial_events && query.get("resourceVersionMatch") != Some("NotOlderThan") {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            let options = WatchOptions {
                labels: labels(query)?,
                fields: fields(query, rt)?,
                resource_version: query.get("resourceVersion").map(str::to_owned),
                bookmarks,
                send_initial_events,
                timeout: query
                    .number("timeoutSeconds")?
                    .map_or(WATCH_TIMEOUT, Duration::from_secs),
            };
            Ok(Reply::Stream(watch(
                shared, state, view, namespace, options,
            )?))
        }
        Verb::Create => {
            let written = create(state, &place, json_body(request.body)?, &write_options()?)?;
            Ok(written_reply(&view, written))
        }
        Verb::Update => {
            let written = update(state, &place, json_body(request.body)?, &write_options()?)?;
            Ok(written_reply(&view, written))
        }
        Verb::Patch => {
            let kind = patch_kind(request.headers, rt, query)?;
            let written = patch(state, &place, &kind, request.body, &write_options()?)?;
            Ok(written_reply(&view, written))
        }
        Verb::Delete => {
            let options = delete_options(query, request.body)?;
            Ok(match delete(state, rt, &key, &options)? {
                Deleted::Pending(object) => Reply::ok(200, view.object(&object)),
                Deleted::Gone(object) if rt.custom => Reply::ok(200, view.object(&object)),
                Deleted::Gone(object) => Reply::ok(200, success(rt, &object)),
            })
        }
        Verb::DeleteCollection => {
            let options = delete_options(query, request.body)?;
            let deleted = delete_collection(
                state,
                rt,
                namespace,
                &labels(query)?,
                &fields(query, rt)?,
                options.dry_run,
            );
            let items: Vec<Value> = deleted.iter().map(|o| render(rt, version, o)).collect();
            Ok(Reply::ok(
                200,
                json!({
                    "apiVersion": rt.api_version(version),
                    "kind": rt.list_kind,
                    "metadata": {"resourceVersion": state.revision.to_string()},
                    "items": items,
                }),
            ))
        }
    }
}

fn written_reply(view: &View, written: Written) -> Reply {
    Reply::Json {
        code: if written.created { 201 } else { 200 },
        body: view.object(&written.object),
        warnings: written.warnings,
    }
}

/// The `Status` a built-in resource's delete answers with once the object is gone.
fn success(rt: &ResourceType, object: &Value) -> Value {
    let mut details = json!({
        "name": object["metadata"]["name"],
        "kind": rt.plural,
        "uid": object["metadata"]["uid"],
    });
    if !rt.group.is_empty() {
        details["group"] = rt.group.clone().into();
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

fn labels(query: &Query) -> Result<LabelSelector, ApiError> {
    LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
        .map_err(ApiError::bad_request)
}

fn fields(query: &Query, rt: &ResourceType) -> Result<FieldSelector, ApiError> {
    FieldSelector::parse(
        query.get("fieldSelector").unwrap_or_default(),
        rt.field_labels,
    )
    .map_err(ApiError::bad_request)
}

fn patch_kind(
    headers: &HeaderMap,
    rt: &ResourceType,
    query: &Query,
) -> Result<PatchKind, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let unsupported = || {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {media:?})"),
        )
    };
    match media {
        "application/merge-patch+json" => Ok(PatchKind::Merge),
        "application/strategic-merge-patch+json" if !rt.custom => Ok(PatchKind::Merge),
        "application/json-patch+json" => Ok(PatchKind::Json),
        "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchKind::Apply {
            field_manager: query.non_empty("fieldManager").map(str::to_owned),
        }),
        _ => Err(unsupported()),
    }
}

fn delete_options(query: &Query, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let options: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let dry_run_listed = options["dryRun"]
        .as_array()
        .is_some_and(|modes| modes.iter().any(|m| m == "All"));
    let precondition = |field: &str| options["preconditions"][field].as_str().map(str::to_owned);
    Ok(DeleteOptions {
        dry_run: query.dry_run()? || dry_run_listed,
        uid: precondition("uid"),
        resource_version: precondition("resourceVersion"),
    })
}
