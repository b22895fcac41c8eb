//! pcapng: a sequence of blocks `type, total_length, body, total_length`, grouped in sections.
//!
//! - Each Section Header Block (SHB) sets the byte order for its section (its type is a palindrome
//!   and its byte-order magic tells the order) and starts a fresh interface list.
//! - Interface Description Blocks (IDB) give link type, snaplen, `if_tsresol` (power of 10 or of
//!   2, default microseconds) and `if_tsoffset` (seconds added to every timestamp).
//! - Packets come from Enhanced Packet Blocks (EPB), Simple Packet Blocks (SPB: interface 0, no
//!   timestamp — we reuse the last timestamp seen so capture time never jumps back to 1970) and
//!   the obsolete Packet Block (PB, type 2).
//! - Every other block (name resolution, statistics, decryption secrets, custom, ...) is skipped
//!   without being buffered, and counted in `skipped_blocks`.
//!
//! Unlike pcap, pcapng is self-framing, and the trailing copy of the block length lets us check
//! the framing. So a packet block whose contents are wrong (captured length beyond the block or
//! above [`crate::MAX_CAPLEN`], unknown interface) is counted in `bad_records` and skipped, and
//! reading goes on. Only broken framing (block length below the minimum, not a multiple of 4, above
//! [`MAX_BLOCK_LEN`], or trailing length different from the leading one) ends the file, because
//! after that no block boundary can be trusted; tshark stops there too.

use std::path::PathBuf;

use crate::input::{Endian, Input};
use crate::{
    link_type_from_file, CaptureError, CaptureStats, LinkType, PacketRecord, PacketSource, Timestamp,
    MAX_CAPLEN,
};

pub(crate) const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

const BT_IDB: u32 = 1;
const BT_PB: u32 = 2;
const BT_SPB: u32 = 3;
const BT_EPB: u32 = 6;

const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// Largest block we accept. Packet blocks are at most [`MAX_CAPLEN`] of data plus options, so this
/// leaves ample room for options and for blocks we only skip; anything bigger is a broken length
/// field, not a block.
pub const MAX_BLOCK_LEN: u32 = 16 << 20;

/// Interfaces per section. A real section has a handful; the cap bounds memory on hostile files.
const MAX_INTERFACES: usize = 1 << 16;

/// Converts a raw 64-bit timestamp of an interface to nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TsUnit {
    /// Units coarser than or equal to a nanosecond: multiply.
    Mul(u64),
    /// Power-of-10 units finer than a nanosecond: divide.
    Div(u64),
    /// 2^-n seconds.
    Pow2(u32),
    /// Units so fine that any 64-bit value is less than a nanosecond.
    Zero,
}

impl TsUnit {
    /// From the `if_tsresol` byte: high bit clear = 10^-n s, set = 2^-n s.
    fn from_tsresol(v: u8) -> TsUnit {
        let n = u32::from(v & 0x7f);
        if v & 0x80 != 0 {
            TsUnit::Pow2(n)
        } else if n <= 9 {
            TsUnit::Mul(10u64.pow(9 - n))
        } else if n - 9 <= 19 {
            TsUnit::Div(10u64.pow(n - 9))
        } else {
            TsUnit::Zero
        }
    }

