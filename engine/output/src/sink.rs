//! Where alerts go: the `-A` mode and the files in the `-l` log directory.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::eve::{EveFormatter, EveOptions};
use crate::fast::{FastDialect, FastFormatter};
use crate::model::{Alert, FlowRecord};
use crate::time::Zone;

/// Snort 3's file name for `alert_fast` with `file = true` (`F_NAME` in `alert_fast.cc`).
pub const FAST_FILE: &str = "alert_fast.txt";
/// Suricata's default EVE file name (`DEFAULT_LOG_FILENAME` in `output-json.c`).
pub const EVE_FILE: &str = "eve.json";

/// The `-A` alert mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertMode {
    /// Fast lines to `<log_dir>/alert_fast.txt`.
    Fast,
    /// Fast lines to stdout.
    Console,
    /// EVE JSON to `<log_dir>/eve.json`.
    Json,
    /// No alert output.
    None,
}

impl AlertMode {
    pub const CHOICES: &'static str = "fast, console, json, none";
}

impl FromStr for AlertMode {
    type Err = OutputError;

    /// Accepts Snort 3's spelling: any logger name with the `alert_` prefix optional
    /// (`src/managers/event_manager.cc`), so `fast` and `alert_fast` are the same; `json`
    /// selects EVE.
    fn from_str(s: &str) -> Result<AlertMode, OutputError> {
        let name = s.strip_prefix("alert_").unwrap_or(s);
        match name {
            "fast" => Ok(AlertMode::Fast),
            "console" => Ok(AlertMode::Console),
            "json" => Ok(AlertMode::Json),
            "none" => Ok(AlertMode::None),
            _ => Err(OutputError::UnknownMode(s.to_string())),
        }
    }
}

impl fmt::Display for AlertMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlertMode::Fast => "fast",
            AlertMode::Console => "console",
            AlertMode::Json => "json",
            AlertMode::None => "none",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("unknown alert mode '{0}' (choices: {choices})", choices = AlertMode::CHOICES)]
    UnknownMode(String),
    #[error("log directory {path}: {source}")]
    LogDir { path: PathBuf, source: io::Error },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
}

/// Output settings beyond the mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    /// `-U`: UTC timestamps in fast lines *and* EVE records.
    pub utc: bool,
    /// `-y`: year in fast timestamps.
    pub year: bool,
    pub fast_dialect: FastDialect,
    /// EVE alert fields; its `zone` is replaced according to `utc`.
    pub eve: EveOptions,
    /// Write EVE `flow` records (json mode only).
    pub log_flows: bool,
    /// Flush after every alert (Snort's `TextLog_Flush` per alert). Off: flushed when the
    /// buffer fills, on [`OutputSet::flush`] and on drop. Console output always flushes.
    pub flush_each: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            utc: false,
            year: false,
            fast_dialect: FastDialect::Snort3,
            eve: EveOptions::default(),
            log_flows: false,
            flush_each: false,
        }
    }
}

/// Counters of what was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputStats {
    /// Alerts given to [`OutputSet::alert`].
    pub alerts_seen: u64,
    /// Alerts written (0 in `none` mode).
    pub alerts_written: u64,
    pub flows_written: u64,
    pub bytes_written: u64,
}

enum Format {
    Fast(FastFormatter),
    Eve(EveFormatter),
    None,
}

/// The configured alert outputs of one run. Not shared between threads: the pipeline's single
/// output stage owns it (alerts arrive there already in packet order).
pub struct OutputSet {
    mode: AlertMode,
    format: Format,
    writer: Option<BufWriter<Box<dyn Write + Send>>>,
    path: Option<PathBuf>,
    log_flows: bool,
    flush_each: bool,
    // Reused per record so the steady state allocates nothing.
    line: String,
    json: Vec<u8>,
    stats: OutputStats,
}

