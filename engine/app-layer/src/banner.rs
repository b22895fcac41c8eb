//! Line-based services (FTP, SMTP, POP3, IMAP): only the first line of each direction (the
//! server greeting and the client's first command) is reported, for application identification.
//! Full command/response parsing is future work.
//!
//! A first line longer than 512 bytes is `banner_too_long`; the parser holds at most that much.

use crate::buf::StreamBuf;
use crate::{Anomaly, AppEvent, AppProto, Direction, ParseStatus, StreamParser};

const MAX_LINE: usize = 512;

/// Reports the first line of each direction, then is done.
pub struct BannerParser {
    proto: AppProto,
    bufs: [StreamBuf; 2],
    done: [bool; 2],
}

impl BannerParser {
    pub fn new(proto: AppProto) -> Self {
        BannerParser { proto, bufs: Default::default(), done: [false; 2] }
    }
}

impl StreamParser for BannerParser {
    fn parse(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let d = dir.index();
        if self.done[d] {
            return ParseStatus::Done;
        }
        let proto = self.proto;
        let done = &mut self.done[d];
        let _ = self.bufs[d].run(data, MAX_LINE + 1, |s| {
            if *done {
                return s.len();
            }
            match memchr::memchr(b'\n', s) {
                Some(nl) if nl <= MAX_LINE => {
                    let line = s[..nl].strip_suffix(b"\r").unwrap_or(&s[..nl]);
                    out(AppEvent::Banner { proto, dir, line: line.to_vec() });
                    *done = true;
                    s.len()
                }
                None if s.len() <= MAX_LINE => 0,
                _ => {
                    out(AppEvent::Anomaly(Anomaly::BannerTooLong));
                    out(AppEvent::Banner { proto, dir, line: s[..MAX_LINE.min(s.len())].to_vec() });
                    *done = true;
                    s.len()
                }
            }
        });
        if self.done[d] {
            self.bufs[d].clear();
            ParseStatus::Done
        } else {
            ParseStatus::NeedMore
        }
    }

    fn gap(&mut self, dir: Direction, _len: u64, _out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        self.done[dir.index()] = true;
        self.bufs[dir.index()].clear();
        ParseStatus::Done
    }

    fn end(&mut self, dir: Direction, _out: &mut dyn FnMut(AppEvent)) {
        self.bufs[dir.index()].clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::feed_split;

    #[test]
    fn first_line_each_way() {
        let mut p = BannerParser::new(AppProto::Smtp);
        let ev = feed_split(&mut p, Direction::ToClient, b"220 mx.example.com ESMTP\r\n250 more\r\n", 3);
        assert_eq!(
            ev,
            vec![AppEvent::Banner {
                proto: AppProto::Smtp,
                dir: Direction::ToClient,
                line: b"220 mx.example.com ESMTP".to_vec()
            }]
        );
        let ev = feed_split(&mut p, Direction::ToServer, &[b'x'; 2000], 100);
        assert_eq!(ev[0], AppEvent::Anomaly(Anomaly::BannerTooLong));
    }
}
