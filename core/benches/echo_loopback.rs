//! Echo on loopback (issue 3, Benchmarks bullet 1): a 1 KiB message echoed by N concurrent
//! closed-loop callers for a fixed duration, faultline server + client against a volo-thrift
//! server + client, all in this process on 127.0.0.1.
//!
//! Run: `cargo bench -p faultline-core --bench echo_loopback`
//!
//! Environment (all optional):
//! - `ECHO_BENCH_SECS` measured seconds per case (default 5)
//! - `ECHO_BENCH_WARMUP_SECS` warm-up seconds per case, not recorded (default 1)
//! - `ECHO_BENCH_CALLERS` concurrent callers (default 100)
//! - `ECHO_BENCH_BYTES` message size in bytes (default 1024)
//! - `ECHO_BENCH_WORKERS` tokio worker threads of each runtime (default 2)
//! - `ECHO_BENCH_ONLY` run only the cases whose name contains this string
//!
//! Setup, identical for every case: the server runs on its own multi-threaded tokio runtime
//! and the callers on another (each `ECHO_BENCH_WORKERS` workers), so a stack's client and
//! server do not share a scheduler; on a 2-core machine both runtimes compete for the same
//! two cores, the same way for every stack. Each caller loops: send the 1 KiB echo, await
//! the reply, record the latency (µs) in its own `hdrhistogram`, repeat; the histograms are
//! merged at the end. QPS = calls completed in the measured window / window length.
//!
//! Cases:
//! - `faultline mux`: `faultline_core::server` (echo router, typed `EchoArgs` → `EchoResult`)
//!   and `EchoClient` over the stack `Client::from_config` builds (timeout, default retry,
//!   round robin over one instance, breakers disabled) on a pool in `PoolMode::Multiplexed` — TTHeader + Binary, one shared
//!   connection.
//! - `faultline exclusive`: the same over `PoolMode::Exclusive` (one connection per
//!   in-flight call; max idle raised to the caller count so connections are reused).
//! - `volo`: `volo_thrift::server::Server` with a hand-written `volo::Service<ServerContext,
//!   Bytes>` (no codegen; it decodes the args and encodes the result with faultline's typed
//!   `EchoArgs` / `EchoResult`, the same handler work as faultline's server). The client is
//!   NOT volo's `Client` (that needs codegen): it is a minimal client that drives volo's own
//!   codec — `TTHeaderEncoder` / `TTHeaderDecoder` + `ThriftCodec` from volo-thrift, inside a
//!   `metainfo` scope as volo's transport does — over one tokio `TcpStream` per caller
//!   (like volo's default pooled, non-multiplexed client). TTHeader + Binary.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use faultline_core::breaker::BreakerConfig;
use faultline_core::client::{Client, ClientConfig, EchoClient, PoolConfig, PoolMode};
use faultline_core::echo::{self, EchoArgs, EchoResult, Response};
use faultline_core::event::EventBus;
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::protocol::{
    decode_from_bytes, encode_to_vec, Binary, DecodeLimits, ProtocolId,
};
use faultline_core::rpc::Instance;
use faultline_core::server::ServerBuilder;
use hdrhistogram::Histogram;
use metainfo::{MetaInfo, METAINFO};
use pilota::thrift::TMessageType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use volo::context::{Endpoint, Role, RpcInfo};
use volo::FastStr;
use volo_thrift::codec::default::thrift::ThriftCodec;
use volo_thrift::codec::default::ttheader::{TTHeaderDecoder, TTHeaderEncoder};
use volo_thrift::codec::default::{ZeroCopyDecoder, ZeroCopyEncoder};
use volo_thrift::context::{ClientContext, Config, ServerContext};
use volo_thrift::{LinkedBytes, ThriftMessage};

struct Settings {
    measure: Duration,
    warmup: Duration,
    callers: usize,
    bytes: usize,
    workers: usize,
    only: Option<String>,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Self {
        Self {
            measure: Duration::from_secs(env_num("ECHO_BENCH_SECS", 5)),
            warmup: Duration::from_secs(env_num("ECHO_BENCH_WARMUP_SECS", 1)),
            callers: env_num("ECHO_BENCH_CALLERS", 100) as usize,
            bytes: env_num("ECHO_BENCH_BYTES", 1024) as usize,
            workers: env_num("ECHO_BENCH_WORKERS", 2) as usize,
            only: std::env::var("ECHO_BENCH_ONLY").ok(),
        }
    }
}

