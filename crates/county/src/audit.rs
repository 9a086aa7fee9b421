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

/// The newest `limit` entries of every kind, merged newest first.
pub fn entries(db: &mut dyn Sql, limit: usize) -> Result<Vec<AuditEntry>, SyncError> {
    let text = |v: &sync::server::Val| v.text().map(str::to_owned);
    let mut out = Vec::new();
    let entry = |at: i64, who: Option<String>, action: String, what: String| AuditEntry {
        at,
        who,
        action,
        what,
        rows: None,
        full_ids: None,
        note: None,
    };
    for r in
        db.query("SELECT at, who, ledger, format, filter, rows, full_ids FROM exports ORDER BY at DESC LIMIT 200", &[])?
    {
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
    for r in db.query("SELECT at, who, source, rows FROM imports ORDER BY at DESC LIMIT 200", &[])? {
        let what = r[2].text().unwrap_or_default().to_owned();
        out.push(AuditEntry { rows: Some(r[3].int()), ..entry(r[0].int(), text(&r[1]), "import".into(), what) });
    }
    for r in db.query(
        "SELECT resolved_at, resolution, doc_id, code FROM quarantine WHERE resolved_at IS NOT NULL
         ORDER BY resolved_at DESC LIMIT 200",
        &[],
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
    for r in db.query(
        "SELECT e.at, e.who, e.what, e.device_id, d.person FROM device_events e
         LEFT JOIN devices d ON d.id = e.device_id ORDER BY e.at DESC LIMIT 200",
        &[],
    )? {
        let action = format!("device:{}", r[2].text().unwrap_or_default());
        let what = format!("{} {}", r[4].text().unwrap_or_default(), r[3].text().unwrap_or_default());
        out.push(entry(r[0].int(), text(&r[1]), action, what));
    }
    for r in db.query("SELECT at, who, what FROM config_log ORDER BY at DESC LIMIT 200", &[])? {
        let what = r[2].text().unwrap_or_default().to_owned();
        out.push(entry(r[0].int(), text(&r[1]), "configure".into(), what));
    }
    for r in db.query("SELECT at, by_user, queue, decision, id, note FROM reviews ORDER BY at DESC LIMIT 200", &[])? {
        let action = format!("review:{}", r[3].text().unwrap_or_default());
        let what = format!("{} {}", r[2].text().unwrap_or_default(), r[4].text().unwrap_or_default());
        out.push(AuditEntry { note: text(&r[5]), ..entry(r[0].int(), text(&r[1]), action, what) });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(limit);
    Ok(out)
}
