//! Wall-clock rendering of capture timestamps, without a date crate.
//!
//! Both formats need only a civil date (proleptic Gregorian) and a UTC offset:
//!
//! * Snort (`src/utils/util.cc`, `ts_print`) adds a single offset, `thiszone`, to every
//!   timestamp. `thiszone` is computed once at startup by `gmt2local(0)`, i.e. the local offset
//!   *at the time Snort starts*, and `-U` replaces it by 0. Then it splits the shifted seconds into
//!   a day and a second-of-day and prints `MM/DD-HH:MM:SS.uuuuuu` (`-y`: `YY/MM/DD-…`).
//! * Suricata (`src/util-time.c`, `CreateIsoTimeString`) calls `localtime_r` for every timestamp
//!   and prints `strftime("%Y-%m-%dT%H:%M:%S")`, `.%06u` microseconds and `%z`.
//!
//! [`Zone`] covers both: `Fixed` is Snort's `thiszone`, `Local` is Suricata's per-timestamp lookup
//! (they differ only when a capture crosses a daylight-saving change). The civil date comes from
//! Howard Hinnant's `civil_from_days`, which is exact for every day an `i64` nanosecond
//! [`Timestamp`] can hold (about 1678..2262).
//!
//! Sub-second digits are *truncated* to microseconds, as both tools print the `tv_usec` they get
//! from libpcap (nanosecond pcaps are truncated by the pcap reader there, never rounded). Times
//! before the epoch are floored (`-1 ns` is `23:59:59.999999` on 1969-12-31); Snort's C `%`
//! would print negative fields there, which we do not copy.

use std::fmt;

use ids_capture::Timestamp;

/// Which UTC offset wall-clock times are shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// UTC (Snort `-U`), offset `+0000`.
    Utc,
    /// A fixed offset in seconds east of UTC, applied to every timestamp (Snort's `thiszone`).
    Fixed(i32),
    /// The process's local time zone, looked up per timestamp with `localtime_r` (Suricata).
    /// On platforms without `localtime_r` this is UTC.
    Local,
}

impl Zone {
    /// Snort's `thiszone`: the local offset now, frozen for the whole run.
    ///
    /// Call this once at startup (it honours a `TZ` set before the call).
    pub fn local_fixed_now() -> Zone {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Zone::Fixed(local_offset_at(now))
    }

    /// Seconds east of UTC at Unix time `secs`.
    pub fn offset_at(self, secs: i64) -> i32 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(off) => off,
            Zone::Local => local_offset_at(secs),
        }
    }
}

#[cfg(unix)]
fn local_offset_at(secs: i64) -> i32 {
    extern "C" {
        // POSIX; not exported by the libc crate on every unix. Re-reads `TZ`, so a zone set by
        // the caller (or a test) after the first lookup still takes effect.
        fn tzset();
    }
    // `time_t` is `i64` on 64-bit targets but `i32` on some 32-bit ones.
    #[allow(irrefutable_let_patterns)]
    let Ok(t) = libc::time_t::try_from(secs) else {
        return 0;
    };
    // SAFETY: `tzset` takes no arguments; `localtime_r` writes only into `tm`, which we own and
    // which is a plain C struct for which all-zero bytes are a valid value.
    unsafe {
        tzset();
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        // Real offsets are within ±26 h; anything else is a broken zone file.
        i32::try_from(tm.tm_gmtoff).ok().filter(|o| o.abs() <= 26 * 3600).unwrap_or(0)
    }
}

#[cfg(not(unix))]
fn local_offset_at(_secs: i64) -> i32 {
    0
}

/// A broken-down wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Truncated, 0..1_000_000.
    pub micros: u32,
    /// The offset that was applied, seconds east of UTC.
    pub offset: i32,
}

impl Civil {
    /// `ts` shifted by `zone`'s offset and broken down.
    pub fn new(ts: Timestamp, zone: Zone) -> Civil {
        let secs = ts.secs();
        let offset = zone.offset_at(secs);
        let local = secs + i64::from(offset);
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod % 3600 / 60,
            second: sod % 60,
            micros: ts.subsec_micros(),
            offset,
        }
    }
}

