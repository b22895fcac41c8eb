//! The bounded carry-over buffer every stream parser uses for a message cut between two calls.
//!
//! Bytes are parsed in place when nothing is pending (the common case: one segment holds whole
//! messages), and only the unfinished tail is copied. When something is pending, new bytes are
//! appended at most up to the cap at a time, so the buffer never grows past it.

/// A carry-over buffer capped at `cap` bytes.
#[derive(Debug, Default, Clone)]
pub(crate) struct StreamBuf {
    buf: Vec<u8>,
}

/// The step function gave up: it was handed `cap` bytes and consumed none of them. The pending
/// bytes were dropped; the caller should count this and resynchronise.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stuck;

impl StreamBuf {
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The carried-over bytes.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn clear(&mut self) {
        self.buf = Vec::new();
    }

    /// Feeds `data` to `step`, which consumes a prefix of the slice it is given and returns how
    /// many bytes it used. `step` must make progress whenever it is given `cap` bytes or more
    /// (e.g. by truncating an over-long message); otherwise [`Stuck`] is returned.
    pub(crate) fn run(
        &mut self,
        mut data: &[u8],
        cap: usize,
        mut step: impl FnMut(&[u8]) -> usize,
    ) -> Result<(), Stuck> {
        let cap = cap.max(1);
        loop {
            if self.buf.is_empty() {
                if data.is_empty() {
                    return Ok(());
                }
                let n = step(data).min(data.len());
                data = &data[n..];
                if data.is_empty() {
                    return Ok(());
                }
                if data.len() < cap {
                    self.buf.extend_from_slice(data);
                    return Ok(());
                }
                if n == 0 {
                    return Err(Stuck);
                }
            } else {
                let room = cap.saturating_sub(self.buf.len());
                let take = room.min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                let n = step(&self.buf).min(self.buf.len());
                self.buf.drain(..n);
                if n == 0 && self.buf.len() >= cap {
                    self.clear();
                    return Err(Stuck);
                }
                if data.is_empty() {
                    // Give back memory after a large message was carried.
                    if self.buf.is_empty() && self.buf.capacity() > 4096 {
                        self.clear();
                    }
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step that consumes whole `;`-terminated items.
    fn items(out: &mut Vec<Vec<u8>>, s: &[u8]) -> usize {
        let mut used = 0;
        while let Some(p) = memchr::memchr(b';', &s[used..]) {
            out.push(s[used..used + p].to_vec());
            used += p + 1;
        }
        used
    }

    #[test]
    fn carries_partial_items() {
        let mut b = StreamBuf::default();
        let mut got = Vec::new();
        for piece in [&b"ab;c"[..], b"d", b";ef;", b"g"] {
            b.run(piece, 16, |s| items(&mut got, s)).unwrap();
        }
        assert_eq!(got, vec![b"ab".to_vec(), b"cd".to_vec(), b"ef".to_vec()]);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn never_exceeds_cap() {
        let mut b = StreamBuf::default();
        let mut got = Vec::new();
        assert_eq!(b.run(b"abc", 4, |s| items(&mut got, s)), Ok(()));
        assert_eq!(b.run(b"defgh", 4, |s| items(&mut got, s)), Err(Stuck));
        assert_eq!(b.len(), 0);
    }
}
