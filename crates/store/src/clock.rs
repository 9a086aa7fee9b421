//! The clock, read in one place: "today" is the date in China (UTC+8, the
//! civil time of every county the software serves: a surveyor's wall
//! calendar, not UTC's), and times are milliseconds since the epoch.

use time::{Date, OffsetDateTime, UtcOffset};

/// China Standard Time.
pub const CHINA: UtcOffset = time::macros::offset!(+8);

/// Today's date in China, from the system clock.
pub fn china_today() -> Date {
    OffsetDateTime::now_utc().to_offset(CHINA).date()
}

/// Milliseconds since the epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