/// Days since 1970-01-01 to (year, month, day); Hinnant's algorithm, valid for any `i64` day
/// count whose year fits (far beyond what a [`Timestamp`] holds).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Inverse of [`civil_from_days`] (used by tests and by anyone building fixtures).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn push2(out: &mut String, v: u32) {
    out.push((b'0' + (v / 10 % 10) as u8) as char);
    out.push((b'0' + (v % 10) as u8) as char);
}

fn push_micros(out: &mut String, v: u32) {
    let mut div = 100_000;
    while div > 0 {
        out.push((b'0' + (v / div % 10) as u8) as char);
        div /= 10;
    }
}

/// Snort's alert timestamp: `MM/DD-HH:MM:SS.uuuuuu`, or with `year` (`-y`)
/// `YY/MM/DD-HH:MM:SS.uuuuuu` (Snort 3 order; see [`push_snort2_ts`] for Snort 2's).
///
/// `YY` is Snort's `tm_year - 100` for years from 2000 and `tm_year` before, printed `%02d`:
/// 2026 → `26`, 1999 → `99`, 2100 → `100`.
pub fn push_snort_ts(out: &mut String, ts: Timestamp, zone: Zone, year: bool) {
    let c = Civil::new(ts, zone);
    if year {
        push_snort_year(out, c.year);
        out.push('/');
    }
    push2(out, c.month);
    out.push('/');
    push2(out, c.day);
    push_hms(out, &c);
}

/// Snort 2.9's variant (`src/util.c`): `MM/DD/YY-…` with `-y`; the caller adds the trailing
/// space Snort 2 kept in its time buffer.
pub fn push_snort2_ts(out: &mut String, ts: Timestamp, zone: Zone, year: bool) {
    let c = Civil::new(ts, zone);
    push2(out, c.month);
    out.push('/');
    push2(out, c.day);
    if year {
        out.push('/');
        push_snort_year(out, c.year);
    }
    push_hms(out, &c);
}

fn push_snort_year(out: &mut String, year: i64) {
    let tm_year = year - 1900;
    let y = if tm_year >= 100 { tm_year - 100 } else { tm_year };
    if (0..100).contains(&y) {
        push2(out, y as u32);
    } else {
        // `%02d` of an out-of-range value prints it whole; so do we.
        use fmt::Write;
        let _ = write!(out, "{y:02}");
    }
}

fn push_hms(out: &mut String, c: &Civil) {
    out.push('-');
    push2(out, c.hour);
    out.push(':');
    push2(out, c.minute);
    out.push(':');
    push2(out, c.second);
    out.push('.');
    push_micros(out, c.micros);
}

/// Suricata's EVE timestamp, `YYYY-MM-DDTHH:MM:SS.uuuuuu+hhmm`, as a `Display` value so that
/// serde can stream it into the output without an intermediate `String`.
#[derive(Clone, Copy, Debug)]
pub struct IsoTime {
    pub ts: Timestamp,
    pub zone: Zone,
}

impl fmt::Display for IsoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = Civil::new(self.ts, self.zone);
        let sign = if c.offset < 0 { '-' } else { '+' };
        let off = c.offset.unsigned_abs();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}{:02}",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.micros,
            sign,
            off / 3600,
            off % 3600 / 60
        )
    }
}

