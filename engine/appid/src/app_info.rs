//! The application table read from `appMapping.data`.
//!
//! Each row names one application: its AppId (the id used everywhere at runtime), its name, the
//! three *legacy* ids (service, client, payload) that the Lua API still speaks, an optional Snort
//! service key and optional attributes. Many detector calls (`addService`, `client_addApp`,
//! `addHttpPattern`, `addAppUrl`, ...) pass legacy ids, which Snort 3 translates through this table;
//! [`AppInfoTable::appid_by_service_id`] and friends do the same here.

use std::collections::HashMap;
use std::path::Path;

/// An application id as used by OpenAppID (`0` = none, `-1` = unknown).
pub type AppId = i32;

/// No application.
pub const APP_ID_NONE: AppId = 0;
/// Traffic seen but not identified.
pub const APP_ID_UNKNOWN: AppId = -1;
/// First id handed out by [`AppInfoTable::add_dynamic`] (Snort's `SF_APPID_DYNAMIC_MIN`).
pub const DYNAMIC_APPID_MIN: AppId = 2_000_000;

/// Flags kept per application (Snort's `APPINFO_FLAG_*`, only the ones the loader sets).
pub mod flags {
    /// Some detector registered this app (`registerAppId`, pattern registrations).
    pub const ACTIVE: u32 = 0x0001;
    /// A client detector may report it in addition to its main app.
    pub const CLIENT_ADDITIONAL: u32 = 0x0002;
    /// A service detector may report it in addition to its main app.
    pub const SERVICE_ADDITIONAL: u32 = 0x0004;
    /// Created at runtime by `open_createApp`.
    pub const DYNAMIC: u32 = 0x0008;
}

/// One row of `appMapping.data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    pub id: AppId,
    pub name: String,
    /// Legacy service id (column 3), 0 when none.
    pub service_id: u32,
    /// Legacy client id (column 4), 0 when none.
    pub client_id: u32,
    /// Legacy payload id (column 5), 0 when none.
    pub payload_id: u32,
    /// Snort service key (column 6, `~` = none), e.g. `http`, `ftp-data`.
    pub snort_key: Option<String>,
    /// Lower-case key of column 7 (Snort 3 skips it; kept for rule matching on keys).
    pub app_key: Option<String>,
    /// Comma separated attributes of column 8 (`evasivevpn`, ...).
    pub attributes: Vec<String>,
    pub flags: u32,
}

/// A problem found while parsing `appMapping.data`; the row is skipped, the rest is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingIssue {
    pub line: u32,
    pub message: String,
}

/// The application table: id → entry, lower-cased name → id, and the three legacy-id indexes.
#[derive(Debug, Clone, Default)]
pub struct AppInfoTable {
    entries: HashMap<AppId, AppInfo>,
    by_name: HashMap<String, AppId>,
    by_key: HashMap<String, AppId>,
    by_service: HashMap<u32, AppId>,
    by_client: HashMap<u32, AppId>,
    by_payload: HashMap<u32, AppId>,
    next_dynamic: AppId,
}

fn optional(col: Option<&str>) -> Option<String> {
    col.map(str::trim).filter(|s| !s.is_empty() && *s != "~").map(str::to_owned)
}

impl AppInfoTable {
    /// An empty table.
    pub fn new() -> Self {
        AppInfoTable { next_dynamic: DYNAMIC_APPID_MIN, ..Default::default() }
    }

