//! Generates a synthetic county and reports its size, a few of the figures a
//! county federation would look at, and how long it took.
//!
//! ```text
//! cargo run --release -p synth --example county -- [members] [seed] [show]
//! ```
//! `show` prints that many records of each kind (default 0).

use registry::keys::CountySecret;
use registry::model::{Record, RecordKind, UnionKind};
use registry::rules;
use std::collections::BTreeMap;
use std::time::Instant;
use synth::{SynthConfig, generate};

#[derive(Default)]
struct Figures {
    unions_by_kind: BTreeMap<&'static str, u64>,
    new_unions: u64,
    liuyou_complete: u64,
    entities_under_25: u64,
    entities_open: u64,
    entities_covered: u64,
    new_members: u64,
    members_left: u64,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let members: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("members is a number"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("seed is a number"));
    let show: usize = args.next().map_or(0, |a| a.parse().expect("show is a number"));
    let today = registry::Date::from_calendar_date(2026, 11u8.try_into().expect("month"), 25).expect("date");
    let config = SynthConfig { seed, members, today, year: 2026 };
    let secret = CountySecret::from_bytes([7; 32]);
    let mut shown: BTreeMap<RecordKind, usize> = BTreeMap::new();
    let mut f = Figures::default();
    let started = Instant::now();
    let summary = generate(&config, &secret, |id, record: Record| {
        match &record {
            Record::Entity(e) => {
                f.entities_under_25 += u64::from(e.workers < 25);
                f.entities_open += u64::from(!e.closed);
                f.entities_covered += u64::from(!e.closed && e.union_id.is_some());
            }
            Record::Union(u) => {
                *f.unions_by_kind.entry(u.kind.en()).or_default() += 1;
                f.new_unions += u64::from(u.founded_on.is_some_and(|d| d.year() == config.year));
                f.liuyou_complete += u64::from(rules::liuyou(&u.liuyou).complete());
            }
            Record::Member(m) => {
                f.new_members += u64::from(m.joined_on.year() == config.year);
                f.members_left += u64::from(m.left_on.is_some());
            }
            _ => {}
        }
        let n = shown.entry(record.kind()).or_default();
        if *n < show {
            *n += 1;
            println!("{id} {record:#?}");
        }
    });
    let elapsed = started.elapsed();
    println!("{summary:#?}");
    let pct = |a: u64, b: u64| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
    println!("unions by kind: {:?}", f.unions_by_kind);
    let single = f.unions_by_kind.get(UnionKind::SingleUnit.en()).copied().unwrap_or(0);
    println!(
        "new unions in {}: {}; single-unit unions: {single}; 六有 complete: {:.1} %",
        config.year,
        f.new_unions,
        pct(f.liuyou_complete, summary.unions)
    );
    println!(
        "entities under 25 workers: {:.1} %; coverage of open entities: {:.1} %",
        pct(f.entities_under_25, summary.entities),
        pct(f.entities_covered, f.entities_open)
    );
    println!(
        "members joined in {}: {} ({:.1} %); left: {:.1} %",
        config.year,
        f.new_members,
        pct(f.new_members, summary.members),
        pct(f.members_left, summary.members)
    );
    println!(
        "generated {members} members in {:.2} s ({:.0} members/s)",
        elapsed.as_secs_f64(),
        members as f64 / elapsed.as_secs_f64()
    );
}
