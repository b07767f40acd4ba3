//! Units: simulated time is integer nanoseconds; memory is bytes.

/// Simulated time and durations, in nanoseconds.
pub type Nanos = u64;

/// Nanoseconds in one second.
pub const NANOS_PER_S: f64 = 1e9;
/// Nanoseconds in one millisecond.
pub const NANOS_PER_MS: f64 = 1e6;
/// Bytes in one GiB (vLLM prints memory in GiB).
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Bytes in one MiB.
pub const MIB: f64 = 1024.0 * 1024.0;

/// Converts seconds to integer nanoseconds (rounded, saturating at 0).
pub fn secs_to_nanos(seconds: f64) -> Nanos {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * NANOS_PER_S).round() as Nanos
    } else {
        0
    }
}

/// Converts nanoseconds to milliseconds.
pub fn nanos_to_ms(t: Nanos) -> f64 {
    t as f64 / NANOS_PER_MS
}

/// Converts nanoseconds to seconds.
pub fn nanos_to_s(t: Nanos) -> f64 {
    t as f64 / NANOS_PER_S
}

/// Ceiling division for token and block counts.
pub fn cdiv(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}
