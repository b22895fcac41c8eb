//! `pcre`: choosing a regex engine per pattern.
//!
//! The `regex` crate (finite automata, linear time, no per-match limits needed) is used whenever
//! it accepts the pattern *and* means the same thing as PCRE. PCRE2 (with JIT when available) is
//! used for what `regex` cannot do or would do differently:
//!
//! * lookaround, atomic groups, possessive quantifiers, `\Z`, `\K`, `(?#...)` comments, `\e`...
//!   — `regex` rejects them, so the fallback is automatic;
//! * backreferences (`\1`, `\g{1}`, `\k<name>`) — `regex` would read `\1` as an octal escape,
//!   so such patterns go to PCRE2 directly;
//! * an unescaped `$` outside a class without the `m` or `E` flag — PCRE's `$` also matches
//!   before a final newline, `regex`'s only at the very end.
//!
//! Both engines run byte-oriented (no UTF-8 / Unicode classes), as Snort and Suricata do.
//! PCRE2 patterns get `(*LIMIT_MATCH=..)(*LIMIT_DEPTH=..)` prepended (unless the rule has the
//! `O` flag) so a hostile pattern cannot burn unbounded time on a packet; hitting a limit
//! counts as "no match" for the option (negated or not), as in Snort.
//!
//! Subject and anchoring: a relative (`R`) pcre searches the buffer from the cursor, so `^`
//! anchors at the cursor (the subject starts there, as in Snort's `pcre_exec(buf + pos)`).
//! `A` anchors at the subject start.

use ids_rules::Pcre;

/// PCRE2 backtracking limits applied to every pattern not flagged `O`.
const LIMIT_MATCH: u32 = 100_000;
const LIMIT_DEPTH: u32 = 10_000;

/// Which engine compiled a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexEngine {
    /// The `regex` crate.
    Regex,
    /// PCRE2.
    Pcre2,
}

pub(crate) enum Compiled {
    Regex(regex::bytes::Regex),
    Pcre2(pcre2::bytes::Regex),
}

/// A compiled pcre option pattern.
pub(crate) struct CompiledPcre {
    re: Compiled,
}

/// Pattern features that decide the engine.
#[derive(Default)]
struct Features {
    backref: bool,
    dollar: bool,
}

fn scan(p: &str) -> Features {
    let mut f = Features::default();
    let b = p.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if let Some(&n) = b.get(i + 1) {
                    if !in_class && ((b'1'..=b'9').contains(&n) || n == b'g' || n == b'k') {
                        f.backref = true;
                    }
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                // A `]` right after `[` or `[^` is a literal member.
                i += 1;
                if b.get(i) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    i += 1;
                }
                continue;
            }
            b'[' if in_class && b.get(i + 1) == Some(&b':') => {
                // POSIX class `[:alpha:]` inside a class.
                if let Some(end) = p[i + 2..].find(":]") {
                    i += end + 4;
                    continue;
                }
            }
            b']' if in_class => in_class = false,
            b'$' if !in_class => f.dollar = true,
            _ => {}
        }
        i += 1;
    }
    f
}

/// PCRE1 (which the rule sets were written for) reads a `\x` without hex digits as NUL;
/// PCRE2 and `regex` reject it.
fn fix_lone_hex_escape(p: &str) -> std::borrow::Cow<'_, str> {
    if !p.contains("\\x") {
        return std::borrow::Cow::Borrowed(p);
    }
    let mut out = String::with_capacity(p.len() + 4);
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some('x') => {
                out.push('x');
                if !chars.peek().is_some_and(|n| n.is_ascii_hexdigit() || *n == '{') {
                    out.push_str("00");
                }
            }
            Some(n) => out.push(n),
            None => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

