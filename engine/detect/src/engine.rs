//! The compiled rule set and the per-packet detection entry point.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use ids_rules::{Action, ClassificationTable, HeaderForm, Protocol, Rule};

use crate::checks::{CheckEnv, FlowDetectState, XbitTable};
use crate::compile::{
    canonical_service, compile_rule, CompiledRule, HeaderMatch, Interner, ProtoSel, VBufDef,
};
use crate::facts::{Buffers, FlowFacts, PacketFacts};
use crate::filters::{EventFilter, FilterTables, RateFilter, Slot, Suppression};
use crate::ops::{run, Cursor, Data, Eval, SEARCH_BUDGET};
use crate::pcre::RegexEngine;
use crate::prefilter::{build_port_groups, scan_family, Group, Parts, PfUse, PortEntry, PortGroups};

/// Knobs for [`RuleSet::compile`].
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// classtype → default priority (rules without `priority:`).
    pub classifications: Option<ClassificationTable>,
    /// Compile `#`-disabled rules too (they are skipped by default).
    pub include_disabled: bool,
    /// Configured event filters (Snort `event_filter`, Suricata threshold.config `threshold`).
    pub event_filters: Vec<EventFilter>,
    /// Configured rate filters.
    pub rate_filters: Vec<RateFilter>,
    /// Configured suppressions.
    pub suppressions: Vec<Suppression>,
}

/// A rule that was not compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// `file:line`.
    pub location: String,
    /// Generator id.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Why.
    pub reason: String,
}

/// Figures of one rule group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupStat {
    /// `tcp dst 80`, `service http`, `udp any`...
    pub name: String,
    /// Rules in the group.
    pub rules: usize,
    /// Distinct fast patterns (all buffers).
    pub patterns: usize,
    /// Rules without a fast pattern indexed by address.
    pub addr_indexed: usize,
    /// Rules without a fast pattern evaluated on every packet of the group.
    pub always: usize,
    /// Heap bytes of the group's automata.
    pub automata_bytes: usize,
}

/// What [`RuleSet::compile`] did.
#[derive(Clone, Debug, Default)]
pub struct CompileReport {
    /// Rules handed in.
    pub rules_in: usize,
    /// Rules compiled for detection.
    pub compiled: usize,
    /// Disabled rules skipped (see [`CompileOptions::include_disabled`]).
    pub disabled_skipped: usize,
    /// Header-less builtin event rules (`alert ( gid:116; ... )`), kept for
    /// [`RuleSet::event_rule`].
    pub event_rules: usize,
    /// Rules not compiled, with reasons.
    pub rejected: Vec<Rejected>,
    /// pcre options compiled with the `regex` crate.
    pub pcre_regex: usize,
    /// pcre options compiled with PCRE2.
    pub pcre_pcre2: usize,
    /// Rules with at least one PCRE2 pattern.
    pub rules_with_pcre2: usize,
    /// Compiled rules without a fast pattern (prefiltered by address or always evaluated).
    pub no_fast_pattern: usize,
    /// Per-group figures.
    pub groups: Vec<GroupStat>,
    /// Transformed buffers in use (`dns.query+dotprefix`...).
    pub transformed_buffers: Vec<String>,
    /// Wall time of the compilation.
    pub elapsed: Duration,
}

impl CompileReport {
    /// Percentage of the candidate rules (in minus disabled-skipped minus event rules) compiled.
    pub fn compiled_percent(&self) -> f64 {
        let tried = self.compiled + self.rejected.len();
        if tried == 0 {
            100.0
        } else {
            100.0 * self.compiled as f64 / tried as f64
        }
    }

