//! `cargo run -p ids-appid --example appid_check -- DIR`: what `ids appid check DIR` will print.

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "lua-detectors".to_owned());
    let report = ids_appid::check_package(std::path::Path::new(&dir));
    print!("{report}");
    std::process::exit(if report.is_ok() { 0 } else { 1 });
}
