//! Abort conditions, watched second by second while the run goes.
//!
//! A condition is judged on each whole second once the next second has also passed (so
//! that calls due in it have mostly ended: a call can end up to its timeout later); it
//! aborts the run when it has held for `for` (at least one second) in a row.

use std::time::Duration;

use super::observe::observe;
use crate::probe::Timeline;
use crate::spec::experiment::{AbortCondition, Clause};

/// Watches a run's abort conditions.
#[derive(Debug, Clone)]
pub struct AbortMonitor {
    conditions: Vec<(Clause, Duration, u64)>,
}

impl AbortMonitor {
    pub fn new(conditions: &[AbortCondition]) -> Self {
        let conditions = conditions
            .iter()
            .map(|c| {
                let clause = Clause {
                    metric: c.metric,
                    zone: c.zone.clone(),
                    fault: None,
                    below: c.below.clone(),
                    above: c.above.clone(),
                    within: None,
                    scope: None,
                };
                (clause, c.for_.max(Duration::from_secs(1)), 0)
            })
            .collect();
        Self { conditions }
    }

    /// Judges second `ended - 1` (the one before the second that just ended); `Some` is
    /// why the run must stop.
    pub fn check(&mut self, ended: u64, timeline: &Timeline) -> Option<String> {
        let second = ended.checked_sub(1)?;
        let from = Duration::from_secs(second);
        let to = from + Duration::from_secs(1);
        for (clause, hold_for, held) in &mut self.conditions {
            // An abort condition's bounds say when to stop: "above 20%" holds when the
            // metric is above 20%, which is the clause "above 20%" passing.
            let holds = observe(clause, timeline, from, to, None)
                .map(|observed| (observed.passes(clause), observed))
                .ok();
            match holds {
                Some((true, observed)) => {
                    *held += 1;
                    if Duration::from_secs(*held) >= *hold_for {
                        return Some(format!(
                            "abort: {} for {}s (last {observed} at {}s)",
                            clause.describe(),
                            held,
                            second
                        ));
                    }
                }
                _ => *held = 0,
            }
        }
        None
    }
}