    /// Rejections grouped by reason, most frequent first.
    pub fn rejections_by_reason(&self) -> Vec<(String, usize)> {
        let mut m: HashMap<&str, usize> = HashMap::new();
        for r in &self.rejected {
            // Group on the reason's shape, not on per-rule details such as the pattern text.
            let key = r.reason.split(['`', ':']).next().unwrap_or(&r.reason);
            *m.entry(key).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = m.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

impl fmt::Display for CompileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rules in {} | compiled {} ({:.2} %) | rejected {} | disabled skipped {} | event rules {} | \
             no fast pattern {} | pcre regex {} / pcre2 {} | groups {} ({} MiB automata) | {:.0} ms",
            self.rules_in,
            self.compiled,
            self.compiled_percent(),
            self.rejected.len(),
            self.disabled_skipped,
            self.event_rules,
            self.no_fast_pattern,
            self.pcre_regex,
            self.pcre_pcre2,
            self.groups.len(),
            self.groups.iter().map(|g| g.automata_bytes).sum::<usize>() >> 20,
            self.elapsed.as_secs_f64() * 1000.0
        )?;
        for (reason, n) in self.rejections_by_reason() {
            writeln!(f, "    {n:>5} × {reason}")?;
        }
        Ok(())
    }
}

/// The reporting side of a compiled rule.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    /// Generator id.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// Action.
    pub action: Action,
    /// `priority:`, else the classtype's priority, else `None`.
    pub priority: Option<u32>,
    /// `noalert` / `flowbits:noalert`: the rule matches (and sets state) but is not reported.
    pub noalert: bool,
    /// The parsed rule (msg, classtype, references, metadata, location, text).
    pub rule: Rule,
}

/// One rule that matched a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// Index for [`RuleSet::rule`].
    pub rule: u32,
    /// Generator id.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// The action (a rate filter may have replaced the rule's).
    pub action: Action,
    /// Priority (see [`RuleInfo::priority`]).
    pub priority: Option<u32>,
}

/// Counters of one [`Detector`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectStats {
    /// `detect` calls.
    pub packets: u64,
    /// Automaton matches reported.
    pub prefilter_hits: u64,
    /// Buffer scans by a prefilter matcher.
    pub scans: u64,
    /// Bytes read by those scans.
    pub scanned_bytes: u64,
    /// Rules fully evaluated.
    pub evaluated: u64,
    /// Rules whose options all matched (before filters).
    pub matched: u64,
    /// Matches reported in `out`.
    pub reported: u64,
    /// Evaluations that ran out of search budget.
    pub budget_exhausted: u64,
}

/// Per-worker mutable scratch and state: candidate dedupe, transformed buffers, threshold
/// tables, xbits. Not shared between threads; create one per worker with [`Detector::new`].
pub struct Detector {
    gen: u32,
    seen: Vec<u32>,
    pat_seen: Vec<u32>,
    cands: Vec<u32>,
    /// Pattern matches of one scan.
    hits: Vec<u32>,
    trans: Vec<Vec<u8>>,
    tmp: Vec<u8>,
    present: Vec<bool>,
    filters: FilterTables,
    xbits: XbitTable,
    stats: DetectStats,
}