impl serde::Serialize for IsoTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp::from_secs_nanos(secs, nanos)
    }

    fn snort(t: Timestamp, zone: Zone, year: bool) -> String {
        let mut s = String::new();
        push_snort_ts(&mut s, t, zone, year);
        s
    }

    fn iso(t: Timestamp, zone: Zone) -> String {
        IsoTime { ts: t, zone }.to_string()
    }

    fn secs_of(y: i64, m: u32, d: u32, hh: i64, mm: i64, ss: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss
    }

    #[test]
    fn civil_round_trips_over_a_wide_range() {
        // Every day from 1600 to 2400 maps back to itself and dates advance by one.
        let start = days_from_civil(1600, 1, 1);
        let end = days_from_civil(2400, 12, 31);
        let mut prev = civil_from_days(start - 1);
        for d in start..=end {
            let c = civil_from_days(d);
            assert_eq!(days_from_civil(c.0, c.1, c.2), d);
            assert!(c > prev, "{c:?} after {prev:?}");
            prev = c;
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1)); // 2100 is not a leap year
        assert_eq!(days_from_civil(2100, 2, 28) + 1, days_from_civil(2100, 3, 1));
        assert_eq!(days_from_civil(2000, 2, 28) + 2, days_from_civil(2000, 3, 1));
    }

    #[test]
    fn leap_years_in_snort_and_iso() {
        let t = ts(secs_of(2024, 2, 29, 23, 59, 59), 999_999_999);
        assert_eq!(snort(t, Zone::Utc, false), "02/29-23:59:59.999999");
        assert_eq!(snort(t, Zone::Utc, true), "24/02/29-23:59:59.999999");
        assert_eq!(iso(t, Zone::Utc), "2024-02-29T23:59:59.999999+0000");
        // One second later it is March (no Feb 30), 2000 is a leap year, 1900 is not.
        let t = ts(secs_of(2024, 2, 29, 23, 59, 59) + 1, 0);
        assert_eq!(iso(t, Zone::Utc), "2024-03-01T00:00:00.000000+0000");
        let t = ts(secs_of(2000, 2, 29, 12, 0, 0), 0);
        assert_eq!(snort(t, Zone::Utc, true), "00/02/29-12:00:00.000000");
        let t = ts(secs_of(1900, 2, 28, 23, 59, 59) + 1, 0);
        assert_eq!(iso(t, Zone::Utc), "1900-03-01T00:00:00.000000+0000");
        assert_eq!(snort(t, Zone::Utc, true), "00/03/01-00:00:00.000000");
    }

    #[test]
    fn epoch_and_before() {
        assert_eq!(iso(ts(0, 0), Zone::Utc), "1970-01-01T00:00:00.000000+0000");
        // -1 ns floors to the last microsecond of 1969.
        let t = Timestamp(-1);
        assert_eq!(iso(t, Zone::Utc), "1969-12-31T23:59:59.999999+0000");
        assert_eq!(snort(t, Zone::Utc, true), "69/12/31-23:59:59.999999");
        let t = Timestamp(-1_500_000_000); // -1.5 s
        assert_eq!(snort(t, Zone::Utc, false), "12/31-23:59:58.500000");
        let t = ts(secs_of(1960, 6, 15, 8, 30, 0), 250_000);
        assert_eq!(iso(t, Zone::Utc), "1960-06-15T08:30:00.000250+0000");
    }

    #[test]
    fn microseconds_truncate() {
        let base = secs_of(2026, 11, 22, 4, 5, 6);
        assert_eq!(snort(ts(base, 123_456_999), Zone::Utc, false), "11/22-04:05:06.123456");
        assert_eq!(snort(ts(base, 999), Zone::Utc, false), "11/22-04:05:06.000000");
        assert_eq!(snort(ts(base, 999_999_999), Zone::Utc, false), "11/22-04:05:06.999999");
        assert_eq!(iso(ts(base, 1_000), Zone::Utc), "2026-11-22T04:05:06.000001+0000");
    }

    #[test]
    fn offsets_shift_the_date_and_print_as_hhmm() {
        let t = ts(secs_of(2026, 1, 1, 0, 30, 0), 0);
        assert_eq!(iso(t, Zone::Fixed(-3600)), "2025-12-31T23:30:00.000000-0100");
        assert_eq!(snort(t, Zone::Fixed(-3600), true), "25/12/31-23:30:00.000000");
        assert_eq!(iso(t, Zone::Fixed(5 * 3600 + 1800)), "2026-01-01T06:00:00.000000+0530");
        assert_eq!(iso(t, Zone::Fixed(-(9 * 3600 + 1800))), "2025-12-31T15:00:00.000000-0930");
    }

    #[test]
    fn snort_year_field_follows_tm_year() {
        let t = ts(secs_of(1999, 12, 31, 0, 0, 0), 0);
        assert_eq!(snort(t, Zone::Utc, true), "99/12/31-00:00:00.000000");
        let t = ts(secs_of(2100, 1, 2, 0, 0, 0), 0);
        assert_eq!(snort(t, Zone::Utc, true), "100/01/02-00:00:00.000000");
        let mut s = String::new();
        push_snort2_ts(&mut s, ts(secs_of(2026, 11, 22, 4, 5, 6), 0), Zone::Utc, true);
        assert_eq!(s, "11/22/26-04:05:06.000000");
    }
}
