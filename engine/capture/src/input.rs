//! The byte stream under a capture reader: one growable buffer that packets are lent from.
//!
//! Readers ask for "at least `n` bytes" ([`Input::ensure`]), look at them in place, and
//! [`Input::consume`] what they used. Consumed bytes stay where they are until the *next* call that
//! needs more data, so a packet slice taken from [`Input::buffer`] stays valid for as long as the
//! `&mut self` borrow of `next_packet` lasts. That is what makes the lending `PacketSource` possible
//! without copying each packet a second time: the only copy is the `read()` into this buffer
//! (plus, rarely, moving the unconsumed tail of the buffer to its front).

use std::io::{self, Read};

/// Initial buffer size. Large reads keep the syscall count per packet low; the allocation is
/// zeroed lazily by the OS, so small files do not pay for it.
const INITIAL_CAPACITY: usize = 1 << 20;

/// When less than this is free at the end of the buffer we move the unconsumed bytes to the front
/// before reading, so reads never degenerate into tiny ones.
const MIN_READ: usize = 64 << 10;

/// Byte order of a pcap file or pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    /// Reads a `u16` at `at`; 0 when out of range. Callers check lengths first, the fallback only
    /// makes a bug in a length check harmless instead of a panic.
    #[inline]
    pub(crate) fn u16(self, b: &[u8], at: usize) -> u16 {
        match b.get(at..at.saturating_add(2)).and_then(|s| <[u8; 2]>::try_from(s).ok()) {
            Some(a) => match self {
                Endian::Little => u16::from_le_bytes(a),
                Endian::Big => u16::from_be_bytes(a),
            },
            None => 0,
        }
    }

    /// Reads a `u32` at `at`; 0 when out of range (see [`Endian::u16`]).
    #[inline]
    pub(crate) fn u32(self, b: &[u8], at: usize) -> u32 {
        match b.get(at..at.saturating_add(4)).and_then(|s| <[u8; 4]>::try_from(s).ok()) {
            Some(a) => match self {
                Endian::Little => u32::from_le_bytes(a),
                Endian::Big => u32::from_be_bytes(a),
            },
            None => 0,
        }
    }

    /// Reads an `i64` at `at`; 0 when out of range (see [`Endian::u16`]).
    #[inline]
    pub(crate) fn i64(self, b: &[u8], at: usize) -> i64 {
        match b.get(at..at.saturating_add(8)).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(a) => match self {
                Endian::Little => i64::from_le_bytes(a),
                Endian::Big => i64::from_be_bytes(a),
            },
            None => 0,
        }
    }
}

pub(crate) struct Input {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// Stream offset of `buf[pos]`, for error messages.
    offset: u64,
    eof: bool,
    /// The underlying reader reported `UnexpectedEof` (a cut-off gzip stream): the data ended
    /// early even if it happens to end on a record boundary.
    cut_short: bool,
}

impl Input {
    /// `prefix` holds bytes already read from `inner` (magic sniffing); they come first.
    pub(crate) fn new(inner: Box<dyn Read + Send>, prefix: &[u8]) -> Input {
        let mut buf = vec![0u8; INITIAL_CAPACITY.max(prefix.len())];
        buf[..prefix.len()].copy_from_slice(prefix);
        Input { inner, buf, pos: 0, end: prefix.len(), offset: 0, eof: false, cut_short: false }
    }

    /// The unconsumed bytes currently buffered.
    #[inline]
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// The whole buffer; `pos()` indexes the first unconsumed byte. Used to lend packet slices that
    /// were consumed already (and so are not part of `available()` any more).
    #[inline]
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Stream offset of the first unconsumed byte.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// True when the data ended early: bytes left over that do not make a whole unit, or the
    /// underlying stream said it was cut off.
    pub(crate) fn ended_early(&self) -> bool {
        self.pos != self.end || self.cut_short
    }

    /// Makes at least `n` bytes available. `Ok(false)` when the stream ends first (whatever was
    /// there stays available). Callers bound `n` by their sanity limits.
    #[inline]
    pub(crate) fn ensure(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.pos >= n {
            return Ok(true);
        }
        self.fill(n)
    }

    #[cold]
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.buf.len() - self.pos < n || self.buf.len() - self.end < MIN_READ {
            // Move the partial record to the front. This copies less than one record, and only
            // once per buffer's worth of data.
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            if self.buf.len() < n {
                self.buf.resize(n.next_power_of_two(), 0);
            }
        }
        while self.end - self.pos < n {
            if !self.read_more()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One `read()` into the free end of the buffer; false at end of stream.
    fn read_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(k) => {
                    // A misbehaving reader must not move `end` past the buffer.
                    self.end = self.end.saturating_add(k).min(self.buf.len());
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // flate2 reports a truncated gzip member this way; treat it as a truncated
                    // capture rather than an error, like a truncated uncompressed file.
                    self.eof = true;
                    self.cut_short = true;
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Marks `n` available bytes as used.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset = self.offset.wrapping_add(n as u64);
    }

    /// Skips `n` bytes without keeping them in memory (blocks we do not read). `Ok(false)` when
    /// the stream ends first.
    pub(crate) fn skip(&mut self, mut n: u64) -> io::Result<bool> {
        loop {
            let avail = self.end - self.pos;
            if (avail as u64) >= n {
                // n <= avail, so it fits in usize.
                self.consume(n as usize);
                return Ok(true);
            }
            self.consume(avail);
            n -= avail as u64;
            self.pos = 0;
            self.end = 0;
            if !self.read_more()? {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per call, to exercise refills.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn ensure_consume_skip_across_refills() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        let mut input =
            Input::new(Box::new(Trickle { data: data[2..].to_vec(), at: 0, chunk: 777 }), &data[..2]);
        let mut off = 0usize;
        // Big enough to force growth of the buffer beyond the initial capacity.
        for step in [1usize, 3, 1000, 100_000, 1_500_000, 7] {
            assert!(input.ensure(step).unwrap());
            assert_eq!(&input.available()[..step], &data[off..off + step]);
            input.consume(step);
            off += step;
            assert_eq!(input.offset(), off as u64);
        }
        assert!(input.skip(1_000_000).unwrap());
        off += 1_000_000;
        assert!(input.ensure(10).unwrap());
        assert_eq!(input.available()[0], data[off]);
        assert!(!input.skip(10_000_000).unwrap());
        assert!(!input.ensure(1).unwrap());
        assert!(!input.ended_early());
    }

    #[test]
    fn endian_reads_are_bounds_safe() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Endian::Little.u32(&b, 0), 0x04030201);
        assert_eq!(Endian::Big.u32(&b, 0), 0x01020304);
        assert_eq!(Endian::Big.u16(&b, 6), 0x0708);
        assert_eq!(Endian::Little.u32(&b, 6), 0);
        assert_eq!(Endian::Little.u32(&b, usize::MAX), 0);
        assert_eq!(Endian::Little.i64(&b, 0), 0x0807060504030201);
    }
}
