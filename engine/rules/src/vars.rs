//! Rule variables: `var`, `ipvar`, `portvar` (Snort 2 `snort.conf` style), with Snort 3-style
//! defaults.
//!
//! A variable is resolved when it is defined (it may only refer to variables defined before it, as
//! in Snort), so a `$VAR` in a rule header costs a clone of an already-built set, not a re-parse.

use std::collections::HashMap;

use crate::net::{parse_addr, parse_ports, AddrSpec, PortSpec};
use crate::sets::{IpSet, PortSet};

/// The value of one variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarValue {
    /// An address variable (`ipvar`, or `var` holding addresses).
    Addr {
        /// As written.
        spec: AddrSpec,
        /// Resolved at definition time.
        set: IpSet,
    },
    /// A port variable (`portvar`, or `var` holding ports).
    Port {
        /// As written.
        spec: PortSpec,
        /// Resolved at definition time.
        set: PortSet,
    },
    /// Anything else (paths such as `RULE_PATH`).
    Text(String),
}

/// A variable table.
#[derive(Clone, Debug)]
pub struct Vars {
    map: HashMap<String, VarValue>,
}

impl Default for Vars {
    /// The Snort 3 defaults ([`Vars::snort_defaults`]).
    fn default() -> Self {
        Self::snort_defaults()
    }
}

/// Address variables defined by default. Order matters: later entries may refer to earlier ones.
/// Values follow Snort 3's `snort_defaults.lua` / Snort 2's `snort.conf` (HOME_NET and
/// EXTERNAL_NET `any`; every server group is `$HOME_NET`), plus the extra groups of Suricata's
/// `suricata.yaml`.
const DEFAULT_ADDR_VARS: &[(&str, &str)] = &[
    ("HOME_NET", "any"),
    ("EXTERNAL_NET", "any"),
    ("DNS_SERVERS", "$HOME_NET"),
    ("SMTP_SERVERS", "$HOME_NET"),
    ("HTTP_SERVERS", "$HOME_NET"),
    ("SQL_SERVERS", "$HOME_NET"),
    ("TELNET_SERVERS", "$HOME_NET"),
    ("SSH_SERVERS", "$HOME_NET"),
    ("FTP_SERVERS", "$HOME_NET"),
    ("SIP_SERVERS", "$HOME_NET"),
    ("SNMP_SERVERS", "$HOME_NET"),
    ("DC_SERVERS", "$HOME_NET"),
    ("DNP3_SERVER", "$HOME_NET"),
    ("DNP3_CLIENT", "$HOME_NET"),
    ("MODBUS_CLIENT", "$HOME_NET"),
    ("MODBUS_SERVER", "$HOME_NET"),
    ("ENIP_CLIENT", "$HOME_NET"),
    ("ENIP_SERVER", "$HOME_NET"),
    // The AOL instant messenger networks, as in snort.conf / snort_defaults.lua.
    (
        "AIM_SERVERS",
        "[64.12.24.0/23,64.12.28.0/23,64.12.161.0/24,64.12.163.0/24,64.12.200.0/24,\
         205.188.3.0/24,205.188.5.0/24,205.188.7.0/24,205.188.9.0/24,205.188.153.0/24,\
         205.188.179.0/24,205.188.248.0/24]",
    ),
];

/// Port variables defined by default (snort_defaults.lua; DNP3/MODBUS/GENEVE/VXLAN/TEREDO from
/// suricata.yaml).
const DEFAULT_PORT_VARS: &[(&str, &str)] = &[
    (
        "HTTP_PORTS",
        "[80,81,311,383,591,593,901,1220,1414,1741,1830,2301,2381,2809,3037,3128,3702,4343,4848,\
         5250,6988,7000,7001,7144,7145,7510,7777,7779,8000,8008,8014,8028,8080,8085,8088,8090,8118,\
         8123,8180,8181,8243,8280,8300,8800,8888,8899,9000,9060,9080,9090,9091,9443,9999,11371,\
         34443,34444,41080,50002,55555]",
    ),
    ("MAIL_PORTS", "[110,143]"),
    ("FILE_DATA_PORTS", "[$HTTP_PORTS,$MAIL_PORTS]"),
    ("SHELLCODE_PORTS", "!80"),
    ("ORACLE_PORTS", "1024:"),
    ("SSH_PORTS", "22"),
    ("FTP_PORTS", "[21,2100,3535]"),
    ("SIP_PORTS", "[5060,5061,5600]"),
    ("GTP_PORTS", "[2123,2152,3386]"),
    ("DNP3_PORTS", "20000"),
    ("MODBUS_PORTS", "502"),
    ("GENEVE_PORTS", "6081"),
    ("VXLAN_PORTS", "4789"),
    ("TEREDO_PORTS", "3544"),
];

impl Vars {
    /// A table with no variables at all.
    pub fn empty() -> Self {
        Vars { map: HashMap::new() }
    }

