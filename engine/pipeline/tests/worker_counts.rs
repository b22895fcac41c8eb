//! The same run with 1, 2 and 4 workers gives the same counters and the same events in the
//! same order.

mod common;

use common::*;

#[test]
fn one_two_and_four_workers_agree() {
    let Some(shared) = shared_pcaps() else {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    };
    // All captures in one run: flows from many files, link types and tunnels, with timeouts
    // crossing file boundaries.
    let inputs = capture_files(&shared);
    let (base, base_flows) = run_flows(&inputs, &config(1), false);
    assert!(base.capture.packets > 100_000, "only {} packets", base.capture.packets);
    for workers in [2, 4] {
        let (summary, flows) = run_flows(&inputs, &config(workers), false);
        let mut a = base.totals.clone();
        let mut b = summary.totals.clone();
        // Peaks are per-worker maxima summed: not comparable between worker counts.
        for t in [&mut a, &mut b] {
            t.flow.peak_flows = 0;
            t.flow.peak_memory = 0;
        }
        assert_eq!(a, b, "counters differ between 1 and {workers} workers");
        assert_eq!(base.capture.packets, summary.capture.packets);
        assert_eq!(base_flows.len(), flows.len(), "flow count differs with {workers} workers");
        for (i, (x, y)) in base_flows.iter().zip(&flows).enumerate() {
            assert_eq!(x, y, "flow record {i} differs with {workers} workers");
        }
    }
}
