//! Rule groups and the multi-pattern prefilter.
//!
//! Rules are grouped the Snort way (see the crate docs for which groups a packet searches):
//!
//! * per transport (TCP, UDP, ICMP, other IP) **port groups**: a rule whose destination ports are
//!   restricted goes to the *destination-port* groups of those ports, else a rule whose source
//!   ports are restricted to the *source-port* groups, else to the transport's *any-any* group
//!   (`<>` rules are also entered the other way round). Ports with the same set of rules share
//!   one group (a sweep over the port space), so `$HTTP_PORTS` does not make 60 copies;
//! * **service groups**, one per service named by an application-protocol header (`alert http`)
//!   or `service:` / `metadata:service`, searched when the flow's `app_proto` is that service;
//! * **fallback port groups** of the service rules that restrict ports, searched when the flow's
//!   service is not known;
//! * one **scan group** per transport (TCP, UDP) holding the fast patterns of all its port
//!   groups and fallback port groups, which then keep only their rules without a fast pattern
//!   ([`Parts`]). A packet scans each buffer once instead of once per port group (Snort merges
//!   the any-any rules into every port group for the same reason); the price is candidates from
//!   rules of other ports, which the header check rejects before anything else. The scan
//!   groups also hold the fast patterns of the small service groups (fewer than 500), whose
//!   automata are then not searched for TCP/UDP; a large service group instead absorbs the
//!   scan groups' patterns on its own buffers, and a *combined group* per transport
//!   ([`Group::combined`]) lists its automata plus the scan group's automata of the other
//!   buffers (shared by pointer, nothing rebuilt). Either way a TCP/UDP packet of a known
//!   service scans each buffer once.
//!
//! Inside a group, every rule with a fast pattern is entered in the matcher of the (possibly
//! transformed) buffer of that pattern: one per group and buffer, case-insensitive (as Snort's
//! MPM; case is verified by the full evaluation), reporting every occurrence of every pattern
//! (Aho-Corasick standard semantics with overlapping iteration, or the gram scanner of module
//! `gram` for large sets). Identical patterns are entered once and map to the list of their
//! rules.
//!
//! `raw_data` (Snort's `rawbytes`) falls back to `pkt_data` when the caller gives no raw form
//! of the payload, which is the usual case: then the two buffers are the same bytes. A group
//! with fast patterns on `raw_data` therefore also gets one matcher over the patterns of both
//! buffers, searched in place of the two when `raw_data` is not set ([`PfUse`]), so those bytes
//! are read once.
//!
//! Rules without a usable content cannot be prefiltered by pattern. Those whose source (or
//! destination) addresses are a small set — IP reputation lists are the bulk of them — are
//! indexed by address (a sorted interval map per address family, so a packet costs one binary
//! search); only the rest are evaluated on every packet of the group, header checks first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use ids_rules::{IpSet, PortSet, RangeSet};

use crate::compile::CompiledRule;
use crate::gram::GramScanner;
use crate::ops::VBuf;
use crate::BufferId;

/// The multi-pattern matcher of one buffer in one group.
pub(crate) enum Scanner {
    /// Aho-Corasick (DFA for small sets).
    Ac(AhoCorasick),
    /// Gram filter and verification (large sets).
    Gram(GramScanner),
}

impl Scanner {
    /// Appends to `out` the pattern index of every occurrence of a pattern in `hay`.
    #[inline]
    pub(crate) fn find_all(&self, hay: &[u8], out: &mut Vec<u32>) {
        match self {
            Scanner::Ac(ac) => out.extend(ac.find_overlapping_iter(hay).map(|m| m.pattern().as_u32())),
            Scanner::Gram(g) => g.find_all(hay, out),
        }
    }

    fn memory_usage(&self) -> usize {
        match self {
            Scanner::Ac(ac) => ac.memory_usage(),
            Scanner::Gram(g) => g.memory_usage(),
        }
    }
}

/// When a matcher is searched, by whether the unit sets `raw_data` itself (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PfUse {
    Always,
    /// `raw_data` is set: the separate `pkt_data` and `raw_data` matchers.
    RawDataSet,
    /// `raw_data` falls back to `pkt_data`: the merged matcher, searched over `pkt_data`.
    RawDataUnset,
}

/// The buffer whose bytes a matcher of `v` reads when `raw_data` is not set.
pub(crate) fn scan_family(v: VBuf) -> VBuf {
    if v == BufferId::RawData as VBuf {
        BufferId::PktData as VBuf
    } else {
        v
    }
}

