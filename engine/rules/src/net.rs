//! Address and port specifications of the rule header (and of `ipvar`/`portvar` values).
//!
//! Grammar (all three dialects; spaces are tolerated inside brackets as Suricata does):
//!
//! ```text
//! addr := '!' addr | '[' addr (',' addr)* ','? ']' | 'any' | '$' NAME | ip ('/' (prefix | dotted-mask))?
//! port := '!' port | '[' port (',' port)* ','? ']' | 'any' | '$' NAME | N | N ':' | ':' N | N ':' N
//! ```
//!
//! List semantics (Snort manual, "IP Variables and IP Lists"): the positive elements are OR-ed (a
//! list with only negations starts from `any`) and every negated element is subtracted.

use std::fmt;
use std::net::IpAddr;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{char, digit1, multispace0, satisfy};
use nom::combinator::{map, not, opt, peek};
use nom::multi::separated_list1;
use nom::sequence::{delimited, pair, preceded, terminated};
use nom::{IResult, Parser};

use crate::sets::{IpSet, PortSet};

/// An unresolved address specification, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrSpec {
    /// `any`
    Any,
    /// A literal address with an optional prefix length (`10.0.0.0/8`, `2001:db8::/32`, `1.2.3.4`).
    Addr {
        /// The address.
        ip: IpAddr,
        /// The prefix length; `None` means a host address.
        prefix: Option<u8>,
    },
    /// `$NAME`
    Var(String),
    /// `[a, b, ...]`
    List(Vec<AddrSpec>),
    /// `!spec`
    Not(Box<AddrSpec>),
}

/// An unresolved port specification, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// `any`
    Any,
    /// A single port.
    Port(u16),
    /// `lo:hi`, `lo:` or `:hi` (a missing bound is open).
    Range(Option<u16>, Option<u16>),
    /// `$NAME`
    Var(String),
    /// `[a, b, ...]`
    List(Vec<PortSpec>),
    /// `!spec`
    Not(Box<PortSpec>),
}

impl fmt::Display for AddrSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrSpec::Any => f.write_str("any"),
            AddrSpec::Addr { ip, prefix: None } => write!(f, "{ip}"),
            AddrSpec::Addr { ip, prefix: Some(p) } => write!(f, "{ip}/{p}"),
            AddrSpec::Var(v) => write!(f, "${v}"),
            AddrSpec::Not(a) => write!(f, "!{a}"),
            AddrSpec::List(l) => {
                f.write_str("[")?;
                for (i, a) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Any => f.write_str("any"),
            PortSpec::Port(p) => write!(f, "{p}"),
            PortSpec::Range(lo, hi) => {
                if let Some(lo) = lo {
                    write!(f, "{lo}")?;
                }
                f.write_str(":")?;
                if let Some(hi) = hi {
                    write!(f, "{hi}")?;
                }
                Ok(())
            }
            PortSpec::Var(v) => write!(f, "${v}"),
            PortSpec::Not(a) => write!(f, "!{a}"),
            PortSpec::List(l) => {
                f.write_str("[")?;
                for (i, a) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `any` as a whole word (so `anything` is not taken for `any`).
fn kw_any(i: &str) -> IResult<&str, &str> {
    terminated(tag_no_case("any"), not(peek(satisfy(is_ident)))).parse(i)
}

/// `$NAME`
fn var_ref(i: &str) -> IResult<&str, String> {
    map(preceded(char('$'), take_while1(is_ident)), str::to_owned).parse(i)
}

/// `,` with optional spaces around it.
fn comma(i: &str) -> IResult<&str, char> {
    delimited(multispace0, char(','), multispace0).parse(i)
}

/// A bracketed, comma-separated list (optional trailing comma), generic over the element parser.
fn bracket_list<'a, O>(
    elem: fn(&'a str) -> IResult<&'a str, O>,
) -> impl Parser<&'a str, Output = Vec<O>, Error = nom::error::Error<&'a str>> {
    delimited(
        pair(char('['), multispace0),
        terminated(separated_list1(comma, elem), opt(comma)),
        pair(multispace0, char(']')),
    )
}

/// A literal address with optional `/prefix` or `/dotted.mask`.
fn ip_literal(i: &str) -> IResult<&str, AddrSpec> {
    let (rest, text) = take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.')(i)?;
    let ip: IpAddr = text
        .parse()
        .map_err(|_| nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify)))?;
    let (rest, mask) =
        opt(preceded(char('/'), take_while1(|c: char| c.is_ascii_digit() || c == '.'))).parse(rest)?;
    let fail = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify));
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match mask {
        None => None,
        Some(m) if m.contains('.') => {
            // Dotted netmask (`/255.255.0.0`): must be contiguous ones.
            let m: std::net::Ipv4Addr = m.parse().map_err(|_| fail())?;
            let bits = u32::from(m);
            if bits.leading_ones() + bits.trailing_zeros() != 32 || !ip.is_ipv4() {
                return Err(fail());
            }
            Some(bits.leading_ones() as u8)
        }
        Some(m) => {
            let p: u8 = m.parse().map_err(|_| fail())?;
            if p > max {
                return Err(fail());
            }
            Some(p)
        }
    };
    Ok((rest, AddrSpec::Addr { ip, prefix }))
}

