//! Thrift's wire type ids, message types and the small headers that protocols read and write.

/// A Thrift type id as the Binary protocol numbers them (Compact maps its own ids onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TType {
    Stop = 0,
    Void = 1,
    Bool = 2,
    Byte = 3,
    Double = 4,
    I16 = 6,
    I32 = 8,
    I64 = 10,
    /// Strings and binaries share one wire type.
    Binary = 11,
    Struct = 12,
    Map = 13,
    Set = 14,
    List = 15,
    Uuid = 16,
}

impl TType {
    /// The Binary protocol's type id for `id`, if Thrift defines one.
    pub fn from_binary_id(id: u8) -> Option<TType> {
        Some(match id {
            0 => TType::Stop,
            1 => TType::Void,
            2 => TType::Bool,
            3 => TType::Byte,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::Binary,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            16 => TType::Uuid,
            _ => return None,
        })
    }

    /// True for the types a field, list element or map entry may have.
    pub fn is_value_type(self) -> bool {
        !matches!(self, TType::Stop | TType::Void)
    }

    /// How many of `len` elements of this type a decoder may reserve room for up front:
    /// all of them for scalars, none for structs and containers.
    ///
    /// A container's count is checked against the bytes remaining, but only one level at
    /// a time: a list that says "as many lists as bytes remain", whose first element says
    /// the same, and so on down to the depth limit, would have each level reserve
    /// `remaining x size_of::<element>()` at once (64 levels x 40 bytes per input byte
    /// for `Value`: about 2.5 KiB per byte of input, 40 GiB for a 16 MiB frame). Elements
    /// that cannot reserve in turn are safe to reserve for: whatever they hold, each takes
    /// at least a byte. Nested ones grow as they are read, by what was actually decoded.
    #[inline]
    pub fn reservable(self, len: usize) -> usize {
        match self {
            TType::Struct | TType::List | TType::Set | TType::Map => 0,
            _ => len,
        }
    }

    /// Lower-case name used in JSON output and error messages.
    pub fn name(self) -> &'static str {
        match self {
            TType::Stop => "stop",
            TType::Void => "void",
            TType::Bool => "bool",
            TType::Byte => "byte",
            TType::Double => "double",
            TType::I16 => "i16",
            TType::I32 => "i32",
            TType::I64 => "i64",
            TType::Binary => "binary",
            TType::Struct => "struct",
            TType::Map => "map",
            TType::Set => "set",
            TType::List => "list",
            TType::Uuid => "uuid",
        }
    }
}

/// The kind of a Thrift message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Call = 1,
    Reply = 2,
    Exception = 3,
    Oneway = 4,
}

impl MessageType {
    pub fn from_id(id: u8) -> Option<MessageType> {
        Some(match id {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Exception,
            4 => MessageType::Oneway,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageType::Call => "call",
            MessageType::Reply => "reply",
            MessageType::Exception => "exception",
            MessageType::Oneway => "oneway",
        }
    }
}

/// A message envelope: method name, kind and sequence id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeader<N = String> {
    pub name: N,
    pub kind: MessageType,
    pub seq_id: i32,
}

impl<N: AsRef<str>> MessageHeader<N> {
    pub fn to_owned(&self) -> MessageHeader<String> {
        MessageHeader {
            name: self.name.as_ref().to_owned(),
            kind: self.kind,
            seq_id: self.seq_id,
        }
    }
}

/// A struct field's header; `ttype == TType::Stop` ends the struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldHeader {
    pub ttype: TType,
    pub id: i16,
}

/// A list or set header: element type and element count (already checked against limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListHeader {
    pub elem: TType,
    pub len: usize,
}

/// A map header: key and value types and entry count (already checked against limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapHeader {
    pub key: TType,
    pub value: TType,
    pub len: usize,
}