/// The prefilter of one buffer in one group.
pub(crate) struct BufPf {
    pub vbuf: VBuf,
    pub when: PfUse,
    pub scan: Scanner,
    /// Global id of pattern 0 of this automaton (for per-packet pattern dedupe).
    pub pat_base: u32,
    /// Pattern `i`'s rules are `rules[starts[i]..starts[i + 1]]`.
    pub starts: Vec<u32>,
    pub rules: Vec<u32>,
    /// Length of the shortest pattern: shorter haystacks are not scanned.
    pub min_len: usize,
}

/// What [`Group::build`] builds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parts {
    /// Automata and the indexes of the rules without a fast pattern.
    All,
    /// Only the indexes of the rules without a fast pattern (port groups of TCP/UDP, whose fast
    /// patterns are in the transport's scan group).
    Indexes,
    /// Only the automata (a transport's scan group).
    Automata,
}

/// Rules indexed by one address.
#[derive(Default)]
pub(crate) struct AddrIndex {
    v4: Sweep<u32>,
    v6: Sweep<u128>,
}

#[derive(Default)]
struct Sweep<T> {
    /// Segment `i` starts at `bounds[i]` (sorted, first is the domain minimum).
    bounds: Vec<T>,
    lists: Vec<(u32, u32)>,
    rules: Vec<u32>,
}

trait Dom: Copy + Ord + Default {
    const MAX: Self;
    fn succ(self) -> Self;
}
impl Dom for u32 {
    const MAX: Self = u32::MAX;
    fn succ(self) -> Self {
        self + 1
    }
}
impl Dom for u128 {
    const MAX: Self = u128::MAX;
    fn succ(self) -> Self {
        self + 1
    }
}
impl Dom for u16 {
    const MAX: Self = u16::MAX;
    fn succ(self) -> Self {
        self + 1
    }
}

/// Sweeps `(rule, ranges)` over the domain: returns segment starts and each segment's rules.
fn sweep<T: Dom>(entries: &[(u32, &[(T, T)])]) -> (Vec<T>, Vec<Vec<u32>>) {
    let mut events: Vec<(T, bool, u32)> = Vec::new();
    for (rule, ranges) in entries {
        for &(lo, hi) in *ranges {
            events.push((lo, true, *rule));
            if hi != T::MAX {
                events.push((hi.succ(), false, *rule));
            }
        }
    }
    events.sort_unstable();
    let mut active: BTreeMap<u32, u32> = BTreeMap::new();
    let mut bounds = vec![T::default()];
    let mut lists = vec![Vec::new()];
    let mut i = 0;
    while i < events.len() {
        let at = events[i].0;
        while i < events.len() && events[i].0 == at {
            let (_, add, r) = events[i];
            if add {
                *active.entry(r).or_insert(0) += 1;
            } else if let Some(c) = active.get_mut(&r) {
                *c -= 1;
                if *c == 0 {
                    active.remove(&r);
                }
            }
            i += 1;
        }
        let snapshot: Vec<u32> = active.keys().copied().collect();
        if bounds.last() == Some(&at) {
            *lists.last_mut().expect("lists parallels bounds") = snapshot;
        } else {
            bounds.push(at);
            lists.push(snapshot);
        }
    }
    (bounds, lists)
}

impl<T: Dom> Sweep<T> {
    fn build(entries: &[(u32, &[(T, T)])]) -> Self {
        if entries.is_empty() {
            return Sweep { bounds: Vec::new(), lists: Vec::new(), rules: Vec::new() };
        }
        let (bounds, lists) = sweep(entries);
        let mut rules = Vec::new();
        let lists = lists
            .into_iter()
            .map(|l| {
                let s = rules.len() as u32;
                rules.extend(l);
                (s, rules.len() as u32)
            })
            .collect();
        Sweep { bounds, lists, rules }
    }

    fn lookup(&self, v: T) -> &[u32] {
        let i = self.bounds.partition_point(|b| *b <= v);
        if i == 0 {
            return &[];
        }
        let (s, e) = self.lists[i - 1];
        &self.rules[s as usize..e as usize]
    }
}

fn coverage<T: ids_rules::Bound + Into<u128>>(r: &RangeSet<T>) -> u128 {
    r.ranges().iter().fold(0u128, |acc, &(lo, hi)| {
        acc.saturating_add(hi.into().saturating_sub(lo.into()).saturating_add(1))
    })
}

/// A set small enough that indexing by it pays: at most a /8 of IPv4 and a /28 of IPv6.
fn selective(s: &IpSet) -> Option<u128> {
    let (c4, c6) = (coverage(&s.v4), coverage(&s.v6));
    (c4 <= 1 << 24 && c6 <= 1 << 100).then_some(c4.saturating_add(c6 >> 76))
}

