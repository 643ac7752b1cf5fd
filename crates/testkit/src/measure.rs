//! Process CPU time for benchmarks: the registry runs in its own process, so this process's
//! CPU time is Signet's share alone.

use std::time::Duration;

/// User + system CPU time of this process so far (from `/proc/self/stat`; 10 ms ticks).
pub fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rfind(')').map(|i| &stat[i + 2..]).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // The kernel reports in USER_HZ, 100 on Linux.
    Duration::from_millis((field(11) + field(12)) * 10)
}
