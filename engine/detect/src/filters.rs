//! Thresholds, detection filters, event filters, rate filters and suppressions.
//!
//! All of them count *matches of one rule* per tracked key within capture-time windows
//! (nanoseconds from the packet timestamps, never wall-clock time). Semantics (Snort
//! `sfthd`, Suricata `thresholding.rst`):
//!
//! * window: starts at the first counted match for a key; a match more than `seconds` after the
//!   start opens a new window (count restarts at 0);
//! * `limit`: alert on the first `count` matches of each window;
//! * `threshold`: alert on every `count`-th match (the count restarts after each alert);
//! * `both`: alert once per window, on the `count`-th match;
//! * `backoff` (Suricata): alert on the `count`-th match, then each time the count reaches the
//!   previous trigger × `multiplier` (no time window);
//! * `detection_filter`: alert on every match after the first `count` in the window;
//! * `track`: `by_src` / `by_dst` key on that address, `by_both` / `by_flow` on the (src, dst)
//!   pair, `by_rule` on nothing.
//!
//! A rule's own `threshold:` is applied first, then configured event filters for its gid/sid
//! (sid 0 = every rule of the gid); all must pass. Suppressions silence matching events; rate
//! filters replace the action for `timeout` seconds once the rate is exceeded.
//!
//! Tables are per worker ([`crate::Detector`]) and capped: beyond [`MAX_ENTRIES`] keys, expired
//! entries are purged; if the table is still full the match is let through unfiltered (an
//! attacker flooding keys must not be able to silence alerts).

use std::collections::HashMap;
use std::net::IpAddr;

use ids_rules::{Action, IpSet, Threshold, ThresholdType};

/// Most tracked keys kept per table.
pub const MAX_ENTRIES: usize = 100_000;

/// What a filter counts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackBy {
    /// Source address.
    Src,
    /// Destination address.
    Dst,
    /// The rule alone.
    Rule,
    /// The (src, dst) pair.
    Both,
}

impl TrackBy {
    /// Parses `by_src` etc. (`by_flow` is tracked as the address pair).
    pub fn parse(s: &str) -> Option<TrackBy> {
        Some(match s {
            "by_src" => TrackBy::Src,
            "by_dst" => TrackBy::Dst,
            "by_rule" => TrackBy::Rule,
            "by_both" | "by_flow" => TrackBy::Both,
            _ => return None,
        })
    }
}

/// Filter type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// `type limit`
    Limit,
    /// `type threshold`
    Threshold,
    /// `type both`
    Both,
    /// `type backoff` with its multiplier.
    Backoff(u32),
    /// `detection_filter`
    DetectionFilter,
}

/// A counting filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSpec {
    /// Type.
    pub kind: FilterKind,
    /// Key.
    pub track: TrackBy,
    /// `count`
    pub count: u32,
    /// `seconds`
    pub seconds: u32,
}

impl FilterSpec {
    /// From a parsed `threshold:` / `detection_filter:` option.
    pub fn from_rule(t: &Threshold) -> Result<FilterSpec, String> {
        let kind = match t.kind {
            None => FilterKind::DetectionFilter,
            Some(ThresholdType::Limit) => FilterKind::Limit,
            Some(ThresholdType::Threshold) => FilterKind::Threshold,
            Some(ThresholdType::Both) => FilterKind::Both,
            Some(ThresholdType::Backoff) => FilterKind::Backoff(t.multiplier.unwrap_or(1).max(1)),
        };
        let track = TrackBy::parse(&t.track).ok_or_else(|| format!("unknown track `{}`", t.track))?;
        Ok(FilterSpec { kind, track, count: t.count, seconds: t.seconds })
    }
}

/// A configured `event_filter` (Snort) / `threshold` line (Suricata threshold.config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFilter {
    /// Generator id.
    pub gid: u32,
    /// Signature id; 0 = every rule of `gid`.
    pub sid: u32,
    /// The filter.
    pub spec: FilterSpec,
}

/// A configured `rate_filter`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateFilter {
    /// Generator id.
    pub gid: u32,
    /// Signature id; 0 = every rule of `gid`.
    pub sid: u32,
    /// Key.
    pub track: TrackBy,
    /// Matches allowed per window before the action changes.
    pub count: u32,
    /// Window.
    pub seconds: u32,
    /// Action while the rate is exceeded.
    pub new_action: Action,
    /// How long the new action stays, seconds.
    pub timeout: u32,
}

/// A configured `suppress`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// Generator id.
    pub gid: u32,
    /// Signature id; 0 = every rule of `gid`.
    pub sid: u32,
    /// `track by_src|by_dst, ip ...`; `None` suppresses the rule entirely.
    pub track: Option<(TrackBy, IpSet)>,
}