impl OutputSet {
    /// Opens the output for `mode` under `log_dir` (which must exist, as Snort requires of `-l`).
    /// Files are opened for appending, as Snort's `TextLog` and Suricata's EVE do.
    pub fn open(
        mode: AlertMode,
        log_dir: impl AsRef<Path>,
        options: OutputOptions,
    ) -> Result<OutputSet, OutputError> {
        let file_name = match mode {
            AlertMode::Fast => FAST_FILE,
            AlertMode::Json => EVE_FILE,
            AlertMode::Console => return Ok(Self::with_writer(mode, Box::new(io::stdout()), options)),
            AlertMode::None => return Ok(Self::build(mode, None, None, options)),
        };
        let dir = log_dir.as_ref();
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(OutputError::LogDir {
                    path: dir.to_path_buf(),
                    source: io::Error::new(io::ErrorKind::InvalidInput, "not a directory"),
                })
            }
            Err(source) => return Err(OutputError::LogDir { path: dir.to_path_buf(), source }),
        }
        let path = dir.join(file_name);
        let file: File = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|source| OutputError::Open { path: path.clone(), source })?;
        Ok(Self::build(mode, Some(Box::new(file)), Some(path), options))
    }

    /// Writes `mode`'s format to any writer (stdout for console; a socket, or a buffer in tests).
    /// `None` mode ignores the writer.
    pub fn with_writer(mode: AlertMode, writer: Box<dyn Write + Send>, options: OutputOptions) -> OutputSet {
        let writer = (mode != AlertMode::None).then_some(writer);
        Self::build(mode, writer, None, options)
    }

    fn build(
        mode: AlertMode,
        writer: Option<Box<dyn Write + Send>>,
        path: Option<PathBuf>,
        options: OutputOptions,
    ) -> OutputSet {
        let zone = if options.utc { Zone::Utc } else { Zone::local_fixed_now() };
        let format = match mode {
            AlertMode::Fast | AlertMode::Console => {
                Format::Fast(FastFormatter { zone, year: options.year, dialect: options.fast_dialect })
            }
            AlertMode::Json => {
                let eve_zone = if options.utc { Zone::Utc } else { options.eve.zone };
                Format::Eve(EveFormatter::new(EveOptions { zone: eve_zone, ..options.eve }))
            }
            AlertMode::None => Format::None,
        };
        OutputSet {
            mode,
            format,
            writer: writer.map(|w| BufWriter::with_capacity(64 * 1024, w)),
            path,
            log_flows: options.log_flows,
            flush_each: options.flush_each || mode == AlertMode::Console,
            line: String::with_capacity(512),
            json: Vec::with_capacity(2048),
            stats: OutputStats::default(),
        }
    }

    pub fn mode(&self) -> AlertMode {
        self.mode
    }

    /// The file being written, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn stats(&self) -> OutputStats {
        self.stats
    }

    /// Logs one alert.
    pub fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        self.stats.alerts_seen += 1;
        let Some(writer) = self.writer.as_mut() else { return Ok(()) };
        let bytes: &[u8] = match &self.format {
            Format::Fast(f) => {
                self.line.clear();
                f.format(alert, &mut self.line);
                self.line.as_bytes()
            }
            Format::Eve(e) => {
                self.json.clear();
                e.alert(alert, &mut self.json).map_err(io::Error::other)?;
                &self.json
            }
            Format::None => return Ok(()),
        };
        writer.write_all(bytes)?;
        if self.flush_each {
            writer.flush()?;
        }
        self.stats.alerts_written += 1;
        self.stats.bytes_written += bytes.len() as u64;
        Ok(())
    }

    /// Logs one ended flow: EVE only, and only when flow logging is enabled.
    pub fn flow(&mut self, flow: &FlowRecord) -> io::Result<()> {
        if !self.log_flows {
            return Ok(());
        }
        let (Format::Eve(e), Some(writer)) = (&self.format, self.writer.as_mut()) else { return Ok(()) };
        self.json.clear();
        e.flow(flow, &mut self.json).map_err(io::Error::other)?;
        writer.write_all(&self.json)?;
        self.stats.flows_written += 1;
        self.stats.bytes_written += self.json.len() as u64;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; callers who care call `flush` first.
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_snort_spellings() {
        assert_eq!("fast".parse::<AlertMode>().unwrap(), AlertMode::Fast);
        assert_eq!("alert_fast".parse::<AlertMode>().unwrap(), AlertMode::Fast);
        assert_eq!("console".parse::<AlertMode>().unwrap(), AlertMode::Console);
        assert_eq!("json".parse::<AlertMode>().unwrap(), AlertMode::Json);
        assert_eq!("alert_json".parse::<AlertMode>().unwrap(), AlertMode::Json);
        assert_eq!("none".parse::<AlertMode>().unwrap(), AlertMode::None);
        let err = "full".parse::<AlertMode>().unwrap_err().to_string();
        assert_eq!(err, "unknown alert mode 'full' (choices: fast, console, json, none)");
        assert!("FAST".parse::<AlertMode>().is_err());
    }
}
