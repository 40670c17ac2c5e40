//! CloudWeGo's `pilota` (0.13) as an interop peer: the adapter between faultline's `Value`
//! tree and pilota's Binary and Compact protocols lives in `faultline_core::fuzzing::pilota`
//! (the fuzz targets' differential uses the same one). The interop tests read with
//! `Fix371::Restore`, which works around cloudwego/pilota#371, to compare everything else;
//! `Fix371::AsShipped` shows the bug. pilota does no bounds checks on lengths, so only
//! well-formed input is fed to its readers here.

pub use faultline_core::fuzzing::pilota::{decode, decode_message, encode, encode_message, Fix371};
