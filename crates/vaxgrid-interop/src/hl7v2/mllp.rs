//! MLLP (Minimal Lower Layer Protocol) framing: `0x0B message 0x1C 0x0D`.
//!
//! [`MllpDecoder`] is a push-style decoder for a TCP stream: feed it whatever
//! `read` returned, then take complete messages out. It never holds more
//! than one frame (bounded by the maximum frame size) plus a partial end
//! marker, whatever the peer sends.

/// Start block character.
pub const START_BLOCK: u8 = 0x0B;
/// End block character, followed by [`CARRIAGE_RETURN`].
pub const END_BLOCK: u8 = 0x1C;
pub const CARRIAGE_RETURN: u8 = 0x0D;
/// Default largest accepted message: 1 MiB is far above any real VXU.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// Wraps a message in an MLLP frame.
pub fn frame(msg: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 3);
    out.push(START_BLOCK);
    out.extend_from_slice(msg.as_bytes());
    out.extend_from_slice(&[END_BLOCK, CARRIAGE_RETURN]);
    out
}

/// A problem with one frame; the decoder has already resynchronised and can
/// be used again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MllpError {
    /// The frame content is not UTF-8 (the CDC guide and this server use
    /// UTF-8 only).
    #[error("MLLP frame is not valid UTF-8 (invalid byte at offset {valid_up_to})")]
    InvalidUtf8 { valid_up_to: usize },
    /// The frame grew past the limit without an end marker; its bytes were
    /// discarded up to the next end marker.
    #[error("MLLP frame larger than {limit} bytes")]
    FrameTooLarge { limit: usize },
    /// A new start block arrived before the end of the current frame (the
    /// peer gave up on a message); the partial frame was dropped.
    #[error("MLLP frame interrupted by a new start block")]
    Interrupted,
}

/// Extracts complete frames from a byte stream.
#[derive(Debug, Clone)]
pub struct MllpDecoder {
    /// Bytes of the current frame, starting with [`START_BLOCK`] (or empty).
    buffer: Vec<u8>,
    max_frame: usize,
    /// Dropping an oversized frame until its end marker.
    discarding: bool,
    /// In discarding mode, whether the last byte seen was [`END_BLOCK`]
    /// (the marker may be split across reads).
    discard_saw_end_block: bool,
    /// Errors found while pushing, reported before further messages.
    pending: std::collections::VecDeque<Result<String, MllpError>>,
}

impl Default for MllpDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl MllpDecoder {
    /// A decoder with the default 1 MiB frame limit.
    pub fn new() -> Self {
        Self::with_max_frame(MAX_FRAME_BYTES)
    }

    /// A decoder refusing frames whose content exceeds `max_frame` bytes.
    pub fn with_max_frame(max_frame: usize) -> Self {
        MllpDecoder {
            buffer: Vec::new(),
            max_frame,
            discarding: false,
            discard_saw_end_block: false,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Feeds bytes received from the peer. Complete frames found are queued
    /// for [`MllpDecoder::next_message`], which should be drained after each
    /// push (the queue is the caller's to empty).
    pub fn push(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push_byte(byte);
        }
    }

    /// The next complete message (or frame error), oldest first; `None`
    /// when more bytes are needed.
    pub fn next_message(&mut self) -> Option<Result<String, MllpError>> {
        self.pending.pop_front()
    }

    /// Bytes of an incomplete frame currently held.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len()
    }

    // Byte-at-a-time keeps the state machine obvious; throughput is bounded
    // by the network, not by this loop.
    fn push_byte(&mut self, byte: u8) {
        if self.discarding {
            if self.discard_saw_end_block && byte == CARRIAGE_RETURN {
                self.discarding = false;
            }
            self.discard_saw_end_block = byte == END_BLOCK;
            // A start block also ends the discarded frame, so one oversized
            // message cannot swallow the next one if its end marker is lost.
            if byte == START_BLOCK {
                self.discarding = false;
                self.buffer.push(byte);
            }
            return;
        }
        if self.buffer.is_empty() {
            // Outside a frame: anything but a start block is junk (keep-alive
            // newlines, garbage from a confused peer) and is dropped.
            if byte == START_BLOCK {
                self.buffer.push(byte);
            }
            return;
        }
        if byte == START_BLOCK {
            self.pending.push_back(Err(MllpError::Interrupted));
            self.reset();
            self.buffer.push(byte);
            return;
        }
        self.buffer.push(byte);
        if let [.., END_BLOCK, CARRIAGE_RETURN] = self.buffer.as_slice() {
            let content = self
                .buffer
                .get(1..self.buffer.len().saturating_sub(2))
                .unwrap_or_default()
                .to_vec();
            self.reset();
            self.pending
                .push_back(
                    String::from_utf8(content).map_err(|e| MllpError::InvalidUtf8 {
                        valid_up_to: e.utf8_error().valid_up_to(),
                    }),
                );
            return;
        }
        // Content so far excludes the start block and a possible END_BLOCK
        // waiting for its carriage return.
        let content_len = self.buffer.len().saturating_sub(1);
        let waiting_end = self.buffer.last() == Some(&END_BLOCK);
        if content_len.saturating_sub(usize::from(waiting_end)) > self.max_frame {
            self.pending.push_back(Err(MllpError::FrameTooLarge {
                limit: self.max_frame,
            }));
            self.discard_saw_end_block = waiting_end;
            self.reset();
            self.discarding = true;
        }
    }

