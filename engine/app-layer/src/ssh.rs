//! SSH version exchange (RFC 4253 4.2): the identification line each side sends first.
//!
//! # What is parsed
//! `SSH-protoversion-softwareversion [SP comments] CR LF` in each direction. A server may send
//! other lines before its identification; up to 32 of them are skipped. After the banner the
//! parser is [`ParseStatus::Done`] for that direction (key exchange and everything after it is
//! binary or encrypted; HASSH from KEXINIT is a possible extension).
//!
//! # Limits and anomalies
//! A line is at most 255 bytes (RFC 4253) and the parser never holds more than that;
//! a longer line or a malformed identification is `ssh_banner_invalid` and ends the direction.

use crate::buf::StreamBuf;
use crate::{Anomaly, AppEvent, Direction, ParseStatus, StreamParser};

/// Longest identification line, CR LF included (RFC 4253 4.2).
const MAX_LINE: usize = 255;
/// Lines a server may send before its identification that we are willing to skip.
const MAX_PRE_LINES: u32 = 32;

/// One side's identification string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshBanner {
    pub dir: Direction,
    /// `2.0` (or `1.99`, `1.5`).
    pub proto_version: Vec<u8>,
    /// `OpenSSH_8.9p1` etc.
    pub software: Vec<u8>,
    pub comments: Option<Vec<u8>>,
    /// The whole line without CR LF.
    pub line: Vec<u8>,
}

/// Splits an identification line (without line end) into its parts.
pub fn parse_banner(dir: Direction, line: &[u8]) -> Option<SshBanner> {
    let rest = line.strip_prefix(b"SSH-")?;
    let dash = memchr::memchr(b'-', rest)?;
    let proto_version = &rest[..dash];
    let rest = &rest[dash + 1..];
    let (software, comments) = match memchr::memchr(b' ', rest) {
        Some(sp) => (&rest[..sp], Some(rest[sp + 1..].to_vec())),
        None => (rest, None),
    };
    let printable = |s: &[u8]| s.iter().all(|&c| (0x21..0x7f).contains(&c));
    if proto_version.is_empty() || software.is_empty() || !printable(proto_version) || !printable(software) {
        return None;
    }
    Some(SshBanner {
        dir,
        proto_version: proto_version.to_vec(),
        software: software.to_vec(),
        comments,
        line: line.to_vec(),
    })
}

#[derive(Default)]
struct Half {
    buf: StreamBuf,
    pre_lines: u32,
    done: bool,
    dead: bool,
}

/// The SSH banner parser for one connection.
#[derive(Default)]
pub struct SshParser {
    halves: [Half; 2],
}

impl SshParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn status(&self, dir: Direction) -> ParseStatus {
        let h = &self.halves[dir.index()];
        match (h.dead, h.done, h.buf.len()) {
            (true, _, _) => ParseStatus::Error,
            (_, true, _) => ParseStatus::Done,
            (_, _, 0) => ParseStatus::Ok,
            _ => ParseStatus::NeedMore,
        }
    }
}

impl StreamParser for SshParser {
    fn parse(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let h = &mut self.halves[dir.index()];
        if h.done || h.dead {
            return self.status(dir);
        }
        let mut buf = std::mem::take(&mut h.buf);
        let _ = buf.run(data, MAX_LINE + 1, |s| {
            let mut pos = 0;
            while !h.done && !h.dead && pos < s.len() {
                let Some(nl) = memchr::memchr(b'\n', &s[pos..]) else {
                    if s.len() - pos > MAX_LINE {
                        out(AppEvent::Anomaly(Anomaly::SshBannerInvalid));
                        h.dead = true;
                        return s.len();
                    }
                    return pos;
                };
                let line = &s[pos..pos + nl];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                pos += nl + 1;
                if nl + 1 > MAX_LINE {
                    out(AppEvent::Anomaly(Anomaly::SshBannerInvalid));
                    h.dead = true;
                } else if line.starts_with(b"SSH-") {
                    match parse_banner(dir, line) {
                        Some(b) => {
                            out(AppEvent::SshBanner(Box::new(b)));
                            h.done = true;
                        }
                        None => {
                            out(AppEvent::Anomaly(Anomaly::SshBannerInvalid));
                            h.dead = true;
                        }
                    }
                } else {
                    h.pre_lines += 1;
                    if dir == Direction::ToServer || h.pre_lines > MAX_PRE_LINES {
                        out(AppEvent::Anomaly(Anomaly::SshBannerInvalid));
                        h.dead = true;
                    }
                }
            }
            s.len()
        });
        if h.done || h.dead {
            buf.clear();
        }
        h.buf = buf;
        self.status(dir)
    }

    fn gap(&mut self, dir: Direction, _len: u64, out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let h = &mut self.halves[dir.index()];
        if !h.done && !h.dead {
            out(AppEvent::Anomaly(Anomaly::SshBannerInvalid));
            h.dead = true;
        }
        self.status(dir)
    }

    fn end(&mut self, dir: Direction, _out: &mut dyn FnMut(AppEvent)) {
        self.halves[dir.index()].buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{feed, feed_split};
    use Direction::{ToClient, ToServer};

    #[test]
    fn banners() {
        let (ev, st) = feed(
            &mut SshParser::new(),
            &[(ToClient, b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n\x00\x00\x01")],
        );
        assert_eq!(st, ParseStatus::Done);
        let AppEvent::SshBanner(b) = &ev[0] else { panic!() };
        assert_eq!((b.proto_version.as_slice(), b.software.as_slice()), (&b"2.0"[..], &b"OpenSSH_8.9p1"[..]));
        assert_eq!(b.comments.as_deref(), Some(&b"Ubuntu-3ubuntu0.1"[..]));
        let msg = b"SSH-1.99-Cisco-1.25\n";
        assert_eq!(
            feed_split(&mut SshParser::new(), ToServer, msg, 1),
            feed(&mut SshParser::new(), &[(ToServer, msg)]).0
        );
        // Pre-banner lines from a server are skipped.
        let (ev, _) = feed(&mut SshParser::new(), &[(ToClient, b"Welcome\r\nSSH-2.0-x\r\n")]);
        assert!(matches!(&ev[0], AppEvent::SshBanner(_)));
    }

    #[test]
    fn hostile() {
        for bad in [&b"SSH-2.0\r\n"[..], b"SSH--x\r\n", b"hello\r\n"] {
            let (ev, st) = feed(&mut SshParser::new(), &[(ToServer, bad)]);
            assert_eq!(
                (st, ev),
                (ParseStatus::Error, vec![AppEvent::Anomaly(Anomaly::SshBannerInvalid)]),
                "{bad:?}"
            );
        }
        let (_, st) = feed(&mut SshParser::new(), &[(ToClient, &[b'a'; 1000])]);
        assert_eq!(st, ParseStatus::Error);
    }
}
