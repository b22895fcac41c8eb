//! `ids`: the command line. Flags mean what they mean to Snort users (`-r`, `-z`, `-k`, `-n`,
//! `-q`), so their habits and scripts carry over.
//!
//! With `-R rules` the run detects: the rules are compiled once, every worker runs the
//! application layer and the rules ([`ids_inspect::Sensor`]), and alerts go to `-A` (default
//! `fast`: Snort 3's `alert_fast.txt` in the `-l` directory, the current one by default).
//!
//! Exit status: 0 when every input was read, 1 when an input could not be opened or read to its
//! end (the others are still processed), 2 for usage errors.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

mod check;
mod detect;

use anyhow::{bail, Context, Result};
use clap::Parser;
use ids_inspect::{AppLayerConfig, Sensor, SensorStats};
use ids_output::{AlertMode, OutputOptions, OutputSet};
use ids_pipeline::{ChecksumMode, EngineConfig, Input, NullInspector, NullOutput, Progress, RunSummary};
use ids_reassembly::defrag::FragPolicy;
use ids_reassembly::tcp::StreamPolicy;

#[derive(Parser, Debug)]
#[command(name = "ids", version, about = "Network intrusion detection with application identification")]
struct Args {
    /// Read packets from a capture (pcap, pcapng, optionally gzip-compressed), a directory of
    /// captures, or `-` for standard input. May be given several times; inputs are read in order.
    #[arg(short = 'r', value_name = "CAPTURE")]
    read: Vec<PathBuf>,

    /// Capture from a live interface.
    #[arg(short = 'i', value_name = "IFACE")]
    interface: Option<String>,

    /// Packet worker threads; 0 means one per core (the default).
    #[arg(short = 'z', value_name = "N", default_value_t = 0)]
    workers: usize,

    /// Checksum verification: auto (the default: verify all, unless the first 1,000 packets
    /// show checksum offload, as Suricata does for capture files), all (Snort's default),
    /// none, noip, notcp, noudp, noicmp. Packets with bad checksums are counted but not
    /// tracked or inspected.
    #[arg(short = 'k', value_name = "MODE", default_value = "auto")]
    checksums: String,

    /// Stop after reading this many packets.
    #[arg(short = 'n', value_name = "COUNT")]
    count: Option<u64>,

    /// Load rules from this file (Snort 2.9, Snort 3 or Suricata syntax); repeatable.
    #[arg(short = 'R', value_name = "RULES")]
    rules: Vec<PathBuf>,

    /// Alert mode: fast (alert_fast.txt in the log directory), console (fast lines on
    /// stdout), json (EVE records in eve.json), none. `alert_` prefixes are accepted.
    /// Default with -R: fast.
    #[arg(short = 'A', value_name = "MODE")]
    alert_mode: Option<String>,

    /// Log directory for alert files (must exist); default the current directory.
    #[arg(short = 'l', value_name = "DIR", default_value = ".")]
    log_dir: PathBuf,

    /// Timestamps in UTC.
    #[arg(short = 'U')]
    utc: bool,

    /// Show the year in fast-alert timestamps.
    #[arg(short = 'y')]
    year: bool,

    /// classification.config to read (repeatable); default: the one next to the rule files.
    #[arg(long, value_name = "FILE")]
    classification: Vec<PathBuf>,

    /// Event filtering file (Snort threshold.conf / Suricata threshold.config: `event_filter`,
    /// `threshold`, `suppress`, `rate_filter` lines; repeatable). The same lines are also read
    /// from rule files.
    #[arg(long, value_name = "FILE")]
    threshold: Vec<PathBuf>,

    /// Test the configuration: load the rule files, report loaded and rejected rules with the
    /// reasons, compile them and report what the detection engine rejected, and exit
    /// (status 1 when a rule was rejected).
    #[arg(short = 'T')]
    test: bool,