fn runtime(workers: usize, name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

struct Outcome {
    calls: u64,
    errors: u64,
    hist: Histogram<u64>,
    elapsed: Duration,
}

/// Runs `settings.callers` closed-loop callers on `rt`; `make_caller(i)` builds caller
/// `i`'s state, `call(state)` does one echo and returns whether it succeeded.
fn drive<S, MkS, MkFut, F, Fut>(
    rt: &Runtime,
    settings: &Settings,
    make_caller: MkS,
    call: F,
) -> Outcome
where
    S: Send + 'static,
    MkS: Fn(usize) -> MkFut,
    MkFut: Future<Output = S> + Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = (S, bool)> + Send,
{
    let recording = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::with_capacity(settings.callers);
    for i in 0..settings.callers {
        let init = make_caller(i);
        let (recording, stop, call) = (recording.clone(), stop.clone(), call.clone());
        handles.push(rt.spawn(async move {
            let mut state = Some(init.await);
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            let (mut calls, mut errors) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let (next, ok) = call(state.take().expect("caller state")).await;
                state = Some(next);
                if recording.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    if ok {
                        calls += 1;
                        hist.saturating_record(start.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                }
            }
            (calls, errors, hist)
        }));
    }
    std::thread::sleep(settings.warmup);
    recording.store(true, Ordering::SeqCst);
    let started = Instant::now();
    std::thread::sleep(settings.measure);
    stop.store(true, Ordering::SeqCst);
    let elapsed = started.elapsed();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let (mut calls, mut errors) = (0, 0);
    for h in handles {
        let (c, e, hh) = rt.block_on(h).expect("caller task");
        calls += c;
        errors += e;
        hist.add(hh).unwrap();
    }
    Outcome {
        calls,
        errors,
        hist,
        elapsed,
    }
}

fn message(bytes: usize) -> String {
    "x".repeat(bytes)
}

fn faultline_case(settings: &Settings, mode: PoolMode) -> Outcome {
    let server_rt = runtime(settings.workers, "fl-server");
    let client_rt = runtime(settings.workers, "fl-client");
    let server = server_rt.block_on(async {
        ServerBuilder::new(echo::SERVICE)
            .bind(&Tcp, "127.0.0.1:0", echo::router())
            .await
            .expect("bind")
    });
    let addr = server.local_addr();
    let client = client_rt.block_on(async {
        let config = ClientConfig {
            caller: "bench.client".into(),
            timeout: Duration::from_secs(5),
            service_breaker: BreakerConfig {
                enabled: false,
                ..BreakerConfig::default()
            },
            instance_breaker: BreakerConfig {
                enabled: false,
                ..BreakerConfig::default()
            },
            pool: PoolConfig {
                mode,
                max_idle_per_instance: settings.callers,
                connect_timeout: Duration::from_secs(5),
                ..PoolConfig::default()
            },
            ..ClientConfig::default()
        };
        let discovery = Discovery::new([Instance::new(addr.to_string())]);
        let client = Client::from_config(&config, Tcp, discovery, EventBus::default())
            .expect("valid bench config");
        EchoClient::new(client, ProtocolId::Binary)
    });
    let msg: Arc<str> = message(settings.bytes).into();
    let outcome = drive(
        &client_rt,
        settings,
        |_| {
            let (client, msg) = (client.clone(), msg.clone());
            async move { (client, msg) }
        },
        |(client, msg): (EchoClient, Arc<str>)| async move {
            let ok = matches!(client.echo(&msg).await, Ok(reply) if reply.len() == msg.len());
            ((client, msg), ok)
        },
    );
    drop(client);
    server_rt.block_on(server.shutdown());
    client_rt.shutdown_timeout(Duration::from_secs(1));
    server_rt.shutdown_timeout(Duration::from_secs(1));
    outcome
}

/// The volo server's handler: decodes `echo_args` and encodes `echo_result`, with the same
/// typed structs faultline's echo handler uses.
#[derive(Clone)]
struct VoloEcho;

impl volo::Service<ServerContext, Bytes> for VoloEcho {
    type Response = Bytes;
    type Error = volo_thrift::ServerError;

    async fn call(&self, _cx: &mut ServerContext, args: Bytes) -> Result<Bytes, Self::Error> {
        let args: EchoArgs = decode_from_bytes::<Binary, _>(&args, DecodeLimits::default())
            .map_err(|e| {
                volo_thrift::ServerError::from(volo_thrift::AnyhowError::msg(e.to_string()))
            })?;
        let result = EchoResult {
            success: Some(Response {
                message: args.req.message,
            }),
        };
        let out = encode_to_vec::<Binary, _>(&result).map_err(|e| {
            volo_thrift::ServerError::from(volo_thrift::AnyhowError::msg(e.to_string()))
        })?;
        Ok(Bytes::from(out))
    }
}

/// One caller's connection, driven with volo's TTHeader + Binary codec.
struct VoloConn {
    sock: tokio::net::TcpStream,
    seq_id: i32,
    args: Bytes,
    len: usize,
    buf: Vec<u8>,
}

fn volo_client_context(seq_id: i32) -> ClientContext {
    let ri = RpcInfo::new(
        Role::Client,
        FastStr::from_static_str(echo::METHOD),
        Endpoint::new(FastStr::from_static_str("bench.client")),
        Endpoint::new(FastStr::from_static_str(echo::SERVICE)),
        Config::new(),
    );
    ClientContext::new(seq_id, ri, TMessageType::Call)
}

fn volo_encode_request(seq_id: i32, args: Bytes) -> Vec<u8> {
    METAINFO.sync_scope(RefCell::new(MetaInfo::default()), || {
        let mut cx = volo_client_context(seq_id);
        let msg = ThriftMessage::mk_client_msg(&cx, args);
        let mut enc = TTHeaderEncoder::new(ThriftCodec::default());
        let (real, _) = enc.size(&mut cx, &msg).expect("volo sizes");
        let mut out = LinkedBytes::with_capacity(real);
        enc.encode(&mut cx, &mut out, msg).expect("volo encodes");
        out.concat().to_vec()
    })
}

/// Decodes a reply frame with volo's decoder; the result struct bytes.
fn volo_decode_reply(seq_id: i32, frame: Vec<u8>) -> Option<Bytes> {
    METAINFO.sync_scope(RefCell::new(MetaInfo::default()), || {
        let mut cx = volo_client_context(seq_id);
        let mut buf = Bytes::from(frame);
        let msg = TTHeaderDecoder::new(ThriftCodec::default())
            .decode::<Bytes, _>(&mut cx, &mut buf)
            .ok()??;
        msg.data.ok()
    })
}

impl VoloConn {
    async fn echo(&mut self) -> bool {
        self.seq_id = self.seq_id.wrapping_add(1);
        let request = volo_encode_request(self.seq_id, self.args.clone());
        if self.sock.write_all(&request).await.is_err() {
            return false;
        }
        let mut len = [0u8; 4];
        if self.sock.read_exact(&mut len).await.is_err() {
            return false;
        }
        let n = u32::from_be_bytes(len) as usize;
        self.buf.clear();
        self.buf.extend_from_slice(&len);
        self.buf.resize(4 + n, 0);
        if self.sock.read_exact(&mut self.buf[4..]).await.is_err() {
            return false;
        }
        let frame = std::mem::take(&mut self.buf);
        let Some(body) = volo_decode_reply(self.seq_id, frame) else {
            return false;
        };
        match decode_from_bytes::<Binary, EchoResult>(&body, DecodeLimits::default()) {
            Ok(EchoResult {
                success: Some(r), ..
            }) => r.message.len() == self.len,
            _ => false,
        }
    }
}

fn volo_case(settings: &Settings) -> Outcome {
    let server_rt = runtime(settings.workers, "volo-server");
    let client_rt = runtime(settings.workers, "volo-client");
    let (addr, server): (SocketAddr, _) = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(
            volo_thrift::server::Server::new(VoloEcho)
                .run(volo::net::incoming::DefaultIncoming::from(listener)),
        );
        (addr, server)
    });
    let args = Bytes::from(
        encode_to_vec::<Binary, _>(&EchoArgs::new(message(settings.bytes))).expect("args"),
    );
    let len = settings.bytes;
    let outcome = drive(
        &client_rt,
        settings,
        |_| {
            let args = args.clone();
            async move {
                let sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
                sock.set_nodelay(true).ok();
                VoloConn {
                    sock,
                    seq_id: 0,
                    args,
                    len,
                    buf: Vec::new(),
                }
            }
        },
        |mut conn: VoloConn| async move {
            let ok = conn.echo().await;
            (conn, ok)
        },
    );
    server.abort();
    client_rt.shutdown_timeout(Duration::from_secs(1));
    server_rt.shutdown_timeout(Duration::from_secs(1));
    outcome
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let settings = Settings::from_env();
    println!(
        "echo_loopback: {} callers, {} B message, {} s measured after {} s warm-up, \
         server and client on separate {}-worker tokio runtimes",
        settings.callers,
        settings.bytes,
        settings.measure.as_secs(),
        settings.warmup.as_secs(),
        settings.workers,
    );
    type Case = (&'static str, fn(&Settings) -> Outcome);
    let cases: [Case; 3] = [
        ("faultline mux", |s| {
            faultline_case(s, PoolMode::Multiplexed)
        }),
        ("faultline exclusive", |s| {
            faultline_case(s, PoolMode::Exclusive)
        }),
        ("volo", volo_case),
    ];
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "case", "QPS", "p50 µs", "p99 µs", "max µs", "errors"
    );
    let mut results = Vec::new();
    for (name, case) in cases {
        if settings.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let o = case(&settings);
        let qps = o.calls as f64 / o.elapsed.as_secs_f64();
        println!(
            "{:<22} {:>10.0} {:>9} {:>9} {:>9} {:>7}",
            name,
            qps,
            o.hist.value_at_quantile(0.50),
            o.hist.value_at_quantile(0.99),
            o.hist.max(),
            o.errors,
        );
        results.push((name, qps, o.hist.value_at_quantile(0.99)));
    }
    if let Some(&(_, volo_qps, volo_p99)) = results.iter().find(|r| r.0 == "volo") {
        for (name, qps, p99) in &results {
            if *name != "volo" {
                println!(
                    "{name}: {:.2}x volo QPS, p99 {:.2}x volo's",
                    qps / volo_qps,
                    *p99 as f64 / volo_p99 as f64
                );
            }
        }
    }
}