impl AddrIndex {
    fn build(entries: &[(u32, &IpSet)]) -> Self {
        let v4: Vec<(u32, &[(u32, u32)])> = entries.iter().map(|(r, s)| (*r, s.v4.ranges())).collect();
        let v6: Vec<(u32, &[(u128, u128)])> = entries.iter().map(|(r, s)| (*r, s.v6.ranges())).collect();
        AddrIndex { v4: Sweep::build(&v4), v6: Sweep::build(&v6) }
    }

    pub(crate) fn lookup(&self, ip: std::net::IpAddr) -> &[u32] {
        match ip {
            std::net::IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            std::net::IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }
}

/// Patterns of one buffer while a group is built: pattern → index, and (pattern, its rules).
type PatternTable<'a> = (HashMap<&'a [u8], usize>, Vec<(&'a [u8], Vec<u32>)>);

/// One matcher to build: its buffer, when it is searched, its (pattern, rules).
type MatcherSpec<'a> = (VBuf, PfUse, Vec<(&'a [u8], Vec<u32>)>);

/// A group of rules with its prefilter.
pub(crate) struct Group {
    pub name: String,
    /// Shared by pointer between a service group and its merged scan groups (see
    /// [`Group::merged`]) when only one of the two has patterns on that buffer.
    pub pfs: Vec<Arc<BufPf>>,
    /// Rules evaluated on every packet reaching the group.
    pub always: Vec<u32>,
    pub by_src: AddrIndex,
    pub by_dst: AddrIndex,
    pub n_rules: usize,
    pub n_addr: usize,
    pub n_patterns: usize,
    /// Heap bytes of the automata.
    pub n_bytes: usize,
}

impl Group {
    pub(crate) fn build(
        name: String,
        members: &[u32],
        rules: &[CompiledRule],
        pat_base: &mut u32,
        parts: Parts,
    ) -> Result<Group, String> {
        Self::build_only(name, members, rules, pat_base, parts, &|_| true)
    }

