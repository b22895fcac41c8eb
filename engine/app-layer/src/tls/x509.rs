//! A minimal X.509 reader: walks the DER of a certificate by hand and takes out what detection
//! and logging need (serial, issuer, subject, validity, subject alternative names).
//!
//! Nothing is verified (signatures, chains, constraints): an IDS reports what was sent. Every
//! length is checked against its container; tags above 30 (multi-byte) and lengths above 2^32
//! are refused.

/// Fields of one certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct X509 {
    /// 1, 2 or 3.
    pub version: u8,
    /// Serial number bytes as upper-case hex separated by `:` (`"0A:1B:..."`).
    pub serial: String,
    /// Distinguished names as `C=US, O=Example, CN=example.com` in certificate order.
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// DNS names, IP addresses, e-mail addresses and URIs from subjectAltName, as text.
    pub sans: Vec<String>,
    /// Validity as Unix seconds.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
}

/// One DER element.
#[derive(Clone, Copy, Debug)]
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// Reads one TLV from the front of `i`.
fn tlv(i: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = i.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((Tlv { tag, body: &rest[..len] }, &rest[len..]))
}

fn expect(i: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, rest) = tlv(i)?;
    (t.tag == tag).then_some((t.body, rest))
}

const SEQ: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// Short names of the attribute types seen in practice (RFC 4514 plus common extras).
fn attr_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "street",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x04] => "SN",
        [0x55, 0x04, 0x2a] => "GN",
        [0x55, 0x04, 0x0c] => "title",
        [0x55, 0x04, 0x11] => "postalCode",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

/// Dotted form of an OID.
fn oid_text(oid: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut v: u64 = 0;
    for (i, &b) in oid.iter().enumerate() {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (v / 40).min(2);
                parts.push(first.to_string());
                parts.push((v - first * 40).to_string());
            } else {
                parts.push(v.to_string());
            }
            v = 0;
        } else if i + 1 == oid.len() || v > u64::MAX >> 8 {
            break;
        }
    }
    parts.join(".")
}

/// A directory string as text: UTF-8/Printable/IA5/T61/Visible are taken as bytes, BMP and
/// Universal strings are decoded.
fn dir_string(t: Tlv<'_>) -> String {
    match t.tag {
        0x1e => {
            let units: Vec<u16> = t.body.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        0x1c => t
            .body
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}'))
            .collect(),
        _ => String::from_utf8_lossy(t.body).into_owned(),
    }
}

/// Name ::= SEQUENCE OF SET OF AttributeTypeAndValue. Returns the text and the last CN.
fn name(body: &[u8]) -> Option<(String, Option<String>)> {
    let mut parts = Vec::new();
    let mut cn = None;
    let mut rdns = body;
    while !rdns.is_empty() {
        let (set, rest) = expect(rdns, SET)?;
        rdns = rest;
        let mut atvs = set;
        while !atvs.is_empty() {
            let (atv, rest) = expect(atvs, SEQ)?;
            atvs = rest;
            let (oid, rest) = expect(atv, OID)?;
            let (val, _) = tlv(rest)?;
            let text = dir_string(val);
            let key = attr_name(oid).map(str::to_owned).unwrap_or_else(|| oid_text(oid));
            if key == "CN" {
                cn = Some(text.clone());
            }
            parts.push(format!("{key}={text}"));
        }
    }
    Some((parts.join(", "), cn))
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// UTCTime (`YYMMDDHHMM[SS]Z`) or GeneralizedTime (`YYYYMMDDHHMM[SS][.f]Z`) to Unix seconds.
fn time(t: Tlv<'_>) -> Option<i64> {
    let s = t.body;
    let digits = |r: &[u8]| -> Option<i64> {
        r.iter().try_fold(0i64, |a, &c| c.is_ascii_digit().then(|| a * 10 + i64::from(c - b'0')))
    };
    let (year, rest) = match t.tag {
        0x17 => {
            let yy = digits(s.get(..2)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (digits(s.get(..4)?)?, s.get(4..)?),
        _ => return None,
    };
    let mon = digits(rest.get(0..2)?)?;
    let day = digits(rest.get(2..4)?)?;
    let hour = digits(rest.get(4..6)?)?;
    let min = digits(rest.get(6..8)?)?;
    let sec = rest.get(8..10).and_then(digits).unwrap_or(0);
    if !(1..=12).contains(&mon) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec)
}

fn serial_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(":")
}

/// subjectAltName extension value: GeneralNames.
fn sans(value: &[u8], out: &mut Vec<String>) -> Option<()> {
    let (mut names, _) = expect(value, SEQ)?;
    while !names.is_empty() {
        let (n, rest) = tlv(names)?;
        names = rest;
        match n.tag {
            // rfc822Name, dNSName, uniformResourceIdentifier: IA5String bodies.
            0x81 | 0x82 | 0x86 => out.push(String::from_utf8_lossy(n.body).into_owned()),
            0x87 => match n.body.len() {
                4 => {
                    out.push(std::net::Ipv4Addr::new(n.body[0], n.body[1], n.body[2], n.body[3]).to_string())
                }
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(n.body);
                    out.push(std::net::Ipv6Addr::from(a).to_string());
                }
                _ => {}
            },
            _ => {}
        }
    }
    Some(())
}

