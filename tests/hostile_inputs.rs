//! Hostile inputs through every decoder and through `faultline decode`: truncated frames,
//! header size 0, negative and huge lengths, a 2^31-element list in a 20-byte frame,
//! 10,000-deep nesting, unknown type ids, overlong varints. Each must come back as an
//! error (never a panic, never a hang) and peak heap allocation while decoding must stay
//! below a small multiple of the input size, measured by a counting global allocator.
//!
//! This file holds a single test so that the allocator's counters see only its work.

#[path = "support/bounded.rs"]
mod bounded;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use faultline_core::frame::{decode_frame, decode_frame_bytes, frame_len, Transport};
use faultline_core::protocol::{
    decode_from_slice, expect_end, skip, Binary, BinaryReader, Compact, CompactReader,
    DecodeLimits, Message, TType, Value,
};
use faultline_core::Thrift;

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts the sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let grow = new_size - layout.size();
            let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A request struct like a real service's: strings, lists, maps, optional and recursive.
#[derive(Thrift, Debug)]
struct Request {
    #[thrift(id = 1, required)]
    name: String,
    #[thrift(id = 2)]
    tags: Vec<String>,
    #[thrift(id = 3)]
    attrs: BTreeMap<String, i64>,
    #[thrift(id = 4)]
    child: Option<Box<Request>>,
    #[thrift(id = 5)]
    ids: Option<Vec<i64>>,
}

/// Every way faultline can be asked to decode `input`. Returns how many decoders accepted
/// it as a whole message (frame decoders, and message decoders that require all input to
/// be consumed); raw value decoders and `skip` run too but only have to not misbehave,
/// since a prefix of any input may well be a valid value.
fn decode_everything(input: &[u8], limits: &DecodeLimits) -> usize {
    let mut accepted = 0;
    let bytes = Bytes::copy_from_slice(input);
    for transport in [None].into_iter().chain(Transport::ALL.map(Some)) {
        if let Ok(frame) = decode_frame(input, transport, None, limits) {
            accepted += usize::from(frame.decode_message::<Value>(*limits).is_ok());
            accepted += usize::from(frame.decode_message::<Request>(*limits).is_ok());
        }
        if let Ok(frame) = decode_frame_bytes(&bytes, transport, None, limits) {
            accepted += usize::from(frame.decode_message::<Value>(*limits).is_ok());
        }
        let _ = frame_len(input, transport, None, limits);
    }
    for ttype in [TType::Struct, TType::List, TType::Map, TType::Set] {
        let _ = Value::decode(&mut BinaryReader::from_slice(input, *limits), ttype);
        let _ = Value::decode(&mut CompactReader::from_slice(input, *limits), ttype);
        let _ = skip(&mut BinaryReader::from_slice(input, *limits), ttype);
        let _ = skip(&mut CompactReader::from_slice(input, *limits), ttype);
    }
    let whole = |r: &mut BinaryReader<'_>| Message::<Value>::decode(r).and_then(|_| expect_end(r));
    accepted += usize::from(whole(&mut BinaryReader::from_slice(input, *limits)).is_ok());
    let mut compact = CompactReader::from_slice(input, *limits);
    accepted += usize::from(
        Message::<Value>::decode(&mut compact)
            .and_then(|_| expect_end(&compact))
            .is_ok(),
    );
    accepted += usize::from(decode_from_slice::<Binary, Request>(input, *limits).is_ok());
    accepted += usize::from(decode_from_slice::<Compact, Request>(input, *limits).is_ok());
    accepted
}

fn be32(n: u32) -> [u8; 4] {
    n.to_be_bytes()
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = be32(payload.len() as u32).to_vec();
    out.extend_from_slice(payload);
    out
}

/// A strict Binary call envelope for method "m", seq id 1.
fn binary_envelope() -> Vec<u8> {
    vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, b'm', 0, 0, 0, 1]
}

fn ttheader(header_words: u16, info: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0x10, 0x00, 0, 0, 0, 0, 0, 1];
    body.extend_from_slice(&header_words.to_be_bytes());
    body.extend_from_slice(info);
    body.extend_from_slice(payload);
    framed(&body)
}

