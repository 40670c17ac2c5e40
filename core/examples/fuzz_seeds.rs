//! Writes the fuzz seed corpus: `fuzz/seeds/<target>/` for every target, from
//! `faultline_core::fuzzing::seeds` (faultline's encoder, the Apache crate's encoder and
//! the Python interop vectors). Run from anywhere:
//!
//! ```text
//! cargo run -p faultline-core --features fuzzing --example fuzz_seeds
//! ```

use std::path::Path;

use faultline_core::fuzzing::seeds;

fn main() -> std::io::Result<()> {
    let core = Path::new(env!("CARGO_MANIFEST_DIR"));
    let all = seeds::seeds(&core.join("tests/interop/vectors"))?;
    let out = core.join("../fuzz/seeds");
    seeds::write(&out, &all)?;
    println!("wrote {} seeds to {}", all.len(), out.display());
    Ok(())
}