/// Parses a DER certificate. `None` if the structure up to the subject does not parse.
pub fn parse(der: &[u8]) -> Option<X509> {
    let (cert, _) = expect(der, SEQ)?;
    let (tbs, _) = expect(cert, SEQ)?;
    let mut x = X509 { version: 1, ..Default::default() };
    let mut i = tbs;
    if let Some((v, rest)) = expect(i, 0xa0) {
        let (ver, _) = expect(v, 0x02)?;
        x.version = ver.last().copied().unwrap_or(0).saturating_add(1);
        i = rest;
    }
    let (serial, rest) = expect(i, 0x02)?;
    x.serial = serial_hex(serial);
    let (_sigalg, rest) = expect(rest, SEQ)?;
    let (issuer, rest) = expect(rest, SEQ)?;
    (x.issuer, x.issuer_cn) = name(issuer)?;
    let (validity, rest) = expect(rest, SEQ)?;
    if let Some((nb, r)) = tlv(validity) {
        x.not_before = time(nb);
        x.not_after = tlv(r).and_then(|(na, _)| time(na));
    }
    let (subject, rest) = expect(rest, SEQ)?;
    (x.subject, x.subject_cn) = name(subject)?;
    // What follows (key, unique ids, extensions) is optional for our purposes: parse errors
    // there leave the fields above intact.
    let Some((_spki, mut rest)) = expect(rest, SEQ) else { return Some(x) };
    while let Some((t, r)) = tlv(rest) {
        rest = r;
        if t.tag != 0xa3 {
            continue;
        }
        let Some((mut exts, _)) = expect(t.body, SEQ) else { break };
        while let Some((ext, r)) = expect(exts, SEQ) {
            exts = r;
            let Some((oid, mut e)) = expect(ext, OID) else { continue };
            if let Some((_, r)) = expect(e, 0x01) {
                e = r; // critical flag
            }
            if oid == [0x55, 0x1d, 0x11] {
                if let Some((value, _)) = expect(e, 0x04) {
                    let _ = sans(value, &mut x.sans);
                }
            }
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(time(Tlv { tag: 0x17, body: b"491231235959Z" }), Some(2524607999));
        assert_eq!(time(Tlv { tag: 0x18, body: b"20380119031408Z" }), Some(2147483648));
        assert_eq!(time(Tlv { tag: 0x17, body: b"99" }), None);
    }

    #[test]
    fn oids_and_bad_der() {
        assert_eq!(oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]), "1.2.840.113549");
        assert_eq!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(parse(&[0x30, 0x03, 0x30, 0x01]), None);
        assert_eq!(parse(&[]), None);
    }
}
