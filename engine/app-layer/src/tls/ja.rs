//! TLS fingerprints: JA3 and JA3S (Salesforce, MD5 of a decimal field list) and JA4 (FoxIO,
//! readable prefix plus truncated SHA-256 of sorted hex lists).
//!
//! GREASE values (RFC 8701) are left out of every list, as both specifications require.

use crate::hash::{hex, md5, sha256};

/// RFC 8701 GREASE: `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn dec_list<T: ToString + Copy>(v: &[T], skip: impl Fn(T) -> bool) -> String {
    v.iter().filter(|&&x| !skip(x)).map(|x| x.to_string()).collect::<Vec<_>>().join("-")
}

/// JA3 string: `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`.
pub fn ja3_string(
    version: u16,
    ciphers: &[u16],
    exts: &[u16],
    groups: &[u16],
    point_formats: &[u8],
) -> String {
    format!(
        "{},{},{},{},{}",
        version,
        dec_list(ciphers, is_grease),
        dec_list(exts, is_grease),
        dec_list(groups, is_grease),
        dec_list(point_formats, |_| false)
    )
}

/// JA3S string: `SSLVersion,Cipher,Extensions`.
pub fn ja3s_string(version: u16, cipher: u16, exts: &[u16]) -> String {
    format!("{},{},{}", version, cipher, dec_list(exts, is_grease))
}

/// MD5 of a JA3/JA3S string in lower-case hex.
pub fn ja3_hash(s: &str) -> String {
    hex(&md5(s.as_bytes()))
}

/// Inputs of JA4 taken from a ClientHello.
pub struct Ja4Input<'a> {
    /// `'t'` for TCP, `'q'` for QUIC, `'d'` for DTLS.
    pub transport: char,
    pub legacy_version: u16,
    pub supported_versions: &'a [u16],
    pub has_sni: bool,
    pub ciphers: &'a [u16],
    pub exts: &'a [u16],
    pub first_alpn: Option<&'a [u8]>,
    pub sig_algs: &'a [u16],
}

fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 | 0x0200 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn hex4_list(v: &[u16]) -> String {
    v.iter().map(|x| format!("{x:04x}")).collect::<Vec<_>>().join(",")
}

fn trunc_sha(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".into();
    }
    hex(&sha256(s.as_bytes()))[..12].to_string()
}

/// JA4 fingerprint and its raw (`ja4_r`) form.
pub fn ja4(inp: &Ja4Input<'_>) -> (String, String) {
    let version =
        inp.supported_versions.iter().copied().filter(|&v| !is_grease(v)).max().unwrap_or(inp.legacy_version);
    let mut ciphers: Vec<u16> = inp.ciphers.iter().copied().filter(|&c| !is_grease(c)).collect();
    let exts_all: Vec<u16> = inp.exts.iter().copied().filter(|&e| !is_grease(e)).collect();
    let alpn = match inp.first_alpn {
        Some(a) if !a.is_empty() => {
            let (f, l) = (a[0], a[a.len() - 1]);
            if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                format!("{}{}", f as char, l as char)
            } else {
                let h = hex(a);
                let hb = h.as_bytes();
                format!("{}{}", hb[0] as char, hb[hb.len() - 1] as char)
            }
        }
        _ => "00".into(),
    };
    let a = format!(
        "{}{}{}{:02}{:02}{}",
        inp.transport,
        version_code(version),
        if inp.has_sni { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts_all.len().min(99),
        alpn
    );
    ciphers.sort_unstable();
    let mut exts: Vec<u16> = exts_all.into_iter().filter(|&e| e != 0x0000 && e != 0x0010).collect();
    exts.sort_unstable();
    let b_raw = hex4_list(&ciphers);
    let mut c_raw = hex4_list(&exts);
    let sigs: Vec<u16> = inp.sig_algs.iter().copied().filter(|&s| !is_grease(s)).collect();
    if !sigs.is_empty() {
        c_raw.push('_');
        c_raw.push_str(&hex4_list(&sigs));
    }
    let c_hash = if exts.is_empty() { "000000000000".to_string() } else { trunc_sha(&c_raw) };
    (format!("{a}_{}_{c_hash}", trunc_sha(&b_raw)), format!("{a}_{b_raw}_{c_raw}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hexes(s: &str) -> Vec<u16> {
        s.split(',').map(|h| u16::from_str_radix(h, 16).unwrap()).collect()
    }

    /// A Chrome 143 ClientHello as published by browserleaks.com (ja4, ja4_r, ja4_ro, ja3 all
    /// given there): original-order lists rebuilt from `ja4_ro`, with GREASE added back in.
    #[test]
    fn chrome_reference_values() {
        let mut ciphers = vec![0x3a3a];
        ciphers.extend(hexes("1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035"));
        let mut exts = vec![0xdada];
        exts.extend(hexes("002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b"));
        exts.push(0x1a1a);
        let sigs = hexes("0403,0804,0401,0503,0805,0501,0806,0601");
        let (ja4, ja4_r) = ja4(&Ja4Input {
            transport: 't',
            legacy_version: 0x0303,
            supported_versions: &[0x8a8a, 0x0304, 0x0303],
            has_sni: true,
            ciphers: &ciphers,
            exts: &exts,
            first_alpn: Some(b"h2"),
            sig_algs: &sigs,
        });
        assert_eq!(ja4, "t13d1516h2_8daaf6152771_d8a2da3f94cd");
        assert_eq!(
            ja4_r,
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
        );
        let s = ja3_string(771, &ciphers, &exts, &[0x2a2a, 4588, 29, 23, 24], &[0]);
        assert_eq!(
            s,
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0"
        );
        assert_eq!(ja3_hash(&s), "98487aa16281980e7d1120d399efb6a4");
    }

    #[test]
    fn alpn_and_empty_cases() {
        let inp = Ja4Input {
            transport: 't',
            legacy_version: 0x0301,
            supported_versions: &[],
            has_sni: false,
            ciphers: &[],
            exts: &[],
            first_alpn: Some(b"\xab\xcd"),
            sig_algs: &[],
        };
        assert_eq!(ja4(&inp).0, "t10i0000ad_000000000000_000000000000");
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a) && !is_grease(0x1301));
    }
}
