//! Packet sources for `ids`: pcap and pcapng files, gzip-compressed or not, from a path or stdin,
//! and directories of them.
//!
//! # Use
//!
//! [`expand_inputs`] turns command-line paths into a list of files; [`open`] (or [`open_reader`]
//! for any byte stream) gives a [`PacketSource`], a *lending* reader: each
//! [`PacketSource::next_packet`] returns a [`PacketRecord`] whose `data` borrows the source's
//! buffer until the next call. The format is detected by magic number, never by file name: gzip
//! (`1f 8b`, decompressed as a stream, several members allowed), then pcap or pcapng.
//!
//! ```no_run
//! # fn main() -> Result<(), ids_capture::CaptureError> {
//! for path in ids_capture::expand_inputs(&["captures/".into(), "-".into()])? {
//!     let mut source = ids_capture::open(&path)?;
//!     while let Some(pkt) = source.next_packet()? {
//!         println!("{} {} {}/{} bytes", pkt.ts, pkt.link_type, pkt.data.len(), pkt.orig_len);
//!     }
//!     eprintln!("{}: {:?}", source.name(), source.stats());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! - **No panics, no unbounded memory** on any input. Lengths from the file are checked before use
//!   and bounded: a packet holds at most [`MAX_CAPLEN`] bytes, a pcapng block at most
//!   [`MAX_BLOCK_LEN`]; the buffer only grows to the largest block actually read. Unread pcapng
//!   blocks are skipped as a stream, never buffered.
//! - **Streaming**: files of any size and pipes are read through one buffer (1 MiB to start);
//!   nothing is read ahead beyond it.
//! - **At most one copy per packet**: the `read()` into the buffer (and, for gzip, the
//!   decompression into it). No per-packet allocation.
//! - **Damage is counted, not fatal.** A file that ends inside a header or record yields every
//!   complete packet, counts `truncated_file`, then ends (`Ok(None)`); a truncated gzip stream
//!   counts the same way. A record length we cannot believe counts `bad_records`: in pcap it ends
//!   the file (nothing to resynchronise on), in pcapng the block is skipped when its framing is
//!   intact. Errors ([`CaptureError`]) are kept for an unreadable stream, a stream that is not a
//!   capture, and an unusable first pcapng section header. After an error or the end, a source
//!   keeps returning `Ok(None)`.
//! - `data.len() <= orig_len` always holds (a record claiming a smaller original length than it
//!   carries gets `orig_len = data.len()`).
//! - Link types are `LINKTYPE_*` numbers: the FCS-length bits some writers put in the upper bits of
//!   the link type field are masked off (as libpcap does), and the pcap DLT values that differ
//!   between systems are mapped (DLT_RAW 12 and 14 to `LINKTYPE_RAW`, DLT_ATM_RFC1483 11 to 100).
//!   DLT 12 is DLT_LOOP on OpenBSD only; like Wireshark we read it as raw IP.
//!
//! # Tolerances (following tshark rather than the letter of the formats)
//!
//! - A captured length above the file's (or interface's) snaplen but within [`MAX_CAPLEN`] is
//!   accepted whole, and counted in `caplen_over_snaplen`. Such files are common (the fuzzed
//!   tcpdump captures, wrong snaplens written by tools); the bytes are in the file, so an IDS
//!   should inspect them. libpcap would cut the packet to the snaplen; Wireshark keeps it.
//! - pcap `thiszone`, version numbers and sigfigs are ignored; subsecond fields are not
//!   range-checked (an out-of-range value just adds to the time).
//!
//! # Why the framing is written by hand
//!
//! pcap-parser's streaming readers need their circular buffer sized for the largest block up
//! front, report truncation and corruption through the same error paths (we must count them
//! differently), and leave `if_tsresol`/`if_tsoffset` and interface bookkeeping across sections to
//! the caller. The framing itself is small (a record header, a block header); owning it gives
//! exact control over buffer lifetime (the lending API), sanity bounds and the
//! truncated-versus-corrupt decisions above.

mod error;
mod input;
mod pcap;
mod pcapng;
mod types;

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use error::CaptureError;
pub use pcapng::MAX_BLOCK_LEN;
pub use types::{LinkType, Timestamp};

use input::Input;

/// Largest captured length we accept for one packet (libpcap's and Wireshark's maximum snapshot
/// length). A bigger value in a record header is corruption, not a packet.
pub const MAX_CAPLEN: u32 = 262_144;

/// One packet, borrowed from its source's buffer until the next `next_packet` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketRecord<'a> {
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// Interface number: 0 for pcap; for pcapng the position of the interface's description block
    /// in the file, counted across sections (so it is unique within the file).
    pub interface: u32,
    /// Length of the packet on the wire; at least `data.len()`.
    pub orig_len: u32,
    pub data: &'a [u8],
}

/// A source of packets: a capture file or stream.
pub trait PacketSource: Send {
    /// Next packet, borrowed from the source's buffer; Ok(None) at the end.
    fn next_packet(&mut self) -> Result<Option<PacketRecord<'_>>, CaptureError>;
    /// Counters so far.
    fn stats(&self) -> &CaptureStats;
    /// Human name for messages ("file.pcap", "-" for stdin).
    fn name(&self) -> &str;
}

