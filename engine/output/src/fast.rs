//! Snort's one-line "fast" alert.
//!
//! Snort 3 (`src/loggers/alert_fast.cc` `FastLogger::alert`, `src/log/log_text.cc`,
//! `src/utils/util.cc` `ts_print`) writes, with no separator unless shown:
//!
//! ```text
//! ts_print()                       MM/DD-HH:MM:SS.uuuuuu   (-y: YY/MM/DD-…; -U: UTC)
//! " [%s]"                          only when the packet's active action is above pass
//! " [**] "
//! "[%u:%u:%u] "                    gid:sid:rev
//! msg                              Snort 3 stores msg *with* its quotes: "…"
//! " [**] "
//! "[Classification: %s] "          only when the rule has a classtype (its description)
//! "[Priority: %d] "
//! "[AppID: %s] "                   only when AppID named the flow's application
//! "{%s} "                          Packet::get_type(): TCP, UDP, ICMP, IP
//! "%s:%d -> %s:%d"                 or "%s -> %s" for fragments and non-TCP/UDP
//! ```
//!
//! `11/22-04:05:06.123456 [**] [1:2000001:3] "ET POLICY Something" [**] [Classification:
//! Potential Corporate Privacy Violation] [Priority: 1] {TCP} 10.0.0.1:1234 -> 10.0.0.2:80`
//!
//! Snort 2.9 (`spo_alert_fast.c`) differs in four places, selected by [`FastDialect::Snort2`]:
//! its time buffer ends in a space (hence the two spaces before `[**]`), `-y` gives `MM/DD/YY`,
//! drops are ` [Drop]` / ` [WDrop]`, the message has no quotes, and the protocol is
//! `protocol_names[]` (`{IPV6-ICMP}`, `{PROTO:253}`, `{TCP}` also for fragments).
//!
//! IPv6 addresses are printed by `inet_ntop` with the port after a colon and no brackets
//! (`2001:db8::1:53`), exactly as Snort does; Rust's `Ipv6Addr` display follows the same
//! RFC 5952 compression.

use std::fmt::Write;

use crate::model::{Action, Alert, Direction};
use crate::proto::{snort2_proto_name, snort3_pkt_type};
use crate::time::{push_snort2_ts, push_snort_ts, Zone};

/// Which Snort's fast line to reproduce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FastDialect {
    /// Snort 3 `alert_fast` (the default: `-A fast` and `alert_fast.txt` are Snort 3's).
    #[default]
    Snort3,
    /// Snort 2.9 `alert_fast` / `-A fast`.
    Snort2,
}

/// Formats alerts as Snort fast lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastFormatter {
    /// Time zone of the timestamps. [`FastFormatter::new`] uses UTC for `-U` and otherwise
    /// the local offset at startup, as Snort's `thiszone` does.
    pub zone: Zone,
    /// `-y`: include the two-digit year.
    pub year: bool,
    pub dialect: FastDialect,
}

impl FastFormatter {
    /// Snort 3 lines; `utc` is `-U`, `year` is `-y`.
    pub fn new(utc: bool, year: bool) -> FastFormatter {
        let zone = if utc { Zone::Utc } else { Zone::local_fixed_now() };
        FastFormatter { zone, year, dialect: FastDialect::Snort3 }
    }

    /// Appends one line, newline included, to `out`. Nothing is allocated besides `out`'s growth.
    pub fn format(&self, alert: &Alert, out: &mut String) {
        let snort2 = self.dialect == FastDialect::Snort2;
        if snort2 {
            push_snort2_ts(out, alert.ts, self.zone, self.year);
            out.push(' ');
        } else {
            push_snort_ts(out, alert.ts, self.zone, self.year);
        }

        if let Some(action) = action_field(alert, self.dialect) {
            out.push_str(" [");
            out.push_str(action);
            out.push(']');
        }

        // `write!` into a String cannot fail.
        let _ = write!(out, " [**] [{}:{}:{}] ", alert.gid, alert.sid, alert.rev);
        if snort2 {
            out.push_str(&alert.msg);
        } else {
            out.push('"');
            out.push_str(&alert.msg);
            out.push('"');
        }
        out.push_str(" [**] ");

        if let Some(class) = &alert.classification {
            out.push_str("[Classification: ");
            out.push_str(class);
            out.push_str("] ");
        }
        let _ = write!(out, "[Priority: {}] ", alert.priority);

        let from_client = alert.direction == Some(Direction::ToServer);
        if let Some(app) = alert.appid.as_ref().and_then(|a| a.display_name(from_client)) {
            out.push_str("[AppID: ");
            out.push_str(app);
            out.push_str("] ");
        }

        match (alert.src, alert.dst) {
            (Some(src), Some(dst)) => {
                let ports = match (alert.src_port, alert.dst_port) {
                    (Some(sp), Some(dp)) => Some((sp, dp)),
                    _ => None,
                };
                out.push('{');
                if snort2 {
                    match snort2_proto_name(alert.proto) {
                        Some(name) => out.push_str(name),
                        None => {
                            let _ = write!(out, "PROTO:{:03}", alert.proto);
                        }
                    }
                } else {
                    out.push_str(snort3_pkt_type(alert.proto, ports.is_some()));
                }
                out.push_str("} ");
                let _ = match ports {
                    Some((sp, dp)) => write!(out, "{src}:{sp} -> {dst}:{dp}"),
                    None => write!(out, "{src} -> {dst}"),
                };
            }
            // Not an IP packet (a decoder event on ARP, say): Snort has no addresses to print.
            _ => {
                if out.ends_with(' ') {
                    out.pop();
                }
            }
        }
        out.push('\n');
    }
}

/// The bracketed action after the timestamp.
///
/// Snort prints the *packet's* active action, so a drop by any rule marks every alert of that
/// packet. Snort 3 `Active::get_action_string()` (`src/packet_io/active.cc`): `drop`, `block`,
/// `reset` when it happened, `would_drop`… when the engine could not (IDS mode, inline-test).
fn action_field(alert: &Alert, dialect: FastDialect) -> Option<&'static str> {
    match dialect {
        FastDialect::Snort2 => {
            if alert.blocked {
                Some("Drop")
            } else if alert.action.is_drop_class() {
                Some("WDrop")
            } else {
                None
            }
        }
        FastDialect::Snort3 => {
            if alert.blocked {
                Some(match alert.action {
                    Action::Block => "block",
                    Action::Reject | Action::React => "reset",
                    _ => "drop",
                })
            } else {
                match alert.action {
                    Action::Drop => Some("would_drop"),
                    Action::Block => Some("would_block"),
                    Action::Reject | Action::React => Some("would_reset"),
                    _ => None,
                }
            }
        }
    }
}
