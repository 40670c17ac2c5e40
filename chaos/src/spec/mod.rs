//! The experiment language: reading experiment files into typed kinds. [`located`] parses
//! YAML into documents that remember where every value was written; [`de`] deserializes a
//! value and says which field failed and why; [`chaos_mesh`] holds Chaos Mesh's objects;
//! [`experiment`] the faultline `Experiment`; [`load`] reads a whole file of them.

pub mod chaos_mesh;
pub mod de;
pub mod experiment;
pub mod load;
pub mod located;
