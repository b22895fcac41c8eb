//! Local time comes from the process's `TZ`. This binary holds a single test so that changing
//! `TZ` cannot race with another test's time lookups.

mod common;

use common::*;
use ids_output::{EveFormatter, EveOptions, FastFormatter, Zone};

fn line(f: FastFormatter) -> String {
    let mut s = String::new();
    f.format(&tcp_v4(), &mut s);
    s
}

fn eve_ts(zone: Zone) -> String {
    let mut out = Vec::new();
    EveFormatter::new(EveOptions { zone, ..EveOptions::default() }).alert(&tcp_v4(), &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["timestamp"].as_str().unwrap().to_string()
}

#[test]
fn local_time_follows_tz() {
    // TZ forced to UTC: local (`-U` absent) and UTC (`-U`) lines are identical and match the
    // golden file.
    std::env::set_var("TZ", "UTC");
    let local = FastFormatter::new(false, false);
    assert_eq!(local.zone, Zone::Fixed(0));
    let utc = FastFormatter::new(true, false);
    assert_eq!(utc.zone, Zone::Utc);
    assert_eq!(line(local), line(utc));
    check_golden("fast_tcp_v4.txt", &line(local));
    assert_eq!(eve_ts(Zone::Local), "2026-11-22T04:05:06.123456+0000");

    // A POSIX TZ string needs no zone database: five and a half hours east of UTC.
    std::env::set_var("TZ", "IST-5:30");
    let local = FastFormatter::new(false, false);
    assert_eq!(local.zone, Zone::Fixed(5 * 3600 + 1800));
    assert!(line(local).starts_with("11/22-09:35:06.123456 [**]"), "{}", line(local));
    assert_eq!(eve_ts(Zone::Local), "2026-11-22T09:35:06.123456+0530");

    // Per-timestamp lookup (EVE) sees daylight saving; the fixed startup offset (fast) does not.
    std::env::set_var("TZ", "CET-1CEST,M3.5.0,M10.5.0/3");
    assert_eq!(eve_ts(Zone::Local), "2026-11-22T05:05:06.123456+0100");
    let summer = tcp_v4().ts.add_secs(-150 * 86_400); // 2026-06-25
    assert_eq!(Zone::Local.offset_at(summer.secs()), 7200);
}