impl CompiledPcre {
    /// Compiles with `regex` where it is equivalent, else PCRE2.
    pub(crate) fn compile(p: &Pcre) -> Result<(CompiledPcre, RegexEngine), String> {
        let fl = &p.flags;
        let pattern = fix_lone_hex_escape(&p.pattern);
        let feats = scan(&pattern);
        let needs_pcre2 = feats.backref || (feats.dollar && !fl.multiline && !fl.dollar_endonly);
        if !needs_pcre2 {
            let mut pat = String::with_capacity(p.pattern.len() + 8);
            if fl.anchored {
                pat.push_str(r"\A(?:");
            }
            pat.push_str(&pattern);
            if fl.anchored {
                // In extended mode a trailing `#` comment would swallow the `)`.
                if fl.extended {
                    pat.push('\n');
                }
                pat.push(')');
            }
            let built = regex::bytes::RegexBuilder::new(&pat)
                .unicode(false)
                .octal(true)
                .case_insensitive(fl.caseless)
                .dot_matches_new_line(fl.dotall)
                .multi_line(fl.multiline)
                .ignore_whitespace(fl.extended)
                .swap_greed(fl.ungreedy)
                .size_limit(8 << 20)
                .dfa_size_limit(2 << 20)
                .build();
            if let Ok(re) = built {
                return Ok((CompiledPcre { re: Compiled::Regex(re) }, RegexEngine::Regex));
            }
        }
        let mut pat = String::with_capacity(p.pattern.len() + 48);
        if !fl.no_limits {
            pat.push_str(&format!("(*LIMIT_MATCH={LIMIT_MATCH})(*LIMIT_DEPTH={LIMIT_DEPTH})"));
        }
        // PCRE2 has no builder switch for these three; inline option settings are equivalent.
        if fl.ungreedy {
            pat.push_str("(?U)");
        }
        if fl.anchored {
            pat.push_str(r"\A(?:");
        }
        pat.push_str(&pattern);
        if fl.anchored {
            if fl.extended {
                pat.push('\n');
            }
            pat.push(')');
        }
        // PCRE2_DOLLAR_ENDONLY has no builder switch; an `E` pattern only gets here when
        // `regex` rejected it, and then `$` may also match before a final newline (documented
        // approximation).
        let re = pcre2::bytes::RegexBuilder::new()
            .caseless(fl.caseless)
            .dotall(fl.dotall)
            .multi_line(fl.multiline)
            .extended(fl.extended)
            .utf(false)
            .ucp(false)
            .jit_if_available(true)
            .build(&pat)
            .map_err(|e| format!("pcre `{}` rejected by regex and PCRE2: {e}", p.pattern))?;
        Ok((CompiledPcre { re: Compiled::Pcre2(re) }, RegexEngine::Pcre2))
    }

    /// First match starting at or after `from` in `subject`: `Ok(Some((start, end)))`;
    /// `Err(())` when PCRE2 hit a limit.
    pub(crate) fn find_at(&self, subject: &[u8], from: usize) -> Result<Option<(usize, usize)>, ()> {
        if from > subject.len() {
            return Ok(None);
        }
        match &self.re {
            Compiled::Regex(re) => Ok(re.find_at(subject, from).map(|m| (m.start(), m.end()))),
            Compiled::Pcre2(re) => match re.find_at(subject, from) {
                Ok(m) => Ok(m.map(|m| (m.start(), m.end()))),
                Err(_) => Err(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcre(pattern: &str, flags: &str) -> Pcre {
        let text = format!("pcre:\"/{pattern}/{flags}\";");
        let r = ids_rules::parse_rule(
            &format!("alert tcp any any -> any any ({text} sid:1;)"),
            &Default::default(),
        )
        .unwrap();
        match &r.options[0] {
            ids_rules::RuleOption::Pcre(p) => (**p).clone(),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn engine_choice() {
        let cases: &[(&str, &str, RegexEngine)] = &[
            (r"^GET\s+/a", "smi", RegexEngine::Regex),
            (r"foo(?=bar)", "", RegexEngine::Pcre2),
            (r"(?<!x)y", "", RegexEngine::Pcre2),
            (r"(a)\1", "", RegexEngine::Pcre2),
            (r"abc$", "", RegexEngine::Pcre2),
            (r"abc$", "m", RegexEngine::Regex),
            (r"[$]x", "", RegexEngine::Regex),
            (r"\x2f\d{3}", "", RegexEngine::Regex),
            (r"a\Z", "", RegexEngine::Pcre2),
            (r"dl\x|up", "", RegexEngine::Regex),
        ];
        for (p, f, want) in cases {
            let (_, got) = CompiledPcre::compile(&pcre(p, f)).unwrap();
            assert_eq!(got, *want, "{p}/{f}");
        }
    }

    #[test]
    fn semantics() {
        let m = |p: &str, f: &str, s: &[u8]| {
            let (c, _) = CompiledPcre::compile(&pcre(p, f)).unwrap();
            c.find_at(s, 0).unwrap().is_some()
        };
        assert!(m("abc$", "", b"xabc\n")); // PCRE `$` before a final newline
        assert!(!m("abc$", "E", b"xabc\n"));
        assert!(m(r"\xff\x00", "", b"a\xff\x00"));
        assert!(m("b", "A", b"b"));
        assert!(!m("b", "A", b"ab"));
        assert!(m("AB", "i", b"xab"));
        assert!(m("a.b", "s", b"a\nb"));
        assert!(!m("a.b", "", b"a\nb"));
        assert!(m("^b", "m", b"a\nb"));
        assert!(m(r"(a)\1", "", b"xaa"));
        assert!(m(r"\101", "", b"A")); // octal escape
    }
}
