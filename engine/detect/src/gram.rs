//! A multi-pattern scanner for large, case-insensitive pattern sets: a 4-byte-gram filter with
//! verification, in the spirit of Hyperscan's FDR / Wu-Manber.
//!
//! A large Aho-Corasick automaton is slow on real traffic because its transition table does
//! not fit in the caches: a DFA over 1,500 patterns is ~18 MiB (one 1 KiB row per state), and
//! every payload byte is a dependent load from it (~10 ns/byte measured). This scanner instead
//! reads the haystack 4 bytes at a time at every offset, folds ASCII case with SWAR, hashes the
//! gram and tests one bit of an 8 KiB bitmap (L1-resident) built from one 4-byte window of
//! every pattern of length ≥ 4 (the window made of the bytes least frequent in real payloads,
//! so that `|00 00 00 00|` inside a longer pattern is not what a zero-filled payload hits at
//! every offset, with a penalty for crowded hash buckets so patterns sharing a prefix such as
//! `/api` spread over them); only on a set bit does it compare the
//! patterns of that hash bucket. Patterns shorter than 4 bytes are checked by their first byte. Every occurrence of
//! every pattern is reported (the same as an overlapping Aho-Corasick search, in another order).

/// How surprising each byte is in application payloads (case-folded): -log2 of its frequency,
/// in sixteenths of a bit, averaged over the 167 nDPI sample captures (each weighted equally)
/// by `scripts/byte-surprise.py`. NUL (41) and space (96) are the least surprising bytes,
/// upper-case letters never occur (folded away).
#[rustfmt::skip]
const SURPRISE: [u8; 256] = [
     41,  90, 105, 109, 115, 124, 118, 129, 121, 130, 103, 125, 131, 109, 134, 137,
    125, 134, 138, 138, 139, 142, 137, 140, 134, 143, 143, 145, 139, 140, 143, 146,
     96, 143, 127, 138, 142, 139, 140, 141, 133, 133, 132, 142, 133, 115, 110, 122,
    105, 102, 115, 126, 124, 128, 128, 129, 124, 126, 118, 139, 132, 133, 134, 117,
    132, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 146, 143, 145, 141, 130,
    143,  89, 115, 100, 105,  92, 113, 113, 109, 102, 125, 123, 107, 107, 101,  99,
    106, 125,  97,  99,  96, 104, 119, 121, 121, 120, 126, 132, 144, 140, 139, 141,
    125, 138, 139, 145, 143, 142, 140, 149, 145, 144, 144, 142, 147, 147, 147, 147,
    146, 146, 147, 143, 148, 150, 149, 147, 146, 148, 150, 148, 146, 147, 146, 149,
    142, 150, 149, 148, 146, 147, 149, 150, 146, 147, 120, 148, 146, 146, 149, 149,
    149, 146, 148, 149, 147, 146, 148, 149, 144, 148, 147, 147, 149, 149, 147, 146,
    130, 149, 146, 148, 148, 150, 146, 141, 143, 146, 148, 148, 140, 149, 146, 149,
    145, 146, 146, 149, 146, 127, 147, 148, 148, 140, 147, 149, 146, 148, 148, 146,
    146, 148, 149, 148, 148, 148, 149, 148, 148, 148, 145, 147, 147, 147, 148, 146,
    139, 142, 148, 146, 147, 147, 148, 148, 144, 146, 143, 143, 143, 139, 136, 106,
];

/// Bits of the gram hash (bitmap of `1 << HASH_BITS` bits).
const HASH_BITS: u32 = 16;

/// [`GramScanner::fold`] flag.
const SHORT: u16 = 0x100;