impl Suppression {
    pub(crate) fn applies(&self, gid: u32, sid: u32, src: IpAddr, dst: IpAddr) -> bool {
        if self.gid != gid || (self.sid != 0 && self.sid != sid) {
            return false;
        }
        match &self.track {
            None => true,
            Some((TrackBy::Src, set)) => set.contains(src),
            Some((TrackBy::Dst, set)) => set.contains(dst),
            Some((_, set)) => set.contains(src) || set.contains(dst),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    None,
    One(IpAddr),
    Two(IpAddr, IpAddr),
}

fn key(track: TrackBy, src: IpAddr, dst: IpAddr) -> Key {
    match track {
        TrackBy::Src => Key::One(src),
        TrackBy::Dst => Key::One(dst),
        TrackBy::Rule => Key::None,
        TrackBy::Both => {
            // Direction-agnostic pair.
            if src <= dst {
                Key::Two(src, dst)
            } else {
                Key::Two(dst, src)
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    start: i64,
    count: u32,
    /// backoff: next trigger; rate filter: end of the new-action period.
    aux: i64,
}

/// Which filter of a rule an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Slot {
    Threshold,
    Detection,
    Event(u32),
    Rate(u32),
}

/// Per-worker counting tables.
#[derive(Default)]
pub(crate) struct FilterTables {
    map: HashMap<(u32, Slot, Key), Entry>,
}

const NS: i64 = 1_000_000_000;

impl FilterTables {
    fn entry(&mut self, id: (u32, Slot, Key), now: i64, window_s: u32) -> Option<&mut Entry> {
        if self.map.len() >= MAX_ENTRIES && !self.map.contains_key(&id) {
            // Purge expired windows (an hour is longer than any sane window for backoff).
            self.map.retain(|_, e| now.saturating_sub(e.start) <= i64::from(window_s.max(3600)) * NS);
            if self.map.len() >= MAX_ENTRIES {
                return None;
            }
        }
        Some(self.map.entry(id).or_insert(Entry { start: now, count: 0, aux: 0 }))
    }

    /// Counts one match; true when it may alert.
    pub(crate) fn pass(
        &mut self,
        rule: u32,
        slot: Slot,
        spec: &FilterSpec,
        src: IpAddr,
        dst: IpAddr,
        now: i64,
    ) -> bool {
        let Some(e) = self.entry((rule, slot, key(spec.track, src, dst)), now, spec.seconds) else {
            return true;
        };
        let windowed = !matches!(spec.kind, FilterKind::Backoff(_));
        if windowed && now.saturating_sub(e.start) > i64::from(spec.seconds) * NS {
            e.start = now;
            e.count = 0;
        }
        e.count = e.count.saturating_add(1);
        match spec.kind {
            FilterKind::Limit => e.count <= spec.count,
            FilterKind::Threshold => {
                if e.count >= spec.count {
                    e.count = 0;
                    true
                } else {
                    false
                }
            }
            FilterKind::Both => e.count == spec.count.max(1),
            FilterKind::DetectionFilter => e.count > spec.count,
            FilterKind::Backoff(m) => {
                if e.aux == 0 {
                    e.aux = i64::from(spec.count.max(1));
                }
                if i64::from(e.count) == e.aux {
                    e.aux = e.aux.saturating_mul(i64::from(m));
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Counts one match against a rate filter; `Some(action)` while the rate is exceeded.
    pub(crate) fn rate(
        &mut self,
        rule: u32,
        idx: u32,
        rf: &RateFilter,
        src: IpAddr,
        dst: IpAddr,
        now: i64,
    ) -> Option<Action> {
        let e = self.entry((rule, Slot::Rate(idx), key(rf.track, src, dst)), now, rf.seconds)?;
        if e.aux > now {
            return Some(rf.new_action);
        }
        if now.saturating_sub(e.start) > i64::from(rf.seconds) * NS {
            e.start = now;
            e.count = 0;
        }
        e.count = e.count.saturating_add(1);
        if e.count > rf.count {
            e.aux = now.saturating_add(i64::from(rf.timeout) * NS);
            e.count = 0;
            return Some(rf.new_action);
        }
        None
    }
}

/// Adds configured filtering directives (`event_filter`, `threshold`, `suppress`,
/// `rate_filter` lines read by `ids_rules`) to compile options. Returns one message per
/// directive that cannot be applied.
pub fn apply_filter_directives(
    directives: &[ids_rules::FilterDirective],
    opts: &mut crate::CompileOptions,
) -> Vec<String> {
    use ids_rules::FilterDirective as D;
    let mut errors = Vec::new();
    for d in directives {
        match d {
            D::EventFilter { gid, sid, threshold } => match FilterSpec::from_rule(threshold) {
                Ok(spec) => opts.event_filters.push(EventFilter { gid: *gid, sid: *sid, spec }),
                Err(e) => errors.push(format!("event_filter gen_id {gid}, sig_id {sid}: {e}")),
            },
            D::Suppress { gid, sid, track } => {
                let track = track.as_ref().map(|(t, ips)| {
                    // `by_either`: the address may be the source or the destination.
                    let by = if t == "by_either" {
                        TrackBy::Both
                    } else {
                        TrackBy::parse(t).unwrap_or(TrackBy::Both)
                    };
                    (by, ips.clone())
                });
                opts.suppressions.push(Suppression { gid: *gid, sid: *sid, track });
            }
            D::RateFilter { gid, sid, track, count, seconds, new_action, timeout } => {
                match TrackBy::parse(track) {
                    Some(track) => opts.rate_filters.push(RateFilter {
                        gid: *gid,
                        sid: *sid,
                        track,
                        count: *count,
                        seconds: *seconds,
                        new_action: *new_action,
                        timeout: *timeout,
                    }),
                    None => errors
                        .push(format!("rate_filter gen_id {gid}, sig_id {sid}: unknown track `{track}`")),
                }
            }
        }
    }
    errors
}
