//! Apache Thrift's Python library as a test peer: which interpreter runs it, and whether it
//! can run at all. A peer script answers `--check` by printing the `thrift` version it
//! imports; it must be 0.25.0. When it cannot run, tests skip with a notice, except under
//! `CI` (whose `.ci/run` installs the library), where that is a failure.
//!
//! The notice is written straight to the process's stderr, not with `eprintln!`: libtest
//! captures `print!`/`eprint!` output and shows it only for failing tests (or under
//! `--nocapture`), so a skipped, passing test would otherwise look like a test that ran.
//! A direct write to `std::io::stderr()` is not captured and shows in a normal
//! `cargo test` run.
//!
//! Shared by the root package's tests and faultline-core's (included with `#[path]`).

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The interpreter: `$PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// True when `script --check` reports thrift 0.25.0; otherwise writes a skip notice to the
/// real stderr (see the module doc) and returns false, or panics when `CI` is set.
pub fn available(script: &Path) -> bool {
    let why = match Command::new(python()).arg(script).arg("--check").output() {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert_eq!(
                version,
                "0.25.0",
                "{} needs thrift 0.25.0 (pip install thrift==0.25.0)",
                script.display()
            );
            return true;
        }
        Ok(out) => format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => format!("cannot run {}: {err}", python()),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} cannot run ({why}); install it with: pip install thrift==0.25.0",
        script.display()
    );
    let test = std::thread::current()
        .name()
        .unwrap_or("a Python interop test")
        .to_owned();
    // Nothing is left to do if stderr itself is gone.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: Apache Thrift for Python is not installed, pip install thrift==0.25.0 \
         (set CI=1 to make this a failure) [{}]",
        why.trim().lines().last().unwrap_or("")
    );
    false
}
