//! The strict-acceptance oracle: an independent scanner of the Thrift wire grammar that
//! says which byte strings are legal and rewrites every legal one into its canonical
//! form, the bytes faultline's writers produce for the same value.
//!
//! The cross-check targets assert, byte for byte, that for whatever a faultline reader
//! accepts, `canonical(input) == encode(decode(input))`: the scanner accepts it too (a
//! reader that accepts what the grammar forbids, such as a varint with bits beyond 32, is
//! caught although it decodes to a plausible value), and the value decoded is exactly
//! the one on the wire (a truncated or misread value would re-encode differently).
//!
//! Legal non-canonical forms, which readers (faultline, the Apache crate, pilota) accept
//! and the scanner normalises:
//!
//! - Binary: the old non-strict message header (`len name type seq`; canonical: strict
//!   `0x8001 0x00 type`); the unused third byte of a strict header (canonical `0x00`); a
//!   bool byte other than 0 or 1 (true; canonical `0x01`).
//! - Compact: a varint padded with redundant `0x80` bytes within 5 (32-bit) or 10 (64-bit)
//!   bytes (canonical: shortest); a long-form field header (type, then the zigzag id)
//!   where a delta of 1..=15 would do (canonical: the delta form, as the writer picks it);
//!   a long-form list or set header (`0xF_` + varint size) for fewer than 15 elements;
//!   the bool element type `2` in a list, set or map header (canonical `1`); a bool
//!   element `0x00` (the old specification's false; canonical `0x02`); a stop byte with a
//!   non-zero upper nibble (canonical `0x00`).
//!
//! Everything else is illegal and must be refused: varints longer than 5 / 10 bytes or
//! carrying bits beyond 32 / 64, i16 values and field ids outside i16, negative lengths
//! and counts, unknown type ids, bool bytes other than 0, 1, 2 in Compact, an unknown
//! version or message type, a non-UTF-8 message name, and nesting deeper than
//! `max_depth` (structs, lists, sets and maps each count one level, as in the readers).
//! The scanner does not check the size limits (a string's or container's length against
//! `DecodeLimits`): a reader that accepted the input has checked them.

use crate::protocol::ProtocolId;

/// Why the scanner refused an input: the first illegal byte and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: usize,
    pub why: &'static str,
}

type Scanned<T> = Result<T, Refusal>;

/// The canonical form of `data`, a whole message (`message`) or a bare struct in
/// `protocol`, nested at most `max_depth` deep; a refusal when it is not legal.
pub fn canonical(
    protocol: ProtocolId,
    data: &[u8],
    message: bool,
    max_depth: usize,
) -> Scanned<Vec<u8>> {
    let mut scan = Scan {
        data,
        pos: 0,
        out: Vec::with_capacity(data.len() + 8),
        depth: 0,
        max_depth,
    };
    match (protocol, message) {
        (ProtocolId::Binary, true) => scan.binary_message()?,
        (ProtocolId::Binary, false) => scan.binary_value(BIN_STRUCT)?,
        (ProtocolId::Compact, true) => scan.compact_message()?,
        (ProtocolId::Compact, false) => scan.compact_value(CT_STRUCT)?,
    }
    if scan.pos != data.len() {
        return Err(scan.refuse("bytes after the end"));
    }
    Ok(scan.out)
}

// Binary type ids.
const BIN_BOOL: u8 = 2;
const BIN_BYTE: u8 = 3;
const BIN_DOUBLE: u8 = 4;
const BIN_I16: u8 = 6;
const BIN_I32: u8 = 8;
const BIN_I64: u8 = 10;
const BIN_BINARY: u8 = 11;
const BIN_STRUCT: u8 = 12;
const BIN_MAP: u8 = 13;
const BIN_SET: u8 = 14;
const BIN_LIST: u8 = 15;
const BIN_UUID: u8 = 16;

// Compact type ids (1 and 2 are bool: true and false in a field header).
const CT_TRUE: u8 = 1;
const CT_FALSE: u8 = 2;
const CT_BYTE: u8 = 3;
const CT_I16: u8 = 4;
const CT_I32: u8 = 5;
const CT_I64: u8 = 6;
const CT_DOUBLE: u8 = 7;
const CT_BINARY: u8 = 8;
const CT_LIST: u8 = 9;
const CT_SET: u8 = 10;
const CT_MAP: u8 = 11;
const CT_STRUCT: u8 = 12;
const CT_UUID: u8 = 13;

