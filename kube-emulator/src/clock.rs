//! Server time: wall-clock time at start plus tokio time since, so timestamps follow paused
//! time in tests; and the server's serial numbers (uids, generated name suffixes).

use std::time::{Duration, SystemTime};

use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

pub(crate) struct Clock {
    wall: SystemTime,
    start: Instant,
    serial: u64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            wall: SystemTime::now(),
            start: Instant::now(),
            serial: 0,
        }
    }

    /// Now, as RFC 3339 with second precision (a `metav1.Time`).
    pub(crate) fn now(&self) -> String {
        let now = self.wall + self.start.elapsed();
        let seconds = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        Timestamp::from_second(seconds)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    /// A new uid, shaped like the UUIDs a real server hands out.
    pub(crate) fn uid(&mut self) -> String {
        self.serial += 1;
        let n = self.serial;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            mix(n) as u32,
            (mix(n) >> 32) as u16,
            (mix(n) >> 48) as u16 & 0xfff,
            (mix(!n) as u16) & 0xfff,
            n
        )
    }

    /// Five characters from the alphabet the real server uses for `generateName`.
    pub(crate) fn name_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        self.serial += 1;
        let mut n = mix(self.serial);
        (0..5)
            .map(|_| {
                let c = ALPHABET[(n % ALPHABET.len() as u64) as usize];
                n /= ALPHABET.len() as u64;
                c as char
            })
            .collect()
    }
}

/// SplitMix64's finaliser: spreads consecutive serials over all bits.
pub(crate) fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
