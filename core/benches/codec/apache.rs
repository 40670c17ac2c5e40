//! The benchmark messages for the Apache `thrift` crate, written as its code generator
//! (`thrift --gen rs`, compiler/cpp/src/thrift/generate/t_rs_generator.cc) emits them for
//! all-`required` fields: `String` strings, `Vec<u8>` binary, `OrderedFloat<f64>` doubles,
//! `BTreeMap` maps, and `TSerializable` impls over `&mut dyn TInputProtocol` /
//! `&mut dyn TOutputProtocol`. Only the `new` constructors and `Default` impls the
//! generator also emits are left out.

use std::collections::BTreeMap;

use thrift::protocol::{
    field_id, verify_required_field_exists, TFieldIdentifier, TInputProtocol, TListIdentifier,
    TMapIdentifier, TOutputProtocol, TSerializable, TStructIdentifier, TType,
};
use thrift::OrderedFloat;

use super::data;

#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Small {
    pub id: i32,
    pub timestamp: i64,
    pub flag: bool,
    pub score: OrderedFloat<f64>,
    pub name: String,
}

impl TSerializable for Small {
    fn read_from_in_protocol(i_prot: &mut dyn TInputProtocol) -> thrift::Result<Small> {
        i_prot.read_struct_begin()?;
        let mut f_1: Option<i32> = None;
        let mut f_2: Option<i64> = None;
        let mut f_3: Option<bool> = None;
        let mut f_4: Option<OrderedFloat<f64>> = None;
        let mut f_5: Option<String> = None;
        loop {
            let field_ident = i_prot.read_field_begin()?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            let field_id = field_id(&field_ident)?;
            match field_id {
                1 => {
                    let val = i_prot.read_i32()?;
                    f_1 = Some(val);
                }
                2 => {
                    let val = i_prot.read_i64()?;
                    f_2 = Some(val);
                }
                3 => {
                    let val = i_prot.read_bool()?;
                    f_3 = Some(val);
                }
                4 => {
                    let val = OrderedFloat::from(i_prot.read_double()?);
                    f_4 = Some(val);
                }
                5 => {
                    let val = i_prot.read_string()?;
                    f_5 = Some(val);
                }
                _ => {
                    i_prot.skip(field_ident.field_type)?;
                }
            };
            i_prot.read_field_end()?;
        }
        i_prot.read_struct_end()?;
        verify_required_field_exists("Small.id", &f_1)?;
        verify_required_field_exists("Small.timestamp", &f_2)?;
        verify_required_field_exists("Small.flag", &f_3)?;
        verify_required_field_exists("Small.score", &f_4)?;
        verify_required_field_exists("Small.name", &f_5)?;
        let ret = Small {
            id: f_1
                .expect("auto-generated code should have checked for presence of required fields"),
            timestamp: f_2
                .expect("auto-generated code should have checked for presence of required fields"),
            flag: f_3
                .expect("auto-generated code should have checked for presence of required fields"),
            score: f_4
                .expect("auto-generated code should have checked for presence of required fields"),
            name: f_5
                .expect("auto-generated code should have checked for presence of required fields"),
        };
        Ok(ret)
    }

    fn write_to_out_protocol(&self, o_prot: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        let struct_ident = TStructIdentifier::new("Small");
        o_prot.write_struct_begin(&struct_ident)?;
        o_prot.write_field_begin(&TFieldIdentifier::new("id", TType::I32, 1))?;
        o_prot.write_i32(self.id)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("timestamp", TType::I64, 2))?;
        o_prot.write_i64(self.timestamp)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("flag", TType::Bool, 3))?;
        o_prot.write_bool(self.flag)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("score", TType::Double, 4))?;
        o_prot.write_double(self.score.into())?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("name", TType::String, 5))?;
        o_prot.write_string(&self.name)?;
        o_prot.write_field_end()?;
        o_prot.write_field_stop()?;
        o_prot.write_struct_end()
    }
}

#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Header {
    pub trace_id: i64,
    pub service: String,
    pub shard: i32,
}