struct Scan<'a> {
    data: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    depth: usize,
    max_depth: usize,
}

impl Scan<'_> {
    fn refuse(&self, why: &'static str) -> Refusal {
        Refusal { at: self.pos, why }
    }

    fn take(&mut self, n: usize) -> Scanned<&[u8]> {
        if self.data.len() - self.pos < n {
            return Err(self.refuse("input ends early"));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.data[start..start + n])
    }

    fn byte(&mut self) -> Scanned<u8> {
        Ok(self.take(1)?[0])
    }

    /// Copies the next `n` bytes to the output unchanged.
    fn copy(&mut self, n: usize) -> Scanned<()> {
        let start = self.pos;
        self.take(n)?;
        self.out.extend_from_slice(&self.data[start..start + n]);
        Ok(())
    }

    fn enter(&mut self) -> Scanned<()> {
        if self.depth >= self.max_depth {
            return Err(self.refuse("nesting deeper than max_depth"));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A non-negative length or count written as `raw`.
    fn count(&self, raw: i64) -> Scanned<usize> {
        usize::try_from(raw).map_err(|_| self.refuse("negative length or count"))
    }

    // ---- Binary ----

    fn be_i32(&mut self) -> Scanned<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn binary_message(&mut self) -> Scanned<()> {
        let first = self.be_i32()? as u32;
        let (kind, name) = if first & 0x8000_0000 != 0 {
            if first >> 16 != 0x8001 {
                return Err(self.refuse("unknown Binary version"));
            }
            let len = self.be_i32()?;
            let len = self.count(len.into())?;
            (first as u8, self.take(len)?.to_vec())
        } else {
            let name = self.take(first as usize)?.to_vec();
            (self.byte()?, name)
        };
        if !(1..=4).contains(&kind) {
            return Err(self.refuse("unknown message type"));
        }
        if std::str::from_utf8(&name).is_err() {
            return Err(self.refuse("message name not UTF-8"));
        }
        self.out.extend_from_slice(&[0x80, 0x01, 0x00, kind]);
        self.out
            .extend_from_slice(&(name.len() as i32).to_be_bytes());
        self.out.extend_from_slice(&name);
        self.copy(4)?; // sequence id
        self.binary_value(BIN_STRUCT)
    }

    fn binary_type(&mut self) -> Scanned<u8> {
        let t = self.byte()?;
        match t {
            BIN_BOOL | BIN_BYTE | BIN_DOUBLE | BIN_I16 | BIN_I32 | BIN_I64 | BIN_BINARY
            | BIN_STRUCT | BIN_MAP | BIN_SET | BIN_LIST | BIN_UUID => {
                self.out.push(t);
                Ok(t)
            }
            _ => Err(self.refuse("unknown Binary type id")),
        }
    }

    fn binary_value(&mut self, t: u8) -> Scanned<()> {
        match t {
            BIN_BOOL => {
                let b = self.byte()?;
                self.out.push(u8::from(b != 0));
            }
            BIN_BYTE => self.copy(1)?,
            BIN_I16 => self.copy(2)?,
            BIN_I32 => self.copy(4)?,
            BIN_DOUBLE | BIN_I64 => self.copy(8)?,
            BIN_UUID => self.copy(16)?,
            BIN_BINARY => {
                let len = self.be_i32()?;
                self.out.extend_from_slice(&len.to_be_bytes());
                let len = self.count(len.into())?;
                self.copy(len)?;
            }
            BIN_STRUCT => {
                self.enter()?;
                loop {
                    if self.data.get(self.pos) == Some(&0) {
                        self.pos += 1;
                        self.out.push(0);
                        break;
                    }
                    let ft = self.binary_type()?;
                    self.copy(2)?; // field id: any i16
                    self.binary_value(ft)?;
                }
                self.leave();
            }
            BIN_LIST | BIN_SET => {
                self.enter()?;
                let elem = self.binary_type()?;
                let n = self.binary_count()?;
                for _ in 0..n {
                    self.binary_value(elem)?;
                }
                self.leave();
            }
            BIN_MAP => {
                self.enter()?;
                let key = self.binary_type()?;
                let value = self.binary_type()?;
                let n = self.binary_count()?;
                for _ in 0..n {
                    self.binary_value(key)?;
                    self.binary_value(value)?;
                }
                self.leave();
            }
            _ => return Err(self.refuse("unknown Binary type id")),
        }
        Ok(())
    }

    fn binary_count(&mut self) -> Scanned<usize> {
        let n = self.be_i32()?;
        let n = self.count(n.into())?;
        self.out.extend_from_slice(&(n as i32).to_be_bytes());
        Ok(n)
    }

    // ---- Compact ----

    /// An unsigned varint of at most `max_len` bytes whose value fits `bits` bits
    /// (computed in 128 bits, independently of the reader's masks).
    fn varint(&mut self, max_len: usize, bits: u32) -> Scanned<u64> {
        let mut value: u128 = 0;
        for i in 0..max_len {
            let b = self.byte()?;
            value |= u128::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return if value >> bits == 0 {
                    Ok(value as u64)
                } else {
                    Err(self.refuse("varint with bits beyond its width"))
                };
            }
        }
        Err(self.refuse("varint longer than its width allows"))
    }

    fn varint32(&mut self) -> Scanned<u32> {
        self.varint(5, 32).map(|v| v as u32)
    }

    fn put_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    /// A zigzag i32 read from a 32-bit varint.
    fn zigzag32(&mut self) -> Scanned<i32> {
        let u = self.varint32()?;
        Ok((u >> 1) as i32 ^ -((u & 1) as i32))
    }

    fn put_zigzag(&mut self, v: i64) {
        self.put_varint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A varint length or count, as the writers write it (an i32 on the wire).
    fn compact_len(&mut self) -> Scanned<usize> {
        let raw = self.varint32()? as i32;
        let n = self.count(raw.into())?;
        self.put_varint(n as u64);
        Ok(n)
    }

    fn compact_message(&mut self) -> Scanned<()> {
        if self.byte()? != 0x82 {
            return Err(self.refuse("not a Compact message"));
        }
        let version_and_type = self.byte()?;
        if version_and_type & 0x1F != 1 || !(1..=4).contains(&(version_and_type >> 5)) {
            return Err(self.refuse("unknown Compact version or message type"));
        }
        self.out.extend_from_slice(&[0x82, version_and_type]);
        let seq = self.varint32()?;
        self.put_varint(seq.into());
        let len = self.compact_len()?;
        let start = self.pos;
        self.copy(len)?;
        if std::str::from_utf8(&self.data[start..self.pos]).is_err() {
            return Err(self.refuse("message name not UTF-8"));
        }
        self.compact_value(CT_STRUCT)
    }

    /// An element type of a list, set or map header; bool comes back as `CT_TRUE`.
    fn compact_elem(&self, t: u8) -> Scanned<u8> {
        match t {
            CT_TRUE | CT_FALSE => Ok(CT_TRUE),
            CT_BYTE..=CT_UUID => Ok(t),
            _ => Err(self.refuse("unknown Compact type id")),
        }
    }

    fn compact_value(&mut self, t: u8) -> Scanned<()> {
        match t {
            CT_TRUE | CT_FALSE => match self.byte()? {
                1 => self.out.push(CT_TRUE),
                0 | 2 => self.out.push(CT_FALSE),
                _ => return Err(self.refuse("bool byte not 0, 1 or 2")),
            },
            CT_BYTE => self.copy(1)?,
            CT_I16 => {
                let v = self.zigzag32()?;
                if i16::try_from(v).is_err() {
                    return Err(self.refuse("i16 out of range"));
                }
                self.put_zigzag(v.into());
            }
            CT_I32 => {
                let v = self.zigzag32()?;
                self.put_zigzag(v.into());
            }
            CT_I64 => {
                let u = self.varint(10, 64)?;
                self.put_varint(u);
            }
            CT_DOUBLE => self.copy(8)?,
            CT_UUID => self.copy(16)?,
            CT_BINARY => {
                let len = self.compact_len()?;
                self.copy(len)?;
            }
            CT_STRUCT => self.compact_struct()?,
            CT_LIST | CT_SET => {
                self.enter()?;
                let header = self.byte()?;
                let elem = self.compact_elem(header & 0x0F)?;
                let n = match header >> 4 {
                    15 => {
                        let raw = self.varint32()? as i32;
                        self.count(raw.into())?
                    }
                    short => usize::from(short),
                };
                if n < 15 {
                    self.out.push(((n as u8) << 4) | elem);
                } else {
                    self.out.push(0xF0 | elem);
                    self.put_varint(n as u64);
                }
                for _ in 0..n {
                    self.compact_value(elem)?;
                }
                self.leave();
            }
            CT_MAP => {
                self.enter()?;
                let n = self.compact_len()?;
                if n > 0 {
                    let types = self.byte()?;
                    let key = self.compact_elem(types >> 4)?;
                    let value = self.compact_elem(types & 0x0F)?;
                    self.out.push((key << 4) | value);
                    for _ in 0..n {
                        self.compact_value(key)?;
                        self.compact_value(value)?;
                    }
                }
                self.leave();
            }
            _ => return Err(self.refuse("unknown Compact type id")),
        }
        Ok(())
    }

    fn compact_struct(&mut self) -> Scanned<()> {
        self.enter()?;
        let mut last: i16 = 0;
        loop {
            let header = self.byte()?;
            let t = header & 0x0F;
            if t == 0 {
                self.out.push(0);
                break;
            }
            if t > CT_UUID {
                return Err(self.refuse("unknown Compact type id"));
            }
            let id = match header >> 4 {
                0 => i16::try_from(self.zigzag32()?)
                    .map_err(|_| self.refuse("field id out of i16"))?,
                delta => last
                    .checked_add(delta.into())
                    .ok_or_else(|| self.refuse("field id out of i16"))?,
            };
            match i32::from(id) - i32::from(last) {
                delta @ 1..=15 => self.out.push(((delta as u8) << 4) | t),
                _ => {
                    self.out.push(t);
                    self.put_zigzag(id.into());
                }
            }
            last = id;
            // A bool field's value is its header's type id.
            if t != CT_TRUE && t != CT_FALSE {
                self.compact_value(t)?;
            }
        }
        self.leave();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(data: &[u8]) -> Scanned<Vec<u8>> {
        canonical(ProtocolId::Compact, data, false, 8)
    }

    #[test]
    fn legal_compact_forms_are_normalised() {
        // Long-form field id 1 (i32 field, value 0 padded to two bytes), stop with a nibble.
        assert_eq!(
            compact(&[0x05, 0x02, 0x80, 0x00, 0x10]),
            Ok(vec![0x15, 0x00, 0x00])
        );
        // A long-form list of 2 bools typed 2, elements 0 and 1.
        assert_eq!(
            compact(&[0x19, 0xF2, 0x02, 0x00, 0x01, 0x00]),
            Ok(vec![0x19, 0x21, 0x02, 0x01, 0x00])
        );
    }

    #[test]
    fn illegal_compact_forms_are_refused() {
        // An i32 field whose 5-byte varint carries bits beyond 32.
        let over = compact(&[0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00]).unwrap_err();
        assert_eq!(over.why, "varint with bits beyond its width");
        let long = compact(&[0x15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00]).unwrap_err();
        assert_eq!(long.why, "varint longer than its width allows");
        // An i16 field of 40000.
        let i16 = compact(&[0x14, 0x80, 0xF1, 0x04, 0x00]).unwrap_err();
        assert_eq!(i16.why, "i16 out of range");
        // Nine nested lists with max_depth 8 (the struct is a level too).
        let mut deep = vec![0x19];
        deep.extend([0x19; 8]);
        assert_eq!(
            compact(&deep).unwrap_err().why,
            "nesting deeper than max_depth"
        );
    }

    #[test]
    fn binary_old_header_and_bools_are_normalised() {
        let data = [0, 0, 0, 1, b'm', 1, 0, 0, 0, 7, BIN_BOOL, 0, 1, 5, 0];
        let want = [
            0x80, 1, 0, 1, 0, 0, 0, 1, b'm', 0, 0, 0, 7, BIN_BOOL, 0, 1, 1, 0,
        ];
        assert_eq!(
            canonical(ProtocolId::Binary, &data, true, 8),
            Ok(want.to_vec())
        );
        let negative = [BIN_LIST, 0, 1, BIN_BYTE, 0xFF, 0xFF, 0xFF, 0xFF, 0];
        assert_eq!(
            canonical(ProtocolId::Binary, &negative, false, 8)
                .unwrap_err()
                .why,
            "negative length or count"
        );
    }
}
