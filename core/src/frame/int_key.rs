//! `IntKey`: the integer metadata keys of Kitex TTHeader (`INTKEYVALUE` info blocks), as
//! Kitex numbers them: 0..=25 from kitex `pkg/remote/transmeta/metakey.go`, and 26, 27 from
//! `bytedance/gopkg`'s copy of that list (where Kitex's TTHeader codec now lives).

use std::fmt;

macro_rules! int_keys {
    ($( $(#[$doc:meta])* $variant:ident = $num:literal => $name:literal, )*) => {
        /// A Kitex TTHeader int key. Keys outside this list are kept as raw numbers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum IntKey {
            $( $(#[$doc])* $variant = $num, )*
        }

        impl IntKey {
            /// Every known key, in numeric order.
            pub const ALL: &'static [IntKey] = &[ $( IntKey::$variant, )* ];

            /// The key numbered `num`, if faultline knows it.
            pub fn from_u16(num: u16) -> Option<IntKey> {
                match num {
                    $( $num => Some(IntKey::$variant), )*
                    _ => None,
                }
            }

            /// The key's name as Kitex spells its constant, e.g. `RPCTimeout`.
            pub fn name(self) -> &'static str {
                match self {
                    $( IntKey::$variant => $name, )*
                }
            }

            /// The key named `name` (as `name()` spells it).
            pub fn from_name(name: &str) -> Option<IntKey> {
                match name {
                    $( $name => Some(IntKey::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

int_keys! {
    MeshVersion = 0 => "MeshVersion",
    TransportType = 1 => "TransportType",
    LogId = 2 => "LogID",
    /// The caller's service name.
    FromService = 3 => "FromService",
    FromCluster = 4 => "FromCluster",
    FromIdc = 5 => "FromIDC",
    /// The callee's service name.
    ToService = 6 => "ToService",
    ToCluster = 7 => "ToCluster",
    ToIdc = 8 => "ToIDC",
    /// The method being called.
    ToMethod = 9 => "ToMethod",
    Env = 10 => "Env",
    DestAddress = 11 => "DestAddress",
    /// The call's timeout in milliseconds, as a decimal string.
    RpcTimeout = 12 => "RPCTimeout",
    ReadTimeout = 13 => "ReadTimeout",
    RingHashKey = 14 => "RingHashKey",
    DdpTag = 15 => "DDPTag",
    WithMeshHeader = 16 => "WithMeshHeader",
    ConnectTimeout = 17 => "ConnectTimeout",
    SpanContext = 18 => "SpanContext",
    ShortConnection = 19 => "ShortConnection",
    /// The caller's method.
    FromMethod = 20 => "FromMethod",
    StressTag = 21 => "StressTag",
    /// The Thrift message type as a decimal string (1 call, 2 reply, 3 exception, 4 oneway).
    MsgType = 22 => "MsgType",
    HttpContentType = 23 => "HTTPContentType",
    RawRingHashKey = 24 => "RawRingHashKey",
    LbType = 25 => "LBType",
    /// gopkg only (volo numbers it 26 too).
    ClusterShardId = 26 => "ClusterShardID",
    /// gopkg only: the frame type of TTHeader streaming.
    FrameType = 27 => "FrameType",
}

impl IntKey {
    /// The key's wire number.
    pub fn number(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for IntKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<IntKey> for u16 {
    fn from(key: IntKey) -> u16 {
        key.number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_lookup_agree() {
        for (i, key) in IntKey::ALL.iter().enumerate() {
            assert_eq!(usize::from(key.number()), i, "keys are dense from 0");
            assert_eq!(IntKey::from_u16(key.number()), Some(*key));
            assert_eq!(IntKey::from_name(key.name()), Some(*key));
        }
        assert_eq!(IntKey::FromService.number(), 3);
        assert_eq!(IntKey::ToService.number(), 6);
        assert_eq!(IntKey::ToMethod.number(), 9);
        assert_eq!(IntKey::RpcTimeout.number(), 12);
        assert_eq!(IntKey::MsgType.number(), 22);
        assert_eq!(IntKey::LbType.number(), 25);
        assert_eq!(IntKey::FrameType.number(), 27);
        assert_eq!(IntKey::from_u16(28), None);
    }
}
