//! What a PIN costs to try: Argon2id at the costs a lock file may carry,
//! measured on this machine, and what that means for someone who copied a
//! tablet's files and guesses offline.
//!
//! `cargo bench -p field --bench pin` (add `-- quick` for one run per cost).
//! The lock file's default cost (`field::pin`) was chosen from this table:
//! BENCHMARKS.md has the numbers and the reasoning.

use std::time::Instant;

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let runs = if quick { 1 } else { 5 };
    println!("Argon2id, one lane, 32-byte output; median of {runs} runs on this machine");
    println!(
        "{:>8} {:>3} {:>10} {:>26} {:>26}",
        "memory", "t", "per try", "6-digit PINs, one core", "8-digit PINs, one core"
    );
    let costs = [(19 * 1024, 2), (32 * 1024, 2), (32 * 1024, 3), (64 * 1024, 2), (64 * 1024, 3), (128 * 1024, 2)];
    for (m_kib, t) in costs {
        let lock = field::pin::LockFile { m_kib, t_cost: t, ..field::pin::LockFile::new() };
        let mut times = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            lock.derive("258014").unwrap();
            times.push(started.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let per_try = times[times.len() / 2];
        // The whole space of 6-digit PINs, minus the refused simple ones (a
        // few dozen), on average half of it.
        let days = |digits: i32| 10f64.powi(digits) / 2.0 * per_try / 86_400.0;
        let default = if (m_kib, t) == (field::pin::M_KIB, field::pin::T_COST) { "  (default)" } else { "" };
        println!(
            "{:>5} MiB {:>3} {:>7.0} ms {:>20.1} days {:>20.0} days{default}",
            m_kib / 1024,
            t,
            per_try * 1000.0,
            days(6),
            days(8)
        );
    }
}
