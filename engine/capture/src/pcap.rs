//! Classic libpcap files: a 24-byte file header, then records of a 16-byte header and the data.
//!
//! Variants: microsecond (`a1b2c3d4`) and nanosecond (`a1b23c4d`) magic in either byte order, and
//! Kuznetzov's "modified" pcap (`a1b2cd34`, records carry 8 extra header bytes that we skip).
//!
//! There is nothing in a pcap file to resynchronise on, so a record header we do not believe
//! (captured length above [`crate::MAX_CAPLEN`]) ends the file: counted in `bad_records`, then
//! `Ok(None)`. This is where tshark also stops ("File has N-byte packet, bigger than maximum"), and
//! libpcap, under Snort, fails the read.

use std::path::PathBuf;

use crate::input::{Endian, Input};
use crate::{
    link_type_from_file, CaptureError, CaptureStats, LinkType, PacketRecord, PacketSource, Timestamp,
    MAX_CAPLEN,
};

pub(crate) const MAGIC_USEC: u32 = 0xa1b2_c3d4;
pub(crate) const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
pub(crate) const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

const FILE_HEADER_LEN: usize = 24;

/// Byte order and flavour from the first four bytes, if they are a pcap magic.
pub(crate) fn sniff(magic: [u8; 4]) -> Option<(Endian, u32)> {
    let be = u32::from_be_bytes(magic);
    let le = u32::from_le_bytes(magic);
    for m in [MAGIC_USEC, MAGIC_NSEC, MAGIC_MODIFIED] {
        if be == m {
            return Some((Endian::Big, m));
        }
        if le == m {
            return Some((Endian::Little, m));
        }
    }
    None
}

pub(crate) struct PcapSource {
    name: String,
    path: PathBuf,
    input: Input,
    endian: Endian,
    nanos: bool,
    /// 16, or 24 for the modified format.
    record_header_len: usize,
    link_type: LinkType,
    /// From the file header; 0 means "unknown", no check.
    snaplen: u32,
    stats: CaptureStats,
    done: bool,
}

impl PcapSource {
    /// `input` starts with a magic that [`sniff`] accepted (or a prefix of one, for a file cut
    /// inside its magic).
    pub(crate) fn new(
        name: String,
        path: PathBuf,
        mut input: Input,
        endian: Endian,
        magic: u32,
    ) -> Result<Self, CaptureError> {
        let mut stats = CaptureStats::default();
        let mut done = false;
        let mut snaplen = 0;
        let mut link_type = LinkType::ETHERNET;
        match input.ensure(FILE_HEADER_LEN) {
            Ok(true) => {
                let h = &input.available()[..FILE_HEADER_LEN];
                // Version and thiszone are ignored, as libpcap and Wireshark do: thiszone is 0 in
                // practice and garbage in fuzzed files.
                snaplen = endian.u32(h, 16);
                link_type = link_type_from_file(endian.u32(h, 20));
                input.consume(FILE_HEADER_LEN);
            }
            // A file cut inside its own header is a truncated capture with no packets.
            Ok(false) => {
                stats.truncated_file += 1;
                done = true;
            }
            Err(source) => return Err(CaptureError::Io { path, source }),
        }
        Ok(PcapSource {
            name,
            path,
            input,
            endian,
            nanos: magic == MAGIC_NSEC,
            record_header_len: if magic == MAGIC_MODIFIED { 24 } else { 16 },
            link_type,
            snaplen,
            stats,
            done,
        })
    }

    fn end_of_data(&mut self) -> Option<PacketRecord<'_>> {
        if self.input.ended_early() {
            self.stats.truncated_file += 1;
        }
        self.done = true;
        None
    }

    fn io_error(&mut self, e: std::io::Error) -> CaptureError {
        self.done = true;
        CaptureError::Io { path: self.path.clone(), source: e }
    }
}

impl PacketSource for PcapSource {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<PacketRecord<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let hl = self.record_header_len;
        match self.input.ensure(hl) {
            Ok(true) => {}
            Ok(false) => return Ok(self.end_of_data()),
            Err(e) => return Err(self.io_error(e)),
        }
        let h = self.input.available();
        let e = self.endian;
        let secs = e.u32(h, 0);
        let frac = e.u32(h, 4);
        let caplen = e.u32(h, 8);
        let orig_len = e.u32(h, 12);
        if caplen > MAX_CAPLEN {
            self.stats.bad_records += 1;
            self.done = true;
            return Ok(None);
        }
        // caplen <= MAX_CAPLEN, so this cannot overflow.
        let total = hl + caplen as usize;
        match self.input.ensure(total) {
            Ok(true) => {}
            Ok(false) => return Ok(self.end_of_data()),
            Err(e) => return Err(self.io_error(e)),
        }
        let start = self.input.pos() + hl;
        self.input.consume(total);

        // Seconds are unsigned in the format (good until 2106); the fraction is not range-checked,
        // an out-of-range value just adds to the time (tshark shows such times as garbage).
        // (Computed in i64 rather than with `from_secs_micros`, whose u32 nanosecond field would
        // saturate on such values.)
        let frac_ns = if self.nanos { i64::from(frac) } else { i64::from(frac) * 1000 };
        let ts = Timestamp::from_secs_nanos(i64::from(secs), 0).add_nanos(frac_ns);
        self.stats.packets += 1;
        self.stats.bytes += u64::from(caplen);
        if caplen < orig_len {
            self.stats.snaplen_truncated += 1;
        }
        if self.snaplen != 0 && caplen > self.snaplen {
            self.stats.caplen_over_snaplen += 1;
        }
        Ok(Some(PacketRecord {
            ts,
            link_type: self.link_type,
            interface: 0,
            orig_len: orig_len.max(caplen),
            data: &self.input.buffer()[start..start + caplen as usize],
        }))
    }

    fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    fn name(&self) -> &str {
        &self.name
    }
}