    #[inline]
    fn to_nanos(self, units: u64) -> i64 {
        let ns = match self {
            TsUnit::Mul(m) => units.saturating_mul(m),
            TsUnit::Div(d) => units / d,
            // units < 2^64 and 1e9 < 2^30: the product fits in u128; n <= 127 keeps the shift valid.
            TsUnit::Pow2(n) => u64::try_from((u128::from(units) * 1_000_000_000) >> n).unwrap_or(u64::MAX),
            TsUnit::Zero => 0,
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    unit: TsUnit,
    offset_ns: i64,
}

impl Interface {
    #[inline]
    fn timestamp(&self, hi: u32, lo: u32) -> Timestamp {
        let units = (u64::from(hi) << 32) | u64::from(lo);
        Timestamp(self.unit.to_nanos(units)).add_nanos(self.offset_ns)
    }
}

/// Parses an IDB whose `block` bytes (type to trailing length) are all there; `None` if it is
/// too short to hold the fixed fields.
fn interface_description(e: Endian, block: &[u8]) -> Option<Interface> {
    if block.len() < 20 {
        return None;
    }
    let mut iface = Interface {
        link_type: link_type_from_file(u32::from(e.u16(block, 8))),
        snaplen: e.u32(block, 12),
        unit: TsUnit::Mul(1000),
        offset_ns: 0,
    };
    // Options lie between the fixed fields and the trailing length. A malformed option ends the
    // option list; the interface itself stays usable.
    let opts = &block[16..block.len() - 4];
    let mut at = 0usize;
    while at + 4 <= opts.len() {
        let code = e.u16(opts, at);
        let len = usize::from(e.u16(opts, at + 2));
        let value_at = at + 4;
        if code == OPT_ENDOFOPT || value_at + len > opts.len() {
            break;
        }
        let value = &opts[value_at..value_at + len];
        match code {
            OPT_IF_TSRESOL if len >= 1 => iface.unit = TsUnit::from_tsresol(value[0]),
            OPT_IF_TSOFFSET if len >= 8 => {
                iface.offset_ns = e.i64(value, 0).saturating_mul(1_000_000_000);
            }
            _ => {}
        }
        // Values are padded to 32 bits.
        at = value_at + len.next_multiple_of(4);
    }
    Some(iface)
}

/// What a packet block turned out to contain.
enum Parsed {
    Packet { iface: u32, info: Interface, ts: Timestamp, caplen: u32, orig_len: u32, data_at: usize },
    Bad,
}

pub(crate) struct PcapngSource {
    name: String,
    path: PathBuf,
    input: Input,
    endian: Endian,
    /// Interfaces of the current section.
    interfaces: Vec<Interface>,
    /// Interfaces of earlier sections: record `interface` numbers are file-wide.
    interface_base: u32,
    last_ts: Timestamp,
    stats: CaptureStats,
    done: bool,
}

impl PcapngSource {
    /// `input` starts with the SHB magic (or a prefix of it).
    pub(crate) fn new(name: String, path: PathBuf, input: Input) -> Result<Self, CaptureError> {
        let mut src = PcapngSource {
            name,
            path,
            input,
            endian: Endian::Little,
            interfaces: Vec::new(),
            interface_base: 0,
            last_ts: Timestamp::ZERO,
            stats: CaptureStats::default(),
            done: false,
        };
        src.section_header(true)?;
        Ok(src)
    }

    /// Reads the SHB at the current position. A broken first SHB is an error (the file is not
    /// usable at all); a broken later one ends the file like any broken framing.
    fn section_header(&mut self, first: bool) -> Result<(), CaptureError> {
        if !self.ensure(12)? {
            return Ok(());
        }
        let head = self.input.available();
        let endian = if Endian::Big.u32(head, 8) == BYTE_ORDER_MAGIC {
            Endian::Big
        } else if Endian::Little.u32(head, 8) == BYTE_ORDER_MAGIC {
            Endian::Little
        } else {
            return self.broken(first, "section header with unknown byte-order magic");
        };
        let len = endian.u32(head, 4);
        // type, length, magic, version (2+2), section length (8), trailing length.
        if len < 28 || len % 4 != 0 || len > MAX_BLOCK_LEN {
            return self.broken(first, "section header with impossible block length");
        }
        if !self.ensure(len as usize)? {
            return Ok(());
        }
        if endian.u32(self.input.available(), len as usize - 4) != len {
            return self.broken(first, "section header lengths differ");
        }
        // Options (hardware, OS, application) are of no use to the engine.
        self.input.consume(len as usize);
        self.endian = endian;
        let previous = u32::try_from(self.interfaces.len()).unwrap_or(u32::MAX);
        self.interface_base = self.interface_base.saturating_add(previous);
        self.interfaces.clear();
        Ok(())
    }

    /// Broken framing: an error for the first SHB, otherwise a counted end of file.
    fn broken(&mut self, first: bool, reason: &str) -> Result<(), CaptureError> {
        self.done = true;
        if first {
            return Err(CaptureError::Corrupt {
                path: self.path.clone(),
                offset: self.input.offset(),
                reason: reason.to_string(),
            });
        }
        self.stats.bad_records += 1;
        Ok(())
    }

    /// `ensure` that turns end of data into a counted, finished source (`Ok(false)`).
    #[inline]
    fn ensure(&mut self, n: usize) -> Result<bool, CaptureError> {
        match self.input.ensure(n) {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.end_of_data();
                Ok(false)
            }
            Err(source) => {
                self.done = true;
                Err(CaptureError::Io { path: self.path.clone(), source })
            }
        }
    }

    fn end_of_data(&mut self) {
        if self.input.ended_early() {
            self.stats.truncated_file += 1;
        }
        self.done = true;
    }

    /// Parses a packet block (EPB, PB or SPB) whose `block` bytes (from the type to the trailing
    /// length) are all available.
    fn packet_block(&self, btype: u32, block: &[u8]) -> Parsed {
        let e = self.endian;
        let body = &block[8..block.len() - 4];
        let (iface_id, info, ts, caplen, orig_len, data_at) = match btype {
            BT_EPB | BT_PB => {
                if body.len() < 20 {
                    return Parsed::Bad;
                }
                let iface_id = if btype == BT_EPB { e.u32(body, 0) } else { u32::from(e.u16(body, 0)) };
                let Some(iface) = self.interfaces.get(iface_id as usize) else {
                    return Parsed::Bad;
                };
                let ts = iface.timestamp(e.u32(body, 4), e.u32(body, 8));
                (iface_id, *iface, ts, e.u32(body, 12), e.u32(body, 16), 8 + 20)
            }
            _ => {
                // SPB: the captured length is implied: the original length, cut to the data
                // present in the block and to interface 0's snaplen.
                if body.len() < 4 {
                    return Parsed::Bad;
                }
                let Some(iface) = self.interfaces.first() else {
                    return Parsed::Bad;
                };
                let orig_len = e.u32(body, 0);
                let room = u32::try_from(body.len() - 4).unwrap_or(u32::MAX);
                let mut caplen = orig_len.min(room);
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen);
                }
                (0, *iface, self.last_ts, caplen, orig_len, 8 + 4)
            }
        };
        // data_at + caplen <= block.len() - 4 also checked in usize, no overflow: caplen is bounded.
        if caplen > MAX_CAPLEN || data_at + caplen as usize > block.len() - 4 {
            return Parsed::Bad;
        }
        Parsed::Packet { iface: iface_id, info, ts, caplen, orig_len, data_at }
    }
}

