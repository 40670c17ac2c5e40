//! `skip`: steps over one value of a given type without building it, under the same depth
//! and length checks as every other decode (the reader enforces them).

use super::{DecodeResult, ErrorKind, ProtocolReader, TType};

/// Skips one value of `ttype`.
pub fn skip<'a, R: ProtocolReader<'a>>(reader: &mut R, ttype: TType) -> DecodeResult<()> {
    match ttype {
        TType::Bool => reader.read_bool().map(drop),
        TType::Byte => reader.read_byte().map(drop),
        TType::I16 => reader.read_i16().map(drop),
        TType::I32 => reader.read_i32().map(drop),
        TType::I64 => reader.read_i64().map(drop),
        TType::Double => reader.read_double().map(drop),
        TType::Binary => reader.read_binary().map(drop),
        TType::Uuid => reader.read_uuid().map(drop),
        TType::Struct => skip_struct(reader),
        TType::List => {
            let header = reader.read_list_begin()?;
            for _ in 0..header.len {
                skip(reader, header.elem)?;
            }
            reader.read_list_end()
        }
        TType::Set => {
            let header = reader.read_set_begin()?;
            for _ in 0..header.len {
                skip(reader, header.elem)?;
            }
            reader.read_set_end()
        }
        TType::Map => {
            let header = reader.read_map_begin()?;
            for _ in 0..header.len {
                skip(reader, header.key)?;
                skip(reader, header.value)?;
            }
            reader.read_map_end()
        }
        TType::Stop | TType::Void => {
            Err(reader.error(ErrorKind::InvalidType(ttype as u8), "a value type"))
        }
    }
}

fn skip_struct<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<()> {
    reader.read_struct_begin()?;
    loop {
        let field = reader.read_field_begin()?;
        if field.ttype == TType::Stop {
            break;
        }
        skip(reader, field.ttype)?;
        reader.read_field_end()?;
    }
    reader.read_struct_end()
}

/// Skips a whole message (envelope and body struct).
pub fn skip_message<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<()> {
    reader.read_message_begin()?;
    skip_struct(reader)?;
    reader.read_message_end()
}