    /// [`Group::build`] with the automata of the buffers `keep` accepts only.
    fn build_only(
        name: String,
        members: &[u32],
        rules: &[CompiledRule],
        pat_base: &mut u32,
        parts: Parts,
        keep: &dyn Fn(VBuf) -> bool,
    ) -> Result<Group, String> {
        // vbuf → (pattern → its rules), patterns in first-seen order.
        let mut per_buf: BTreeMap<VBuf, PatternTable<'_>> = BTreeMap::new();
        let mut always = Vec::new();
        let mut src_idx: Vec<(u32, &IpSet)> = Vec::new();
        let mut dst_idx: Vec<(u32, &IpSet)> = Vec::new();
        for &r in members {
            let cr = &rules[r as usize];
            if let Some(fp) = &cr.fast {
                if parts == Parts::Indexes || !keep(fp.vbuf) {
                    continue;
                }
                let (index, pats) = per_buf.entry(fp.vbuf).or_default();
                let i = *index.entry(fp.pat.as_slice()).or_insert_with(|| {
                    pats.push((fp.pat.as_slice(), Vec::new()));
                    pats.len() - 1
                });
                pats[i].1.push(r);
                continue;
            }
            if parts == Parts::Automata {
                continue;
            }
            let h = &cr.hdr;
            let s = if h.bidir { None } else { h.src.as_ref().and_then(selective) };
            let d = if h.bidir { None } else { h.dst.as_ref().and_then(selective) };
            match (s, d) {
                (Some(a), Some(b)) if b < a => dst_idx.push((r, h.dst.as_ref().expect("selective"))),
                (Some(_), _) => src_idx.push((r, h.src.as_ref().expect("selective"))),
                (None, Some(_)) => dst_idx.push((r, h.dst.as_ref().expect("selective"))),
                (None, None) => always.push(r),
            }
        }
        // `pkt_data` ∪ `raw_data`, for units without a raw form of the payload.
        let raw = BufferId::RawData as VBuf;
        let pkt = BufferId::PktData as VBuf;
        let mut tables: Vec<MatcherSpec<'_>> = Vec::new();
        if let Some((_, raw_pats)) = per_buf.get(&raw) {
            let mut index: HashMap<&[u8], usize> = HashMap::new();
            let mut merged: Vec<(&[u8], Vec<u32>)> = Vec::new();
            let pkt_pats = per_buf.get(&pkt).map(|(_, p)| p.as_slice()).unwrap_or_default();
            for (p, rs) in pkt_pats.iter().chain(raw_pats.iter()) {
                let i = *index.entry(p).or_insert_with(|| {
                    merged.push((p, Vec::new()));
                    merged.len() - 1
                });
                merged[i].1.extend_from_slice(rs);
            }
            tables.push((pkt, PfUse::RawDataUnset, merged));
        }
        let has_raw = !tables.is_empty();
        for (vbuf, (_, pats)) in per_buf {
            let when =
                if has_raw && (vbuf == raw || vbuf == pkt) { PfUse::RawDataSet } else { PfUse::Always };
            tables.push((vbuf, when, pats));
        }
        tables.sort_by_key(|t| t.0);
        let mut pfs = Vec::new();
        let mut n_patterns = 0;
        let mut n_bytes = 0;
        for (vbuf, when, pats) in tables {
            // A small set gets a DFA: fastest to search and small enough to stay in cache. A
            // large automaton (a DFA over 1,500 patterns is ~18 MiB, a contiguous NFA ~2 MiB with
            // failure transitions) does not fit in the caches and costs ~10 ns per byte on real
            // traffic: large sets get the gram scanner (8 KiB filter bitmap, see `gram`).
            let scan = if pats.len() <= DFA_MAX_PATTERNS {
                Scanner::Ac(
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .match_kind(MatchKind::Standard)
                        .kind(Some(AhoCorasickKind::DFA))
                        .build(pats.iter().map(|(p, _)| *p))
                        .map_err(|e| format!("group {name}: automaton: {e}"))?,
                )
            } else {
                Scanner::Gram(GramScanner::new(pats.iter().map(|(p, _)| *p)))
            };
            let min_len = pats.iter().map(|(p, _)| p.len()).min().unwrap_or(0);
            let mut starts = Vec::with_capacity(pats.len() + 1);
            let mut rl = Vec::new();
            for (_, rs) in &pats {
                starts.push(rl.len() as u32);
                rl.extend_from_slice(rs);
            }
            starts.push(rl.len() as u32);
            n_patterns += pats.len();
            n_bytes += scan.memory_usage();
            pfs.push(Arc::new(BufPf { vbuf, when, scan, pat_base: *pat_base, starts, rules: rl, min_len }));
            *pat_base += pats.len() as u32;
        }
        Ok(Group {
            name,
            pfs,
            always,
            n_addr: src_idx.len() + dst_idx.len(),
            by_src: AddrIndex::build(&src_idx),
            by_dst: AddrIndex::build(&dst_idx),
            n_rules: members.len(),
            n_patterns,
            n_bytes,
        })
    }

    /// The automata a packet of a flow of service `svc` over the transport of scan group `scan`
    /// searches: those of `svc` (built with the patterns of `scan` on its buffers, see
    /// `RuleSet::build_groups`) and those of `scan` on the other buffers, shared by pointer. No
    /// automaton is built: such a packet scans each buffer once.
    pub(crate) fn combined(name: String, scan: &Group, svc: &Group) -> Group {
        let mut pfs: Vec<Arc<BufPf>> = svc.pfs.clone();
        pfs.extend(
            scan.pfs
                .iter()
                .filter(|pf| !svc.pfs.iter().any(|s| scan_family(s.vbuf) == scan_family(pf.vbuf)))
                .cloned(),
        );
        pfs.sort_by_key(|pf| pf.vbuf);
        Group {
            name,
            pfs,
            always: Vec::new(),
            by_src: AddrIndex::default(),
            by_dst: AddrIndex::default(),
            n_rules: 0,
            n_addr: 0,
            n_patterns: 0,
            n_bytes: 0,
        }
    }
}

/// Port → group maps of one transport.
pub(crate) struct PortGroups {
    pub dst: Vec<u16>,
    pub src: Vec<u16>,
    pub any: Option<u16>,
}

pub(crate) const NO_GROUP: u16 = u16::MAX;

/// Pattern sets with at most this many patterns are built as Aho-Corasick DFAs (memory grows
/// with the pattern count); larger ones as gram scanners.
const DFA_MAX_PATTERNS: usize = 100;

/// Port sets larger than this are grouped as `any`.
const LARGE_PORT_SET: u128 = 4096;

impl PortGroups {
    pub(crate) fn empty() -> Self {
        PortGroups { dst: Vec::new(), src: Vec::new(), any: None }
    }

    pub(crate) fn dst_group(&self, port: u16) -> Option<u16> {
        self.dst.get(usize::from(port)).copied().filter(|g| *g != NO_GROUP)
    }