/// Parses one address specification (no surrounding whitespace).
pub fn addr_spec(i: &str) -> IResult<&str, AddrSpec> {
    alt((
        map(preceded(pair(char('!'), multispace0), addr_spec), |a| AddrSpec::Not(Box::new(a))),
        map(bracket_list(addr_spec), AddrSpec::List),
        map(kw_any, |_| AddrSpec::Any),
        map(var_ref, AddrSpec::Var),
        ip_literal,
    ))
    .parse(i)
}

fn port_num(i: &str) -> IResult<&str, u16> {
    let (rest, d) = digit1(i)?;
    match d.parse::<u16>() {
        Ok(v) => Ok((rest, v)),
        Err(_) => Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))),
    }
}

/// `N`, `N:`, `:N`, `N:M` (spaces around `:` tolerated, e.g. Suricata's `[1024: ]`).
fn port_range(i: &str) -> IResult<&str, PortSpec> {
    let (rest, lo) = opt(port_num).parse(i)?;
    // Whitespace after `:` is only taken when a number follows, so `1024: ->` leaves the
    // separator in place for the header parser.
    let (rest, colon) =
        opt(preceded(pair(multispace0, tag(":")), opt(preceded(multispace0, port_num)))).parse(rest)?;
    match (lo, colon) {
        (Some(p), None) => Ok((rest, PortSpec::Port(p))),
        (None, None) | (None, Some(None)) => {
            Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Digit)))
        }
        (lo, Some(hi)) => {
            if let (Some(l), Some(h)) = (lo, hi) {
                if l > h {
                    return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify)));
                }
            }
            Ok((rest, PortSpec::Range(lo, hi)))
        }
    }
}

/// Parses one port specification (no surrounding whitespace).
pub fn port_spec(i: &str) -> IResult<&str, PortSpec> {
    alt((
        map(preceded(pair(char('!'), multispace0), port_spec), |p| PortSpec::Not(Box::new(p))),
        map(bracket_list(port_spec), PortSpec::List),
        map(kw_any, |_| PortSpec::Any),
        map(var_ref, PortSpec::Var),
        port_range,
    ))
    .parse(i)
}

/// Parses a complete address spec string (used for variable values).
pub fn parse_addr(s: &str) -> Result<AddrSpec, String> {
    match addr_spec(s.trim()) {
        Ok(("", a)) => Ok(a),
        Ok((rest, _)) => Err(format!("unexpected text in address `{rest}`")),
        Err(_) => Err(format!("invalid address `{}`", s.trim())),
    }
}

/// Parses a complete port spec string (used for variable values).
pub fn parse_ports(s: &str) -> Result<PortSpec, String> {
    match port_spec(s.trim()) {
        Ok(("", p)) => Ok(p),
        Ok((rest, _)) => Err(format!("unexpected text in port list `{rest}`")),
        Err(_) => Err(format!("invalid port list `{}`", s.trim())),
    }
}

