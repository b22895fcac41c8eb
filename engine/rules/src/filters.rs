//! Event-filtering directives: `threshold`, `event_filter`, `suppress` and `rate_filter`
//! lines, as Snort 2 reads them from `threshold.conf` (or `snort.conf`) and Suricata from its
//! `threshold.config`. Both use the same syntax: a keyword, then comma-separated `name value`
//! pairs.
//!
//! ```text
//! event_filter gen_id 1, sig_id 1851, type limit, track by_src, count 1, seconds 60
//! threshold gen_id 1, sig_id 2003614, type threshold, track by_dst, count 10, seconds 60
//! suppress gen_id 1, sig_id 2100480, track by_src, ip [10.0.0.0/8, $DNS_SERVERS]
//! suppress gen_id 116, sig_id 150
//! rate_filter gen_id 1, sig_id 1000, track by_src, count 100, seconds 1, new_action drop, timeout 10
//! ```
//!
//! A standalone `threshold` line is Snort 2's older name for `event_filter`. `sig_id 0` means
//! every rule of the generator. The engine applies them (`ids-detect`'s `filters` module); this
//! module only reads them, with errors a rule author can act on.

use crate::ast::{Action, Threshold, ThresholdType};
use crate::net::parse_addr;
use crate::sets::IpSet;
use crate::vars::Vars;

/// One parsed filtering directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterDirective {
    /// `event_filter` (or `threshold`): counts a rule's events and lets some through.
    EventFilter {
        /// `gen_id`.
        gid: u32,
        /// `sig_id` (0: every rule of the generator).
        sid: u32,
        /// `type`, `track`, `count`, `seconds` (and `multiplier` for `backoff`).
        threshold: Threshold,
    },
    /// `suppress`: silences a rule, everywhere or for some addresses.
    Suppress {
        /// `gen_id`.
        gid: u32,
        /// `sig_id` (0: every rule of the generator).
        sid: u32,
        /// `track by_src|by_dst` and the addresses; `None`: the rule is silenced entirely.
        track: Option<(String, IpSet)>,
    },
    /// `rate_filter`: changes a rule's action while its rate is exceeded.
    RateFilter {
        /// `gen_id`.
        gid: u32,
        /// `sig_id` (0: every rule of the generator).
        sid: u32,
        /// `track by_src|by_dst|by_rule|by_both`.
        track: String,
        /// Events allowed per window before the action changes.
        count: u32,
        /// The window.
        seconds: u32,
        /// The action while the rate is exceeded.
        new_action: Action,
        /// Seconds the new action stays.
        timeout: u32,
    },
}

/// The directive keywords this module reads.
pub const FILTER_DIRECTIVES: &[&str] = &["event_filter", "threshold", "suppress", "rate_filter"];

/// Parses one directive line (`keyword` and the text after it). Addresses of `suppress` are
/// resolved against `vars`.
pub fn parse_filter_directive(keyword: &str, rest: &str, vars: &Vars) -> Result<FilterDirective, String> {
    let mut fields: Vec<(&str, &str)> = Vec::new();
    for part in split_top_level(rest) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
        if fields.iter().any(|(n, _)| *n == name) {
            return Err(format!("`{name}` given twice"));
        }
        fields.push((name, value.trim()));
    }
    let get = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let num = |name: &str| -> Result<Option<u32>, String> {
        get(name)
            .map(|v| v.parse::<u32>().map_err(|_| format!("`{name}` must be a number, not `{v}`")))
            .transpose()
    };
    let need =
        |name: &str| -> Result<u32, String> { num(name)?.ok_or_else(|| format!("`{name}` is required")) };
    let allowed: &[&str] = match keyword {
        "event_filter" | "threshold" => {
            &["gen_id", "sig_id", "type", "track", "count", "seconds", "multiplier"]
        }
        "suppress" => &["gen_id", "sig_id", "track", "ip"],
        "rate_filter" => {
            &["gen_id", "sig_id", "track", "count", "seconds", "new_action", "timeout", "apply_to"]
        }
        other => return Err(format!("`{other}` is not a filtering directive")),
    };
    if let Some((n, _)) = fields.iter().find(|(n, _)| !allowed.contains(n)) {
        return Err(format!("unknown `{keyword}` field `{n}`"));
    }
    let gid = need("gen_id")?;
    let sid = need("sig_id")?;
    let track = |allowed: &[&str]| -> Result<Option<String>, String> {
        match get("track") {
            None => Ok(None),
            Some(t) if allowed.contains(&t) => Ok(Some(t.to_string())),
            Some(t) => Err(format!("`track {t}` is not one of {}", allowed.join(", "))),
        }
    };
    match keyword {
        "event_filter" | "threshold" => {
            let kind = match get("type").ok_or("`type` is required")? {
                "limit" => ThresholdType::Limit,
                "threshold" => ThresholdType::Threshold,
                "both" => ThresholdType::Both,
                "backoff" => ThresholdType::Backoff,
                t => return Err(format!("unknown type `{t}` (limit, threshold, both, backoff)")),
            };
            let backoff = kind == ThresholdType::Backoff;
            let track = track(&["by_src", "by_dst", "by_rule", "by_both", "by_flow"])?
                .ok_or("`track` is required")?;
            Ok(FilterDirective::EventFilter {
                gid,
                sid,
                threshold: Threshold {
                    kind: Some(kind),
                    track,
                    count: need("count")?,
                    seconds: if backoff { num("seconds")?.unwrap_or(0) } else { need("seconds")? },
                    multiplier: if backoff { Some(need("multiplier")?) } else { None },
                },
            })
        }
        "suppress" => {
            let track = track(&["by_src", "by_dst", "by_either"])?;
            let ip = get("ip");
            let track = match (track, ip) {
                (None, None) => None,
                (Some(t), Some(ip)) => {
                    let spec = parse_addr(ip).map_err(|e| format!("`ip {ip}`: {e}"))?;
                    Some((t, vars.resolve_addr(&spec).map_err(|e| format!("`ip {ip}`: {e}"))?))
                }
                (Some(_), None) => return Err("`track` needs `ip`".into()),
                (None, Some(_)) => return Err("`ip` needs `track`".into()),
            };
            Ok(FilterDirective::Suppress { gid, sid, track })
        }
        _ => {
            let new_action = get("new_action").ok_or("`new_action` is required")?;
            let new_action = Action::from_keyword(new_action)
                .ok_or_else(|| format!("`new_action {new_action}` is not a rule action"))?;
            if get("apply_to").is_some() {
                return Err("`apply_to` is not supported".into());
            }
            Ok(FilterDirective::RateFilter {
                gid,
                sid,
                track: track(&["by_src", "by_dst", "by_rule", "by_both", "by_flow"])?
                    .ok_or("`track` is required")?,
                count: need("count")?,
                seconds: need("seconds")?,
                new_action,
                timeout: need("timeout")?,
            })
        }
    }
}

