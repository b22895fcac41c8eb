//! Helpers shared by the parser tests.

use crate::{AppEvent, Direction, ParseStatus, StreamParser};

/// Feeds `pieces` (direction, bytes) to `p` and collects every event.
pub(crate) fn feed(p: &mut dyn StreamParser, pieces: &[(Direction, &[u8])]) -> (Vec<AppEvent>, ParseStatus) {
    let mut ev = Vec::new();
    let mut st = ParseStatus::Ok;
    for (d, b) in pieces {
        st = p.parse(*d, b, &mut |e| ev.push(e));
    }
    (ev, st)
}

/// Feeds `data` in one direction cut into pieces of `size` bytes.
pub(crate) fn feed_split(
    p: &mut dyn StreamParser,
    dir: Direction,
    data: &[u8],
    size: usize,
) -> Vec<AppEvent> {
    let mut ev = Vec::new();
    for c in data.chunks(size.max(1)) {
        p.parse(dir, c, &mut |e| ev.push(e));
    }
    ev
}

/// Feeds `data` cut at `at` into two pieces.
pub(crate) fn feed_cut(p: &mut dyn StreamParser, dir: Direction, data: &[u8], at: usize) -> Vec<AppEvent> {
    let mut ev = Vec::new();
    p.parse(dir, &data[..at], &mut |e| ev.push(e));
    p.parse(dir, &data[at..], &mut |e| ev.push(e));
    ev
}

/// Decodes a hex string (whitespace ignored).
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|c| c.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| {
            let v = |c: u8| (c as char).to_digit(16).unwrap() as u8;
            (v(p[0]) << 4) | v(p[1])
        })
        .collect()
}
