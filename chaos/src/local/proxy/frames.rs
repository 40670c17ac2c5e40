//! Frame boundaries in one direction's byte stream, with core's bounded frame reading
//! (`frame::frame_len` under `DecodeLimits`).
//!
//! Bytes pass as they come (cut-through) while no method fault could act on them: once a
//! frame's length is known, the rest of that frame is passed without buffering. When
//! frames must be seen whole (`hold`), each is buffered until complete and handed over as
//! one piece. Bytes that are not a frame faultline reads (garbage, a corrupted length) turn
//! the direction opaque: from then on everything passes as it is, and method faults no
//! longer act on that connection — the server decides what to make of the bytes.

use bytes::{Bytes, BytesMut};
use faultline_core::frame::frame_len;
use faultline_core::protocol::DecodeLimits;

/// A piece of the stream, in order.
#[derive(Debug, PartialEq)]
pub(super) enum Piece {
    /// Bytes to pass as they are (a whole frame, part of one, or opaque bytes).
    Pass(Bytes),
    /// One whole frame, read because frames are held.
    Frame(Bytes),
}

/// Where the next frame starts.
#[derive(Debug)]
pub(super) struct Tracker {
    limits: DecodeLimits,
    /// The start of a frame whose length or end has not arrived yet.
    head: BytesMut,
    /// Bytes of the current frame still to pass without looking.
    passing: usize,
    opaque: bool,
}

impl Tracker {
    pub fn new(limits: DecodeLimits) -> Self {
        Self {
            limits,
            head: BytesMut::new(),
            passing: 0,
            opaque: false,
        }
    }

    /// Whether everything passed so far ends at a frame boundary, so that a whole frame
    /// may be queued next (always true once opaque: there are no boundaries to keep).
    pub fn at_boundary(&self) -> bool {
        self.passing == 0 || self.opaque
    }

    /// The bytes still buffered when the stream ended.
    pub fn finish(&mut self) -> Option<Bytes> {
        (!self.head.is_empty()).then(|| self.head.split().freeze())
    }

    /// Splits `data` into pieces, appended to `out`.
    pub fn push(&mut self, mut data: Bytes, hold: bool, out: &mut Vec<Piece>) {
        loop {
            if self.opaque {
                if let Some(head) = self.finish() {
                    out.push(Piece::Pass(head));
                }
                if !data.is_empty() {
                    out.push(Piece::Pass(data));
                }
                return;
            }
            if self.passing > 0 {
                if data.is_empty() {
                    return;
                }
                let n = self.passing.min(data.len());
                self.passing -= n;
                out.push(Piece::Pass(data.split_to(n)));
                continue;
            }
            if self.head.is_empty() {
                if data.is_empty() {
                    return;
                }
                match self.next(&data, hold) {
                    Next::Opaque => self.opaque = true,
                    Next::Whole(len) => out.push(whole(data.split_to(len), hold)),
                    Next::Cut(len) => {
                        self.passing = len - data.len();
                        out.push(Piece::Pass(data));
                        return;
                    }
                    Next::More => {
                        self.head.extend_from_slice(&data);
                        return;
                    }
                }
                continue;
            }
            self.head.extend_from_slice(&data);
            data = Bytes::new();
            match self.next(&self.head, hold) {
                Next::Opaque => self.opaque = true,
                Next::Whole(len) => out.push(whole(self.head.split_to(len).freeze(), hold)),
                Next::Cut(len) => {
                    self.passing = len - self.head.len();
                    out.push(Piece::Pass(self.head.split().freeze()));
                    return;
                }
                Next::More => return,
            }
        }
    }

    /// What to do with `buf`, which starts a frame.
    fn next(&self, buf: &[u8], hold: bool) -> Next {
        match frame_len(buf, None, None, &self.limits) {
            Err(_) => Next::Opaque,
            Ok(Some(len)) if buf.len() >= len => Next::Whole(len),
            Ok(Some(len)) if !hold => Next::Cut(len),
            Ok(_) => Next::More,
        }
    }
}

enum Next {
    Opaque,
    Whole(usize),
    /// A frame of this length, not all here, to pass as it comes.
    Cut(usize),
    More,
}

