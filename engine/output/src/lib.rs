//! Alert and event output for `ids`, in the two formats security teams already parse.
//!
//! * **Snort fast alerts** ([`FastFormatter`]): one text line per alert, byte for byte what
//!   Snort 3's `alert_fast` logger writes (Snort 2.9's variant on request). Sources:
//!   `src/loggers/alert_fast.cc`, `src/log/log_text.cc`, `src/utils/util.cc` (timestamps),
//!   `src/packet_io/active.cc` (the `[drop]` field), `src/protocols/packet.cc` (`{TCP}`).
//!   ```text
//!   11/22-04:05:06.123456 [**] [1:2000001:3] "ET POLICY Something" [**] [Classification: Potential Corporate Privacy Violation] [Priority: 1] {TCP} 10.0.0.1:1234 -> 10.0.0.2:80
//!   ```
//! * **Suricata EVE JSON** ([`EveFormatter`]): one JSON object per line, `alert`, `flow` and
//!   `stats` records with Suricata 7's field names, nesting and order. Sources:
//!   `src/output-json.c`, `src/output-json-alert.c`, `src/output-json-flow.c`,
//!   `src/util-proto-name.c`, `etc/schema.json`, `doc/userguide/output/eve/eve-json-format.rst`.
//!   ```text
//!   {"timestamp":"2026-11-22T04:05:06.123456+0000","flow_id":1,"pcap_cnt":7,"event_type":"alert","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","pkt_src":"wire/pcap","alert":{"action":"allowed","gid":1,"signature_id":2000001,"rev":3,"signature":"ET POLICY Something","category":"Potential Corporate Privacy Violation","severity":1},…}
//!   ```
//!
//! [`OutputSet`] ties them to Snort's `-A` modes and the `-l` log directory: `fast` appends to
//! `alert_fast.txt`, `console` writes fast lines to stdout, `json` appends to `eve.json`, `none`
//! writes nothing.
//!
//! Timestamps ([`time`]) are rendered without a date crate: civil dates by Hinnant's
//! days-from-civil algorithm and the local UTC offset from `localtime_r` — frozen at startup for
//! fast lines as Snort does, per timestamp for EVE as Suricata does; `-U` makes both UTC.
//!
//! Formatting writes into caller-owned, reused buffers (`String` for fast, `Vec<u8>` for EVE);
//! EVE structs borrow from the [`Alert`], so logging an alert allocates nothing in the steady
//! state.

mod eve;
mod fast;
mod model;
mod proto;
mod sink;
pub mod time;

pub use eve::{EveFormatter, EveOptions};
pub use fast::{FastDialect, FastFormatter};
pub use model::{Action, Alert, AppIds, Direction, FlowCounters, FlowEndReason, FlowRecord, FlowState};
pub use proto::{snort2_proto_name, snort3_pkt_type, SuricataProto};
pub use sink::{AlertMode, OutputError, OutputOptions, OutputSet, OutputStats, EVE_FILE, FAST_FILE};
pub use time::Zone;