fn theader(info: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0x0F, 0xFF, 0, 0, 0, 0, 0, 1];
    body.extend_from_slice(&((info.len() / 4) as u16).to_be_bytes());
    body.extend_from_slice(info);
    body.extend_from_slice(payload);
    framed(&body)
}

/// Named hostile inputs: (name, bytes). None of them is a valid message.
fn hostile_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut deep_binary_lists = Vec::new();
    for _ in 0..10_000 {
        deep_binary_lists.extend_from_slice(&[15, 0, 0, 0, 1]);
    }
    let mut deep_compact_structs = vec![0x82, 0x21, 0x01, 0x01, b'm'];
    deep_compact_structs.extend(std::iter::repeat_n(0x1C, 10_000));
    let mut deep_typed = binary_envelope();
    for _ in 0..10_000 {
        deep_typed.extend_from_slice(&[12, 0, 4]);
    }
    let mut list_2_31 = binary_envelope();
    list_2_31.extend_from_slice(&[15, 0, 2, 11]);
    list_2_31.extend_from_slice(&be32(0x7FFF_FFFF));
    let list_2_31_in_20 = framed(&list_2_31[..16]);
    let mut million_i64 = binary_envelope();
    million_i64.extend_from_slice(&[15, 0, 5, 10]);
    million_i64.extend_from_slice(&be32(1_000_000));
    let mut negative_string = binary_envelope();
    negative_string.extend_from_slice(&[11, 0, 1]);
    negative_string.extend_from_slice(&be32(0xFFFF_FFFF));
    let mut huge_string = binary_envelope();
    huge_string.extend_from_slice(&[11, 0, 1]);
    huge_string.extend_from_slice(&be32(0x7FFF_FFFF));
    huge_string.extend_from_slice(b"abc");
    let mut huge_map = binary_envelope();
    huge_map.extend_from_slice(&[13, 0, 3, 11, 10]);
    huge_map.extend_from_slice(&be32(0x00FF_FFFF));
    let mut unknown_type = binary_envelope();
    unknown_type.extend_from_slice(&[7, 0, 1, 0, 0, 0, 0, 0]);
    let mut compact_overlong = vec![0x82, 0x21];
    compact_overlong.extend_from_slice(&[0xFF; 11]);
    let compact_overlong_i64 = [
        0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00,
    ];
    let compact_negative_list = [
        0x82, 0x21, 0x01, 0x01, b'm', 0x19, 0xF8, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F,
    ];
    let ttheader_kv_flood = ttheader(2, &[0, 0, 0x01, 0xFF, 0xFF, 0, 0, 0], &binary_envelope());
    let theader_varint = theader(
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0],
        &binary_envelope(),
    );
    let theader_transform = theader(&[0x00, 0x01, 0x01, 0x00], &binary_envelope());
    vec![
        ("empty", vec![]),
        (
            "framed length 2^31-1 in 8 bytes",
            [be32(0x7FFF_FFFF), be32(0x8001_0001)].concat(),
        ),
        (
            "framed length -1",
            [be32(0xFFFF_FFFF), be32(0x8001_0001)].concat(),
        ),
        ("framed length 0", be32(0).to_vec()),
        (
            "ttheader header size 0",
            ttheader(0, &[], &binary_envelope()),
        ),
        (
            "ttheader header size past frame",
            ttheader(0x4000, &[0, 0, 0, 0], &[]),
        ),
        (
            "ttheader unknown info id",
            ttheader(1, &[0, 0, 0x7E, 0], &binary_envelope()),
        ),
        (
            "ttheader unknown protocol",
            ttheader(1, &[9, 0, 0, 0], &binary_envelope()),
        ),
        ("ttheader 65535 kv entries in 8 bytes", ttheader_kv_flood),
        ("theader overlong varint", theader_varint),
        ("theader zlib transform", theader_transform),
        ("list of 2^31-1 strings in a 20-byte frame", list_2_31_in_20),
        ("list of 1,000,000 i64, no bytes", framed(&million_i64)),
        ("map of 2^24 entries, no bytes", framed(&huge_map)),
        ("negative string length", framed(&negative_string)),
        ("string length 2^31-1, 3 bytes", framed(&huge_string)),
        ("unknown type id 7", framed(&unknown_type)),
        ("10,000 nested binary lists", deep_binary_lists),
        ("10,000 nested compact structs", deep_compact_structs),
        ("10,000 nested typed children", framed(&deep_typed)),
        ("compact overlong seq id varint", compact_overlong),
        ("compact overlong i64 varint", compact_overlong_i64.to_vec()),
        ("compact negative list size", compact_negative_list.to_vec()),
        ("bad binary version", [be32(0x8002_0001), be32(0)].concat()),
        ("no known transport", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
    ]
}

