//! Rule-level and file-level behaviour through the public API: header shapes, dialect handling
//! of buffers and modifiers, the parser traps of the rule-language notes, error positions, and
//! the loader (continuations, comments, disabled rules, includes, variables, duplicates).

use std::net::IpAddr;

use ids_rules::*;

fn parse(text: &str) -> Rule {
    parse_rule(text, &Vars::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> RuleError {
    parse_rule(text, &Vars::default()).expect_err(text)
}

fn lenient() -> LoadOptions {
    LoadOptions { include_disabled: true, ..LoadOptions::default() }
}

/// (pattern, buffer, nocase) of each content.
fn contents(r: &Rule) -> Vec<(String, Buffer, bool)> {
    r.contents()
        .map(|c| (String::from_utf8_lossy(&c.pattern).into_owned(), c.buffer.clone(), c.nocase))
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn header_shapes() {
    let r = parse("alert tcp $HOME_NET 2589 -> $EXTERNAL_NET any (msg:\"m\"; sid:105; rev:14;)");
    assert_eq!(r.action, Action::Alert);
    assert_eq!(r.protocol, Protocol::Tcp);
    assert_eq!(r.header_form, HeaderForm::Full);
    assert_eq!(r.src, AddrSpec::Var("HOME_NET".into()));
    assert_eq!(r.src_ports, PortSpec::Port(2589));
    assert!(r.src_port_set.contains(2589) && !r.src_port_set.contains(2590));
    assert_eq!(r.direction, Direction::ToDst);
    assert_eq!((r.meta.gid, r.meta.sid, r.meta.rev), (1, 105, 14));
    assert_eq!(r.meta.msg.as_deref(), Some("m"));

    let r = parse("alert http ( msg:\"x\"; http_uri; content:\"${\",fast_pattern; sid:59941; )");
    assert_eq!(r.header_form, HeaderForm::ProtocolOnly);
    assert_eq!(r.protocol, Protocol::App("http".into()));
    assert!(r.src_set.is_any() && r.dst_port_set.is_any());

    let r = parse("alert ( msg: \"BO_TRAFFIC_DETECT\"; sid: 1; gid: 105; rev: 1; )");
    assert_eq!(r.header_form, HeaderForm::Stub);
    assert_eq!(r.protocol, Protocol::None);
    assert_eq!(r.id(), (105, 1));

    let r = parse("alert file ( msg:\"f\"; file_data; content:\"MZ\"; sid:3; )");
    assert_eq!(r.protocol, Protocol::Layer("file".into()));

    let r = parse("drop udp [10.0.0.0/8,!10.0.0.5] [1024: ] <> ![2001:db8::/32,192.168.1.1] !53 (sid:4;)");
    assert_eq!(r.action, Action::Drop);
    assert_eq!(r.direction, Direction::Both);
    assert!(r.src_set.contains(ip("10.0.0.4")) && !r.src_set.contains(ip("10.0.0.5")));
    assert!(r.src_port_set.contains(1024) && !r.src_port_set.contains(1023));
    assert!(!r.dst_set.contains(ip("2001:db8::1")) && r.dst_set.contains(ip("2001:db9::1")));
    assert!(!r.dst_port_set.contains(53));

    let r = parse("alert tcp-pkt any any => any any (sid:5;)");
    assert_eq!(r.direction, Direction::Transactional);
    assert_eq!(r.protocol, Protocol::Layer("tcp-pkt".into()));

    for (action, want) in [
        ("log", Action::Log),
        ("pass", Action::Pass),
        ("reject", Action::Reject),
        ("sdrop", Action::Sdrop),
        ("rewrite", Action::Rewrite),
        ("block", Action::Block),
    ] {
        assert_eq!(parse(&format!("{action} ip any any -> any any (sid:1;)")).action, want);
    }
}

#[test]
fn snort2_modifiers_attach_to_the_previous_content() {
    let r = parse(
        r#"alert tcp any any -> any $HTTP_PORTS (msg:"x"; content:"GET"; http_method; content:"/a"; http_uri; nocase; depth:4; content:"b"; offset:1; rawbytes; fast_pattern:only; pcre:"/c/U"; pcre:"/d/"; metadata:service http; sid:1;)"#,
    );
    assert_eq!(r.dialect, Dialect::Snort2);
    assert_eq!(
        contents(&r),
        vec![
            ("GET".into(), Buffer::HttpMethod, false),
            ("/a".into(), Buffer::HttpUri, true),
            ("b".into(), Buffer::PktData, false),
        ]
    );
    let c: Vec<&Content> = r.contents().collect();
    assert_eq!(c[1].depth, Some(NumOrVar::Num(4)));
    assert!(c[2].rawbytes);
    assert!(c[2].fast_pattern.as_ref().unwrap().only);
    let pcres: Vec<&Pcre> = r
        .options
        .iter()
        .filter_map(|o| match o {
            RuleOption::Pcre(p) => Some(&**p),
            _ => None,
        })
        .collect();
    assert_eq!(pcres[0].buffer, Buffer::HttpUri);
    assert_eq!(pcres[1].buffer, Buffer::PktData);
    assert_eq!(r.meta.services, vec!["http".to_string()]);
    // Modifiers are folded into the content, not listed again.
    assert!(!r.options.iter().any(|o| matches!(o, RuleOption::Buffer(_))));
}

#[test]
fn snort3_buffers_are_sticky() {
    let r = parse(
        r#"alert tcp any any -> any any (msg:"x"; http_uri; content:"/a",nocase; content:"b",distance 0; http_header:field user-agent; content:"ua"; pkt_data; content:"p"; pcre:"/q/i"; service:http; sid:2;)"#,
    );
    assert_eq!(r.dialect, Dialect::Snort3);
    assert_eq!(
        contents(&r),
        vec![
            ("/a".into(), Buffer::HttpUri, true),
            ("b".into(), Buffer::HttpUri, false),
            ("ua".into(), Buffer::HttpHeader, false),
            ("p".into(), Buffer::PktData, false),
        ]
    );
    let sticky: Vec<&StickyBuffer> = r
        .options
        .iter()
        .filter_map(|o| match o {
            RuleOption::Buffer(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(sticky.len(), 3);
    assert_eq!(sticky[1].arg.as_deref(), Some("field user-agent"));
    // A legacy keyword before any content can only be sticky.
    let r = parse(r#"alert tcp any any -> any any (http_cookie; content:"c"; sid:3;)"#);
    assert_eq!(contents(&r)[0].1, Buffer::HttpCookie);
}

#[test]
fn suricata_buffers_and_modifiers() {
    let r = parse(
        r#"alert http any any -> any any (msg:"x"; http.method; content:"GET"; http.uri; content:"/a"; endswith; bsize:10; dotprefix; content:".ru"; http_host; http_accept; content:"*/*"; file.data; content:"z"; startswith; pcre:"/y/R"; sid:3;)"#,
    );
    assert_eq!(r.dialect, Dialect::Suricata);
    assert_eq!(
        contents(&r),
        vec![
            ("GET".into(), Buffer::HttpMethod, false),
            ("/a".into(), Buffer::HttpUri, false),
            // `http_host` is a legacy modifier; `http_accept` is a sticky buffer.
            (".ru".into(), Buffer::HttpHost, false),
            ("*/*".into(), Buffer::HttpAccept, false),
            ("z".into(), Buffer::FileData, false),
        ]
    );
    let c: Vec<&Content> = r.contents().collect();
    assert!(c[1].endswith && c[4].startswith);
    assert!(r.options.iter().any(|o| matches!(o, RuleOption::Transform(t) if t.name == "dotprefix")));
    let p = r
        .options
        .iter()
        .find_map(|o| match o {
            RuleOption::Pcre(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(p.buffer, Buffer::FileData);
    assert!(p.flags.relative);

    let r = parse(r#"alert dns any any -> any any (dns_query; content:"evil"; uricontent:"/u"; sid:4;)"#);
    assert_eq!(
        contents(&r),
        vec![("evil".into(), Buffer::DnsQuery, false), ("/u".into(), Buffer::HttpUri, false),]
    );
}

#[test]
fn parser_traps() {
    // `;` inside pcre escaped, bare `"` inside the pcre, escaped quote and semicolon in content,
    // hex with spaces, unicode msg, trailing spaces, no `;` before `)`.
    let r = parse(
        "alert tcp any any -> any any (msg:\"caf\u{e9} \\\"q\\\" \\; \u{2603}\"; content:\"a\\;b\\\"c\\\\\"; content:\"|0d 0a 3B|x\"; pcre:\"/['\"]*vb\\;script/i\"; sid:7; rev:2)   ",
    );
    assert_eq!(r.meta.msg.as_deref(), Some("caf\u{e9} \"q\" ; \u{2603}"));
    let c: Vec<&Content> = r.contents().collect();
    assert_eq!(c[0].pattern, b"a;b\"c\\");
    assert_eq!(c[1].pattern, b"\r\n;x");
    let p = r
        .options
        .iter()
        .find_map(|o| match o {
            RuleOption::Pcre(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(p.pattern, "['\"]*vb\\;script");
    assert!(p.flags.caseless);
    assert_eq!(r.meta.rev, 2);

    // Snort 3 content sub-options and fast_pattern offset/length.
    let r = parse(
        r#"alert tcp any any -> any any (content:"x",depth 4,nocase; content:"yy",fast_pattern_offset 1,fast_pattern_length 1,within 10; sid:8;)"#,
    );
    let c: Vec<&Content> = r.contents().collect();
    assert_eq!((c[0].depth.clone(), c[0].nocase), (Some(NumOrVar::Num(4)), true));
    let fp = c[1].fast_pattern.clone().unwrap();
    assert_eq!((fp.offset, fp.length), (Some(1), Some(1)));

    // byte_extract variables as positional modifiers.
    let r = parse(
        r#"alert tcp any any -> any any (content:"L"; byte_extract:2,0,len,relative; content:"x"; distance:len; within:len; sid:9;)"#,
    );
    let c: Vec<&Content> = r.contents().collect();
    assert_eq!(c[1].distance, Some(NumOrVar::Var("len".into())));
}

#[test]
fn options_keep_rule_order_and_unknowns() {
    let r = parse(
        r#"alert tcp any any -> any any (msg:"m"; flow:established,to_server; content:"a"; frobnicate:1; dce_iface:1234; reference:cve,2020-1; classtype:misc-activity; priority:2; sid:10; rev:1;)"#,
    );
    let names: Vec<&str> = r
        .options
        .iter()
        .map(|o| match o {
            RuleOption::Msg(_) => "msg",
            RuleOption::Flow(_) => "flow",
            RuleOption::Content(_) => "content",
            RuleOption::Other { name, .. } => name.as_str(),
            RuleOption::Reference(_) => "reference",
            RuleOption::Classtype(_) => "classtype",
            RuleOption::Priority(_) => "priority",
            RuleOption::Sid(_) => "sid",
            RuleOption::Rev(_) => "rev",
            _ => "?",
        })
        .collect();
    assert_eq!(
        names,
        [
            "msg",
            "flow",
            "content",
            "frobnicate",
            "dce_iface",
            "reference",
            "classtype",
            "priority",
            "sid",
            "rev"
        ]
    );
    assert_eq!(r.meta.references[0].system, "cve");
    assert_eq!(r.meta.classtype.as_deref(), Some("misc-activity"));
    assert_eq!(r.meta.priority, Some(2));
    let strict = ParseOptions { strict: true, ..ParseOptions::default() };
    let e = parse_rule_with(&r.text, &Vars::default(), &strict).unwrap_err();
    assert!(e.reason.contains("unknown option `frobnicate`"), "{e}");
    assert_eq!(e.text, "frobnicate:1");
    // Strict mode wants a sid.
    assert!(parse_rule_with("alert ip any any -> any any (msg:\"x\";)", &Vars::default(), &strict).is_err());
    assert_eq!(parse("alert ip any any -> any any (msg:\"x\";)").meta.sid, 0);
}

#[test]
fn forced_dialect() {
    let text = r#"alert tcp any any -> any any (content:"a"; http_uri; content:"b"; sid:1;)"#;
    let s3 = ParseOptions { dialect: Some(Dialect::Snort3), ..ParseOptions::default() };
    let r = parse_rule_with(text, &Vars::default(), &s3).unwrap();
    assert_eq!(
        contents(&r),
        vec![("a".into(), Buffer::PktData, false), ("b".into(), Buffer::HttpUri, false)]
    );
    let r = parse(text);
    assert_eq!(
        contents(&r),
        vec![("a".into(), Buffer::HttpUri, false), ("b".into(), Buffer::PktData, false)]
    );
}

#[test]
fn rule_errors_have_positions_and_reasons() {
    let cases: &[(&str, usize, &str, &str)] = &[
        // text, column, reason fragment, snippet
        ("alrt tcp any any -> any any (sid:1;)", 1, "unknown action", "alrt"),
        ("alert tcp 999.1.1.1 any -> any any (sid:1;)", 11, "invalid source address", "999.1.1.1"),
        ("alert tcp any any -> any 70000 (sid:1;)", 26, "invalid destination port", "70000"),
        ("alert tcp any any <- any any (sid:1;)", 19, "expected direction", "<-"),
        ("alert tcp $NOPE any -> any any (sid:1;)", 11, "undefined address variable", "$NOPE"),
        ("alert tcp any any -> any any (nocase; sid:1;)", 31, "without a preceding content", "nocase"),
        (
            "alert tcp any any -> any any (content:\"a\"; depth:x y; sid:1;)",
            44,
            "invalid number",
            "depth:x y",
        ),
        ("alert tcp any any -> any any (content:\"a\"; sid:1;", 30, "missing closing", "(content"),
        ("alert tcp any any -> any any (sid:1;) junk", 39, "after the closing", "junk"),
        ("alert tcp any any -> any any (sid:1; sid:2;)", 38, "duplicate sid", "sid:2"),
        (
            "alert tcp any any -> any any (content:\"a\"; depth:1; depth:2; sid:1;)",
            53,
            "duplicate depth",
            "depth:2",
        ),
        ("alert tcp any any -> any any sid:1;", 30, "expected `(`", "sid:1;"),
    ];
    for (text, col, reason, snippet) in cases {
        let e = err(text);
        assert_eq!(e.line, 1, "{text}");
        assert_eq!(e.column, *col, "{text}: {e}");
        assert!(e.reason.contains(reason), "{text}: {e}");
        assert!(e.text.starts_with(snippet), "{text}: {e}");
        assert_eq!(e.file, "<string>");
    }
}

#[test]
fn error_position_in_a_continued_rule() {
    let text = "# header\n\
                alert tcp any any -> any any ( \\\n    msg:\"multi\"; \\\n    content:\"a\"; depth:oops!; \\\n    sid:1; )\n\
                alert tcp any any -> any any (msg:\"fine\"; sid:2;)\n";
    let mut vars = Vars::default();
    let r = load_str(text, "multi.rules", &mut vars, &LoadOptions::default());
    assert_eq!(r.rules.len(), 1, "one bad rule never stops the others");
    assert_eq!(r.rules[0].meta.sid, 2);
    assert_eq!(r.rules[0].location.line, 6);
    assert_eq!(r.errors.len(), 1);
    let e = &r.errors[0];
    assert_eq!((e.line, e.column), (4, 18), "{e}");
    assert_eq!(e.text, "depth:oops!");
    assert_eq!(e.to_string(), "multi.rules:4:18: invalid number `oops!`: depth:oops!");
}

#[test]
fn loader_lines_comments_disabled_and_directives() {
    let text = "\
# A comment that mentions alert but is prose.
#alert is what this product does (sometimes)
config classification: misc-activity,Misc activity,3
config checksum_mode: all
preprocessor stream5_global: track_tcp yes
ipvar HOME_NET [10.0.0.0/8]
portvar MY_PORTS [8080,8443]
var RULE_PATH .
alert tcp $HOME_NET any -> any $MY_PORTS (msg:\"a\"; sid:1;)
# alert tcp any any -> any any (msg:\"disabled\"; sid:2;)
## alert tcp any any -> any any (msg:\"also disabled\"; \\
#    sid:3;)
alert tcp any any -> any any ( msg:\"snort3 multi-line\";
    content:\"x\";
    sid:4; )
this is not a rule
\t
alert tcp any any -> any any (msg:\"last\"; sid:5;)";
    let mut vars = Vars::default();
    let r = load_str(text, "t.rules", &mut vars, &lenient());
    let sids: Vec<(u32, bool)> = r.rules.iter().map(|r| (r.meta.sid, r.enabled)).collect();
    assert_eq!(sids, [(1, true), (2, false), (3, false), (4, true), (5, true)]);
    assert_eq!(r.disabled_count, 2);
    assert_eq!(r.attempted, 5);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].line, 16);
    assert_eq!(r.warnings.len(), 2, "config + preprocessor: {:#?}", r.warnings);
    assert_eq!(r.classifications.get("misc-activity").unwrap().priority, 3);
    assert!(vars.ip("HOME_NET").unwrap().contains(ip("10.1.1.1")));
    assert!(r.rules[0].dst_port_set.contains(8443));
    assert!(!r.rules[0].src_set.contains(ip("11.0.0.1")));
    // Disabled rules keep their original position (after the `#`).
    assert_eq!((r.rules[1].location.line, r.rules[1].location.column), (10, 3));
    assert_eq!(r.rules[2].text, "alert tcp any any -> any any (msg:\"also disabled\";     sid:3;)");
    assert_eq!(r.rules[3].location.line, 13);

    // Without include_disabled, disabled rules are only counted.
    let mut vars = Vars::default();
    let r = load_str(text, "t.rules", &mut vars, &LoadOptions::default());
    assert_eq!(r.rules.len(), 3);
    assert_eq!(r.disabled_count, 2);
}

#[test]
fn loader_duplicates_later_wins_but_enabled_beats_disabled() {
    let text = "\
alert tcp any any -> any any (msg:\"first\"; sid:1; rev:1;)
alert tcp any any -> any any (msg:\"second\"; sid:1; rev:2;)
# alert tcp any any -> any any (msg:\"disabled\"; sid:1; rev:3;)
alert tcp any any -> any any (msg:\"gid 2\"; gid:2; sid:1;)
";
    let mut vars = Vars::default();
    let r = load_str(text, "d.rules", &mut vars, &lenient());
    assert_eq!(r.rules.len(), 2);
    assert_eq!(r.rules[0].meta.msg.as_deref(), Some("second"));
    assert_eq!(r.duplicates.len(), 2);
    assert_eq!(r.duplicates[0].id, (1, 1));
    assert_eq!(r.duplicates[0].kept.line, 2);
    assert_eq!(r.duplicates[0].dropped.line, 1);
    assert_eq!(r.duplicates[1].dropped.line, 3);
}

#[test]
fn loader_includes_relative_to_the_including_file() {
    let dir = std::env::temp_dir().join(format!("ids-rules-include-{}", std::process::id()));
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        dir.join("main.rules"),
        "var RULES sub\ninclude $RULES/a.rules\ninclude missing.rules\n\
         alert tcp any any -> any any (sid:1;)\n",
    )
    .unwrap();
    std::fs::write(sub.join("a.rules"), "include b.rules\nalert tcp any any -> any any (sid:2;)\n").unwrap();
    std::fs::write(sub.join("b.rules"), "alert tcp any any -> any any (sid:3;)\ninclude a.rules\n").unwrap();
    let mut vars = Vars::default();
    let r = load_file(dir.join("main.rules"), &mut vars, &LoadOptions::default());
    let sids: Vec<u32> = r.rules.iter().map(|r| r.meta.sid).collect();
    assert_eq!(sids, [3, 2, 1]);
    assert_eq!(r.files.len(), 3);
    assert!(r.rules[0].location.file.ends_with("b.rules"));
    // The missing file and the include loop are reported, with the including line.
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    assert!(r.errors.iter().any(|e| e.reason.contains("include loop") && e.line == 2));
    assert!(r.errors.iter().any(|e| e.reason.contains("cannot read") && e.line == 3));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn empty_address_sets_are_warnings_unless_strict() {
    let text = "alert udp !$HOME_NET any -> any 53 (sid:1;)\n";
    let mut vars = Vars::default();
    let r = load_str(text, "e.rules", &mut vars, &LoadOptions::default());
    assert_eq!(r.rules.len(), 1);
    assert!(r.rules[0].src_set.is_empty());
    assert_eq!(r.warnings.len(), 1);
    let strict = LoadOptions { strict: true, ..LoadOptions::default() };
    let r = load_str(text, "e.rules", &mut vars, &strict);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].column, 11);
}