impl TSerializable for Header {
    fn read_from_in_protocol(i_prot: &mut dyn TInputProtocol) -> thrift::Result<Header> {
        i_prot.read_struct_begin()?;
        let mut f_1: Option<i64> = None;
        let mut f_2: Option<String> = None;
        let mut f_3: Option<i32> = None;
        loop {
            let field_ident = i_prot.read_field_begin()?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            let field_id = field_id(&field_ident)?;
            match field_id {
                1 => {
                    let val = i_prot.read_i64()?;
                    f_1 = Some(val);
                }
                2 => {
                    let val = i_prot.read_string()?;
                    f_2 = Some(val);
                }
                3 => {
                    let val = i_prot.read_i32()?;
                    f_3 = Some(val);
                }
                _ => {
                    i_prot.skip(field_ident.field_type)?;
                }
            };
            i_prot.read_field_end()?;
        }
        i_prot.read_struct_end()?;
        verify_required_field_exists("Header.trace_id", &f_1)?;
        verify_required_field_exists("Header.service", &f_2)?;
        verify_required_field_exists("Header.shard", &f_3)?;
        let ret = Header {
            trace_id: f_1
                .expect("auto-generated code should have checked for presence of required fields"),
            service: f_2
                .expect("auto-generated code should have checked for presence of required fields"),
            shard: f_3
                .expect("auto-generated code should have checked for presence of required fields"),
        };
        Ok(ret)
    }

    fn write_to_out_protocol(&self, o_prot: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        let struct_ident = TStructIdentifier::new("Header");
        o_prot.write_struct_begin(&struct_ident)?;
        o_prot.write_field_begin(&TFieldIdentifier::new("trace_id", TType::I64, 1))?;
        o_prot.write_i64(self.trace_id)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("service", TType::String, 2))?;
        o_prot.write_string(&self.service)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("shard", TType::I32, 3))?;
        o_prot.write_i32(self.shard)?;
        o_prot.write_field_end()?;
        o_prot.write_field_stop()?;
        o_prot.write_struct_end()
    }
}

#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Item {
    pub id: i32,
    pub value: i64,
    pub active: bool,
    pub label: String,
}

impl TSerializable for Item {
    fn read_from_in_protocol(i_prot: &mut dyn TInputProtocol) -> thrift::Result<Item> {
        i_prot.read_struct_begin()?;
        let mut f_1: Option<i32> = None;
        let mut f_2: Option<i64> = None;
        let mut f_3: Option<bool> = None;
        let mut f_4: Option<String> = None;
        loop {
            let field_ident = i_prot.read_field_begin()?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            let field_id = field_id(&field_ident)?;
            match field_id {
                1 => {
                    let val = i_prot.read_i32()?;
                    f_1 = Some(val);
                }
                2 => {
                    let val = i_prot.read_i64()?;
                    f_2 = Some(val);
                }
                3 => {
                    let val = i_prot.read_bool()?;
                    f_3 = Some(val);
                }
                4 => {
                    let val = i_prot.read_string()?;
                    f_4 = Some(val);
                }
                _ => {
                    i_prot.skip(field_ident.field_type)?;
                }
            };
            i_prot.read_field_end()?;
        }
        i_prot.read_struct_end()?;
        verify_required_field_exists("Item.id", &f_1)?;
        verify_required_field_exists("Item.value", &f_2)?;
        verify_required_field_exists("Item.active", &f_3)?;
        verify_required_field_exists("Item.label", &f_4)?;
        let ret = Item {
            id: f_1
                .expect("auto-generated code should have checked for presence of required fields"),
            value: f_2
                .expect("auto-generated code should have checked for presence of required fields"),
            active: f_3
                .expect("auto-generated code should have checked for presence of required fields"),
            label: f_4
                .expect("auto-generated code should have checked for presence of required fields"),
        };
        Ok(ret)
    }