pub(crate) struct GramScanner {
    /// Filter bitmap over the hashed grams of the long patterns.
    bits: Box<[u64; 1 << (HASH_BITS - 6)]>,
    /// Byte → ASCII-lowercased byte, plus `SHORT` if a short pattern starts with it.
    fold: Box<[u16; 256]>,
    /// Bucket `h`'s entries are `entries[bucket[h]..bucket[h + 1]]`.
    bucket: Vec<u32>,
    /// (folded gram, pattern index, offset of the gram in the pattern).
    entries: Vec<(u32, u32, u32)>,
    /// 1-byte patterns: those of folded byte `b` are `shorts[short_start[b]..short_start[b + 1]]`.
    short_start: Vec<u16>,
    shorts: Vec<u32>,
    /// First-level filter: bitmap over the folded last two bytes of every 2- and 3-byte
    /// pattern and of every indexed 4-byte gram. Most offsets stop at this one test.
    any2: Box<[u64; 1 << 10]>,
    /// Bitmap over the folded 2-byte patterns.
    bits2: Box<[u64; 1 << 10]>,
    /// (folded pattern, pattern index) of the 2-byte patterns, sorted.
    short2: Vec<(u32, u32)>,
    /// Bitmap over the hashed folded 3-byte patterns.
    bits3: Box<[u64; 1 << (HASH_BITS - 6)]>,
    /// (folded pattern, pattern index) of the 3-byte patterns, sorted.
    short3: Vec<(u32, u32)>,
    /// Lower-cased patterns.
    pats: Vec<Box<[u8]>>,
}

