//! Application-layer anomalies: one named event per malformation or exceeded limit.
//!
//! Names are stable snake_case strings prefixed with the protocol (they appear in counters and
//! may later back `app-layer-event:` style rule keywords). `as usize` is a dense index.

use std::fmt;

macro_rules! anomalies {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// One application-layer anomaly. `as usize` is a dense index in `0..COUNT`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Anomaly {
            $( $(#[$doc])* $variant, )*
        }

        impl Anomaly {
            /// Every anomaly, in index order (`ALL[a as usize] == a`).
            pub const ALL: &'static [Anomaly] = &[ $( Anomaly::$variant, )* ];
            /// Number of distinct anomalies.
            pub const COUNT: usize = Self::ALL.len();

            /// Stable snake_case name, e.g. `"http_header_too_long"`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Anomaly::$variant => $name, )*
                }
            }

            /// Looks an anomaly up by its stable name.
            pub fn from_name(name: &str) -> Option<Anomaly> {
                match name {
                    $( $name => Some(Anomaly::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

anomalies! {
    // ---- HTTP ----
    /// Request line that is not `METHOD SP URI [SP HTTP/x.y]`; the direction is abandoned.
    HttpRequestLineInvalid => "http_request_line_invalid",
    /// Status line that is not `HTTP/x.y SP 3DIGIT ...`; the direction is abandoned.
    HttpStatusLineInvalid => "http_status_line_invalid",
    /// Request line or headers longer than `http_max_header_bytes`: the head was truncated.
    HttpHeaderTooLong => "http_header_too_long",
    /// More header fields than `http_max_headers`: the rest were dropped.
    HttpTooManyHeaders => "http_too_many_headers",
    /// A header line without a colon (kept out of the header list).
    HttpHeaderInvalid => "http_header_invalid",
    /// An obsolete folded header line (continuation starting with space or tab).
    HttpHeaderFolded => "http_header_folded",
    /// Lines ended by a bare LF instead of CRLF.
    HttpBareLf => "http_bare_lf",
    /// Content-Length that is not a number, or several that disagree.
    HttpContentLengthInvalid => "http_content_length_invalid",
    /// Both Transfer-Encoding: chunked and Content-Length (request smuggling vector); chunked wins.
    HttpTeAndCl => "http_te_and_cl",
    /// A Transfer-Encoding other than chunked (body framed by connection close or ignored).
    HttpTransferEncodingUnknown => "http_transfer_encoding_unknown",
    /// Chunk-size line that is not hex, too long, or overflows.
    HttpChunkSizeInvalid => "http_chunk_size_invalid",
    /// Chunk data not followed by CRLF.
    HttpChunkDataNoCrlf => "http_chunk_data_no_crlf",
    /// More chunks in one body than the parser is willing to call normal (10000).
    HttpTooManyChunks => "http_too_many_chunks",
    /// A Content-Encoding this crate does not decode (br, compress, ...): body kept compressed.
    HttpContentEncodingUnknown => "http_content_encoding_unknown",
    /// gzip/deflate data that does not decompress; the rest of the body is kept as it is.
    HttpDecompressionFailed => "http_decompression_failed",
    /// Decompressed output exceeded `http_max_decompressed`.
    HttpDecompressedTooLarge => "http_decompressed_too_large",
    /// Decompression ratio exceeded `http_max_decompress_ratio` (decompression bomb).
    HttpDecompressionBomb => "http_decompression_bomb",
    /// Body longer than `http_max_body_inspect`: only its beginning is inspected.
    HttpBodyTruncated => "http_body_truncated",
    /// More pipelined requests waiting for responses than `http_max_pending_requests`.
    HttpTooManyPending => "http_too_many_pending",
    /// A response with no request waiting for it.
    HttpUnsolicitedResponse => "http_unsolicited_response",
    /// Bytes lost (a gap) where the parser could not skip them; it resynchronises on the next
    /// request or status line.
    HttpGapResync => "http_gap_resync",
    /// The message ended (connection closed) before its body was complete.
    HttpBodyIncomplete => "http_body_incomplete",
    /// The connection closed inside a message head (no blank line): the head is completed and
    /// reported as it is, as libhtp does.
    HttpHeadIncomplete => "http_head_incomplete",
    /// `%` not followed by two hex digits in the URI.
    HttpUriPercentInvalid => "http_uri_percent_invalid",
    /// `%uXXXX` IIS Unicode encoding in the URI.
    HttpUriUEncoding => "http_uri_u_encoding",
    /// A percent-encoded `%` that decodes to another escape (double encoding).
    HttpUriDoubleEncoding => "http_uri_double_encoding",
    /// Overlong UTF-8 in the URI (e.g. `%c0%af` for `/`).
    HttpUriOverlongUtf8 => "http_uri_overlong_utf8",
    /// Backslash used as a path separator.
    HttpUriBackslash => "http_uri_backslash",
    /// Repeated slashes in the path.
    HttpUriMultiSlash => "http_uri_multi_slash",
    /// `/./` or `/../` in the path.
    HttpUriDotSegment => "http_uri_dot_segment",
    /// `/../` that climbs above the root.
    HttpUriAboveRoot => "http_uri_above_root",
    /// A NUL byte (raw or encoded) in the URI.
    HttpUriNul => "http_uri_nul",
    /// Space or control character inside the URI.
    HttpUriInvalidChar => "http_uri_invalid_char",
    // ---- TLS ----
    /// Record with an unknown content type, an odd version, or longer than 2^14 + 2048.
    TlsRecordInvalid => "tls_record_invalid",
    /// A handshake message that does not parse.
    TlsHandshakeInvalid => "tls_handshake_invalid",
    /// Handshake message longer than `tls_max_handshake_bytes`: skipped, not parsed.
    TlsHandshakeTooLong => "tls_handshake_too_long",
    /// Extension block that does not add up, or a duplicated extension.
    TlsExtensionInvalid => "tls_extension_invalid",
    /// A certificate that does not parse as X.509 DER.
    TlsCertificateInvalid => "tls_certificate_invalid",
    /// More certificates than `tls_max_certs` in one chain: the rest were not parsed.
    TlsTooManyCertificates => "tls_too_many_certificates",
    /// SSLv2 record format: recognised but not parsed.
    TlsSslv2 => "tls_sslv2",
    /// Bytes lost inside the handshake; the direction is abandoned.
    TlsGap => "tls_gap",
    // ---- DNS ----
    /// Message shorter than its header or its counts say.
    DnsTruncated => "dns_truncated",
    /// A compression pointer that points forward or at itself (loop); the name is rejected.
    DnsPointerLoop => "dns_pointer_loop",
    /// A label type other than plain or pointer (0x40, 0x80 extended label types).
    DnsLabelInvalid => "dns_label_invalid",
    /// A name longer than 255 bytes.
    DnsNameTooLong => "dns_name_too_long",
    /// More records in a section than `dns_max_records`: the rest were not parsed.
    DnsTooManyRecords => "dns_too_many_records",
    /// Record data shorter or longer than its type requires.
    DnsRdataInvalid => "dns_rdata_invalid",
    /// Bytes left over after the last record.
    DnsTrailingData => "dns_trailing_data",
    /// Bytes lost inside a DNS-over-TCP message.
    DnsGap => "dns_gap",
    // ---- SSH ----
    /// Version line that is not `SSH-protoversion-softwareversion`, or longer than 255 bytes.
    SshBannerInvalid => "ssh_banner_invalid",
    // ---- line-based banners ----
    /// First line of a line-based service longer than 512 bytes.
    BannerTooLong => "banner_too_long",
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A counter per [`Anomaly`], for callers that only want totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnomalyCounts(pub [u64; Anomaly::COUNT]);

impl Default for AnomalyCounts {
    fn default() -> Self {
        AnomalyCounts([0; Anomaly::COUNT])
    }
}

impl AnomalyCounts {
    pub fn add(&mut self, a: Anomaly) {
        self.0[a as usize] = self.0[a as usize].saturating_add(1);
    }

    pub fn get(&self, a: Anomaly) -> u64 {
        self.0[a as usize]
    }

    /// The non-zero counters, in index order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Anomaly, u64)> + '_ {
        Anomaly::ALL.iter().map(|&a| (a, self.0[a as usize])).filter(|&(_, n)| n > 0)
    }
}
