//! Process CPU time for benchmarks: the registry runs in its own process, so this process's
//! CPU time is Signet's share alone.

use std::time::Duration;

/// User + system CPU time of every thread of this process so far, with the scheduler's
/// nanosecond accounting (`CLOCK_PROCESS_CPUTIME_ID`). `/proc/self/stat` counts in 10 ms
/// ticks, too coarse to tell 300 µs from 310 µs over a second of work.
pub fn process_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_grows_with_work() {
        let before = super::process_cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(super::process_cpu_time() > before, "{x}");
    }
}
