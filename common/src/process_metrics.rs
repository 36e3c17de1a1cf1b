//! The standard `process_*` series (CPU, resident memory, open files), read from `/proc/self`
//! when `/metrics` is scraped: a scrape sees the value of that moment, and nothing runs
//! between scrapes. On systems without `/proc` the series are left out.

use std::fmt::Write as _;

/// Clock ticks per second in `/proc/self/stat`: `USER_HZ`, fixed at 100 by Linux's ABI on
/// every architecture (it is not the kernel's internal `HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// The series in Prometheus' text format, HELP and TYPE included.
pub fn render() -> String {
    let mut out = String::new();
    if let Some(cpu) = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| cpu_seconds(&s)) {
        series(
            &mut out,
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, in seconds.",
            cpu,
        );
    }
    if let Some(rss) = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| resident_bytes(&s)) {
        series(&mut out, "process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.", rss);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        // The directory handle read here is one of the entries: not counted.
        let open = fds.count().saturating_sub(1);
        series(&mut out, "process_open_fds", "gauge", "Open file descriptors.", open as f64);
    }
    out
}

fn series(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
}

/// `utime + stime` from `/proc/self/stat`. The command name (field 2) may hold spaces and
/// parentheses, so the fields are counted from its closing parenthesis.
fn cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// `VmRSS` from `/proc/self/status`, in bytes (the kernel reports kB).
fn resident_bytes(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

#[cfg(test)]
mod tests;
