//! NetworkChaos `loss` on a TCP stream: nothing is dropped; a lost chunk (one read of the
//! sender's bytes, standing for a segment) reaches the reader when TCP would have repaired
//! it, and the bytes behind it wait for it (head-of-line blocking), as in the simulation
//! (`faultline-sim`'s `link.rs` and `net.rs`), with the repair model of
//! [`crate::faults::tcp_loss`]:
//! - lost as the last segment in flight, it waits for the tail-loss probe and, while the
//!   retransmissions are lost too, for doubling retransmission timeouts (`tail_repair`);
//! - a later chunk arriving reveals the gap: the wait is cut to `fast_repair` from then.
//!
//! Dropped connections: when every retransmission the model follows is lost too (the
//! doublings run out, probability `p^6`: about 1.6 % of lost chunks at 50 % loss, none
//! worth counting at 1 %), the connection is reset when the last one would have come, as a
//! sender that gives up on a peer does. Such a chunk is not cut short by later ones.

use std::time::Duration;

use faultline_core::rng::SplitMix64;

use crate::faults::tcp_loss::{fast_repair, tail_repair, unit};

/// What loss did to one chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Lost {
    /// Repaired `tail` after it was due, or `fast` after a later chunk arrives.
    Repaired { tail: Duration, fast: Duration },
    /// Never repaired: the connection resets after `after`.
    Doomed { after: Duration },
}

/// Whether a chunk is lost (probability `p`) on a path with round trip `rtt`.
pub(super) fn draw(p: f64, rtt: Duration, rng: &SplitMix64) -> Option<Lost> {
    if unit(rng) >= p {
        return None;
    }
    let tail = tail_repair(rtt, p, rng);
    // With every retransmission lost the model's waits all double: the longest repair.
    let worst = tail_repair(rtt, 1.0, &SplitMix64::new(0));
    Some(match tail >= worst {
        true => Lost::Doomed { after: tail },
        false => Lost::Repaired {
            tail,
            fast: fast_repair(rtt),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_are_repaired_unless_every_retransmission_is_lost() {
        let rng = SplitMix64::new(3);
        let rtt = Duration::from_millis(1);
        assert_eq!(draw(0.0, rtt, &rng), None);
        let Some(Lost::Doomed { after }) = draw(1.0, rtt, &rng) else {
            panic!("total loss repairs nothing")
        };
        assert!(after > Duration::from_secs(20), "{after:?}");
        let mut doomed = 0;
        for _ in 0..10_000 {
            match draw(0.1, rtt, &rng) {
                Some(Lost::Doomed { .. }) => doomed += 1,
                Some(Lost::Repaired { tail, fast }) => {
                    assert!(tail >= Duration::from_millis(201), "{tail:?}");
                    assert_eq!(fast, rtt);
                }
                None => {}
            }
        }
        assert_eq!(doomed, 0, "p^6 at 10 % is one in a million losses");
    }
}
