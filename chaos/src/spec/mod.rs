//! Specs of chaos experiments as files write them.

pub mod chaos_mesh;