    fn reset(&mut self) {
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(decoder: &mut MllpDecoder) -> Vec<Result<String, MllpError>> {
        std::iter::from_fn(|| decoder.next_message()).collect()
    }

    #[test]
    fn frame_bytes() {
        assert_eq!(frame("AB"), [0x0B, b'A', b'B', 0x1C, 0x0D]);
    }

    #[test]
    fn whole_and_multiple_frames() {
        let mut d = MllpDecoder::new();
        let mut bytes = frame("MSH|1");
        bytes.extend(frame("MSH|2é"));
        d.push(&bytes);
        assert_eq!(drain(&mut d), [Ok("MSH|1".into()), Ok("MSH|2é".into())]);
        assert_eq!(d.buffered_len(), 0);
    }

    #[test]
    fn split_reads_at_every_position() {
        let bytes = frame("MSH|^~\\&|Nguyễn\rPID|1");
        for split in 0..=bytes.len() {
            let mut d = MllpDecoder::new();
            let (a, b) = bytes.split_at(split);
            d.push(a);
            let early = drain(&mut d);
            d.push(b);
            let mut all = early;
            all.extend(drain(&mut d));
            assert_eq!(all, [Ok("MSH|^~\\&|Nguyễn\rPID|1".into())], "split {split}");
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut d = MllpDecoder::new();
        for b in frame("x\ry") {
            d.push(&[b]);
        }
        assert_eq!(drain(&mut d), [Ok("x\ry".into())]);
    }

    #[test]
    fn junk_before_start_is_ignored() {
        let mut d = MllpDecoder::new();
        d.push(b"\r\ngarbage\x1c\r");
        d.push(&frame("M"));
        assert_eq!(drain(&mut d), [Ok("M".into())]);
    }

    #[test]
    fn end_block_without_carriage_return_is_content() {
        let mut d = MllpDecoder::new();
        d.push(b"\x0bA\x1cB\x1c\r");
        assert_eq!(drain(&mut d), [Ok("A\u{1c}B".to_string())]);
    }

    #[test]
    fn invalid_utf8_is_reported_and_decoding_continues() {
        let mut d = MllpDecoder::new();
        d.push(b"\x0bA\xff\x1c\r");
        d.push(&frame("ok"));
        assert_eq!(
            drain(&mut d),
            [
                Err(MllpError::InvalidUtf8 { valid_up_to: 1 }),
                Ok("ok".into())
            ]
        );
    }

    #[test]
    fn oversized_frame_is_refused_then_resynchronised() {
        let mut d = MllpDecoder::with_max_frame(4);
        d.push(&frame("1234"));
        d.push(b"\x0b12345678");
        assert_eq!(d.buffered_len(), 0);
        d.push(b"9\x1c");
        d.push(b"\r");
        d.push(&frame("ok"));
        assert_eq!(
            drain(&mut d),
            [
                Ok("1234".into()),
                Err(MllpError::FrameTooLarge { limit: 4 }),
                Ok("ok".into())
            ]
        );
    }

    #[test]
    fn oversized_frame_without_end_does_not_swallow_the_next() {
        let mut d = MllpDecoder::with_max_frame(4);
        d.push(b"\x0b123456");
        d.push(&frame("ok"));
        assert_eq!(
            drain(&mut d),
            [Err(MllpError::FrameTooLarge { limit: 4 }), Ok("ok".into())]
        );
    }

    #[test]
    fn interrupted_frame() {
        let mut d = MllpDecoder::new();
        d.push(b"\x0bpartial");
        d.push(&frame("next"));
        assert_eq!(
            drain(&mut d),
            [Err(MllpError::Interrupted), Ok("next".into())]
        );
    }

    #[test]
    fn default_limit_is_one_mebibyte() {
        let mut d = MllpDecoder::new();
        d.push(&frame(&"a".repeat(MAX_FRAME_BYTES)));
        assert_eq!(drain(&mut d).len(), 1);
        d.push(&[START_BLOCK]);
        d.push("a".repeat(MAX_FRAME_BYTES + 1).as_bytes());
        assert_eq!(
            drain(&mut d),
            [Err(MllpError::FrameTooLarge {
                limit: MAX_FRAME_BYTES
            })]
        );
        assert_eq!(d.buffered_len(), 0);
    }
}
