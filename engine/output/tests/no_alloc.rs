//! The hot path: once the reused buffers have grown, logging an alert allocates nothing.
//! Counted with a wrapping global allocator; one test in this binary so nothing else runs on
//! the counted thread.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use ids_output::{AlertMode, OutputOptions, OutputSet};

struct Counting;

thread_local! {
    // `const` initialisation: no lazy init, so reading it from the allocator cannot recurse.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn steady_state_alerts_do_not_allocate() {
    // The counter itself works.
    let start = allocs();
    drop(std::hint::black_box(vec![1u8; 16]));
    assert!(allocs() > start);

    let opts = OutputOptions { utc: true, log_flows: true, ..OutputOptions::default() };
    let alerts = [full(), tcp_v4(), udp_v6(), icmp_v6(), with_appid(), tcp_fragment()];
    let flow = flow_record();
    for mode in [AlertMode::Fast, AlertMode::Json] {
        let mut out = OutputSet::with_writer(mode, Box::new(std::io::sink()), opts);
        // Warm-up grows the reused line buffers to their working size.
        for a in &alerts {
            out.alert(a).unwrap();
        }
        out.flow(&flow).unwrap();
        let before = allocs();
        for _ in 0..100 {
            for a in &alerts {
                out.alert(a).unwrap();
            }
            out.flow(&flow).unwrap();
        }
        out.flush().unwrap();
        assert_eq!(allocs() - before, 0, "{mode} allocated per alert");
    }
}
