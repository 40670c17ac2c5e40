//! One direction of a proxied connection: reads chunks from one socket, splits them at
//! frame boundaries where method faults need whole frames ([`frames`](super::frames),
//! [`method`](super::method)), passes them through the link's network faults
//! ([`link`](super::link)) and writes them to the other socket when due, in order.
//!
//! Memory: the bytes held (queued, or held by a method fault) are bounded by
//! [`MAX_HELD`]; past it the pipe stops reading and TCP's back-pressure stops the sender.
//! A frame being assembled is bounded by `DecodeLimits::max_frame`.
//!
//! Method faults act before the link's faults in both directions (on requests the link
//! comes first in a real network: delays commute, and `corrupt` then acts on frames the
//! method faults could still read).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::frames::{Piece, Tracker};
use super::link::Link;
use super::method::{self, Action};
use super::queue::Queue;
use super::timer::Alarm;
use super::{Shared, Side};

/// Most bytes one direction holds before it stops reading.
pub(super) const MAX_HELD: usize = 4 << 20;
/// Room asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// How a direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// The source closed and everything was delivered; the destination's write side is
    /// shut down.
    Closed,
    /// A socket failed, or a lost segment was never repaired: reset the connection.
    Reset,
}

/// A frame a method fault holds.
struct Held {
    due: Instant,
    bytes: Bytes,
    /// An answer for the client (from the request direction), not the next hop.
    answer: bool,
}

/// What woke the pipe.
enum Wake {
    Read(std::io::Result<usize>),
    Answer(Option<Bytes>),
    Timer,
    Rules,
}

pub(super) struct Pipe {
    shared: Arc<Shared>,
    side: Side,
    link: Link,
    queue: Queue,
    tracker: Tracker,
    held: Vec<Held>,
    /// Whole frames to queue at the next frame boundary (held frames now due, answers).
    waiting: VecDeque<Bytes>,
    alarm: Alarm,
    pieces: Vec<Piece>,
}

impl Pipe {
    pub fn new(shared: Arc<Shared>, side: Side) -> Self {
        Self {
            link: Link::new(shared.clone(), side),
            tracker: Tracker::new(shared.limits),
            shared,
            side,
            queue: Queue::default(),
            held: Vec::new(),
            waiting: VecDeque::new(),
            alarm: Alarm::default(),
            pieces: Vec::new(),
        }
    }