    /// The Snort 3-style default table: `HOME_NET`/`EXTERNAL_NET` = `any`, every `*_SERVERS` group
    /// = `$HOME_NET`, and the usual `*_PORTS` groups.
    pub fn snort_defaults() -> Self {
        let mut v = Self::empty();
        for (name, value) in DEFAULT_ADDR_VARS {
            v.define_ip(name, value).expect("built-in address variable is valid");
        }
        for (name, value) in DEFAULT_PORT_VARS {
            v.define_port(name, value).expect("built-in port variable is valid");
        }
        v
    }

    /// Defines (or redefines) an address variable (`ipvar NAME VALUE`).
    pub fn define_ip(&mut self, name: &str, value: &str) -> Result<(), String> {
        let spec = parse_addr(value)?;
        let set = self.resolve_addr(&spec)?;
        self.map.insert(name.to_owned(), VarValue::Addr { spec, set });
        Ok(())
    }

    /// Defines (or redefines) a port variable (`portvar NAME VALUE`).
    pub fn define_port(&mut self, name: &str, value: &str) -> Result<(), String> {
        let spec = parse_ports(value)?;
        let set = self.resolve_ports(&spec)?;
        self.map.insert(name.to_owned(), VarValue::Port { spec, set });
        Ok(())
    }

    /// Defines a plain text variable (paths, for instance).
    pub fn define_text(&mut self, name: &str, value: &str) {
        self.map.insert(name.to_owned(), VarValue::Text(value.to_owned()));
    }

    /// Snort 2 `var NAME VALUE`: the kind is inferred. Names ending in `_PORT`/`_PORTS` or
    /// starting with `PORT_` are ports (the snort.conf rule); otherwise an address if the value
    /// parses as one, then a port list, else text.
    pub fn define(&mut self, name: &str, value: &str) -> Result<(), String> {
        let upper = name.to_ascii_uppercase();
        if upper.ends_with("_PORT") || upper.ends_with("_PORTS") || upper.starts_with("PORT_") {
            return self.define_port(name, value);
        }
        if let Ok(spec) = parse_addr(value) {
            if let Ok(set) = self.resolve_addr(&spec) {
                self.map.insert(name.to_owned(), VarValue::Addr { spec, set });
                return Ok(());
            }
        }
        if let Ok(spec) = parse_ports(value) {
            if let Ok(set) = self.resolve_ports(&spec) {
                self.map.insert(name.to_owned(), VarValue::Port { spec, set });
                return Ok(());
            }
        }
        self.define_text(name, value);
        Ok(())
    }

    /// Looks a variable up.
    pub fn get(&self, name: &str) -> Option<&VarValue> {
        self.map.get(name)
    }

    /// The resolved set of an address variable.
    pub fn ip(&self, name: &str) -> Option<&IpSet> {
        match self.map.get(name)? {
            VarValue::Addr { set, .. } => Some(set),
            _ => None,
        }
    }

    /// The resolved set of a port variable.
    pub fn port(&self, name: &str) -> Option<&PortSet> {
        match self.map.get(name)? {
            VarValue::Port { set, .. } => Some(set),
            _ => None,
        }
    }

    /// Names of all defined variables (unordered).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Resolves an address spec against this table.
    pub fn resolve_addr(&self, spec: &AddrSpec) -> Result<IpSet, String> {
        spec.resolve(&|name| self.ip(name).cloned())
    }

    /// Resolves a port spec against this table.
    pub fn resolve_ports(&self, spec: &PortSpec) -> Result<PortSet, String> {
        spec.resolve(&|name| self.port(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_resolve() {
        let v = Vars::default();
        assert!(v.ip("HOME_NET").unwrap().is_any());
        assert!(v.ip("HTTP_SERVERS").unwrap().is_any());
        let shell = v.port("SHELLCODE_PORTS").unwrap();
        assert!(!shell.contains(80) && shell.contains(81) && shell.contains(0));
        let fdp = v.port("FILE_DATA_PORTS").unwrap();
        assert!(fdp.contains(8080) && fdp.contains(143) && !fdp.contains(25));
        assert!(v.port("ORACLE_PORTS").unwrap().contains(65535));
        assert!(v.ip("AIM_SERVERS").unwrap().contains(ip("64.12.25.1")));
    }

    #[test]
    fn redefinition_and_references() {
        let mut v = Vars::default();
        v.define_ip("HOME_NET", "[10.0.0.0/8, 192.168.0.0/16]").unwrap();
        v.define_ip("EXTERNAL_NET", "!$HOME_NET").unwrap();
        let ext = v.ip("EXTERNAL_NET").unwrap();
        assert!(ext.contains(ip("8.8.8.8")) && !ext.contains(ip("10.1.1.1")));
        assert!(ext.contains(ip("::1")));
        assert!(v.define_ip("X", "$NOPE").unwrap_err().contains("undefined"));
        v.define("MY_PORTS", "[80,8080]").unwrap();
        assert!(v.port("MY_PORTS").unwrap().contains(8080));
        v.define("RULE_PATH", "../rules").unwrap();
        assert_eq!(v.get("RULE_PATH"), Some(&VarValue::Text("../rules".into())));
        v.define("NETS", "10.0.0.0/8").unwrap();
        assert!(v.ip("NETS").is_some());
    }
}