fn whole(frame: Bytes, hold: bool) -> Piece {
    match hold {
        true => Piece::Frame(frame),
        false => Piece::Pass(frame),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        frame
    }

    /// A framed strict-binary call to `m` with seq id 1 and an empty body.
    fn call() -> Vec<u8> {
        framed(&[
            0x80, 0x01, 0, 1, 0, 0, 0, 1, b'm', 0, 0, 0, 1, 0, /* stop */
        ])
    }

    #[test]
    fn held_frames_come_out_whole_across_reads() {
        let stream = [call(), call()].concat();
        let mut tracker = Tracker::new(DecodeLimits::default());
        let mut out = Vec::new();
        for byte in stream.chunks(3) {
            tracker.push(Bytes::copy_from_slice(byte), true, &mut out);
        }
        assert_eq!(
            out,
            vec![Piece::Frame(call().into()), Piece::Frame(call().into())]
        );
        assert_eq!(tracker.finish(), None);
    }

    #[test]
    fn unheld_frames_pass_as_they_come_and_keep_the_boundaries() {
        let mut tracker = Tracker::new(DecodeLimits::default());
        let mut out = Vec::new();
        let first = call();
        tracker.push(Bytes::copy_from_slice(&first[..6]), false, &mut out);
        assert!(!tracker.at_boundary());
        let rest = [&first[6..], &call()[..]].concat();
        tracker.push(rest.into(), true, &mut out);
        assert!(tracker.at_boundary());
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[2], Piece::Frame(call().into()));
    }

    #[test]
    fn garbage_turns_the_stream_opaque_and_passes() {
        let mut tracker = Tracker::new(DecodeLimits::default());
        let mut out = Vec::new();
        tracker.push(Bytes::from_static(b"\xff\xff\xff\xffGET /"), true, &mut out);
        tracker.push(call().into(), true, &mut out);
        assert!(out.iter().all(|p| matches!(p, Piece::Pass(_))), "{out:?}");
        let passed: usize = out
            .iter()
            .map(|p| match p {
                Piece::Pass(b) | Piece::Frame(b) => b.len(),
            })
            .sum();
        assert_eq!(passed, 9 + call().len());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::local::proxy::method::act;
    use crate::local::proxy::Side;
    use crate::spec::chaos_mesh::{HttpChaosTarget, MethodFault};

    /// Echo calls in each transport, to mix with garbage.
    fn calls() -> Vec<Vec<u8>> {
        use faultline_core::echo::{EchoArgs, METHOD};
        use faultline_core::frame::{encode_frame, Transport};
        use faultline_core::protocol::{Binary, Message, MessageHeader, MessageType};
        let message = Message {
            header: MessageHeader {
                name: METHOD,
                kind: MessageType::Call,
                seq_id: 3,
            },
            body: EchoArgs::new("proptest"),
        };
        [Transport::Framed, Transport::TTHeader, Transport::Buffered]
            .into_iter()
            .map(|t| {
                encode_frame::<Binary, _>(t, None, &message)
                    .unwrap()
                    .to_vec()
            })
            .collect()
    }

    proptest! {
        /// Frames and hostile bytes in any chunking: nothing panics, nothing is lost or
        /// made up, and the method faults read every whole frame without panicking either.
        #[test]
        fn any_bytes_pass_whole_and_in_order(
            parts in proptest::collection::vec(
                prop_oneof![
                    (0usize..3).prop_map(|i| calls()[i].clone()),
                    proptest::collection::vec(any::<u8>(), 0..24),
                ],
                0..8,
            ),
            cuts in proptest::collection::vec(1usize..40, 0..16),
            hold in any::<bool>(),
        ) {
            let stream = parts.concat();
            let limits = DecodeLimits::small();
            let mut tracker = Tracker::new(limits);
            let mut out = Vec::new();
            let mut rest = &stream[..];
            for cut in cuts.iter().chain(std::iter::once(&usize::MAX)) {
                let (chunk, after) = rest.split_at((*cut).min(rest.len()));
                tracker.push(Bytes::copy_from_slice(chunk), hold, &mut out);
                rest = after;
            }
            let abort = MethodFault {
                method: None,
                target: HttpChaosTarget::Request,
                delay: None,
                abort: true,
                replace: Some("x".into()),
            };
            let mut passed = Vec::new();
            for piece in out {
                match piece {
                    Piece::Pass(bytes) => passed.extend_from_slice(&bytes),
                    Piece::Frame(bytes) => {
                        let _ = act(&bytes, std::slice::from_ref(&abort), Side::Request, &limits);
                        passed.extend_from_slice(&bytes);
                    }
                }
            }
            if let Some(rest) = tracker.finish() {
                passed.extend_from_slice(&rest);
            }
            prop_assert_eq!(passed, stream);
        }
    }
}