/// Splits on commas outside `[...]` (address lists contain commas).
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<FilterDirective, String> {
        let (k, rest) = line.split_once(' ').unwrap();
        let mut vars = Vars::default();
        vars.define_ip("DNS_SERVERS", "[192.0.2.53, 192.0.2.54]").unwrap();
        parse_filter_directive(k, rest, &vars)
    }

    #[test]
    fn event_filters_and_standalone_thresholds() {
        let want = FilterDirective::EventFilter {
            gid: 1,
            sid: 1851,
            threshold: Threshold {
                kind: Some(ThresholdType::Limit),
                track: "by_src".into(),
                count: 1,
                seconds: 60,
                multiplier: None,
            },
        };
        assert_eq!(
            parse("event_filter gen_id 1, sig_id 1851, type limit, track by_src, count 1, seconds 60"),
            Ok(want.clone())
        );
        assert_eq!(
            parse("threshold gen_id 1,sig_id 1851,type limit,track by_src,count 1,seconds 60"),
            Ok(want)
        );
        let Ok(FilterDirective::EventFilter { threshold, .. }) =
            parse("event_filter gen_id 1, sig_id 0, type backoff, track by_flow, count 1, multiplier 10")
        else {
            panic!("backoff")
        };
        assert_eq!((threshold.seconds, threshold.multiplier), (0, Some(10)));
    }

    #[test]
    fn suppressions() {
        assert_eq!(
            parse("suppress gen_id 116, sig_id 150"),
            Ok(FilterDirective::Suppress { gid: 116, sid: 150, track: None })
        );
        let Ok(FilterDirective::Suppress { track: Some((t, ips)), .. }) =
            parse("suppress gen_id 1, sig_id 2100480, track by_src, ip [10.0.0.0/8, $DNS_SERVERS]")
        else {
            panic!("suppress with addresses")
        };
        assert_eq!(t, "by_src");
        assert!(ips.contains("10.1.2.3".parse().unwrap()));
        assert!(ips.contains("192.0.2.54".parse().unwrap()));
        assert!(!ips.contains("192.0.2.55".parse().unwrap()));
    }

    #[test]
    fn rate_filters() {
        assert_eq!(
            parse("rate_filter gen_id 1, sig_id 1000, track by_src, count 100, seconds 1, new_action drop, timeout 10"),
            Ok(FilterDirective::RateFilter {
                gid: 1,
                sid: 1000,
                track: "by_src".into(),
                count: 100,
                seconds: 1,
                new_action: Action::Drop,
                timeout: 10
            })
        );
    }

    #[test]
    fn errors_name_the_field() {
        for (line, want) in [
            ("event_filter gen_id 1, sig_id 1, type limit, track by_src, count 1", "`seconds` is required"),
            ("event_filter gen_id 1, sig_id 1, type often, track by_src, count 1, seconds 1", "unknown type `often`"),
            ("event_filter gen_id x, sig_id 1, type limit, track by_src, count 1, seconds 1", "`gen_id` must be a number"),
            ("suppress gen_id 1, sig_id 1, track by_src", "`track` needs `ip`"),
            ("suppress gen_id 1, sig_id 1, track by_src, ip 10.0.0.300", "`ip 10.0.0.300`"),
            ("suppress gen_id 1, sig_id 1, color red", "unknown `suppress` field `color`"),
            ("rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 1, new_action explode, timeout 1", "not a rule action"),
            ("event_filter gen_id 1, gen_id 2", "given twice"),
        ] {
            let err = parse(line).expect_err(line);
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