impl Detector {
    /// Scratch sized for `rs`.
    pub fn new(rs: &RuleSet) -> Self {
        Detector {
            gen: 0,
            seen: vec![0; rs.compiled.len()],
            pat_seen: vec![0; rs.n_patterns as usize],
            cands: Vec::with_capacity(256),
            hits: Vec::with_capacity(256),
            trans: vec![Vec::new(); rs.vbufs.len()],
            tmp: Vec::new(),
            present: vec![false; rs.vbufs.len()],
            filters: FilterTables::default(),
            xbits: XbitTable::default(),
            stats: DetectStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &DetectStats {
        &self.stats
    }

    fn next_gen(&mut self) -> u32 {
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.seen.fill(0);
            self.pat_seen.fill(0);
            self.gen = 1;
        }
        self.gen
    }
}

/// A compiled rule set. Immutable and `Sync`: share it between workers (e.g. in an `Arc`).
pub struct RuleSet {
    infos: Vec<RuleInfo>,
    compiled: Vec<CompiledRule>,
    groups: Vec<Group>,
    tcp: PortGroups,
    udp: PortGroups,
    tcp_fallback: PortGroups,
    udp_fallback: PortGroups,
    /// The scan groups of TCP and UDP: the automata over the fast patterns of all the port
    /// groups (and fallback port groups) of the transport.
    tcp_scan: Option<u16>,
    udp_scan: Option<u16>,
    icmp: Option<u16>,
    other: Option<u16>,
    services: HashMap<String, u16>,
    service_groups: Vec<Option<u16>>,
    /// Per service, its merged scan groups for TCP and UDP ([`Group::merged`]: the transport's
    /// scan group plus the service group's automata), built for the services with at least
    /// [`MERGE_MIN_PATTERNS`] fast patterns.
    service_scans: Vec<[Option<u16>; 2]>,
    /// Per service: its fast patterns are in the TCP and UDP scan groups (services with fewer
    /// than [`MERGE_MIN_PATTERNS`] fast patterns).
    service_folded: Vec<bool>,
    vbufs: Vec<VBufDef>,
    n_patterns: u32,
    event_infos: Vec<RuleInfo>,
    event_index: HashMap<(u32, u32), u32>,
    event_filters: Vec<EventFilter>,
    rate_filters: Vec<RateFilter>,
    suppressions: Vec<Suppression>,
}

fn info_of(rule: Rule, noalert: bool, classes: Option<&ClassificationTable>) -> RuleInfo {
    let priority = rule.meta.priority.or_else(|| {
        let ct = rule.meta.classtype.as_deref()?;
        classes?.get(ct).map(|c| c.priority)
    });
    RuleInfo {
        gid: rule.meta.gid,
        sid: rule.meta.sid,
        rev: rule.meta.rev,
        action: rule.action,
        priority,
        noalert,
        rule,
    }
}

impl RuleSet {
    /// Compiles rules. Never fails: rules that cannot be compiled are listed in the report.
    pub fn compile(rules: Vec<Rule>, opts: &CompileOptions) -> (RuleSet, CompileReport) {
        let t0 = Instant::now();
        let mut report = CompileReport { rules_in: rules.len(), ..CompileReport::default() };
        let mut it = Interner::default();
        let mut ok: Vec<(RuleInfo, CompiledRule)> = Vec::with_capacity(rules.len());
        let mut event_infos = Vec::new();
        let classes = opts.classifications.as_ref();
        for rule in rules {
            if !rule.enabled && !opts.include_disabled {
                report.disabled_skipped += 1;
                continue;
            }
            if rule.header_form == HeaderForm::Stub || rule.protocol == Protocol::None {
                report.event_rules += 1;
                event_infos.push(info_of(rule, false, classes));
                continue;
            }
            match compile_rule(&rule, &mut it) {
                Ok(cr) => {
                    for e in &cr.engines {
                        match e {
                            RegexEngine::Regex => report.pcre_regex += 1,
                            RegexEngine::Pcre2 => report.pcre_pcre2 += 1,
                        }
                    }
                    if cr.engines.contains(&RegexEngine::Pcre2) {
                        report.rules_with_pcre2 += 1;
                    }
                    if cr.fast.is_none() {
                        report.no_fast_pattern += 1;
                    }
                    let noalert = cr.noalert;
                    ok.push((info_of(rule, noalert, classes), cr));
                }
                Err(reason) => report.rejected.push(Rejected {
                    location: format!("{}:{}", rule.location.file, rule.location.line),
                    gid: rule.meta.gid,
                    sid: rule.meta.sid,
                    reason,
                }),
            }
        }
        // Evaluation order: flowbit setters before checkers, else file order.
        ok.sort_by_key(|(_, c)| c.flowbit_order);
        report.compiled = ok.len();
        let (infos, compiled): (Vec<RuleInfo>, Vec<CompiledRule>) = ok.into_iter().unzip();

        let mut rs = RuleSet {
            infos,
            compiled,
            groups: Vec::new(),
            tcp: PortGroups::empty(),
            udp: PortGroups::empty(),
            tcp_fallback: PortGroups::empty(),
            udp_fallback: PortGroups::empty(),
            tcp_scan: None,
            udp_scan: None,
            icmp: None,
            other: None,
            services: it.services.clone(),
            service_groups: Vec::new(),
            service_scans: Vec::new(),
            service_folded: Vec::new(),
            vbufs: it.vbufs.defs.clone(),
            n_patterns: 0,
            event_index: event_infos.iter().enumerate().map(|(i, r)| ((r.gid, r.sid), i as u32)).collect(),
            event_infos,
            event_filters: opts.event_filters.clone(),
            rate_filters: opts.rate_filters.clone(),
            suppressions: opts.suppressions.clone(),
        };
        if let Err(e) = rs.build_groups(it.services.len()) {
            // Grouping failed as a whole (automaton limits): report every rule as rejected
            // rather than run with a partial set.
            for info in rs.infos.drain(..) {
                report.rejected.push(Rejected {
                    location: format!("{}:{}", info.rule.location.file, info.rule.location.line),
                    gid: info.gid,
                    sid: info.sid,
                    reason: format!("rule grouping failed: {e}"),
                });
            }
            rs.compiled.clear();
            rs.groups.clear();
            report.compiled = 0;
        }
        report.groups = rs
            .groups
            .iter()
            .map(|g| GroupStat {
                name: g.name.clone(),
                rules: g.n_rules,
                patterns: g.n_patterns,
                addr_indexed: g.n_addr,
                always: g.always.len(),
                automata_bytes: g.n_bytes,
            })
            .collect();
        report.transformed_buffers =
            (0..it.vbufs.defs.len()).map(|i| it.vbufs.name((ids_count() + i) as u16)).collect();
        report.elapsed = t0.elapsed();
        (rs, report)
    }