    fn write_to_out_protocol(&self, o_prot: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        let struct_ident = TStructIdentifier::new("Item");
        o_prot.write_struct_begin(&struct_ident)?;
        o_prot.write_field_begin(&TFieldIdentifier::new("id", TType::I32, 1))?;
        o_prot.write_i32(self.id)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("value", TType::I64, 2))?;
        o_prot.write_i64(self.value)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("active", TType::Bool, 3))?;
        o_prot.write_bool(self.active)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("label", TType::String, 4))?;
        o_prot.write_string(&self.label)?;
        o_prot.write_field_end()?;
        o_prot.write_field_stop()?;
        o_prot.write_struct_end()
    }
}

#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Medium {
    pub header: Header,
    pub items: Vec<Item>,
    pub counters: BTreeMap<String, i64>,
}

impl TSerializable for Medium {
    fn read_from_in_protocol(i_prot: &mut dyn TInputProtocol) -> thrift::Result<Medium> {
        i_prot.read_struct_begin()?;
        let mut f_1: Option<Header> = None;
        let mut f_2: Option<Vec<Item>> = None;
        let mut f_3: Option<BTreeMap<String, i64>> = None;
        loop {
            let field_ident = i_prot.read_field_begin()?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            let field_id = field_id(&field_ident)?;
            match field_id {
                1 => {
                    let val = Header::read_from_in_protocol(i_prot)?;
                    f_1 = Some(val);
                }
                2 => {
                    let list_ident = i_prot.read_list_begin()?;
                    let mut val: Vec<Item> = Vec::with_capacity(list_ident.size as usize);
                    for _ in 0..list_ident.size {
                        let list_elem_0 = Item::read_from_in_protocol(i_prot)?;
                        val.push(list_elem_0);
                    }
                    i_prot.read_list_end()?;
                    f_2 = Some(val);
                }
                3 => {
                    let map_ident = i_prot.read_map_begin()?;
                    let mut val: BTreeMap<String, i64> = BTreeMap::new();
                    for _ in 0..map_ident.size {
                        let map_key_1 = i_prot.read_string()?;
                        let map_val_2 = i_prot.read_i64()?;
                        val.insert(map_key_1, map_val_2);
                    }
                    i_prot.read_map_end()?;
                    f_3 = Some(val);
                }
                _ => {
                    i_prot.skip(field_ident.field_type)?;
                }
            };
            i_prot.read_field_end()?;
        }
        i_prot.read_struct_end()?;
        verify_required_field_exists("Medium.header", &f_1)?;
        verify_required_field_exists("Medium.items", &f_2)?;
        verify_required_field_exists("Medium.counters", &f_3)?;
        let ret = Medium {
            header: f_1
                .expect("auto-generated code should have checked for presence of required fields"),
            items: f_2
                .expect("auto-generated code should have checked for presence of required fields"),
            counters: f_3
                .expect("auto-generated code should have checked for presence of required fields"),
        };
        Ok(ret)
    }

    fn write_to_out_protocol(&self, o_prot: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        let struct_ident = TStructIdentifier::new("Medium");
        o_prot.write_struct_begin(&struct_ident)?;
        o_prot.write_field_begin(&TFieldIdentifier::new("header", TType::Struct, 1))?;
        self.header.write_to_out_protocol(o_prot)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("items", TType::List, 2))?;
        o_prot.write_list_begin(&TListIdentifier::new(
            TType::Struct,
            self.items.len() as i32,
        ))?;
        for e in &self.items {
            e.write_to_out_protocol(o_prot)?;
        }
        o_prot.write_list_end()?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("counters", TType::Map, 3))?;
        o_prot.write_map_begin(&TMapIdentifier::new(
            TType::String,
            TType::I64,
            self.counters.len() as i32,
        ))?;
        for (k, v) in &self.counters {
            o_prot.write_string(k)?;
            o_prot.write_i64(*v)?;
        }
        o_prot.write_map_end()?;
        o_prot.write_field_end()?;
        o_prot.write_field_stop()?;
        o_prot.write_struct_end()
    }
}

#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Large {
    pub payload: Vec<u8>,
    pub values: Vec<i64>,
}

