//! `ids-rules`: the Snort 2.9 / Snort 3 / Suricata rule language, parsed to one AST.
//!
//! No detection happens here; this crate turns rule text into [`Rule`] values the detection
//! engine can compile.
//!
//! * [`parse_rule`] parses one rule; [`load_file`] / [`load_files`] / [`load_str`] read rule files
//!   (includes, `\` continuations, `#`-disabled rules, `var`/`ipvar`/`portvar`, Snort 2 `config`
//!   lines) into a [`LoadReport`] — one bad rule never stops the others.
//! * Header addresses and ports are kept as written ([`AddrSpec`], [`PortSpec`]) and resolved
//!   against [`Vars`] into [`IpSet`] / [`PortSet`] (sorted ranges, binary-search lookups).
//! * Options are typed ([`RuleOption`]); content modifiers of every dialect are folded into
//!   [`Content`]; buffer spellings are normalised to [`Buffer`]; keywords the engine does not
//!   evaluate yet are kept as [`RuleOption::Other`], never dropped.
//! * [`ClassificationTable`] reads `classification.config`.
//!
//! Module map: `lexer` (option splitter — the `;` rule — and string/content decoding), `net`
//! (address/port grammar, nom), `options` (per-keyword value parsers), `rule` (header + option
//! assembly), `loader` (files), `vars`, `sets`, `buffer`, `ast`, `classification`, `error`.
//!
//! ```
//! use ids_rules::{parse_rule, Vars, RuleOption, Buffer};
//! let r = parse_rule(
//!     r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; http.uri; content:"/a"; nocase; sid:1;)"#,
//!     &Vars::default(),
//! ).unwrap();
//! let c = r.contents().next().unwrap();
//! assert_eq!((c.pattern.as_slice(), c.nocase, &c.buffer), (&b"/a"[..], true, &Buffer::HttpUri));
//! assert_eq!(r.meta.sid, 1);
//! ```

#![warn(missing_docs)]

mod ast;
mod buffer;
mod classification;
mod error;
mod filters;
mod lexer;
mod loader;
mod net;
mod options;
mod rule;
mod sets;
mod vars;

pub use ast::*;
pub use buffer::{Buffer, LEGACY_MODIFIERS};
pub use classification::{Classification, ClassificationTable};
pub use error::RuleError;
pub use filters::{parse_filter_directive, FilterDirective, FILTER_DIRECTIVES};
pub use loader::{load_file, load_files, load_str, Duplicate, LoadOptions, LoadReport};
pub use net::{parse_addr, parse_ports, AddrSpec, PortSpec};
pub use options::KNOWN_OTHER;
pub use rule::{parse_rule, parse_rule_with, ParseOptions};
pub use sets::{Bound, IpSet, PortSet, RangeSet};
pub use vars::{VarValue, Vars};