    fn build_groups(&mut self, n_services: usize) -> Result<(), String> {
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        let mut icmp = Vec::new();
        let mut other = Vec::new();
        let mut tcp_fb = Vec::new();
        let mut udp_fb = Vec::new();
        let mut svc: Vec<Vec<u32>> = vec![Vec::new(); n_services];
        for (i, cr) in self.compiled.iter().enumerate() {
            let h = &cr.hdr;
            let i = i as u32;
            let pe =
                || PortEntry { rule: i, sport: h.sport.as_ref(), dport: h.dport.as_ref(), bidir: h.bidir };
            let np = || PortEntry { rule: i, sport: None, dport: None, bidir: false };
            if !h.services.is_empty() {
                for &s in &h.services {
                    svc[usize::from(s)].push(i);
                }
                if h.sport.is_some() || h.dport.is_some() {
                    match h.proto {
                        ProtoSel::Num(6) => tcp_fb.push(pe()),
                        ProtoSel::Num(17) => udp_fb.push(pe()),
                        ProtoSel::Any => {
                            tcp_fb.push(pe());
                            udp_fb.push(pe());
                        }
                        _ => {}
                    }
                }
                continue;
            }
            match h.proto {
                ProtoSel::Num(6) => tcp.push(pe()),
                ProtoSel::Num(17) => udp.push(pe()),
                ProtoSel::Icmp | ProtoSel::Num(1) | ProtoSel::Num(58) => icmp.push(np()),
                ProtoSel::Num(_) => other.push(np()),
                ProtoSel::Any => {
                    tcp.push(pe());
                    udp.push(pe());
                    icmp.push(np());
                    other.push(np());
                }
            }
        }
        let mut groups = Vec::new();
        let mut pat_base = 0u32;
        let c = &self.compiled;
        let (pb, ix, all) = (&mut pat_base, Parts::Indexes, Parts::All);
        self.tcp = build_port_groups("tcp", &tcp, c, &mut groups, pb, ix)?;
        self.udp = build_port_groups("udp", &udp, c, &mut groups, pb, ix)?;
        self.icmp = build_port_groups("icmp", &icmp, c, &mut groups, pb, all)?.any;
        self.other = build_port_groups("ip", &other, c, &mut groups, pb, all)?.any;
        self.tcp_fallback = build_port_groups("tcp fallback", &tcp_fb, c, &mut groups, pb, ix)?;
        self.udp_fallback = build_port_groups("udp fallback", &udp_fb, c, &mut groups, pb, ix)?;
        // Services with few fast patterns are folded into the transport scan groups (their
        // patterns make a few candidates the service check rejects); the others absorb the scan
        // groups' patterns on their buffers and get a combined group per transport, so that a
        // TCP/UDP packet of a known service scans each buffer once.
        let mut names: Vec<(&String, &u16)> = self.services.iter().collect();
        names.sort_by_key(|(_, id)| **id);
        self.service_groups = vec![None; n_services];
        self.service_scans = vec![[None; 2]; n_services];
        self.service_folded = vec![false; n_services];
        let n_fast = |members: &[u32]| {
            let mut p: Vec<(_, &[u8])> = members
                .iter()
                .filter_map(|&r| c[r as usize].fast.as_ref())
                .map(|f| (f.vbuf, f.pat.as_slice()))
                .collect();
            p.sort_unstable();
            p.dedup();
            p.len()
        };
        let mut small: Vec<u32> = Vec::new();
        for &(_, &id) in &names {
            let members = &svc[usize::from(id)];
            if !members.is_empty() && n_fast(members) < MERGE_MIN_PATTERNS {
                small.extend_from_slice(members);
                self.service_folded[usize::from(id)] = true;
            }
        }
        // One scan group per transport (Snort adds the any-any rules to every port group so a
        // packet searches one automaton per buffer; this goes one step further): its automata
        // hold the fast patterns of every port group and fallback port group of the transport
        // (and of the small services), so a TCP/UDP packet scans each buffer once whatever its
        // ports. A pattern of a rule whose ports or service do not match only makes a candidate
        // that the header check rejects.
        let mut scan_members: Vec<u32> = Vec::new();
        for (t, label, main, fb) in [(0, "tcp", &tcp, &tcp_fb), (1, "udp", &udp, &udp_fb)] {
            let mut members: Vec<u32> =
                main.iter().chain(fb.iter()).map(|e| e.rule).chain(small.iter().copied()).collect();
            members.sort_unstable();
            members.dedup();
            if members.is_empty() {
                continue;
            }
            let gi = u16::try_from(groups.len()).map_err(|_| "too many groups")?;
            groups.push(Group::build(format!("{label} scan"), &members, c, pb, Parts::Automata)?);
            if t == 0 {
                self.tcp_scan = Some(gi);
            } else {
                self.udp_scan = Some(gi);
            }
            scan_members.extend(members);
        }
        scan_members.sort_unstable();
        scan_members.dedup();
        for &(name, &id) in &names {
            let id = usize::from(id);
            let members = &svc[id];
            if members.is_empty() {
                continue;
            }
            let gi = u16::try_from(groups.len()).map_err(|_| "too many groups")?;
            let mut all = members.clone();
            if !self.service_folded[id] {
                // Absorb the scan groups' fast patterns on the service's buffers.
                // `raw_data` and `pkt_data` count as one buffer: their matchers go together.
                let mut vb: Vec<_> = members
                    .iter()
                    .filter_map(|&r| c[r as usize].fast.as_ref())
                    .map(|f| scan_family(f.vbuf))
                    .collect();
                vb.sort_unstable();
                vb.dedup();
                all.extend(scan_members.iter().filter(|&&r| {
                    c[r as usize].fast.as_ref().is_some_and(|f| vb.contains(&scan_family(f.vbuf)))
                }));
                all.sort_unstable();
                all.dedup();
            }
            let mut g = Group::build(format!("service {name}"), &all, c, pb, Parts::All)?;
            g.n_rules = members.len();
            groups.push(g);
            self.service_groups[id] = Some(gi);
            if self.service_folded[id] {
                continue;
            }
            for (t, scan) in [(0, self.tcp_scan), (1, self.udp_scan)] {
                let Some(si) = scan else {
                    continue;
                };
                let label = if t == 0 { "tcp" } else { "udp" };
                let cg = Group::combined(
                    format!("{label} scan + service {name}"),
                    &groups[usize::from(si)],
                    &groups[usize::from(gi)],
                );
                let ci = u16::try_from(groups.len()).map_err(|_| "too many groups")?;
                groups.push(cg);
                self.service_scans[id][t] = Some(ci);
            }
        }
        self.groups = groups;
        self.n_patterns = pat_base;
        Ok(())
    }