    /// Make any rule error fatal (unknown keywords, missing sid).
    #[arg(long)]
    strict: bool,

    /// Also parse `#`-commented rules (with -T: check a whole rule set, disabled rules too).
    #[arg(long)]
    include_disabled: bool,

    /// Quiet: no progress display and no summary.
    #[arg(short = 'q')]
    quiet: bool,

    /// Leave VLAN ids out of flow keys, for networks where the two directions of a connection
    /// travel on different VLANs.
    #[arg(long)]
    ignore_vlan: bool,

    /// Most flows tracked at once (over all workers).
    #[arg(long, value_name = "N")]
    max_flows: Option<usize>,

    /// Memory cap in bytes for flows and TCP reassembly queues (over all workers).
    #[arg(long, value_name = "BYTES")]
    flow_memcap: Option<usize>,

    /// TCP overlap policy: first, last, linux, old-linux, bsd, macos, solaris, irix, hpux11,
    /// hpux10, windows, win-2003, vista.
    #[arg(long, value_name = "POLICY")]
    stream_policy: Option<StreamPolicy>,

    /// IP fragment overlap policy: first, last, bsd, bsd-right, linux, windows, solaris.
    #[arg(long, value_name = "POLICY")]
    frag_policy: Option<FragPolicy>,

    /// Keep giving TLS connections' payload to content rules after the handshake (by default,
    /// as in Suricata and Snort, encrypted records are not content-inspected).
    #[arg(long)]
    inspect_encrypted: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ids: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(mut args: Args) -> Result<ExitCode> {
    if !args.threshold.is_empty() {
        if args.rules.is_empty() {
            bail!("--threshold filters rule events: give the rules with -R");
        }
        // Read after the rule files, by the same loader (so rule-file variables apply).
        args.rules.extend(std::mem::take(&mut args.threshold));
    }
    if args.test {
        if args.rules.is_empty() {
            bail!("-T checks rule files: give them with -R FILE");
        }
        let outcome = check::check(&args.rules, args.strict, args.include_disabled);
        print!("{}", outcome.text);
        let loaded =
            detect::load(&args.rules, &args.classification, args.strict, args.include_disabled, false);
        print!("{}", detect::compile_text(&loaded));
        let ok = outcome.ok && loaded.compile.rejected.is_empty();
        println!("{}", if ok { "configuration OK" } else { "configuration has errors" });
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    if let Some(iface) = &args.interface {
        bail!("live capture (-i {iface}) is not available in this build yet; read captures with -r");
    }
    if args.read.is_empty() {
        bail!("nothing to read: give a capture with -r FILE (or -r - for standard input)");
    }
    let inputs = ids_capture::expand_inputs(&args.read).context("listing inputs")?;
    let mut config = EngineConfig { max_packets: args.count, ..Default::default() };
    if args.checksums == "auto" {
        config.checksum_auto = true;
    } else {
        config.checksums = args.checksums.parse::<ChecksumMode>().map_err(anyhow::Error::msg)?;
    }
    if args.workers > 0 {
        config.workers = args.workers;
    }
    config.track_vlan = !args.ignore_vlan;
    if let Some(n) = args.max_flows {
        config.max_flows = n;
    }
    if let Some(n) = args.flow_memcap {
        config.flow_memcap = n;
    }
    if let Some(p) = args.stream_policy {
        config.stream_policy = p;
    }
    if let Some(p) = args.frag_policy {
        config.frag_policy = p;
    }

    let progress = Arc::new(Progress::default());
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let ticker = show_progress.then(|| spawn_progress(progress.clone()));

    let mut alerts = None;
    let summary = if args.rules.is_empty() {
        ids_pipeline::run(
            Input::paths(&inputs),
            &config,
            |_| NullInspector,
            NullOutput,
            Some(progress.clone()),
        )
    } else {
        let (summary, section) = run_detection(&args, &inputs, &config, &progress)?;
        alerts = Some(section);
        summary
    };

    if let Some((done, handle)) = ticker {
        done.store(true, Ordering::Relaxed);
        let _ = handle.join();
    }
    let mut failed = false;
    for input in summary.failed_inputs() {
        failed = true;
        eprintln!("ids: {}: {}", input.name, input.error.as_deref().unwrap_or("unreadable"));
    }
    if !args.quiet {
        print!("{summary}");
        if let Some(section) = &alerts {
            print!("{section}");
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Loads and compiles the rules, runs the sensor over the inputs and returns the run's summary
/// and its alerts section.
fn run_detection(
    args: &Args,
    inputs: &[PathBuf],
    config: &EngineConfig,
    progress: &Arc<Progress>,
) -> Result<(RunSummary, String)> {
    let mode: AlertMode = match &args.alert_mode {
        Some(m) => m.parse()?,
        None => AlertMode::Fast,
    };
    let options = OutputOptions { utc: args.utc, year: args.year, ..Default::default() };
    // Open the output before the (possibly long) rule compilation, so a bad -l fails at once.
    let set = OutputSet::open(mode, &args.log_dir, options)?;
    let loaded = detect::load(
        &args.rules,
        &args.classification,
        args.strict,
        args.include_disabled,
        args.inspect_encrypted,
    );
    if loaded.compile.rules_in == 0 {
        bail!("no rules loaded from {} (check them with -T)", args.rules.len());
    }
    if !args.quiet {
        eprintln!(
            "ids: rules: {} files, {} loaded, {} rejected by the parser, {} compiled, {} rejected by the engine \
             (details with -T)",
            loaded.load.files.len(),
            loaded.compile.rules_in,
            loaded.load.errors.len(),
            loaded.compile.compiled,
            loaded.compile.rejected.len()
        );
        eprintln!(
            "ids: startup: rules parse {:.3}s, compile {:.3}s",
            loaded.parse_time.as_secs_f64(),
            loaded.compile_time.as_secs_f64()
        );
        for n in &loaded.class_notes {
            eprintln!("ids: classification: {n}");
        }
    }
    let (output, result) = detect::AlertOutput::new(set);
    let stats = Arc::new(std::sync::Mutex::new(SensorStats::default()));
    let rules = loaded.rules.clone();
    let summary = ids_pipeline::run(
        Input::paths(inputs),
        config,
        |_| Sensor::with_stats(rules.clone(), AppLayerConfig::default(), stats.clone()),
        output,
        Some(progress.clone()),
    );
    let (written, error) = result.lock().map(|r| r.clone()).unwrap_or_default();
    if let Some(e) = error {
        eprintln!("ids: writing alerts: {e}");
    }
    let stats = stats.lock().map(|s| s.clone()).unwrap_or_default();
    let mut section = String::from("\n");
    section.push_str(&stats.to_string());
    section.push_str(&format!("alerts_written: {} ({mode})\n", written.alerts_written));
    section.push_str(&format!(
        "startup_seconds: parse {:.3} compile {:.3}\n",
        loaded.parse_time.as_secs_f64(),
        loaded.compile_time.as_secs_f64()
    ));
    let app = stats.app.to_string();
    if !app.is_empty() {
        section.push_str(&app);
    }
    Ok((summary, section))
}

/// A progress line on stderr (only when it is a terminal): packets read and the rate.
fn spawn_progress(
    progress: Arc<Progress>,
) -> (Arc<std::sync::atomic::AtomicBool>, std::thread::JoinHandle<()>) {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let handle = std::thread::spawn(move || {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let started = std::time::Instant::now();
        while !flag.load(Ordering::Relaxed) {
            let packets = progress.packets.load(Ordering::Relaxed);
            let rate = packets as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{packets} packets ({rate:.0}/s)"));
            bar.tick();
            std::thread::sleep(Duration::from_millis(200));
        }
        bar.finish_and_clear();
    });
    (done, handle)
}