/// Valid frames of every transport and protocol, to be cut at every byte.
fn valid_frames() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/frames");
    let mut frames = Vec::new();
    for entry in std::fs::read_dir(dir).expect("samples/frames") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("echo-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("sample");
        let bytes: Vec<u8> = text
            .split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).expect("hex"))
            .collect();
        frames.push(bytes);
    }
    assert!(frames.len() >= 5, "expected the shipped echo samples");
    frames
}

/// Peak bytes allocated while `f` runs, above what was live before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// Peak allocation may not exceed this many bytes per input byte (plus a fixed 1 KiB).
const ALLOC_PER_INPUT_BYTE: usize = 4;
/// Generous bound that only a hang or a quadratic blow-up would cross.
const HANG: Duration = Duration::from_secs(2);

#[test]
fn hostile_inputs_fail_cleanly_fast_and_small() {
    let limits = DecodeLimits::default();
    let mut worst_ratio = 0.0f64;
    let mut worst_small = 0usize;
    let mut slowest = Duration::ZERO;
    let mut check = |name: &str, input: &[u8], expect_ok: usize| {
        let started = Instant::now();
        let (ok, peak) = peak_during(|| decode_everything(input, &limits));
        let took = started.elapsed();
        assert_eq!(ok, expect_ok, "{name}: decoders that accepted it");
        let bound = 1024 + ALLOC_PER_INPUT_BYTE * input.len();
        assert!(
            peak <= bound,
            "{name}: peak allocation {peak} B > {bound} B"
        );
        assert!(took < HANG, "{name}: took {took:?}");
        if input.len() >= 1024 {
            worst_ratio = worst_ratio.max(peak as f64 / input.len() as f64);
        }
        worst_small = worst_small.max(peak.saturating_sub(ALLOC_PER_INPUT_BYTE * input.len()));
        slowest = slowest.max(took);
    };
    for (name, input) in hostile_corpus() {
        check(name, &input, 0);
    }
    for frame in valid_frames() {
        for cut in 0..frame.len() {
            let name = format!("valid frame cut to {cut} of {} bytes", frame.len());
            check(&name, &frame[..cut], 0);
        }
    }
    println!(
        "hostile inputs: peak allocation at most {worst_ratio:.2} x input (inputs >= 1 KiB), \
         fixed part at most {worst_small} B; slowest full decode {slowest:?}"
    );

    // The same corpus through the command line: exit 1 and a JSON error, never a crash.
    let dir = std::env::temp_dir().join(format!("faultline-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (i, (name, input)) in hostile_corpus().into_iter().enumerate() {
        let path = dir.join(format!("{i}.bin"));
        std::fs::write(&path, &input).expect("write input");
        let out = bounded::output_within(
            Command::new(env!("CARGO_BIN_EXE_faultline")).args(["decode", path.to_str().unwrap()]),
        );
        assert_eq!(out.status.code(), Some(1), "{name}: exit status");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let kind = doc["error"]["kind"].as_str().unwrap_or("");
        assert!(!kind.is_empty(), "{name}: no error kind in {doc}");
        assert!(doc["error"]["offset"].is_u64(), "{name}: no offset");
    }
    std::fs::remove_dir_all(&dir).expect("clean temp dir");
}