    /// Frees what only compilation needed of the parsed rules kept in [`RuleInfo::rule`]: the
    /// rule text, the options and the address and port specifications and sets (reset to
    /// `any`: the compiled rules have their own).
    /// What identifies and describes a rule for its alerts stays: action, protocol, `meta`
    /// (msg, classtype, metadata, references...), dialect and location. With ET Open this is
    /// about half of a sensor's memory.
    pub fn release_rule_sources(&mut self) {
        for info in self.infos.iter_mut().chain(self.event_infos.iter_mut()) {
            let r = &mut info.rule;
            r.text = String::new();
            r.options = Vec::new();
            r.src = ids_rules::AddrSpec::Any;
            r.dst = ids_rules::AddrSpec::Any;
            r.src_ports = ids_rules::PortSpec::Any;
            r.dst_ports = ids_rules::PortSpec::Any;
            r.src_set = Default::default();
            r.dst_set = Default::default();
            r.src_port_set = Default::default();
            r.dst_port_set = Default::default();
        }
    }

    /// Number of compiled rules.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    /// True when no rule was compiled.
    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// The rule behind [`Match::rule`].
    pub fn rule(&self, idx: u32) -> Option<&RuleInfo> {
        self.infos.get(idx as usize)
    }

    /// All compiled rules, in evaluation order (index = [`Match::rule`]).
    pub fn rules(&self) -> &[RuleInfo] {
        &self.infos
    }