impl AddrSpec {
    /// Resolves to an [`IpSet`]; `lookup` yields the already-resolved value of a variable.
    pub fn resolve(&self, lookup: &dyn Fn(&str) -> Option<IpSet>) -> Result<IpSet, String> {
        Ok(match self {
            AddrSpec::Any => IpSet::any(),
            AddrSpec::Addr { ip, prefix } => match ip {
                IpAddr::V4(a) => IpSet::v4_cidr(*a, prefix.unwrap_or(32)),
                IpAddr::V6(a) => IpSet::v6_cidr(*a, prefix.unwrap_or(128)),
            },
            AddrSpec::Var(name) => {
                lookup(name).ok_or_else(|| format!("undefined address variable `${name}`"))?
            }
            AddrSpec::Not(inner) => inner.resolve(lookup)?.complement(),
            AddrSpec::List(items) => resolve_list(
                items,
                |item| match item {
                    AddrSpec::Not(inner) => Some(&**inner),
                    _ => None,
                },
                |item| item.resolve(lookup),
            )?,
        })
    }
}

impl PortSpec {
    /// Resolves to a [`PortSet`]; `lookup` yields the already-resolved value of a variable.
    pub fn resolve(&self, lookup: &dyn Fn(&str) -> Option<PortSet>) -> Result<PortSet, String> {
        Ok(match self {
            PortSpec::Any => PortSet::any(),
            PortSpec::Port(p) => PortSet::range(*p, *p),
            PortSpec::Range(lo, hi) => PortSet::range(lo.unwrap_or(0), hi.unwrap_or(u16::MAX)),
            PortSpec::Var(name) => {
                lookup(name).ok_or_else(|| format!("undefined port variable `${name}`"))?
            }
            PortSpec::Not(inner) => inner.resolve(lookup)?.complement(),
            PortSpec::List(items) => resolve_list(
                items,
                |item| match item {
                    PortSpec::Not(inner) => Some(&**inner),
                    _ => None,
                },
                |item| item.resolve(lookup),
            )?,
        })
    }
}

/// What address and port lists resolve to.
trait SpecSet: Sized {
    fn any() -> Self;
    fn empty() -> Self;
    fn union(&self, other: &Self) -> Self;
    fn difference(&self, other: &Self) -> Self;
}

impl SpecSet for IpSet {
    fn any() -> Self {
        IpSet::any()
    }
    fn empty() -> Self {
        IpSet::empty()
    }
    fn union(&self, other: &Self) -> Self {
        IpSet::union(self, other)
    }
    fn difference(&self, other: &Self) -> Self {
        IpSet::difference(self, other)
    }
}

impl SpecSet for PortSet {
    fn any() -> Self {
        PortSet::any()
    }
    fn empty() -> Self {
        PortSet::empty()
    }
    fn union(&self, other: &Self) -> Self {
        PortSet::union(self, other)
    }
    fn difference(&self, other: &Self) -> Self {
        PortSet::difference(self, other)
    }
}