impl PacketSource for PcapngSource {
    fn next_packet(&mut self) -> Result<Option<PacketRecord<'_>>, CaptureError> {
        loop {
            if self.done {
                return Ok(None);
            }
            if !self.ensure(8)? {
                return Ok(None);
            }
            let head = self.input.available();
            if head[..4] == SHB_MAGIC {
                self.section_header(false)?;
                continue;
            }
            let e = self.endian;
            let btype = e.u32(head, 0);
            let len = e.u32(head, 4);
            if len < 12 || len % 4 != 0 || len > MAX_BLOCK_LEN {
                self.stats.bad_records += 1;
                self.done = true;
                return Ok(None);
            }
            let len = len as usize;
            match btype {
                BT_EPB | BT_PB | BT_SPB | BT_IDB => {}
                _ => {
                    // Streamed past, never buffered whole: these can be large (decryption
                    // secrets, custom blocks) and we have no use for them.
                    self.stats.skipped_blocks += 1;
                    match self.input.skip(len as u64) {
                        Ok(true) => continue,
                        Ok(false) => {
                            // The file ended inside the skipped block.
                            self.stats.truncated_file += 1;
                            self.done = true;
                            return Ok(None);
                        }
                        Err(source) => {
                            self.done = true;
                            return Err(CaptureError::Io { path: self.path.clone(), source });
                        }
                    }
                }
            }
            if !self.ensure(len)? {
                return Ok(None);
            }
            let block = &self.input.available()[..len];
            if e.u32(block, len - 4) != len as u32 {
                self.stats.bad_records += 1;
                self.done = true;
                return Ok(None);
            }
            if btype == BT_IDB {
                match interface_description(e, block) {
                    Some(iface) if self.interfaces.len() < MAX_INTERFACES => self.interfaces.push(iface),
                    _ => self.stats.bad_records += 1,
                }
                self.input.consume(len);
                continue;
            }
            let parsed = self.packet_block(btype, block);
            let block_start = self.input.pos();
            self.input.consume(len);
            match parsed {
                Parsed::Bad => {
                    self.stats.bad_records += 1;
                    continue;
                }
                Parsed::Packet { iface, info, ts, caplen, orig_len, data_at } => {
                    if btype != BT_SPB {
                        self.last_ts = ts;
                    }
                    self.stats.packets += 1;
                    self.stats.bytes += u64::from(caplen);
                    if caplen < orig_len {
                        self.stats.snaplen_truncated += 1;
                    }
                    if info.snaplen != 0 && caplen > info.snaplen {
                        self.stats.caplen_over_snaplen += 1;
                    }
                    let start = block_start + data_at;
                    return Ok(Some(PacketRecord {
                        ts,
                        link_type: info.link_type,
                        interface: self.interface_base.saturating_add(iface),
                        orig_len: orig_len.max(caplen),
                        data: &self.input.buffer()[start..start + caplen as usize],
                    }));
                }
            }
        }
    }

    fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_units() {
        assert_eq!(TsUnit::from_tsresol(6).to_nanos(1_500_000), 1_500_000_000);
        assert_eq!(TsUnit::from_tsresol(9).to_nanos(7), 7);
        assert_eq!(TsUnit::from_tsresol(0).to_nanos(2), 2_000_000_000);
        assert_eq!(TsUnit::from_tsresol(12).to_nanos(5_000), 5);
        assert_eq!(TsUnit::from_tsresol(127).to_nanos(u64::MAX), 0);
        // 2^-10 s units: 1024 units = 1 s.
        assert_eq!(TsUnit::from_tsresol(0x80 | 10).to_nanos(1024 * 3 + 512), 3_500_000_000);
        assert_eq!(TsUnit::from_tsresol(0x80).to_nanos(u64::MAX), i64::MAX);
        assert_eq!(TsUnit::from_tsresol(0xff).to_nanos(u64::MAX), 0);
        assert_eq!(TsUnit::from_tsresol(0).to_nanos(u64::MAX), i64::MAX);
    }
}