    /// A header-less builtin event rule (`gid:116` decoder events...) by id, for the pipeline to
    /// report events its stages raise.
    pub fn event_rule(&self, gid: u32, sid: u32) -> Option<&RuleInfo> {
        self.event_index.get(&(gid, sid)).map(|&i| &self.event_infos[i as usize])
    }

    /// Runs detection on one packet (or stream chunk / app-layer transaction): appends the
    /// rules that match to `out` in evaluation order. `state` is the flow's flowbits/flowint
    /// state (`None` for packets without a flow), `now_ns` the capture time in nanoseconds.
    /// Allocation-free in the steady state.
    #[allow(clippy::too_many_arguments)]
    pub fn detect(
        &self,
        det: &mut Detector,
        pkt: &PacketFacts<'_>,
        flow: &FlowFacts<'_>,
        mut state: Option<&mut FlowDetectState>,
        bufs: &Buffers<'_>,
        now_ns: i64,
        out: &mut Vec<Match>,
    ) {
        if self.compiled.is_empty() {
            return;
        }
        let gen = det.next_gen();
        det.stats.packets += 1;

        // Transformed buffers whose base is present.
        for (i, def) in self.vbufs.iter().enumerate() {
            det.present[i] = false;
            let Some(src) = bufs.get(def.base) else {
                continue;
            };
            let mut cur = std::mem::take(&mut det.trans[i]);
            let mut tmp = std::mem::take(&mut det.tmp);
            for (k, t) in def.chain.iter().enumerate() {
                if k == 0 {
                    t.apply(src, &mut cur);
                } else {
                    std::mem::swap(&mut cur, &mut tmp);
                    t.apply(&tmp, &mut cur);
                }
            }
            det.trans[i] = cur;
            det.tmp = tmp;
            det.present[i] = true;
        }

        // Groups to search.
        let svc_id = flow.app_proto.and_then(|a| self.services.get(canonical_service(a)).copied());
        // (group, search its automata): a service group's automata are in the transport's scan
        // group or merged scan group for TCP and UDP.
        let mut gl = [(u16::MAX, false); 8];
        let mut n = 0;
        let mut push = |g: Option<u16>, scan: bool| {
            if let Some(g) = g {
                if !gl[..n].iter().any(|e| e.0 == g) && n < gl.len() {
                    gl[n] = (g, scan);
                    n += 1;
                }
            }
        };
        let t = match pkt.proto {
            6 => Some(0),
            17 => Some(1),
            _ => None,
        };
        let mut merged = false;
        if let Some(id) = svc_id.map(usize::from) {
            let sg = self.service_groups.get(id).copied().flatten();
            let m = t.and_then(|t| self.service_scans.get(id).and_then(|s| s[t]));
            merged = m.is_some();
            push(m, true);
            let own = t.is_none() || !(merged || self.service_folded.get(id).copied().unwrap_or(false));
            push(sg, own);
        }
        let (main, fb) = match pkt.proto {
            6 => {
                if !merged {
                    push(self.tcp_scan, true);
                }
                (Some(&self.tcp), Some(&self.tcp_fallback))
            }
            17 => {
                if !merged {
                    push(self.udp_scan, true);
                }
                (Some(&self.udp), Some(&self.udp_fallback))
            }
            1 | 58 => {
                push(self.icmp, true);
                (None, None)
            }
            _ => {
                push(self.other, true);
                (None, None)
            }
        };
        if let Some(pg) = main {
            push(pg.dst_group(pkt.dst_port), true);
            push(pg.src_group(pkt.src_port), true);
            push(pg.any, true);
        }
        if let (Some(pg), None) = (fb, flow.app_proto) {
            push(pg.dst_group(pkt.dst_port), true);
            push(pg.src_group(pkt.src_port), true);
        }

        // Candidates.
        let Detector { seen, pat_seen, cands, hits, trans, present, filters, xbits, stats, .. } = det;
        cands.clear();
        let data = Data { base: bufs, trans, present, line: None };
        let raw_set = bufs.is_set(crate::BufferId::RawData);
        let mut add = |r: u32, cands: &mut Vec<u32>| {
            let s = &mut seen[r as usize];
            if *s != gen {
                *s = gen;
                cands.push(r);
            }
        };
        for &(g, scan) in &gl[..n] {
            let g = &self.groups[usize::from(g)];
            let pfs: &[_] = if scan { &g.pfs } else { &[] };
            for pf in pfs {
                match pf.when {
                    PfUse::Always => {}
                    PfUse::RawDataSet if raw_set => {}
                    PfUse::RawDataUnset if !raw_set => {}
                    _ => continue,
                }
                let Some(hay) = data.get(pf.vbuf).filter(|h| h.len() >= pf.min_len) else {
                    continue;
                };
                hits.clear();
                stats.scans += 1;
                stats.scanned_bytes += hay.len() as u64;
                pf.scan.find_all(hay, hits);
                stats.prefilter_hits += hits.len() as u64;
                for &p in hits.iter() {
                    let p = p as usize;
                    let ps = &mut pat_seen[pf.pat_base as usize + p];
                    if *ps == gen {
                        continue;
                    }
                    *ps = gen;
                    let (s, e) = (pf.starts[p] as usize, pf.starts[p + 1] as usize);
                    for &r in &pf.rules[s..e] {
                        add(r, cands);
                    }
                }
            }
            for &r in &g.always {
                add(r, cands);
            }
            for &r in g.by_src.lookup(pkt.src) {
                add(r, cands);
            }
            for &r in g.by_dst.lookup(pkt.dst) {
                add(r, cands);
            }
        }
        cands.sort_unstable();

        // Full evaluation.
        let first_out = out.len();
        let mut pass_matched = false;
        for &r in cands.iter() {
            let cr = &self.compiled[r as usize];
            if !header_ok(&cr.hdr, pkt, flow, svc_id) {
                continue;
            }
            stats.evaluated += 1;
            let env = CheckEnv { pkt, flow, state: state.as_deref(), xbits, data, now: now_ns };
            if !cr.checks.iter().all(|c| c.eval(&env)) {
                continue;
            }
            if !cr.ops.is_empty() {
                let mut ev = Eval { data, budget: SEARCH_BUDGET, b64: None, src: pkt.src };
                let ok = match cr.lines {
                    None => run(&cr.ops, 0, Cursor::start(), &mut ev),
                    // Multi-buffer: the rule matches if one instance (line) does.
                    Some(lv) => data.get(lv).is_some_and(|whole| {
                        whole.split(|&b| b == b'\n').any(|l| {
                            ev.data = Data { line: Some((lv, l)), ..data };
                            run(&cr.ops, 0, Cursor::start(), &mut ev)
                        })
                    }),
                };
                if ev.budget == 0 {
                    stats.budget_exhausted += 1;
                }
                if !ok {
                    continue;
                }
            }
            stats.matched += 1;
            for a in &cr.post {
                a.apply(state.as_deref_mut(), xbits, pkt, now_ns);
            }
            if let Some(df) = &cr.detection_filter {
                if !filters.pass(r, Slot::Detection, df, pkt.src, pkt.dst, now_ns) {
                    continue;
                }
            }
            let info = &self.infos[r as usize];
            if info.noalert {
                continue;
            }
            if self.suppressions.iter().any(|s| s.applies(info.gid, info.sid, pkt.src, pkt.dst)) {
                continue;
            }
            if let Some(th) = &cr.threshold {
                if !filters.pass(r, Slot::Threshold, th, pkt.src, pkt.dst, now_ns) {
                    continue;
                }
            }
            let mut blocked = false;
            for (k, ef) in self.event_filters.iter().enumerate() {
                if ef.gid == info.gid
                    && (ef.sid == 0 || ef.sid == info.sid)
                    && !filters.pass(r, Slot::Event(k as u32), &ef.spec, pkt.src, pkt.dst, now_ns)
                {
                    blocked = true;
                }
            }
            if blocked {
                continue;
            }
            let mut action = info.action;
            for (k, rf) in self.rate_filters.iter().enumerate() {
                if rf.gid == info.gid && (rf.sid == 0 || rf.sid == info.sid) {
                    if let Some(a) = filters.rate(r, k as u32, rf, pkt.src, pkt.dst, now_ns) {
                        action = a;
                    }
                }
            }
            pass_matched |= action == Action::Pass;
            stats.reported += 1;
            out.push(Match {
                rule: r,
                gid: info.gid,
                sid: info.sid,
                rev: info.rev,
                action,
                priority: info.priority,
            });
        }
        if pass_matched {
            // A matching pass rule lets the packet through: the other events of this packet are
            // dropped (Snort's default pass-first order).
            let mut i = first_out;
            while i < out.len() {
                if out[i].action == Action::Pass {
                    i += 1;
                } else {
                    out.remove(i);
                }
            }
        }
    }
}

/// Service groups with fewer fast patterns are folded into the transport scan groups, larger
/// ones get merged scan groups ([`Group::merged`]).
const MERGE_MIN_PATTERNS: usize = 500;

fn ids_count() -> usize {
    crate::facts::BufferId::COUNT
}

fn ports_ok(h: &HeaderMatch, sport: u16, dport: u16) -> bool {
    h.sport.as_ref().is_none_or(|s| s.contains(sport)) && h.dport.as_ref().is_none_or(|d| d.contains(dport))
}

fn addrs_ok(h: &HeaderMatch, src: std::net::IpAddr, dst: std::net::IpAddr) -> bool {
    h.src.as_ref().is_none_or(|s| s.contains(src)) && h.dst.as_ref().is_none_or(|d| d.contains(dst))
}

/// Protocol, service, addresses and ports.
fn header_ok(h: &HeaderMatch, p: &PacketFacts<'_>, flow: &FlowFacts<'_>, svc: Option<u16>) -> bool {
    let proto_ok = match h.proto {
        ProtoSel::Any => true,
        ProtoSel::Icmp => p.proto == 1 || p.proto == 58,
        ProtoSel::Num(n) => p.proto == n,
    };
    if !proto_ok || h.ip_version.is_some_and(|v| v != p.ip_version) {
        return false;
    }
    let has_ports = matches!(p.proto, 6 | 17 | 132);
    let service_known = flow.app_proto.is_some();
    if !h.services.is_empty() {
        if h.app_needs_established && p.proto == 6 && !flow.established {
            return false;
        }
        if service_known {
            // Known service: the service decides, ports are ignored (Snort 3).
            if !svc.is_some_and(|s| h.services.contains(&s)) {
                return false;
            }
            let fwd = addrs_ok(h, p.src, p.dst);
            return fwd || (h.bidir && addrs_ok(h, p.dst, p.src));
        }
        // Unknown service: fall back to the rule's ports, if it restricts any.
        if h.sport.is_none() && h.dport.is_none() {
            return false;
        }
    }
    let fwd = addrs_ok(h, p.src, p.dst) && (!has_ports || ports_ok(h, p.src_port, p.dst_port));
    fwd || (h.bidir && addrs_ok(h, p.dst, p.src) && (!has_ports || ports_ok(h, p.dst_port, p.src_port)))
}