/// A list is the union of its positive items minus the union of its negated items; a list of
/// negations only (`[!a, !b]`) starts from everything, as Snort and Suricata read it.
fn resolve_list<T, S: SpecSet>(
    items: &[T],
    negated: impl Fn(&T) -> Option<&T>,
    resolve: impl Fn(&T) -> Result<S, String>,
) -> Result<S, String> {
    let mut positive: Option<S> = None;
    let mut negative = S::empty();
    for item in items {
        match negated(item) {
            Some(inner) => negative = negative.union(&resolve(inner)?),
            None => {
                let set = resolve(item)?;
                positive = Some(match positive {
                    Some(p) => p.union(&set),
                    None => set,
                });
            }
        }
    }
    Ok(positive.unwrap_or_else(S::any).difference(&negative))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Vars;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addr_grammar() {
        let table: &[(&str, &str)] = &[
            ("any", "any"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("1.2.3.4", "1.2.3.4"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("::1", "::1"),
            ("$HOME_NET", "$HOME_NET"),
            ("!$HOME_NET", "!$HOME_NET"),
            ("[1.1.1.1, 2.2.2.0/24]", "[1.1.1.1,2.2.2.0/24]"),
            ("[$HOME_NET,!10.0.0.5,]", "[$HOME_NET,!10.0.0.5]"),
            ("![1.1.1.1,[2.2.2.2,3.3.3.3]]", "![1.1.1.1,[2.2.2.2,3.3.3.3]]"),
            ("10.0.0.0/255.255.0.0", "10.0.0.0/16"),
        ];
        for (input, shown) in table {
            assert_eq!(parse_addr(input).unwrap().to_string(), *shown, "{input}");
        }
        for bad in [
            "",
            "anything",
            "1.2.3",
            "10.0.0.0/33",
            "[1.1.1.1",
            "[]",
            "$",
            "10.0.0.0/255.0.255.0",
            "1.2.3.4 x",
        ] {
            assert!(parse_addr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn port_grammar() {
        let table: &[(&str, &str)] = &[
            ("any", "any"),
            ("80", "80"),
            ("1024:", "1024:"),
            (":1023", ":1023"),
            ("80:100", "80:100"),
            ("[80, 443,8000:8080]", "[80,443,8000:8080]"),
            ("[80: 82]", "[80:82]"),
            ("[1024: ]", "[1024:]"),
            ("!$HTTP_PORTS", "!$HTTP_PORTS"),
            ("[1:80,![2,4]]", "[1:80,![2,4]]"),
        ];
        for (input, shown) in table {
            assert_eq!(parse_ports(input).unwrap().to_string(), *shown, "{input}");
        }
        for bad in ["", ":", "65536", "100:80", "[80", "x", "80 90"] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn address_resolution_with_negation_and_nesting() {
        let mut v = Vars::default();
        v.define_ip("HOME_NET", "[10.0.0.0/8,192.168.0.0/16]").unwrap();
        let cases: &[(&str, &[&str], &[&str])] = &[
            // spec, inside, outside
            ("any", &["1.2.3.4", "::1"], &[]),
            ("$HOME_NET", &["10.1.2.3", "192.168.1.1"], &["8.8.8.8", "::1"]),
            ("!$HOME_NET", &["8.8.8.8", "::1"], &["10.1.2.3"]),
            ("[10.0.0.0/8,!10.0.0.5]", &["10.0.0.4", "10.0.0.6"], &["10.0.0.5", "11.0.0.0"]),
            // Only negations: starts from `any`.
            ("[!10.0.0.0/8,!2001:db8::/32]", &["11.0.0.1", "::1"], &["10.9.9.9", "2001:db8::5"]),
            ("![1.1.1.1,[2.2.2.2,3.3.3.0/24]]", &["4.4.4.4"], &["1.1.1.1", "3.3.3.77"]),
            ("[$HOME_NET,![10.1.0.0/16,[192.168.5.0/24]]]", &["10.2.0.1"], &["10.1.0.1", "192.168.5.5"]),
            ("2001:db8::/32", &["2001:db8::1"], &["2001:db9::1", "1.2.3.4"]),
        ];
        for (spec, inside, outside) in cases {
            let set = v.resolve_addr(&parse_addr(spec).unwrap()).unwrap();
            for a in *inside {
                assert!(set.contains(ip(a)), "{spec} should contain {a}");
            }
            for a in *outside {
                assert!(!set.contains(ip(a)), "{spec} should not contain {a}");
            }
        }
        assert!(v.resolve_addr(&parse_addr("!any").unwrap()).unwrap().is_empty());
        assert!(v.resolve_addr(&parse_addr("$NOPE").unwrap()).is_err());
        // A port variable is not an address.
        assert!(v.resolve_addr(&parse_addr("$HTTP_PORTS").unwrap()).is_err());
    }

    #[test]
    fn port_resolution_with_negation_and_nesting() {
        let v = Vars::default();
        let cases: &[(&str, &[u16], &[u16])] = &[
            ("any", &[0, 65535], &[]),
            ("[80:100,!99]", &[80, 98, 100], &[99, 101]),
            ("[1:80,![2,4]]", &[1, 3, 5, 80], &[0, 2, 4, 81]),
            ("!80", &[0, 79, 81], &[80]),
            ("1024:", &[1024, 65535], &[1023]),
            (":1023", &[0, 1023], &[1024]),
            ("$HTTP_PORTS", &[80, 8080], &[22]),
            ("![$HTTP_PORTS,22]", &[23, 443], &[22, 80, 8080]),
            ("[!$SSH_PORTS]", &[21, 23], &[22]),
        ];
        for (spec, inside, outside) in cases {
            let set = v.resolve_ports(&parse_ports(spec).unwrap()).unwrap();
            for p in *inside {
                assert!(set.contains(*p), "{spec} should contain {p}");
            }
            for p in *outside {
                assert!(!set.contains(*p), "{spec} should not contain {p}");
            }
        }
        assert!(v.resolve_ports(&parse_ports("!any").unwrap()).unwrap().is_empty());
        assert!(v.resolve_ports(&parse_ports("$HOME_NET").unwrap()).is_err());
    }
}