    /// Moves bytes from `src` to `dst` until `src` ends and all is delivered. Answers
    /// the method faults give go to `answers_out`; `answers_in` brings the other
    /// direction's answers, to send on this one.
    pub async fn run<R, W>(
        mut self,
        mut src: R,
        mut dst: W,
        answers_out: Option<mpsc::Sender<Bytes>>,
        mut answers_in: Option<mpsc::Receiver<Bytes>>,
    ) -> End
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut buf = BytesMut::new();
        let mut eof = false;
        loop {
            self.link.refresh();
            for answer in self.release(Instant::now(), eof) {
                if let Some(out) = &answers_out {
                    // The other direction has ended: nobody is left to answer.
                    let _ = out.send(answer).await;
                }
            }
            if !self.link.view.partitioned {
                while let Some(chunk) = self.queue.pop_due(Instant::now()) {
                    if chunk.stamp.doomed || dst.write_all(&chunk.bytes).await.is_err() {
                        return End::Reset;
                    }
                    let to_server = self.side == Side::Request;
                    self.shared.stats.delivered(to_server, chunk.bytes.len());
                }
            }
            // The end of the stream crosses a partition no sooner than the bytes would.
            let drained = self.queue.is_empty() && self.held.is_empty() && self.waiting.is_empty();
            if eof && drained && !self.link.view.partitioned {
                let _ = dst.shutdown().await;
                return End::Closed;
            }
            let next = self.next_wake();
            let room = self.held_bytes() < MAX_HELD;
            if buf.capacity() - buf.len() < READ_CHUNK {
                buf.reserve(READ_CHUNK);
            }
            let wake = tokio::select! {
                biased;
                read = src.read_buf(&mut buf), if !eof && room => Wake::Read(read),
                answer = recv(&mut answers_in) => Wake::Answer(answer),
                () = self.alarm.until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                    Wake::Timer
                }
                () = self.link.changed() => Wake::Rules,
            };
            match wake {
                Wake::Read(Ok(0)) => {
                    eof = true;
                    if let Some(rest) = self.tracker.finish() {
                        self.enqueue(rest, Instant::now());
                    }
                }
                Wake::Read(Ok(_)) => self.arrive(buf.split().freeze()),
                Wake::Read(Err(_)) => return End::Reset,
                Wake::Answer(Some(answer)) => self.waiting.push_back(answer),
                Wake::Answer(None) => answers_in = None,
                Wake::Timer | Wake::Rules => {}
            }
        }
    }

    /// Frames held by method faults that are due move on, in the order they came; answers
    /// are returned. Waiting frames are queued once the stream is at a frame boundary.
    fn release(&mut self, now: Instant, eof: bool) -> Vec<Bytes> {
        let mut answers = Vec::new();
        let mut i = 0;
        while i < self.held.len() {
            if self.held[i].due > now {
                i += 1;
                continue;
            }
            let held = self.held.remove(i);
            match held.answer {
                true => answers.push(held.bytes),
                false => self.waiting.push_back(held.bytes),
            }
        }
        if self.tracker.at_boundary() || eof {
            while let Some(frame) = self.waiting.pop_front() {
                self.enqueue(frame, now);
            }
        }
        answers
    }

    /// When something is due next: the first queued chunk (unless partitioned), or a
    /// held frame.
    fn next_wake(&self) -> Option<Instant> {
        let queued = self
            .queue
            .next_ready()
            .filter(|_| !self.link.view.partitioned);
        let held = self.held.iter().map(|h| h.due).min();
        queued.into_iter().chain(held).min()
    }

    fn held_bytes(&self) -> usize {
        let held: usize = self.held.iter().map(|h| h.bytes.len()).sum();
        let waiting: usize = self.waiting.iter().map(Bytes::len).sum();
        self.queue.bytes() + held + waiting
    }

    /// Bytes read from the source.
    fn arrive(&mut self, data: Bytes) {
        let now = Instant::now();
        let mut pieces = std::mem::take(&mut self.pieces);
        self.tracker.push(data, self.link.view.framed, &mut pieces);
        for piece in pieces.drain(..) {
            match piece {
                Piece::Pass(bytes) => self.enqueue(bytes, now),
                Piece::Frame(frame) => self.frame(frame, now),
            }
        }
        self.pieces = pieces;
    }

    /// A whole frame, read while method faults are in force.
    fn frame(&mut self, frame: Bytes, now: Instant) {
        let limits = self.shared.limits;
        let Some(acted) = method::act(&frame, &self.link.view.methods, self.side, &limits) else {
            return self.enqueue(frame, now);
        };
        self.shared.stats.method_fault();
        let (bytes, answer) = match acted.action {
            Action::Forward(bytes) if acted.delay.is_zero() => return self.enqueue(bytes, now),
            Action::Forward(bytes) => (bytes, false),
            Action::Answer(bytes) => (bytes, true),
            Action::Drop => return,
        };
        self.held.push(Held {
            due: now + acted.delay,
            bytes,
            answer,
        });
    }

    /// Bytes entering the link.
    fn enqueue(&mut self, mut bytes: Bytes, now: Instant) {
        let stamp = self.link.stamp(&mut bytes, now);
        self.queue.push(bytes, stamp, now);
    }
}

/// The next answer from the other direction; pending forever without one.
async fn recv(answers: &mut Option<mpsc::Receiver<Bytes>>) -> Option<Bytes> {
    match answers {
        Some(answers) => answers.recv().await,
        None => std::future::pending().await,
    }
}
