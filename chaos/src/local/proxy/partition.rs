//! NetworkChaos `partition`: a black hole that heals. Bytes in a partitioned direction are
//! read (up to the held bound, then TCP's back-pressure stops the sender) and held, not
//! forwarded: the connection hangs, and the client's deadline is what notices. When the
//! fault is removed they are delivered, as TCP's retransmissions deliver them once a
//! partition heals (the simulation holds turmoil's link the same way). A connection opened
//! during a partition is accepted, and nothing passes on it either; nor does the end of a
//! stream (a close waits behind the held bytes). A reset (an instance killed with bytes
//! unread) still passes at once: the proxy has no way to hold it.

use crate::faults::Effect;

/// Whether `effects` partition their direction.
pub(super) fn holds(effects: &[Effect]) -> bool {
    effects.contains(&Effect::Partition)
}
