//! Inspection buffers: one enum for the spellings of all three dialects.
//!
//! Snort 2 content *modifiers* (`content:"x"; http_uri;`), Snort 3 sticky buffers
//! (`http_uri; content:"x";`) and Suricata dotted sticky buffers (`http.uri; content:"x";`) all
//! name the same buffers; they are normalised here so the engine sees one vocabulary.

use std::fmt;

/// Defines [`Buffer`] from one list of its named variants, and exports `buffer_variants!`, which
/// hands the same list to a callback macro, so that other crates (the detection engine's buffer
/// slots) are built from this list rather than a copy of it. `$d` is a `$` token, passed in
/// because a macro cannot write one into the macro it defines.
macro_rules! define_buffers {
    ($d:tt; $($(#[$attr:meta])* $v:ident,)*) => {
        /// An inspection buffer a payload option applies to.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
        #[allow(missing_docs)] // The variants are named after the keywords listed on each one.
        pub enum Buffer {
            $($(#[$attr])* $v,)*
            /// A valid buffer the engine does not know yet (`http2.header`, `smtp.helo`...), kept by
            /// name.
            Other(String),
        }

        /// Calls `callback!(PktData, RawData, ...)` with every named variant of
        /// [`Buffer`](crate::Buffer) (all but `Other`), in declaration order.
        #[macro_export]
        macro_rules! buffer_variants {
            ($d callback:ident) => {
                $d callback!($($v),*);
            };
        }
    };
}

define_buffers! {$;
    /// `pkt_data`: the packet payload (or reassembled stream) — the default.
    #[default]
    PktData,
    /// `raw_data` (S3), `rawbytes` (S2 modifier): payload before app-layer normalisation.
    RawData,
    /// `file_data`, `file.data`
    FileData,
    /// `base64_data`
    Base64Data,
    /// `js_data`
    JsData,
    /// `vba_data`
    VbaData,
    /// `http_uri`, `http.uri`, pcre `/U`
    HttpUri,
    /// `http_raw_uri`, `http.uri.raw`, pcre `/I`
    HttpRawUri,
    /// `http_header`, `http.header`, pcre `/H`
    HttpHeader,
    /// `http_raw_header`, `http.header.raw`, pcre `/D`
    HttpRawHeader,
    /// `http_method`, `http.method`, pcre `/M`
    HttpMethod,
    /// `http_cookie`, `http.cookie`, pcre `/C`
    HttpCookie,
    /// `http_raw_cookie`, `http.cookie.raw`, pcre `/K`
    HttpRawCookie,
    /// `http_client_body`, `http.request_body`, pcre `/P`
    HttpClientBody,
    /// `http_server_body`, `http.response_body`, pcre `/Q`
    HttpServerBody,
    /// `http_raw_body` (S3)
    HttpRawBody,
    /// `http_stat_code`, `http.stat_code`, pcre `/S`
    HttpStatCode,
    /// `http_stat_msg`, `http.stat_msg`, pcre `/Y`
    HttpStatMsg,
    /// `http_host`, `http.host`, pcre `/W`
    HttpHost,
    /// `http_raw_host`, `http.host.raw`, pcre `/Z`
    HttpRawHost,
    /// `http_user_agent`, `http.user_agent`, pcre `/V`
    HttpUserAgent,
    /// `http_request_line`, `http.request_line`
    HttpRequestLine,
    /// `http_response_line`, `http.response_line`
    HttpResponseLine,
    /// `http_content_type`, `http.content_type`
    HttpContentType,
    /// `http_content_len`, `http.content_len`
    HttpContentLen,
    /// `http_protocol`, `http.protocol`
    HttpProtocol,
    /// `http_start`, `http.start`
    HttpStart,
    /// `http.location`
    HttpLocation,
    /// `http.server`
    HttpServer,
    /// `http_referer`, `http.referer`
    HttpReferer,
    /// `http_accept`, `http.accept`
    HttpAccept,
    /// `http_accept_enc`, `http.accept_enc`
    HttpAcceptEnc,
    /// `http_accept_lang`, `http.accept_lang`
    HttpAcceptLang,
    /// `http_connection`, `http.connection`
    HttpConnection,
    /// `http_header_names`, `http.header_names`
    HttpHeaderNames,
    /// `http_raw_request` (S3)
    HttpRawRequest,
    /// `http_raw_status` (S3)
    HttpRawStatus,
    /// `http_version` (S3)
    HttpVersion,
    /// `http_true_ip` (S3)
    HttpTrueIp,
    /// `http_param` (S3; the parameter name is the sticky buffer's argument)
    HttpParam,
    /// `dns_query`, `dns.query`
    DnsQuery,
    /// `tls_sni`, `tls.sni`
    TlsSni,
    /// `tls_cert_subject`, `tls.cert_subject`
    TlsCertSubject,
    /// `tls_cert_issuer`, `tls.cert_issuer`
    TlsCertIssuer,
    /// `tls_cert_serial`, `tls.cert_serial`
    TlsCertSerial,
    /// `tls_cert_fingerprint`, `tls.cert_fingerprint`, `tls.fingerprint`
    TlsCertFingerprint,
    /// `tls.certs`
    TlsCerts,
    /// `tls.version`
    TlsVersion,
    /// `ja3_hash`, `ja3.hash`
    Ja3Hash,
    /// `ja3_string`, `ja3.string`
    Ja3String,
    /// `ja3s_hash`, `ja3s.hash`
    Ja3sHash,
    /// `ja3s_string`, `ja3s.string`
    Ja3sString,
    /// `ssh_proto`, `ssh.proto`
    SshProto,
    /// `ssh_software`, `ssh.software`
    SshSoftware,
    /// `smb.named_pipe`
    SmbNamedPipe,
    /// `smb.share`
    SmbShare,
    /// `dce_stub_data`
    DceStubData,
    /// `sip_method`
    SipMethod,
    /// `sip_header`
    SipHeader,
    /// `sip_body`
    SipBody,
}

/// Keyword spellings → buffer. One table for every dialect.
const NAMES: &[(&str, Buffer)] = &[
    ("pkt_data", Buffer::PktData),
    ("raw_data", Buffer::RawData),
    ("file_data", Buffer::FileData),
    ("file.data", Buffer::FileData),
    ("base64_data", Buffer::Base64Data),
    ("js_data", Buffer::JsData),
    ("vba_data", Buffer::VbaData),
    ("http_uri", Buffer::HttpUri),
    ("http.uri", Buffer::HttpUri),
    ("http_raw_uri", Buffer::HttpRawUri),
    ("http.uri.raw", Buffer::HttpRawUri),
    ("http_header", Buffer::HttpHeader),
    ("http.header", Buffer::HttpHeader),
    ("http_raw_header", Buffer::HttpRawHeader),
    ("http.header.raw", Buffer::HttpRawHeader),
    ("http_method", Buffer::HttpMethod),
    ("http.method", Buffer::HttpMethod),
    ("http_cookie", Buffer::HttpCookie),
    ("http.cookie", Buffer::HttpCookie),
    ("http_raw_cookie", Buffer::HttpRawCookie),
    ("http.cookie.raw", Buffer::HttpRawCookie),
    ("http_client_body", Buffer::HttpClientBody),
    ("http.request_body", Buffer::HttpClientBody),
    ("http_server_body", Buffer::HttpServerBody),
    ("http.response_body", Buffer::HttpServerBody),
    ("http_raw_body", Buffer::HttpRawBody),
    ("http_stat_code", Buffer::HttpStatCode),
    ("http.stat_code", Buffer::HttpStatCode),
    ("http_stat_msg", Buffer::HttpStatMsg),
    ("http.stat_msg", Buffer::HttpStatMsg),
    ("http_host", Buffer::HttpHost),
    ("http.host", Buffer::HttpHost),
    ("http_raw_host", Buffer::HttpRawHost),
    ("http.host.raw", Buffer::HttpRawHost),
    ("http_user_agent", Buffer::HttpUserAgent),
    ("http.user_agent", Buffer::HttpUserAgent),
    ("http_request_line", Buffer::HttpRequestLine),
    ("http.request_line", Buffer::HttpRequestLine),
    ("http_response_line", Buffer::HttpResponseLine),
    ("http.response_line", Buffer::HttpResponseLine),
    ("http_content_type", Buffer::HttpContentType),
    ("http.content_type", Buffer::HttpContentType),
    ("http_content_len", Buffer::HttpContentLen),
    ("http.content_len", Buffer::HttpContentLen),
    ("http_protocol", Buffer::HttpProtocol),
    ("http.protocol", Buffer::HttpProtocol),
    ("http_start", Buffer::HttpStart),
    ("http.start", Buffer::HttpStart),
    ("http.location", Buffer::HttpLocation),
    ("http_location", Buffer::HttpLocation),
    ("http.server", Buffer::HttpServer),
    ("http_server", Buffer::HttpServer),
    ("http_referer", Buffer::HttpReferer),
    ("http.referer", Buffer::HttpReferer),
    ("http_accept", Buffer::HttpAccept),
    ("http.accept", Buffer::HttpAccept),
    ("http_accept_enc", Buffer::HttpAcceptEnc),
    ("http.accept_enc", Buffer::HttpAcceptEnc),
    ("http_accept_lang", Buffer::HttpAcceptLang),
    ("http.accept_lang", Buffer::HttpAcceptLang),
    ("http_connection", Buffer::HttpConnection),
    ("http.connection", Buffer::HttpConnection),
    ("http_header_names", Buffer::HttpHeaderNames),
    ("http.header_names", Buffer::HttpHeaderNames),
    ("http_raw_request", Buffer::HttpRawRequest),
    ("http_raw_status", Buffer::HttpRawStatus),
    ("http_version", Buffer::HttpVersion),
    ("http_true_ip", Buffer::HttpTrueIp),
    ("http_param", Buffer::HttpParam),
    ("dns_query", Buffer::DnsQuery),
    ("dns.query", Buffer::DnsQuery),
    ("tls_sni", Buffer::TlsSni),
    ("tls.sni", Buffer::TlsSni),
    ("tls_cert_subject", Buffer::TlsCertSubject),
    ("tls.cert_subject", Buffer::TlsCertSubject),
    ("tls_cert_issuer", Buffer::TlsCertIssuer),
    ("tls.cert_issuer", Buffer::TlsCertIssuer),
    ("tls_cert_serial", Buffer::TlsCertSerial),
    ("tls.cert_serial", Buffer::TlsCertSerial),
    ("tls_cert_fingerprint", Buffer::TlsCertFingerprint),
    ("tls.cert_fingerprint", Buffer::TlsCertFingerprint),
    ("tls.fingerprint", Buffer::TlsCertFingerprint),
    ("tls.certs", Buffer::TlsCerts),
    ("tls.version", Buffer::TlsVersion),
    ("ja3_hash", Buffer::Ja3Hash),
    ("ja3.hash", Buffer::Ja3Hash),
    ("ja3_string", Buffer::Ja3String),
    ("ja3.string", Buffer::Ja3String),
    ("ja3s_hash", Buffer::Ja3sHash),
    ("ja3s.hash", Buffer::Ja3sHash),
    ("ja3s_string", Buffer::Ja3sString),
    ("ja3s.string", Buffer::Ja3sString),
    ("ssh_proto", Buffer::SshProto),
    ("ssh.proto", Buffer::SshProto),
    ("ssh_software", Buffer::SshSoftware),
    ("ssh.software", Buffer::SshSoftware),
    ("smb.named_pipe", Buffer::SmbNamedPipe),
    ("smb.share", Buffer::SmbShare),
    ("dce_stub_data", Buffer::DceStubData),
    ("sip_method", Buffer::SipMethod),
    ("sip_header", Buffer::SipHeader),
    ("sip_body", Buffer::SipBody),
];

/// Protocol prefixes of Suricata's dotted sticky buffers. An unknown `proto.name` keyword without
/// a value whose prefix is here is accepted as [`Buffer::Other`] instead of being rejected.
const DOTTED_PREFIXES: &[&str] = &[
    "http",
    "http2",
    "dns",
    "tls",
    "ssh",
    "smb",
    "dcerpc",
    "krb5",
    "sip",
    "smtp",
    "ftp",
    "mqtt",
    "quic",
    "ike",
    "snmp",
    "rfb",
    "file",
    "ldap",
    "pgsql",
    "websocket",
    "dhcp",
    "email",
    "ja3",
    "ja3s",
    "ja4",
    "tcp",
    "udp",
    "ipv4",
    "ipv6",
    "icmpv4",
    "icmpv6",
    "pop3",
    "imap",
    "enip",
    "cip",
    "sdp",
    "modbus",
    "dnp3",
    "nfs",
    "ntp",
    "tftp",
    "telnet",
    "mdns",
    "doh2",
    "x509",
];

/// Legacy keywords that are content *modifiers* in Snort 2 and Suricata (they change the buffer
/// of the preceding content) but sticky buffers in Snort 3. Every other buffer keyword is
/// sticky in every dialect (e.g. Suricata's `http_accept; content:...`).
pub const LEGACY_MODIFIERS: &[&str] = &[
    "http_uri",
    "http_raw_uri",
    "http_header",
    "http_raw_header",
    "http_cookie",
    "http_raw_cookie",
    "http_client_body",
    "http_server_body",
    "http_method",
    "http_stat_code",
    "http_stat_msg",
    "http_user_agent",
    "http_host",
    "http_raw_host",
];

impl Buffer {
    /// Maps a keyword (any dialect's spelling) to its buffer.
    pub fn from_keyword(name: &str) -> Option<Buffer> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, b)| b.clone())
    }

    /// Like [`Buffer::from_keyword`], but also accepts unknown Suricata dotted buffer names
    /// (`http2.header`, `smtp.helo`, ...) as [`Buffer::Other`].
    pub fn from_keyword_lenient(name: &str) -> Option<Buffer> {
        if let Some(b) = Self::from_keyword(name) {
            return Some(b);
        }
        let (prefix, rest) = name.split_once('.')?;
        let well_formed = !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        (well_formed && DOTTED_PREFIXES.contains(&prefix)).then(|| Buffer::Other(name.to_owned()))
    }

    /// True for the legacy content-modifier spellings (see [`LEGACY_MODIFIERS`]).
    pub fn is_legacy_modifier(name: &str) -> bool {
        LEGACY_MODIFIERS.contains(&name)
    }

    /// The buffer selected by a Snort 2 / Suricata pcre flag letter.
    pub fn from_pcre_flag(c: char) -> Option<Buffer> {
        Some(match c {
            'U' => Buffer::HttpUri,
            'I' => Buffer::HttpRawUri,
            'P' => Buffer::HttpClientBody,
            'Q' => Buffer::HttpServerBody,
            'H' => Buffer::HttpHeader,
            'D' => Buffer::HttpRawHeader,
            'M' => Buffer::HttpMethod,
            'C' => Buffer::HttpCookie,
            'K' => Buffer::HttpRawCookie,
            'S' => Buffer::HttpStatCode,
            'Y' => Buffer::HttpStatMsg,
            'W' => Buffer::HttpHost,
            'Z' => Buffer::HttpRawHost,
            'V' => Buffer::HttpUserAgent,
            'B' => Buffer::RawData,
            _ => return None,
        })
    }

    /// The canonical (Suricata dotted where one exists) keyword for the buffer.
    pub fn name(&self) -> &str {
        match self {
            Buffer::Other(s) => s,
            b => {
                // Prefer the dotted spelling, else the first listed.
                let mut first = None;
                for (n, nb) in NAMES {
                    if nb == b {
                        if n.contains('.') {
                            return n;
                        }
                        first.get_or_insert(*n);
                    }
                }
                first.unwrap_or("?")
            }
        }
    }
}

impl fmt::Display for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_map_to_one_buffer() {
        let pairs = [
            ("http_uri", "http.uri"),
            ("http_raw_uri", "http.uri.raw"),
            ("http_client_body", "http.request_body"),
            ("file_data", "file.data"),
            ("dns_query", "dns.query"),
            ("tls_sni", "tls.sni"),
            ("ja3_hash", "ja3.hash"),
            ("http_stat_code", "http.stat_code"),
            ("ssh_proto", "ssh.proto"),
        ];
        for (a, b) in pairs {
            assert_eq!(Buffer::from_keyword(a), Buffer::from_keyword(b), "{a} vs {b}");
            assert!(Buffer::from_keyword(a).is_some());
        }
        assert_eq!(Buffer::HttpUri.name(), "http.uri");
        assert_eq!(Buffer::PktData.name(), "pkt_data");
    }

    #[test]
    fn unknown_dotted_buffers_are_kept() {
        assert_eq!(Buffer::from_keyword_lenient("http2.header"), Some(Buffer::Other("http2.header".into())));
        assert_eq!(Buffer::from_keyword_lenient("nosuch.thing"), None);
        assert_eq!(Buffer::from_keyword_lenient("msg"), None);
    }
}
