//! `ids-detect`: the detection engine. Compiles [`ids_rules::Rule`]s into a [`RuleSet`] and
//! matches packets against it.
//!
//! # API
//!
//! * [`RuleSet::compile`]`(rules, &CompileOptions) -> (RuleSet, CompileReport)` — never fails;
//!   rules it cannot evaluate faithfully are listed in [`CompileReport::rejected`] with file:line
//!   and reason. The report also counts pcre engines, rules without a fast pattern and the
//!   groups.
//! * Per packet the pipeline fills [`PacketFacts`] (header facts), [`FlowFacts`] (direction,
//!   establishment, app protocol), [`Buffers`] (`pkt_data` and whatever the application layer
//!   produced: `http.uri`, `dns.query`, `file_data`...) and keeps a [`FlowDetectState`] per flow
//!   (flowbits, flowints) and a [`Detector`] per worker (scratch, threshold tables, xbits).
//! * [`RuleSet::detect`] appends the matching rules to a `Vec<Match>`; [`RuleSet::rule`] gives
//!   msg/classtype/metadata/action of a [`Match`].
//!
//! ```
//! use ids_detect::{Buffers, CompileOptions, Detector, FlowFacts, PacketFacts, RuleSet, TcpFacts};
//! let rules = ids_rules::load_str(
//!     r#"alert tcp any any -> any 80 (msg:"x"; content:"evil"; nocase; sid:1;)"#,
//!     "example", &mut ids_rules::Vars::default(), &Default::default(),
//! ).rules;
//! let (rs, report) = RuleSet::compile(rules, &CompileOptions::default());
//! assert_eq!(report.compiled, 1);
//! let mut det = Detector::new(&rs);
//! let pkt = PacketFacts { proto: 6, dst_port: 80, tcp: Some(TcpFacts::default()), ..Default::default() };
//! let mut out = Vec::new();
//! rs.detect(&mut det, &pkt, &FlowFacts::default(), None, &Buffers::with_pkt_data(b"an EVIL payload"), 0, &mut out);
//! assert_eq!(out[0].sid, 1);
//! ```
//!
//! # How a packet is processed
//!
//! 1. **Groups** (module `prefilter`). The packet searches: the service group of its flow's
//!    `app_proto` (if known); for TCP/UDP the transport's *scan group* (the fast patterns of
//!    all its port groups and fallback port groups, and of the services with fewer than 500
//!    fast patterns) — or, for a flow of a larger service, the service group's automata (built
//!    with the scan groups' patterns on the service's buffers) plus the scan group's automata
//!    of the other buffers, so the bytes are scanned once — and for its rules without a fast pattern
//!    the destination-port group of its destination port, the source-port group of its source
//!    port and the transport's any-any group (plus, only when the flow's service is unknown,
//!    the fallback port groups of service rules); for ICMP / other IP protocols one group each.
//! 2. **Prefilter.** Each group has one case-insensitive multi-pattern matcher per buffer over
//!    the fast patterns of its rules (an Aho-Corasick DFA for up to 100 patterns, else the gram
//!    scanner of module `gram`); every pattern that occurs makes its rules candidates
//!    (deduplicated with generation counters, no clearing per packet). So a TCP/UDP packet
//!    scans each of its buffers once, service known or not: a pattern of a rule whose ports or
//!    service do not fit only makes a candidate that the header check rejects. Rules without
//!    a fast pattern are candidates through an address index (IP lists) or, for the few that
//!    remain, on every packet of the group.
//! 3. **Evaluation**, candidates in rule order (flowbit setters before checkers): header
//!    (protocol, service, addresses, ports, `<>` both ways), then the non-payload checks
//!    (module `checks`), then the payload ops with the cursor and backtracking (module `ops`),
//!    then post-match actions (flowbits/xbits/flowint setters), `detection_filter`,
//!    `noalert`, suppressions, `threshold`, event filters, rate filters (module `filters`).
//!
//! Per packet the work is proportional to the bytes scanned, the candidates and the
//! always-evaluated rules; nothing is allocated in the steady state (the scratch lives in the
//! [`Detector`]; threshold tables grow only when rules match).
//!
//! # Performance
//!
//! `examples/capture_bench.rs` runs every packet of a capture through [`RuleSet::detect`]
//! (`pkt_data` = transport payload, established flows, direction by port, single thread, CPU
//! time of the detection loop, best of 3 rounds); its header says how to build the capture and
//! run it. With the enabled ET Open 2024-04 rules (24,827 compiled) on `benches/out/bench.pcap`
//! (406,120 packets, 399,310 IP, 115 MB of payload), 2-core VM, same alerts (2,007 first round,
//! 1,909 later rounds: thresholds) and candidates evaluated (1.21 per packet) before and after:
//!
//! | | before | after |
//! |---|---|---|
//! | packets/s, service unknown | 390,000–427,000 | 680,000–693,000 |
//! | packets/s, `--service` (app_proto from port) | 306,000–313,000 | 494,000–504,000 |
//! | TCP packet with payload (avg. ~700 bytes) | 6.0–8.5 µs | 3.3–3.4 µs |
//! | `examples/ruleset_bench.rs` synthetic mix | 278,000 packets/s | 461,000 packets/s |
//! | parse + compile | 0.88–1.2 s | 0.78–0.95 s |
//! | automata memory (all groups) | 26.7 MiB | 13.1 MiB |
//!
//! (The machine is shared: under load every figure drops by up to a third; compare runs made
//! back to back.)
//!
//! Before, a TCP payload was scanned by up to five automata (destination-port, source-port and
//! any-any groups, two fallback groups), large ones as contiguous NFAs and small ones as DFAs
//! of ~0.9 MiB each, so the scans missed the caches (~10 ns per byte). After, one scan group
//! per transport and the gram scanner (filter bitmaps of 8 KiB, L1-resident) for large pattern
//! sets: ~1.7 ns per byte in the scan loop.
//!
//! Scanning once per buffer with a known service (the service's automata absorb the TCP/UDP
//! scan groups' patterns on its buffers; small services are folded into the scan groups), same
//! alerts and candidates evaluated, back to back: `--service` 487,000–489,000 →
//! 612,000–636,000 packets/s (TCP packet with payload 4.9 → 3.6 µs), service unknown
//! 665,000–679,000 → 661,000–675,000 (unchanged), automata 13.1 MiB before and after, compile
//! ~0.5 s. (Separate merged automata per service and transport were 2 % faster but took
//! 24.8 MiB: the scan groups hold a few patterns on most application buffers, so every large
//! application-buffer automaton was rebuilt per transport.)
//!
//! # Fast pattern
//!
//! The content flagged `fast_pattern` (with its `offset,length` slice) if it is not negated,
//! else the positive content with the highest "strength" (rare bytes score more than
//! letters, which score more than `0x00`/space/`0`/`.`/`/`; a repeated byte scores 1) — long,
//! selective patterns win. Any positive content is a valid prefilter: every positive content
//! must occur in its buffer for the rule to match. Snort 2 `fast_pattern:only` contents are
//! still verified (the automata are case-insensitive) but do not move the cursor; Suricata
//! ignores `:only` and so does the engine for Suricata-dialect rules.
//!
//! # Services and application-protocol headers
//!
//! A rule has services when its header protocol is an application protocol (`alert http`,
//! `alert tls`, Snort 3 `alert http (...)`) or it has `service:` / `metadata:service`. Such a
//! rule applies, when the flow's `app_proto` is known, iff it is one of its services — ports are
//! then ignored (Snort 3 behaviour; `ssl` and `tls` are the same service). When the service is
//! not known, it falls back to its header ports like Snort 3 — but only if the rule restricts
//! ports at all: a service rule with `any` ports (most ET `alert http` rules) would otherwise
//! apply to every TCP/UDP packet, so it requires the service (Suricata's behaviour for
//! app-layer headers). Rules without services are matched on protocol and ports. A
//! Suricata-dialect rule with an application-protocol header applies on TCP only to packets of
//! an established session (Suricata looks at the flow's app protocol only for `PKT_STREAM_EST`
//! packets, so a TCP Fast Open SYN carrying a request does not match `alert http`).
//!
//! # Buffers
//!
//! [`BufferId`] has one slot per [`ids_rules::Buffer`] variant: the dialects' spellings
//! (`http_uri`, `http.uri`, pcre `/U`...) are already unified by the parser. Suricata
//! transforms (`dotprefix`, `to_lowercase`, `strip_whitespace`, `compress_whitespace`,
//! `url_decode`, `xor`) make derived buffers computed once per packet when their base buffer is
//! present. A rule on a buffer the engine has no slot for (`Buffer::Other`) is rejected, except
//! Suricata's multi-buffers `http.request_header` / `http.response_header`: a derived buffer of
//! `http_raw_header` with one `Name: value` line per header (folded lines joined), which the
//! prefilter scans whole and the rule is evaluated on line by line (it matches if one line
//! does); they imply `flow:to_server` / `flow:to_client`.
//!
//! # Deliberate differences from Snort / Suricata
//!
//! * Dialect splits follow the rule's dialect: relative `isdataat` off-by-one, negated content
//!   on an empty window, `urilen` raw (Snort) vs normalised (Suricata) default, `lo<>hi`
//!   inclusive in Snort 2 but exclusive in Snort 3 and Suricata (`<=>` is inclusive).
//! * The prefilter is case-insensitive for every dialect (Snort's choice); Suricata's
//!   case-sensitive MPM only differs in cost, not in results.
//! * Non-payload options are pure predicates and are evaluated before payload options;
//!   setters run after a full match (Suricata's post-match semantics; Snort 3 evaluates
//!   setters in place, which only differs for rules whose later options fail).
//! * Relative-match retries are bounded by [`SEARCH_BUDGET`] search steps per rule evaluation.
//! * xbits live in the per-worker [`Detector`] (the pipeline sends both directions of a host
//!   pair to one worker, so `ip_pair` is exact; `ip_src`/`ip_dst` are per worker).
//! * A matching `pass` rule removes the packet's other events (Snort's pass-first order).
//! * Header-less builtin event rules are not evaluated; see [`RuleSet::event_rule`].

#![warn(missing_docs)]

mod checks;
mod compile;
mod engine;
mod facts;
mod filters;
mod gram;
mod ops;
mod pcre;
mod prefilter;

pub use checks::FlowDetectState;
pub use compile::{canonical_service, MAX_OPS};
pub use engine::{
    CompileOptions, CompileReport, DetectStats, Detector, GroupStat, Match, Rejected, RuleInfo, RuleSet,
};
pub use facts::{ssl_state, ssl_version, BufferId, Buffers, FlowFacts, IcmpFacts, PacketFacts, TcpFacts};
pub use filters::{
    apply_filter_directives, EventFilter, FilterKind, FilterSpec, RateFilter, Suppression, TrackBy,
    MAX_ENTRIES,
};
pub use ops::SEARCH_BUDGET;
pub use pcre::RegexEngine;

#[cfg(test)]
mod tests;