/// Per-source counters. The anomaly counters are what the end-of-run summary reports.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets returned.
    pub packets: u64,
    /// Captured bytes returned (sum of `data.len()`).
    pub bytes: u64,
    /// Packets whose captured length is below the original length (snaplen cut).
    pub snaplen_truncated: u64,
    /// The file ended inside a header, record or block (or the gzip stream was cut off).
    pub truncated_file: u64,
    /// pcapng blocks skipped because the engine has no use for them (name resolution, statistics,
    /// decryption secrets, custom and unknown blocks).
    pub skipped_blocks: u64,
    /// Records or blocks that could not be believed: skipped (pcapng packet blocks) or, where the
    /// framing is lost, ending the file.
    pub bad_records: u64,
    /// Packets accepted with a captured length above the snaplen of their file or interface.
    pub caplen_over_snaplen: u64,
}

/// Maps the link type field of a pcap header or pcapng IDB to a `LINKTYPE_*` value.
pub(crate) fn link_type_from_file(raw: u32) -> LinkType {
    // Upper bits carry the FCS length (libpcap's LT_LINKTYPE mask).
    match raw & 0x03ff_ffff {
        // DLT_ATM_RFC1483 on nearly every system.
        11 => LinkType(100),
        // DLT_RAW: 12 on most systems, 14 on BSD/OS and OpenBSD.
        12 | 14 => LinkType::RAW,
        lt => LinkType(lt),
    }
}

/// Opens a capture file; `-` is stdin. Gzip, pcap and pcapng are detected by magic number.
pub fn open(path: &Path) -> Result<Box<dyn PacketSource>, CaptureError> {
    if path == Path::new("-") {
        return open_reader("-", Box::new(io::stdin()));
    }
    let file = File::open(path).map_err(|source| CaptureError::Io { path: path.to_path_buf(), source })?;
    open_named(path.display().to_string(), path.to_path_buf(), Box::new(file))
}

/// Opens a capture from any byte stream; `name` is used in messages and errors.
pub fn open_reader(name: &str, reader: Box<dyn Read + Send>) -> Result<Box<dyn PacketSource>, CaptureError> {
    open_named(name.to_string(), PathBuf::from(name), reader)
}

fn open_named(
    name: String,
    path: PathBuf,
    mut reader: Box<dyn Read + Send>,
) -> Result<Box<dyn PacketSource>, CaptureError> {
    let io_err = |path: &Path, source| CaptureError::Io { path: path.to_path_buf(), source };
    let mut prefix = [0u8; 4];
    let n = read_prefix(&mut reader, &mut prefix).map_err(|e| io_err(&path, e))?;
    let mut input = if n >= 2 && prefix[..2] == [0x1f, 0x8b] {
        // Decompress as a stream; the sniffed bytes go back in front. MultiGzDecoder so that
        // concatenated members (`cat a.gz b.gz`, rotated logs) read as one capture.
        let raw = io::Cursor::new(prefix[..n].to_vec()).chain(reader);
        Input::new(Box::new(flate2::read::MultiGzDecoder::new(raw)), &[])
    } else {
        Input::new(reader, &prefix[..n])
    };
    // Up to four bytes of magic; a shorter stream may still be a capture cut inside its magic.
    input.ensure(4).map_err(|e| io_err(&path, e))?;
    let head = input.available();
    let head = &head[..head.len().min(4)];
    if head.is_empty() {
        return Err(CaptureError::NotACapture { path });
    }
    if let Some((endian, magic)) = sniff_pcap_prefix(head) {
        return Ok(Box::new(pcap::PcapSource::new(name, path, input, endian, magic)?));
    }
    if pcapng::SHB_MAGIC.starts_with(head) {
        return Ok(Box::new(pcapng::PcapngSource::new(name, path, input)?));
    }
    Err(CaptureError::NotACapture { path })
}

/// pcap magic for 4 bytes; for a stream cut inside its magic, the first magic it is a prefix of.
fn sniff_pcap_prefix(head: &[u8]) -> Option<(input::Endian, u32)> {
    if let Ok(m) = <[u8; 4]>::try_from(head) {
        return pcap::sniff(m);
    }
    [pcap::MAGIC_USEC, pcap::MAGIC_NSEC, pcap::MAGIC_MODIFIED].into_iter().find_map(|m| {
        if m.to_be_bytes().starts_with(head) {
            Some((input::Endian::Big, m))
        } else if m.to_le_bytes().starts_with(head) {
            Some((input::Endian::Little, m))
        } else {
            None
        }
    })
}

/// Reads up to `buf.len()` bytes, fewer only at end of stream.
fn read_prefix(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Expands command-line inputs: a directory becomes all regular files under it, recursively,
/// sorted by path (component by component); files and `-` are kept, in the given order.
///
/// Symbolic links to files are followed; symbolic links to directories inside a directory are not
/// descended into (no cycles). A path that does not exist is an error here, before any packet is
/// read. Which of the files are captures is decided when they are opened.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CaptureError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(path.clone());
            continue;
        }
        let meta = fs::metadata(path).map_err(|source| CaptureError::Io { path: path.clone(), source })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CaptureError> {
    let io_err = |source| CaptureError::Io { path: dir.to_path_buf(), source };
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let path = entry.path();
        let file_type =
            entry.file_type().map_err(|source| CaptureError::Io { path: path.clone(), source })?;
        if file_type.is_dir() {
            walk(&path, out)?;
        } else if file_type.is_file() {
            out.push(path);
        } else if file_type.is_symlink() {
            // Follow links to regular files only; a dangling link is skipped.
            if fs::metadata(&path).map(|m| m.is_file()).unwrap_or(false) {
                out.push(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