impl TSerializable for Large {
    fn read_from_in_protocol(i_prot: &mut dyn TInputProtocol) -> thrift::Result<Large> {
        i_prot.read_struct_begin()?;
        let mut f_1: Option<Vec<u8>> = None;
        let mut f_2: Option<Vec<i64>> = None;
        loop {
            let field_ident = i_prot.read_field_begin()?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            let field_id = field_id(&field_ident)?;
            match field_id {
                1 => {
                    let val = i_prot.read_bytes()?;
                    f_1 = Some(val);
                }
                2 => {
                    let list_ident = i_prot.read_list_begin()?;
                    let mut val: Vec<i64> = Vec::with_capacity(list_ident.size as usize);
                    for _ in 0..list_ident.size {
                        let list_elem_3 = i_prot.read_i64()?;
                        val.push(list_elem_3);
                    }
                    i_prot.read_list_end()?;
                    f_2 = Some(val);
                }
                _ => {
                    i_prot.skip(field_ident.field_type)?;
                }
            };
            i_prot.read_field_end()?;
        }
        i_prot.read_struct_end()?;
        verify_required_field_exists("Large.payload", &f_1)?;
        verify_required_field_exists("Large.values", &f_2)?;
        let ret = Large {
            payload: f_1
                .expect("auto-generated code should have checked for presence of required fields"),
            values: f_2
                .expect("auto-generated code should have checked for presence of required fields"),
        };
        Ok(ret)
    }

    fn write_to_out_protocol(&self, o_prot: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        let struct_ident = TStructIdentifier::new("Large");
        o_prot.write_struct_begin(&struct_ident)?;
        o_prot.write_field_begin(&TFieldIdentifier::new("payload", TType::String, 1))?;
        o_prot.write_bytes(&self.payload)?;
        o_prot.write_field_end()?;
        o_prot.write_field_begin(&TFieldIdentifier::new("values", TType::List, 2))?;
        o_prot.write_list_begin(&TListIdentifier::new(TType::I64, self.values.len() as i32))?;
        for e in &self.values {
            o_prot.write_i64(*e)?;
        }
        o_prot.write_list_end()?;
        o_prot.write_field_end()?;
        o_prot.write_field_stop()?;
        o_prot.write_struct_end()
    }
}

// Conversions from the shared data set (setup only, never measured).

impl From<&data::Small> for Small {
    fn from(s: &data::Small) -> Self {
        Small {
            id: s.id,
            timestamp: s.timestamp,
            flag: s.flag,
            score: OrderedFloat(s.score),
            name: s.name.clone(),
        }
    }
}

impl From<&data::Medium> for Medium {
    fn from(m: &data::Medium) -> Self {
        Medium {
            header: Header {
                trace_id: m.header.trace_id,
                service: m.header.service.clone(),
                shard: m.header.shard,
            },
            items: m
                .items
                .iter()
                .map(|i| Item {
                    id: i.id,
                    value: i.value,
                    active: i.active,
                    label: i.label.clone(),
                })
                .collect(),
            counters: m.counters.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }
}

impl From<&data::Large> for Large {
    fn from(l: &data::Large) -> Self {
        Large {
            payload: l.payload.to_vec(),
            values: l.values.clone(),
        }
    }
}

// And back, to check what each decoder produced against the source data.

impl Small {
    pub fn to_data(&self) -> data::Small {
        data::Small {
            id: self.id,
            timestamp: self.timestamp,
            flag: self.flag,
            score: self.score.into_inner(),
            name: self.name.clone(),
        }
    }
}

impl Medium {
    pub fn to_data(&self) -> data::Medium {
        data::Medium {
            header: data::Header {
                trace_id: self.header.trace_id,
                service: self.header.service.clone(),
                shard: self.header.shard,
            },
            items: self
                .items
                .iter()
                .map(|i| data::Item {
                    id: i.id,
                    value: i.value,
                    active: i.active,
                    label: i.label.clone(),
                })
                .collect(),
            counters: self.counters.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }
}

impl Large {
    pub fn to_data(&self) -> data::Large {
        data::Large {
            payload: self.payload.clone().into(),
            values: self.values.clone(),
        }
    }
}
