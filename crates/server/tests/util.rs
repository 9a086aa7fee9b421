//! Fixtures: keys and a small synthetic county.

use registry::keys::CountySecret;
use registry::model::*;
use registry::{Date, date};
use std::collections::BTreeMap;
use store::StoreKey;

pub const TODAY: Date = date!(2026 - 11 - 25);

pub fn secret() -> CountySecret {
    CountySecret::from_bytes([42; 32])
}

pub fn key() -> StoreKey {
    StoreKey::from_bytes([9; 32])
}

pub type Records = Vec<(RecordId, Record)>;

/// A small synthetic county, its two busiest townships first.
#[derive(Debug, Clone)]
pub struct County {
    pub records: Vec<(RecordId, Record)>,
    pub townships: Vec<RecordId>,
}

pub fn small_county(seed: u64) -> County {
    let config = synth::SynthConfig { seed, members: 80, today: TODAY, year: 2026 };
    let mut records = Vec::new();
    synth::generate(&config, &secret(), |id, r| records.push((id, r)));
    let mut busy: BTreeMap<RecordId, usize> = BTreeMap::new();
    for (id, r) in &records {
        if let Some(t) = r.region(id).township.filter(|_| r.kind() == RecordKind::Member) {
            *busy.entry(t).or_default() += 1;
        }
    }
    let mut townships: Vec<(RecordId, usize)> = busy.into_iter().collect();
    townships.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    County { records, townships: townships.into_iter().map(|t| t.0).collect() }
}

impl County {
    /// A member of the county who has not left (the first in its records).
    pub fn active_member(&self) -> Member {
        self.records
            .iter()
            .find_map(|(_, r)| match r {
                Record::Member(m) if m.left_on.is_none() => Some(m.clone()),
                _ => None,
            })
            .expect("the county has an active member")
    }

    /// The grids of a township holding members, busiest first.
    pub fn grids_in(&self, township: &RecordId) -> Vec<RecordId> {
        let mut count: BTreeMap<RecordId, usize> = BTreeMap::new();
        for (id, r) in &self.records {
            let region = r.region(id);
            if r.kind() == RecordKind::Member
                && region.township.as_ref() == Some(township)
                && let Some(g) = region.grid
            {
                *count.entry(g).or_default() += 1;
            }
        }
        let mut grids: Vec<_> = count.into_iter().collect();
        grids.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        grids.into_iter().map(|g| g.0).collect()
    }

    /// What the server starts with, and members the devices register later.
    pub fn split(&self) -> (Records, Records) {
        let mut initial = Vec::new();
        let mut pool = Vec::new();
        let mut n = 0;
        for (id, r) in &self.records {
            if r.kind() == RecordKind::Member {
                n += 1;
                if n % 3 == 0 {
                    pool.push((id.clone(), r.clone()));
                    continue;
                }
            }
            initial.push((id.clone(), r.clone()));
        }
        (initial, pool)
    }
}

/// The PostgreSQL the test script started (`scripts/pg.sh`).
pub fn pg_url() -> String {
    std::env::var("SANJIAN_TEST_PG_URL").expect(
        "SANJIAN_TEST_PG_URL is not set: run the tests with scripts/test.sh, which starts a throwaway PostgreSQL",
    )
}

/// A new, empty database on the test cluster; returns its URL.
pub fn fresh_pg_database(url: &str, tag: u64) -> String {
    let name = format!("sim_{tag}_{}_{}", std::process::id(), rand::random::<u32>());
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// The throwaway S3-compatible store `scripts/test.sh` starts (s3s-fs), with
/// a prefix of its own so tests running at once do not meet.
pub fn s3_config() -> sync::s3::S3Config {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the tests with scripts/test.sh, which starts a throwaway s3s-fs")
        })
    };
    sync::s3::S3Config {
        endpoint: var("SANJIAN_TEST_S3_ENDPOINT"),
        bucket: "sanjian-test".into(),
        prefix: format!("t{}-{}/", std::process::id(), rand::random::<u32>()),
        region: "us-east-1".into(),
        access_key: var("SANJIAN_TEST_S3_ACCESS_KEY"),
        secret_key: var("SANJIAN_TEST_S3_SECRET_KEY"),
    }
}

/// Where that store keeps its files.
pub fn s3_root() -> std::path::PathBuf {
    std::env::var("SANJIAN_TEST_S3_ROOT").expect("SANJIAN_TEST_S3_ROOT (scripts/test.sh)").into()
}
