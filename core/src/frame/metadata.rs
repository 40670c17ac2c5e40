//! `Metadata`: the key/values a TTHeader or THeader header carries — Kitex int keys,
//! string keys, and the ACL token — with typed accessors for the keys Kitex gives meaning.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use super::IntKey;
use crate::protocol::MessageType;

/// Header metadata. Maps are ordered so encoding and printing are deterministic; a key
/// that appears twice on the wire keeps its last value (as Kitex's maps do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Kitex int key/values (TTHeader `INTKEYVALUE`, info id 0x10), by wire number.
    pub int: BTreeMap<u16, Bytes>,
    /// String key/values (TTHeader `KEYVALUE` 0x01, THeader `KEYVALUE` 0x01).
    pub strings: BTreeMap<String, Bytes>,
    /// The ACL token (TTHeader info id 0x11).
    pub acl_token: Option<Bytes>,
}

impl Metadata {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when there is nothing to carry.
    pub fn is_empty(&self) -> bool {
        self.int.is_empty() && self.strings.is_empty() && self.acl_token.is_none()
    }

    /// The value of a known int key.
    pub fn int_value(&self, key: IntKey) -> Option<&Bytes> {
        self.int.get(&key.number())
    }

    /// The value of a known int key, if it is UTF-8.
    pub fn int_str(&self, key: IntKey) -> Option<&str> {
        self.int_value(key)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Sets a known int key; returns the previous value.
    pub fn set_int(&mut self, key: IntKey, value: impl Into<Bytes>) -> Option<Bytes> {
        self.int.insert(key.number(), value.into())
    }

    /// The value of a string key.
    pub fn string_value(&self, key: &str) -> Option<&Bytes> {
        self.strings.get(key)
    }

    /// Sets a string key; returns the previous value.
    pub fn set_string(&mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Option<Bytes> {
        self.strings.insert(key.into(), value.into())
    }

    /// Int entries with their key's name when faultline knows it (for printing).
    pub fn int_entries(&self) -> impl Iterator<Item = (u16, Option<IntKey>, &Bytes)> {
        self.int.iter().map(|(&k, v)| (k, IntKey::from_u16(k), v))
    }

    /// `RPCTimeout` (key 12): Kitex writes the timeout in milliseconds as a decimal string.
    pub fn rpc_timeout(&self) -> Option<Duration> {
        self.int_str(IntKey::RpcTimeout)
            .and_then(|s| s.parse::<u64>().ok())
            .map(Duration::from_millis)
    }

    /// Sets `RPCTimeout` (key 12) to `timeout` in whole milliseconds.
    pub fn set_rpc_timeout(&mut self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.set_int(IntKey::RpcTimeout, ms.to_string());
    }

    /// `ToMethod` (key 9).
    pub fn to_method(&self) -> Option<&str> {
        self.int_str(IntKey::ToMethod)
    }

    /// `ToService` (key 6).
    pub fn to_service(&self) -> Option<&str> {
        self.int_str(IntKey::ToService)
    }

    /// `FromService` (key 3).
    pub fn from_service(&self) -> Option<&str> {
        self.int_str(IntKey::FromService)
    }

    /// `FromMethod` (key 20).
    pub fn from_method(&self) -> Option<&str> {
        self.int_str(IntKey::FromMethod)
    }

    /// `MsgType` (key 22): Kitex writes the Thrift message type as a decimal string
    /// (`"1"` call, `"2"` reply, ...); volo's server writes it as one raw byte (`0x02`).
    /// Both are read; values naming no Thrift message type (Kitex's 5 stream, 6 heartbeat)
    /// give `None`.
    pub fn msg_type(&self) -> Option<MessageType> {
        let value = self.int_value(IntKey::MsgType)?;
        let id = match value.as_ref() {
            [raw] if !raw.is_ascii_digit() => *raw,
            text => std::str::from_utf8(text).ok()?.parse::<u8>().ok()?,
        };
        MessageType::from_id(id)
    }

    /// Sets `MsgType` (key 22).
    pub fn set_msg_type(&mut self, kind: MessageType) {
        self.set_int(IntKey::MsgType, (kind as u8).to_string());
    }
}

/// Shows a metadata value as text when it is printable UTF-8, else as `0x`-prefixed hex.
pub fn display_value(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_owned(),
        _ => {
            let mut out = String::with_capacity(2 + 2 * value.len());
            out.push_str("0x");
            for b in value {
                out.push_str(&format!("{b:02x}"));
            }
            out
        }
    }
}

impl fmt::Display for Metadata {
    /// One `key = value` line per entry: int keys by name (or number), then string keys,
    /// then the ACL token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (num, key, value) in self.int_entries() {
            match key {
                Some(key) => writeln!(f, "{key}({num}) = {}", display_value(value))?,
                None => writeln!(f, "int({num}) = {}", display_value(value))?,
            }
        }
        for (key, value) in &self.strings {
            writeln!(f, "{key:?} = {}", display_value(value))?;
        }
        if let Some(token) = &self.acl_token {
            writeln!(f, "acl_token = {}", display_value(token))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_accessors() {
        let mut md = Metadata::new();
        md.set_rpc_timeout(Duration::from_millis(1500));
        md.set_int(IntKey::ToMethod, "Echo");
        md.set_int(IntKey::FromService, "client");
        md.set_msg_type(MessageType::Call);
        assert_eq!(md.int_str(IntKey::RpcTimeout), Some("1500"));
        assert_eq!(md.rpc_timeout(), Some(Duration::from_millis(1500)));
        assert_eq!(md.to_method(), Some("Echo"));
        assert_eq!(md.from_service(), Some("client"));
        assert_eq!(md.to_service(), None);
        assert_eq!(md.msg_type(), Some(MessageType::Call));
        md.set_int(IntKey::RpcTimeout, "soon");
        assert_eq!(md.rpc_timeout(), None);
        md.set_int(IntKey::MsgType, Bytes::from_static(&[2]));
        assert_eq!(md.msg_type(), Some(MessageType::Reply));
        md.set_int(IntKey::MsgType, "6");
        assert_eq!(md.msg_type(), None);
    }

    #[test]
    fn display_names_int_keys() {
        let mut md = Metadata::new();
        md.set_int(IntKey::ToMethod, "Echo");
        md.int.insert(900, Bytes::from_static(&[0, 1]));
        md.set_string("tc", "zone-a");
        md.acl_token = Some(Bytes::from_static(b"tok"));
        let text = md.to_string();
        assert_eq!(
            text,
            "ToMethod(9) = Echo\nint(900) = 0x0001\n\"tc\" = zone-a\nacl_token = tok\n"
        );
    }
}
