//! `ids`: the command line. Flags mean what they mean to Snort users (`-r`, `-z`, `-k`, `-n`,
//! `-q`), so their habits and scripts carry over.
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

use anyhow::{bail, Context, Result};
use clap::Parser;
use ids_pipeline::{ChecksumMode, EngineConfig, Input, NullInspector, NullOutput, Progress};
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

    /// Checksum verification: all, none, noip, notcp, noudp, noicmp.
    #[arg(short = 'k', value_name = "MODE", default_value = "all")]
    checksums: ChecksumMode,

    /// Stop after reading this many packets.
    #[arg(short = 'n', value_name = "COUNT")]
    count: Option<u64>,

    /// Load rules from this file (Snort 2.9, Snort 3 or Suricata syntax); repeatable.
    #[arg(short = 'R', value_name = "RULES")]
    rules: Vec<PathBuf>,

    /// Test the configuration: load the rule files, report loaded and rejected rules with the
    /// reasons, and exit (status 1 when a rule was rejected).
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

fn run(args: Args) -> Result<ExitCode> {
    if args.test {
        if args.rules.is_empty() {
            bail!("-T checks rule files: give them with -R FILE");
        }
        let outcome = check::check(&args.rules, args.strict, args.include_disabled);
        print!("{}", outcome.text);
        println!("{}", if outcome.ok { "configuration OK" } else { "configuration has errors" });
        return Ok(if outcome.ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    if !args.rules.is_empty() {
        bail!("detection is not wired into the engine in this build; check rule files with -T -R FILE");
    }
    if let Some(iface) = &args.interface {
        bail!("live capture (-i {iface}) is not available in this build yet; read captures with -r");
    }
    if args.read.is_empty() {
        bail!("nothing to read: give a capture with -r FILE (or -r - for standard input)");
    }
    let inputs = ids_capture::expand_inputs(&args.read).context("listing inputs")?;
    let mut config =
        EngineConfig { checksums: args.checksums, max_packets: args.count, ..Default::default() };
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

    let summary = ids_pipeline::run(
        Input::paths(&inputs),
        &config,
        |_| NullInspector,
        NullOutput,
        Some(progress.clone()),
    );

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
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
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
