use std::io;
use std::path::PathBuf;

/// Why a capture could not be opened or read.
///
/// Damage *inside* a capture (a truncated file, an absurd record length, an unknown block) is not an
/// error: it ends or skips part of the source and is counted in [`crate::CaptureStats`]. Errors
/// are for things that make the source unusable: the file cannot be read at all, it is not a
/// capture, or its very first header is unusable.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Opening or reading failed (including corrupt gzip data).
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The data does not start with a pcap, pcapng or gzip magic number.
    #[error("{}: not a pcap or pcapng capture (unknown magic number)", path.display())]
    NotACapture { path: PathBuf },
    /// The file header is recognised but unusable (e.g. a pcapng byte-order magic that is neither
    /// order).
    #[error("{}: corrupt capture at byte {offset}: {reason}", path.display())]
    Corrupt { path: PathBuf, offset: u64, reason: String },
}