    pub(crate) fn src_group(&self, port: u16) -> Option<u16> {
        self.src.get(usize::from(port)).copied().filter(|g| *g != NO_GROUP)
    }
}

/// One rule's entry in port grouping.
pub(crate) struct PortEntry<'a> {
    pub rule: u32,
    pub sport: Option<&'a PortSet>,
    pub dport: Option<&'a PortSet>,
    pub bidir: bool,
}

/// Builds the port groups of one transport; the groups are appended to `groups`.
pub(crate) fn build_port_groups(
    label: &str,
    entries: &[PortEntry<'_>],
    rules: &[CompiledRule],
    groups: &mut Vec<Group>,
    pat_base: &mut u32,
    parts: Parts,
) -> Result<PortGroups, String> {
    let mut dst: HashMap<u32, PortSet> = HashMap::new();
    let mut src: HashMap<u32, PortSet> = HashMap::new();
    let mut any: Vec<u32> = Vec::new();
    let add = |map: &mut HashMap<u32, PortSet>, r: u32, s: &PortSet| {
        let e = map.entry(r).or_insert_with(PortSet::empty);
        *e = e.union(s);
    };
    // A port set covering much of the port space (`!80`, `1024:`, `![$HTTP_PORTS,443]`) would put
    // the rule in nearly every port group and make every group distinct; it is grouped as `any`
    // (the header check still applies the exact set).
    fn narrow(s: Option<&PortSet>) -> Option<&PortSet> {
        s.filter(|s| coverage(&s.0) <= LARGE_PORT_SET)
    }
    for e in entries {
        let (sport, dport) = (narrow(e.sport), narrow(e.dport));
        let mut orient = |a: Option<&PortSet>, b: Option<&PortSet>| match (a, b) {
            (_, Some(d)) => add(&mut dst, e.rule, d),
            (Some(s), None) => add(&mut src, e.rule, s),
            (None, None) => {
                if !any.contains(&e.rule) {
                    any.push(e.rule)
                }
            }
        };
        orient(sport, dport);
        if e.bidir {
            orient(dport, sport);
        }
    }
    any.sort_unstable();
    let mut per_port = |map: HashMap<u32, PortSet>, which: &str| -> Result<Vec<u16>, String> {
        if map.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys: Vec<&u32> = map.keys().collect();
        keys.sort_unstable();
        let entries: Vec<(u32, &[(u16, u16)])> = keys.iter().map(|&&r| (r, map[&r].0.ranges())).collect();
        let (bounds, lists) = sweep(&entries);
        let mut out = vec![NO_GROUP; 65536];
        let mut uniq: HashMap<Vec<u32>, u16> = HashMap::new();
        for (i, list) in lists.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let lo = usize::from(bounds[i]);
            let hi = bounds.get(i + 1).map_or(65536, |b| usize::from(*b));
            let g = match uniq.get(&list) {
                Some(g) => *g,
                None => {
                    let gi = u16::try_from(groups.len())
                        .ok()
                        .filter(|g| *g != NO_GROUP)
                        .ok_or("too many groups")?;
                    let name = format!(
                        "{label} {which} {}{}",
                        bounds[i],
                        if hi - lo > 1 { format!("-{}", hi - 1) } else { String::new() }
                    );
                    groups.push(Group::build(name, &list, rules, pat_base, parts)?);
                    uniq.insert(list, gi);
                    gi
                }
            };
            out[lo..hi].fill(g);
        }
        Ok(out)
    };
    let dst_map = per_port(dst, "dst")?;
    let src_map = per_port(src, "src")?;
    let any_group = if any.is_empty() {
        None
    } else {
        let gi = u16::try_from(groups.len()).ok().filter(|g| *g != NO_GROUP).ok_or("too many groups")?;
        groups.push(Group::build(format!("{label} any"), &any, rules, pat_base, parts)?);
        Some(gi)
    };
    Ok(PortGroups { dst: dst_map, src: src_map, any: any_group })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_segments() {
        let a: &[(u16, u16)] = &[(80, 80), (8080, 8081)];
        let b: &[(u16, u16)] = &[(0, 100)];
        let (bounds, lists) = sweep(&[(1, a), (2, b)]);
        let find = |p: u16| {
            let i = bounds.partition_point(|x| *x <= p) - 1;
            lists[i].clone()
        };
        assert_eq!(find(0), vec![2]);
        assert_eq!(find(80), vec![1, 2]);
        assert_eq!(find(81), vec![2]);
        assert_eq!(find(101), Vec::<u32>::new());
        assert_eq!(find(8081), vec![1]);
        assert_eq!(find(65535), Vec::<u32>::new());
    }
}