#[inline(always)]
fn hash(g: u32) -> usize {
    (g.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

impl GramScanner {
    /// `patterns` must be non-empty byte strings.
    pub(crate) fn new<'a>(patterns: impl Iterator<Item = &'a [u8]>) -> Self {
        let pats: Vec<Box<[u8]>> = patterns.map(|p| p.to_ascii_lowercase().into_boxed_slice()).collect();
        let mut long: Vec<(usize, u32, u32, u32)> = Vec::new();
        let mut short: Vec<(u8, u32)> = Vec::new();
        let mut short2: Vec<(u32, u32)> = Vec::new();
        let mut bits2 = Box::new([0u64; 1 << 10]);
        let mut any2 = Box::new([0u64; 1 << 10]);
        let mut mark2 = |k: u32| any2[k as usize >> 6] |= 1 << (k & 63);
        let mut short3: Vec<(u32, u32)> = Vec::new();
        let mut bits3 = Box::new([0u64; 1 << (HASH_BITS - 6)]);
        let mut load = vec![0u32; 1usize << HASH_BITS];
        let gram = |p: &[u8], k: usize| u32::from_le_bytes([p[k], p[k + 1], p[k + 2], p[k + 3]]);
        for (i, p) in pats.iter().enumerate() {
            if p.len() >= 4 {
                // The window least likely to occur in traffic (every occurrence of the indexed
                // gram costs a verification), traded against crowded hash buckets (every
                // pattern of the bucket is compared on a hit); earliest on ties.
                let k = (0..=p.len() - 4)
                    .max_by_key(|&k| {
                        let surprise: i64 =
                            p[k..k + 4].iter().map(|&b| i64::from(SURPRISE[usize::from(b)])).sum();
                        (surprise - 4 * i64::from(load[hash(gram(p, k))]), std::cmp::Reverse(k))
                    })
                    .expect("len >= 4");
                let g = gram(p, k);
                load[hash(g)] += 1;
                mark2(g >> 16);
                long.push((hash(g), g, i as u32, k as u32));
            } else if p.len() == 3 {
                let key = u32::from_le_bytes([p[0], p[1], p[2], 0]);
                let h = hash(key);
                bits3[h >> 6] |= 1 << (h & 63);
                short3.push((key, i as u32));
                mark2(key >> 8);
            } else if p.len() == 2 {
                let key = u32::from_le_bytes([p[0], p[1], 0, 0]);
                bits2[key as usize >> 6] |= 1 << (key & 63);
                short2.push((key, i as u32));
                mark2(key);
            } else if p.len() == 1 {
                short.push((p[0], i as u32));
            }
        }
        long.sort_unstable();
        short.sort_unstable();
        short2.sort_unstable();
        short3.sort_unstable();
        let mut bits = Box::new([0u64; 1 << (HASH_BITS - 6)]);
        let mut bucket = vec![0u32; (1usize << HASH_BITS) + 1];
        for &(h, _, _, _) in &long {
            bits[h / 64] |= 1 << (h % 64);
            bucket[h + 1] += 1;
        }
        for h in 0..(1usize << HASH_BITS) {
            bucket[h + 1] += bucket[h];
        }
        let entries = long.iter().map(|&(_, g, i, k)| (g, i, k)).collect();
        let mut short_start = vec![0u16; 257];
        for &(b, _) in &short {
            short_start[usize::from(b) + 1] += 1;
        }
        for b in 0..256 {
            short_start[b + 1] += short_start[b];
        }
        let shorts = short.iter().map(|&(_, i)| i).collect();
        let mut fold = Box::new([0u16; 256]);
        for b in 0..=255u8 {
            fold[usize::from(b)] = u16::from(b.to_ascii_lowercase());
        }
        for &(b, _) in &short {
            fold[usize::from(b)] |= SHORT;
            fold[usize::from(b.to_ascii_uppercase())] |= SHORT;
        }
        GramScanner {
            bits,
            fold,
            bucket,
            entries,
            short_start,
            shorts,
            any2,
            bits2,
            short2,
            bits3,
            short3,
            pats,
        }
    }

    /// Heap bytes.
    pub(crate) fn memory_usage(&self) -> usize {
        self.bits.len() * 8
            + 512
            + self.bucket.len() * 4
            + self.entries.len() * 12
            + self.short_start.len() * 2
            + self.shorts.len() * 4
            + 24576
            + (self.short2.len() + self.short3.len()) * 8
            + self.pats.iter().map(|p| p.len() + 16).sum::<usize>()
    }

    /// 1-byte patterns of the byte at `i`.
    #[inline(never)]
    fn shorts_at(&self, hay: &[u8], i: usize, out: &mut Vec<u32>) {
        let b = usize::from(hay[i].to_ascii_lowercase());
        let (s, e) = (usize::from(self.short_start[b]), usize::from(self.short_start[b + 1]));
        out.extend_from_slice(&self.shorts[s..e]);
    }

    /// The 2- or 3-byte patterns equal to the folded `key` (their occurrences ending here).
    #[inline(never)]
    fn shorts_end(table: &[(u32, u32)], key: u32, out: &mut Vec<u32>) {
        let s = table.partition_point(|e| e.0 < key);
        out.extend(table[s..].iter().take_while(|e| e.0 == key).map(|e| e.1));
    }

    /// Long patterns whose indexed gram (`g`, hash `h`) is at `i`.
    #[inline(never)]
    fn verify(&self, hay: &[u8], i: usize, g: u32, h: usize, out: &mut Vec<u32>) {
        let (s, e) = (self.bucket[h] as usize, self.bucket[h + 1] as usize);
        for &(eg, p, k) in &self.entries[s..e] {
            let k = k as usize;
            if eg != g || k > i {
                continue;
            }
            let pat = &self.pats[p as usize];
            let start = i - k;
            if hay.len() - start >= pat.len()
                && hay[start..i].eq_ignore_ascii_case(&pat[..k])
                && hay[i + 4..start + pat.len()].eq_ignore_ascii_case(&pat[k + 4..])
            {
                out.push(p);
            }
        }
    }

    /// Appends to `out` the index of the pattern of every occurrence in `hay`.
    #[inline(never)]
    pub(crate) fn find_all(&self, hay: &[u8], out: &mut Vec<u32>) {
        let fold = &*self.fold;
        let bits = &*self.bits;
        let any2 = &*self.any2;
        let bits2 = &*self.bits2;
        let bits3 = &*self.bits3;
        // The folded 4 bytes ending at `j`, little-endian (byte `j` in the high byte).
        let mut g = 0u32;
        for (j, &b) in hay.iter().enumerate() {
            let f = fold[usize::from(b)];
            if f & SHORT != 0 {
                self.shorts_at(hay, j, out);
            }
            g = (g >> 8) | (u32::from(f as u8) << 24);
            let k2 = g >> 16;
            if any2[k2 as usize >> 6] & (1 << (k2 & 63)) == 0 {
                continue;
            }
            if bits2[k2 as usize >> 6] & (1 << (k2 & 63)) != 0 && j >= 1 {
                Self::shorts_end(&self.short2, k2, out);
            }
            let k3 = g >> 8;
            let h3 = hash(k3);
            if bits3[h3 >> 6] & (1 << (h3 & 63)) != 0 && j >= 2 {
                Self::shorts_end(&self.short3, k3, out);
            }
            let h = hash(g);
            if bits[h >> 6] & (1 << (h & 63)) != 0 && j >= 3 {
                self.verify(hay, j - 3, g, h, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};

    #[test]
    fn same_matches_as_aho_corasick() {
        let pats: Vec<&[u8]> = vec![
            b"a",
            b"\x00",
            b"ab",
            b"Abc",
            b"abcd",
            b"ABCDE",
            b"bcd",
            b"cdef",
            b"\x00\x00\x00\x00",
            b"\xff\xfeAb",
            b"hello world",
            b"WORLD",
            b"orl",
            b"\xc3\xa9t\xc3\xa9",
            b"zzzz",
            b"abcdabcd",
        ];
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .unwrap();
        let gs = GramScanner::new(pats.iter().copied());
        let mut rng = 7u64;
        for n in 0..400 {
            let len = n % 40;
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let alpha = b"aAbBcCdDeEfF\x00\xff\xfe zZHhWwOoRrLl\xc3\xa9t";
                    alpha[(rng as usize) % alpha.len()]
                })
                .collect();
            let mut want: Vec<usize> =
                ac.find_overlapping_iter(&hay).map(|m| m.pattern().as_usize()).collect();
            let mut got = Vec::new();
            gs.find_all(&hay, &mut got);
            let mut got: Vec<usize> = got.into_iter().map(|p| p as usize).collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "haystack {hay:?}");
        }
        let mut got = Vec::new();
        gs.find_all(b"xx HELLO WORLD abcdabcd", &mut got);
        got.sort_unstable();
        assert_eq!(got, vec![0, 0, 2, 2, 3, 3, 4, 4, 6, 6, 10, 11, 12, 15]);
    }
}

#[cfg(test)]
mod random_tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};

    /// Many random patterns over a small alphabet (crowded buckets, shared prefixes, every
    /// length class) against random haystacks.
    #[test]
    fn many_patterns_same_as_aho_corasick() {
        let alpha = b"aAbB\x00\x01zZ/.";
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut pats: Vec<Vec<u8>> = Vec::new();
        while pats.len() < 400 {
            let len = 1 + (next() % 9) as usize;
            let p: Vec<u8> = (0..len).map(|_| alpha[(next() as usize) % alpha.len()]).collect();
            if !pats.contains(&p) {
                pats.push(p);
            }
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .unwrap();
        let gs = GramScanner::new(pats.iter().map(|p| p.as_slice()));
        for _ in 0..300 {
            let len = (next() % 200) as usize;
            let hay: Vec<u8> = (0..len).map(|_| alpha[(next() as usize) % alpha.len()]).collect();
            let mut want: Vec<u32> = ac.find_overlapping_iter(&hay).map(|m| m.pattern().as_u32()).collect();
            let mut got = Vec::new();
            gs.find_all(&hay, &mut got);
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "haystack {hay:?}");
        }
    }
}
