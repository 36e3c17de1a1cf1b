//! Parsing `/proc/self`, and the live series.

use super::*;

#[test]
fn cpu_time_is_counted_after_a_command_name_with_spaces() {
    let stat = "4242 (tweet (pipe) x) S 1 4242 4242 0 -1 4194304 900 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
    assert_eq!(cpu_seconds(stat), Some(3.0));
    assert_eq!(cpu_seconds("garbage"), None);
}

#[test]
fn resident_memory_is_read_in_bytes() {
    assert_eq!(resident_bytes("Name:\tx\nVmRSS:\t  2048 kB\nThreads:\t9\n"), Some(2048.0 * 1024.0));
    assert_eq!(resident_bytes("Name:\tx\n"), None);
}

#[cfg(target_os = "linux")]
#[test]
fn this_process_reports_all_three() {
    let text = render();
    for name in ["process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds "] {
        let value: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"));
        assert!(value >= 0.0, "{name}{value}");
    }
    assert!(text.contains("# TYPE process_cpu_seconds_total counter"), "{text}");
}
