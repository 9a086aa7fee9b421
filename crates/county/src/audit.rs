//! The county's audit log, read across the tables that record who did
//! what: exports, imports of other offices' lists, quarantine decisions,
//! device events, configuration changes and review decisions. Newest first.

use serde::{Deserialize, Serialize};
use sync::SyncError;
use sync::server::Sql;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ts_rs::TS)]
pub struct AuditEntry {
    pub at: i64,
    pub who: Option<String>,
    /// `export`, `import`, `configure`, `review:<decision>`, `device:<event>`.
    pub action: String,
    pub what: String,
    /// Rows written (exports and imports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    /// An export with whole ID numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_ids: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The kinds of entry, by the table each is kept in.
pub const KINDS: &[&str] = &["export", "import", "review", "device", "configure", "application", "merchant"];

/// The newest `limit` entries of every kind, merged newest first.
pub fn entries(db: &mut dyn Sql, limit: usize) -> Result<Vec<AuditEntry>, SyncError> {
    Ok(page(db, 0, None, limit)?.0)
}

/// A page of the log: `limit` entries after the newest `offset`, of one
/// kind (`KINDS`) or all, newest first, and how many entries of that kind
/// there are in all. (By offset, not by time: entries written in the same
/// millisecond are neither skipped nor shown twice across a page's edge.)
pub fn page(
    db: &mut dyn Sql,
    offset: usize,
    kind: Option<&str>,
    limit: usize,
) -> Result<(Vec<AuditEntry>, i64), SyncError> {
    let text = |v: &sync::server::Val| v.text().map(str::to_owned);
    let wants = |k: &str| kind.is_none_or(|w| w == k);
    let before = i64::MAX;
    let n = (offset + limit) as i64;
    let mut out = Vec::new();
    let mut total = 0;
    let entry = |at: i64, who: Option<String>, action: String, what: String| AuditEntry {
        at,
        who,
        action,
        what,
        rows: None,
        full_ids: None,
        note: None,
    };
    let mut count = |db: &mut dyn Sql, sql: &str| -> Result<(), SyncError> {
        total += db.query(sql, &[])?.first().map_or(0, |r| r[0].int());
        Ok(())
    };
    if wants("export") {
        count(db, "SELECT count(*) FROM exports")?;
        for r in db.query(
            "SELECT at, who, ledger, format, filter, rows, full_ids FROM exports WHERE at < $1 ORDER BY at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let what = format!(
                "{} {} {}",
                r[2].text().unwrap_or_default(),
                r[3].text().unwrap_or_default(),
                r[4].text().unwrap_or_default()
            );
            out.push(AuditEntry {
                rows: Some(r[5].int()),
                full_ids: Some(r[6].int() != 0),
                ..entry(r[0].int(), text(&r[1]), "export".into(), what)
            });
        }
    }
    if wants("import") {
        count(db, "SELECT count(*) FROM imports")?;
        for r in db.query(
            "SELECT at, who, source, rows FROM imports WHERE at < $1 ORDER BY at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let what = r[2].text().unwrap_or_default().to_owned();
            out.push(AuditEntry { rows: Some(r[3].int()), ..entry(r[0].int(), text(&r[1]), "import".into(), what) });
        }
    }
    if wants("review") {
        count(db, "SELECT count(*) FROM quarantine WHERE resolved_at IS NOT NULL")?;
        for r in db.query(
            "SELECT resolved_at, resolution, doc_id, code FROM quarantine WHERE resolved_at IS NOT NULL AND resolved_at < $1
             ORDER BY resolved_at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            #[derive(Deserialize, Default)]
            struct Resolution {
                by: Option<String>,
                decision: Option<String>,
                note: Option<String>,
            }
            let res: Resolution = serde_json::from_str(r[1].text().unwrap_or("{}")).unwrap_or_default();
            let what = format!("{} {}", r[3].text().unwrap_or_default(), r[2].text().unwrap_or_default());
            let action = format!("review:{}", res.decision.as_deref().unwrap_or(""));
            out.push(AuditEntry { note: res.note, ..entry(r[0].int(), res.by, action, what) });
        }
        count(db, "SELECT count(*) FROM reviews")?;
        for r in db.query(
            "SELECT at, by_user, queue, decision, id, note FROM reviews WHERE at < $1 ORDER BY at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let action = format!("review:{}", r[3].text().unwrap_or_default());
            let what = format!("{} {}", r[2].text().unwrap_or_default(), r[4].text().unwrap_or_default());
            out.push(AuditEntry { note: text(&r[5]), ..entry(r[0].int(), text(&r[1]), action, what) });
        }
    }
    if wants("device") {
        count(db, "SELECT count(*) FROM device_events")?;
        for r in db.query(
            "SELECT e.at, e.who, e.what, e.device_id, d.person FROM device_events e
             LEFT JOIN devices d ON d.id = e.device_id WHERE e.at < $1 ORDER BY e.at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let action = format!("device:{}", r[2].text().unwrap_or_default());
            let what = format!("{} {}", r[4].text().unwrap_or_default(), r[3].text().unwrap_or_default());
            out.push(entry(r[0].int(), text(&r[1]), action, what));
        }
    }
    if wants("application") {
        // Decided applications to join: who decided, and how (the person is
        // in the sealed application, not here).
        count(db, "SELECT count(*) FROM applications WHERE decided_at IS NOT NULL")?;
        for r in db.query(
            "SELECT a.decided_at, a.decided_by, a.status, u.name, a.member_id, a.reason FROM applications a
             LEFT JOIN f_unions u ON u.id = a.union_id WHERE a.decided_at IS NOT NULL AND a.decided_at < $1
             ORDER BY a.decided_at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let action = format!("application:{}", r[2].text().unwrap_or_default());
            let what = format!("{} {}", r[3].text().unwrap_or_default(), r[4].text().unwrap_or_default());
            out.push(AuditEntry { note: text(&r[5]), ..entry(r[0].int(), text(&r[1]), action, what) });
        }
    }
    if wants("merchant") {
        count(db, "SELECT count(*) FROM merchants")?;
        count(db, "SELECT count(*) FROM merchants WHERE withdrawn_at IS NOT NULL")?;
        for r in db.query(
            "SELECT created_at, created_by, name, township FROM merchants WHERE created_at < $1 ORDER BY created_at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let what = format!("{} {}", r[2].text().unwrap_or_default(), r[3].text().unwrap_or_default());
            out.push(entry(r[0].int(), text(&r[1]), "merchant:register".into(), what));
        }
        for r in db.query(
            "SELECT withdrawn_at, withdrawn_by, name, township FROM merchants WHERE withdrawn_at IS NOT NULL AND withdrawn_at < $1
             ORDER BY withdrawn_at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let what = format!("{} {}", r[2].text().unwrap_or_default(), r[3].text().unwrap_or_default());
            out.push(entry(r[0].int(), text(&r[1]), "merchant:withdraw".into(), what));
        }
    }
    if wants("configure") {
        count(db, "SELECT count(*) FROM config_log")?;
        for r in db.query(
            "SELECT at, who, what FROM config_log WHERE at < $1 ORDER BY at DESC LIMIT $2",
            &[before.into(), n.into()],
        )? {
            let what = r[2].text().unwrap_or_default().to_owned();
            out.push(entry(r[0].int(), text(&r[1]), "configure".into(), what));
        }
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| (&a.action, &a.what).cmp(&(&b.action, &b.what))));
    Ok((out.into_iter().skip(offset).take(limit).collect(), total))
}