    /// Reads `appMapping.data`. I/O errors are returned; malformed rows become issues.
    pub fn load(path: &Path) -> std::io::Result<(Self, Vec<MappingIssue>)> {
        let bytes = std::fs::read(path)?;
        Ok(Self::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// Parses the text of `appMapping.data`.
    ///
    /// Like Snort's tokenizer, fields are split on TAB only (names may contain spaces) and empty
    /// fields are skipped, so `a\t\tb` is two fields. Blank lines and `#` comments are ignored.
    pub fn parse(text: &str) -> (Self, Vec<MappingIssue>) {
        let mut table = Self::new();
        let mut issues = Vec::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = idx as u32 + 1;
            let raw = raw.trim_end_matches('\r');
            if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = raw.split('\t').filter(|c| !c.is_empty()).collect();
            let mut issue = |message: String| issues.push(MappingIssue { line, message });
            if cols.len() < 5 {
                issue(format!("expected at least 5 tab-separated columns, found {}", cols.len()));
                continue;
            }
            let num = |i: usize| cols[i].trim().parse::<i64>().ok();
            let Some(id) = num(0).filter(|&v| v > 0 && v < i64::from(DYNAMIC_APPID_MIN)) else {
                issue(format!("invalid AppId {:?}", cols[0]));
                continue;
            };
            let (Some(svc), Some(cli), Some(pay)) = (num(2), num(3), num(4)) else {
                issue("legacy service/client/payload ids must be numbers".into());
                continue;
            };
            let legacy = |v: i64| u32::try_from(v).unwrap_or(0);
            let info = AppInfo {
                id: id as AppId,
                name: cols[1].trim().to_owned(),
                service_id: legacy(svc),
                client_id: legacy(cli),
                payload_id: legacy(pay),
                snort_key: optional(cols.get(5).copied()),
                app_key: optional(cols.get(6).copied()).map(|k| k.to_ascii_lowercase()),
                attributes: optional(cols.get(7).copied())
                    .map(|a| a.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default(),
                flags: 0,
            };
            if let Err(message) = table.insert(info) {
                issue(message);
            }
        }
        (table, issues)
    }

    /// Adds one entry; duplicate ids and (case-insensitive) duplicate names are rejected as in Snort.
    pub fn insert(&mut self, info: AppInfo) -> Result<(), String> {
        if info.name.is_empty() {
            return Err(format!("AppId {} has an empty name", info.id));
        }
        if self.entries.contains_key(&info.id) {
            return Err(format!("duplicate AppId {}", info.id));
        }
        let lower = info.name.to_lowercase();
        if self.by_name.contains_key(&lower) {
            return Err(format!("duplicate application name {:?}", info.name));
        }
        self.by_name.insert(lower, info.id);
        if let Some(key) = &info.app_key {
            self.by_key.entry(key.clone()).or_insert(info.id);
        }
        // First row wins for a legacy id, like Snort's static index tables.
        for (legacy, map) in [
            (info.service_id, &mut self.by_service),
            (info.client_id, &mut self.by_client),
            (info.payload_id, &mut self.by_payload),
        ] {
            if legacy != 0 {
                map.entry(legacy).or_insert(info.id);
            }
        }
        self.entries.insert(info.id, info);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: AppId) -> Option<&AppInfo> {
        self.entries.get(&id)
    }

    /// Name of an id, if known.
    pub fn name(&self, id: AppId) -> Option<&str> {
        self.get(id).map(|e| e.name.as_str())
    }

    /// Case-insensitive lookup by name (column 2), falling back to the column-7 key
    /// (`google_analytics`), which is how `appids:` rule options name applications.
    pub fn by_name(&self, name: &str) -> Option<AppId> {
        let lower = name.trim().to_lowercase();
        self.by_name.get(&lower).or_else(|| self.by_key.get(&lower)).copied()
    }

    /// Legacy service id → AppId (`APP_ID_NONE` when unmapped, as Snort's `get_appid_by_service_id`).
    pub fn appid_by_service_id(&self, legacy: u32) -> AppId {
        self.by_service.get(&legacy).copied().unwrap_or(APP_ID_NONE)
    }

    /// Legacy client id → AppId (`APP_ID_NONE` when unmapped).
    pub fn appid_by_client_id(&self, legacy: u32) -> AppId {
        self.by_client.get(&legacy).copied().unwrap_or(APP_ID_NONE)
    }

    /// Legacy payload id → AppId (`APP_ID_NONE` when unmapped).
    pub fn appid_by_payload_id(&self, legacy: u32) -> AppId {
        self.by_payload.get(&legacy).copied().unwrap_or(APP_ID_NONE)
    }

    /// Sets flags on a known id (unknown ids are ignored, as Snort does for `set_app_info_active`).
    pub fn set_flags(&mut self, id: AppId, flags: u32) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.flags |= flags;
        }
    }

    /// `open_createApp`: returns the id of `name`, creating a dynamic entry (≥ 2,000,000) if needed.
    pub fn add_dynamic(&mut self, name: &str) -> AppId {
        if let Some(id) = self.by_name(name) {
            return id;
        }
        let id = self.next_dynamic;
        self.next_dynamic += 1;
        let info = AppInfo {
            id,
            name: name.to_owned(),
            service_id: 0,
            client_id: 0,
            payload_id: 0,
            snort_key: None,
            app_key: None,
            attributes: Vec::new(),
            flags: flags::DYNAMIC,
        };
        // Cannot fail: the id is fresh and the name was just looked up.
        let _ = self.insert(info);
        id
    }

    /// All entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &AppInfo> {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "676\tHTTP\t9\t0\t0\thttp\thttp\n\
                          782\tPeerCast\t20092\t100\t0\t~\tpeercast\n\
                          1000\tGoogle Analytics\t0\t0\t145\t~\tgoogle_analytics\tevasivevpn,x\n";

    #[test]
    fn parses_rows_and_legacy_ids() {
        let (t, issues) = AppInfoTable::parse(SAMPLE);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(t.len(), 3);
        assert_eq!(t.appid_by_service_id(9), 676);
        assert_eq!(t.appid_by_client_id(100), 782);
        assert_eq!(t.appid_by_service_id(20092), 782);
        assert_eq!(t.appid_by_payload_id(145), 1000);
        assert_eq!(t.appid_by_payload_id(999), APP_ID_NONE);
        let http = t.get(676).unwrap();
        assert_eq!(http.snort_key.as_deref(), Some("http"));
        assert_eq!(t.get(782).unwrap().snort_key, None);
        assert_eq!(t.get(1000).unwrap().attributes, vec!["evasivevpn", "x"]);
    }

    #[test]
    fn names_are_case_insensitive_and_keys_resolve() {
        let (t, _) = AppInfoTable::parse(SAMPLE);
        assert_eq!(t.by_name("http"), Some(676));
        assert_eq!(t.by_name("GOOGLE ANALYTICS"), Some(1000));
        assert_eq!(t.by_name("google_analytics"), Some(1000));
        assert_eq!(t.by_name("nope"), None);
    }

    #[test]
    fn bad_rows_are_reported_with_line_numbers() {
        let text = "1\tA\t0\t0\t0\n2\tB\t0\n1\tC\t0\t0\t0\n3\ta\t0\t0\t0\nx\tD\t0\t0\t0\n";
        let (t, issues) = AppInfoTable::parse(text);
        assert_eq!(t.len(), 1);
        let lines: Vec<u32> = issues.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5]);
    }

    #[test]
    fn dynamic_apps_start_at_two_million() {
        let (mut t, _) = AppInfoTable::parse(SAMPLE);
        let a = t.add_dynamic("My App");
        assert_eq!(a, DYNAMIC_APPID_MIN);
        assert_eq!(t.add_dynamic("my app"), a);
        assert_eq!(t.add_dynamic("HTTP"), 676);
        assert_eq!(t.add_dynamic("Other"), DYNAMIC_APPID_MIN + 1);
    }
}
