//! Loss made by the kernel instead of the fault proxies (`chaos run --loss kernel`):
//! nftables drops a random share of the packets on an instance's loopback port
//! (`numgen random`), so the real TCP stack loses segments and repairs them itself, with
//! its own timers. Needs root and the `nft` command.
//!
//! A run owns one table, `inet faultline_<pid>`, with one input chain; each fault's rules
//! carry the fault's name as their comment and are deleted by handle when the fault ends.
//! Requests are packets to the instance's port (the proxy's connection to it), replies
//! packets from it. Dropping the [`KernelLoss`] deletes the table; a table left by a run
//! that was SIGKILLed (its pid no longer alive) is deleted by the next run's start.

use std::process::Command;

/// Which packets of an instance's port a rule drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// To the instance (the requests).
    Requests,
    /// From the instance (the replies).
    Replies,
}

/// The run's nftables table.
#[derive(Debug)]
pub struct KernelLoss {
    table: String,
}

/// Runs `nft` with `args`; its stdout, or why it failed.
fn nft(args: &[&str]) -> Result<String, String> {
    let output = Command::new("nft")
        .args(args)
        .output()
        .map_err(|err| format!("cannot run nft: {err} (apt-get install nftables)"))?;
    match output.status.success() {
        true => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        false => Err(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

impl KernelLoss {
    /// Creates the run's table (after deleting tables of runs that are gone), or says
    /// why kernel loss cannot run here.
    pub fn new() -> Result<Self, String> {
        delete_leftovers();
        let table = format!("faultline_{}", std::process::id());
        nft(&["add", "table", "inet", &table])?;
        let chain = "{ type filter hook input priority 0; policy accept; }";
        if let Err(err) = nft(&["add", "chain", "inet", &table, "input", chain]) {
            let _ = nft(&["delete", "table", "inet", &table]);
            return Err(err);
        }
        Ok(Self { table })
    }

    /// Drops `per_mille` of the packets on `port`'s `side` until `remove(fault)`.
    pub fn add(&self, fault: &str, port: u16, side: Side, per_mille: u32) -> Result<(), String> {
        let field = match side {
            Side::Requests => "dport",
            Side::Replies => "sport",
        };
        if per_mille == 0 {
            return Ok(());
        }
        let (port, share) = (port.to_string(), per_mille.to_string());
        let comment = format!("\"{}\"", fault.replace('"', "'"));
        let mut rule = vec![
            "add",
            "rule",
            "inet",
            &self.table,
            "input",
            "tcp",
            field,
            &port,
        ];
        // numgen draws 0..=999: dropping every packet needs no draw.
        if per_mille < 1000 {
            rule.extend(["numgen", "random", "mod", "1000", "<", &share]);
        }
        rule.extend(["drop", "comment", &comment]);
        nft(&rule).map(|_| ())
    }

    /// Deletes `fault`'s rules.
    pub fn remove(&self, fault: &str) -> Result<(), String> {
        let listing = nft(&["-a", "list", "chain", "inet", &self.table, "input"])?;
        let comment = format!("comment \"{}\"", fault.replace('"', "'"));
        for line in listing.lines().filter(|line| line.contains(&comment)) {
            if let Some(handle) = line.rsplit("# handle ").next().filter(|h| *h != line) {
                let handle = handle.trim();
                nft(&[
                    "delete",
                    "rule",
                    "inet",
                    &self.table,
                    "input",
                    "handle",
                    handle,
                ])?;
            }
        }
        Ok(())
    }

    /// The table's name (for the report).
    pub fn table(&self) -> &str {
        &self.table
    }
}

impl Drop for KernelLoss {
    fn drop(&mut self) {
        let _ = nft(&["delete", "table", "inet", &self.table]);
    }
}

/// Deletes the tables of runs whose process is gone.
fn delete_leftovers() {
    let Ok(tables) = nft(&["list", "tables", "inet"]) else {
        return;
    };
    for line in tables.lines() {
        let Some(name) = line.trim().strip_prefix("table inet ") else {
            continue;
        };
        let gone = name
            .strip_prefix("faultline_")
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if gone {
            let _ = nft(&["delete", "table", "inet", name]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs root and nftables; prints a notice and passes elsewhere.
    #[test]
    fn rules_come_and_go_by_fault_and_the_table_with_the_run() {
        let loss = match KernelLoss::new() {
            Ok(loss) => loss,
            Err(why) => {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "kernel loss test skipped: {why}");
                return;
            }
        };
        let table = loss.table().to_owned();
        loss.add("lossy", 40123, Side::Requests, 12).unwrap();
        loss.add("lossy", 40123, Side::Replies, 12).unwrap();
        loss.add("other", 40124, Side::Requests, 1000).unwrap();
        let listing = nft(&["list", "chain", "inet", &table, "input"]).unwrap();
        assert!(listing.contains("tcp dport 40123"), "{listing}");
        assert!(listing.contains("tcp sport 40123"), "{listing}");
        loss.remove("lossy").unwrap();
        let listing = nft(&["list", "chain", "inet", &table, "input"]).unwrap();
        assert!(!listing.contains("40123"), "{listing}");
        assert!(listing.contains("tcp dport 40124"), "{listing}");
        drop(loss);
        let tables = nft(&["list", "tables", "inet"]).unwrap();
        assert!(!tables.contains(&table), "{tables}");
    }
}
