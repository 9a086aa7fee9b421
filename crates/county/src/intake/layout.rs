//! Where a county's sheet keeps what: the header row and the column of
//! each field.
//!
//! The ledgers Sanjian exports open with a title row merged across the
//! sheet (工会会员实名制登记表); a county's own may add a second title
//! line, a unit and date line, or columns of its own (备注, 联系人). So
//! the header row is the first of the top rows in which the most cells
//! name a field of the sheet, and each field takes the column whose
//! header names it — an exact name first (职工人数 before 女职工人数 can
//! claim it by containing it), then a header that contains one of its
//! names. Columns nobody claims are left alone and listed.

use super::Sheet;
use registry::names::name_key;
use serde::Serialize;

/// How far down a header row may be (title lines above it).
const HEADER_SEARCH: usize = 10;

/// The fields of a sheet with the header names each goes by, first the
/// name Sanjian exports.
pub fn fields(sheet: Sheet) -> &'static [(&'static str, &'static [&'static str])] {
    match sheet {
        Sheet::Areas => &[
            ("township", &["乡镇（街道）", "乡镇(街道)", "乡镇", "街道", "镇街"]),
            ("township_kind", &["乡镇类型", "类型"]),
            ("community", &["社区（村）", "社区(村)", "社区", "村"]),
            ("grid", &["网格"]),
            ("grid_leader", &["网格长"]),
            ("grid_members", &["网格员"]),
            ("code", &["区划代码", "行政区划代码"]),
        ],
        Sheet::Entities => &[
            ("name", &["单位名称", "企业名称", "名称"]),
            ("credit_code", &["统一社会信用代码", "信用代码", "社会信用代码"]),
            ("credit_code_override", &["信用代码保留理由", "保留理由"]),
            ("unit_kind", &["单位类型", "法人类型"]),
            ("ownership", &["经济类型", "所有制", "经济性质"]),
            ("industry", &["行业", "所属行业"]),
            ("address", &["地址", "住所", "经营地址"]),
            ("township", &["乡镇（街道）", "乡镇(街道)", "乡镇", "街道"]),
            ("community", &["社区（村）", "社区(村)", "社区", "村"]),
            ("grid", &["网格"]),
            ("workers", &["职工人数", "从业人员", "职工数", "从业人数"]),
            ("women_workers", &["女职工人数", "女职工数", "女职工"]),
            ("union", &["覆盖工会", "所属工会", "建会情况", "工会"]),
            ("owner_name", &["主要负责人", "法定代表人", "负责人"]),
            ("contact_phone", &["联系电话", "电话"]),
            ("closed", &["已注销", "注销", "状态"]),
        ],
        Sheet::Organisation => &[
            ("name", &["工会名称", "基层工会名称", "名称"]),
            ("kind", &["组建形式", "建会形式"]),
            ("sector", &["领域"]),
            ("township", &["乡镇（街道）", "乡镇(街道)", "乡镇", "街道"]),
            ("parent_union", &["上级工会"]),
            ("founded_on", &["成立日期", "成立时间", "建会日期", "建会时间"]),
            ("approved_on", &["批复日期", "批复时间"]),
            ("approved_by", &["批复单位"]),
            ("approval_doc", &["批复文号"]),
            ("workers", &["职工人数", "职工数"]),
            ("women_workers", &["女职工人数", "女职工数"]),
            ("has_women_committee", &["女职工委员会"]),
            ("has_audit_committee", &["经费审查委员会", "经审会"]),
            ("liuyou", &["六有"]),
            ("bayou", &["八有"]),
            ("grid", &["网格"]),
            ("covered", &["覆盖单位", "覆盖单位名称"]),
            ("dissolved_on", &["撤销日期", "注销日期"]),
            // Figures of other records, shown on the form and not read back.
            ("chair", &["主席"]),
            ("vice_chairs", &["副主席"]),
            ("member_count", &["会员人数"]),
            ("covered_count", &["覆盖单位数"]),
        ],
        Sheet::Member => &[
            ("name", &["姓名", "会员姓名"]),
            ("sex", &["性别"]),
            ("ethnicity", &["民族"]),
            ("birth_date", &["出生日期", "出生年月"]),
            ("resident_id", &["公民身份号码", "身份证号码", "身份证号", "身份证"]),
            ("education", &["学历", "文化程度"]),
            ("political_status", &["政治面貌"]),
            ("employer", &["工作单位", "单位名称", "单位"]),
            ("union", &["所在工会", "所属工会", "工会名称"]),
            ("joined_on", &["入会日期", "入会时间"]),
            ("card_number", &["会员卡号", "会员证号", "卡号"]),
            ("card_expires", &["会员卡有效期至", "有效期至", "会员卡有效期"]),
            ("phone", &["手机号码", "手机号", "联系电话", "电话"]),
            ("migrant_worker", &["农民工"]),
            ("dispatched_worker", &["劳务派遣工", "派遣工"]),
            ("township", &["乡镇（街道）", "乡镇(街道)", "乡镇", "街道"]),
            ("standing", &["会籍状态（在册／已离会）", "会籍状态", "离会日期", "状态"]),
            // Derived from the birth date, never read.
            ("young_worker", &["青年职工"]),
        ],
        Sheet::Cadre => &[
            ("name", &["姓名"]),
            ("resident_id", &["公民身份号码", "身份证号码", "身份证号", "身份证"]),
            ("union", &["所在工会", "所属工会", "工会名称"]),
            ("role", &["职务"]),
            ("elected_on", &["任职日期", "任职时间", "当选日期"]),
            ("left_on", &["离任日期", "离任时间"]),
            ("full_time", &["专兼职", "专职或兼职"]),
            ("owner_relation", &["与企业负责人关系", "与企业主要负责人关系"]),
            ("phone", &["手机号码", "手机号", "联系电话", "电话"]),
            ("township", &["乡镇（街道）", "乡镇(街道)", "乡镇", "街道"]),
        ],
        Sheet::Transfer => &[
            ("member_name", &["会员姓名", "姓名"]),
            ("from_union", &["转出工会"]),
            ("to_union", &["转入工会"]),
            ("date", &["接转日期", "接转时间", "转接日期"]),
            ("reason", &["接转原因", "原因"]),
            ("note", &["备注"]),
            ("township", &["乡镇（街道）", "乡镇(街道)", "乡镇", "街道"]),
        ],
    }
}

/// A field's column name as Sanjian's ledgers write it.
pub fn field_name(sheet: Sheet, field: &str) -> &'static str {
    fields(sheet).iter().find(|(f, _)| *f == field).map_or("", |(_, names)| names[0])
}

/// The fields a row of the sheet cannot do without.
pub fn required(sheet: Sheet) -> &'static [&'static str] {
    match sheet {
        Sheet::Areas => &["township"],
        Sheet::Entities => &["name", "township"],
        Sheet::Organisation => &["name", "kind", "township"],
        Sheet::Member => &["name", "resident_id", "union", "joined_on"],
        Sheet::Cadre => &["name", "union", "role"],
        Sheet::Transfer => &["member_name", "from_union", "to_union", "date"],
    }
}

/// A sheet's columns as found: the header row and each field's column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub sheet: Sheet,
    /// The header row's index in the file's rows (0 = the first).
    pub header_row: usize,
    /// Field → column (0-based), for the fields found.
    pub columns: Vec<(&'static str, usize)>,
    /// Headers no field claimed (kept out of the records; listed so the
    /// clerk knows they were seen).
    pub ignored: Vec<String>,
}

impl Layout {
    pub fn column(&self, field: &str) -> Option<usize> {
        self.columns.iter().find(|(f, _)| *f == field).map(|(_, c)| *c)
    }
}

/// Columns claimed in `headers`: exact names first, then containing ones.
fn claim(sheet: Sheet, headers: &[String]) -> Vec<(&'static str, usize)> {
    let keys: Vec<String> = headers.iter().map(|h| name_key(h)).collect();
    let mut taken = vec![false; keys.len()];
    let mut found: Vec<(&'static str, usize)> = Vec::new();
    for exact in [true, false] {
        for (field, names) in fields(sheet) {
            if found.iter().any(|(f, _)| f == field) {
                continue;
            }
            let hit = names.iter().find_map(|n| {
                let n = name_key(n);
                (0..keys.len()).find(|&c| {
                    !taken[c] && !keys[c].is_empty() && if exact { keys[c] == n } else { keys[c].contains(&n) }
                })
            });
            if let Some(c) = hit {
                taken[c] = true;
                found.push((field, c));
            }
        }
    }
    found.sort_by_key(|(_, c)| *c);
    found
}

/// The layout of `rows` read as `sheet`: the header row among the first
/// rows is the one where most fields find a column (at least two, and the
/// sheet's required ones); `None` when no row qualifies.
pub fn find(sheet: Sheet, rows: &[Vec<String>]) -> Option<Layout> {
    let (header_row, columns) = rows
        .iter()
        .take(HEADER_SEARCH)
        .enumerate()
        .map(|(i, r)| (i, claim(sheet, r)))
        .filter(|(_, cols)| cols.len() >= 2 && required(sheet).iter().all(|f| cols.iter().any(|(g, _)| g == f)))
        .max_by_key(|(i, cols)| (cols.len(), std::cmp::Reverse(*i)))?;
    let ignored = rows[header_row]
        .iter()
        .enumerate()
        .filter(|(c, h)| !h.trim().is_empty() && !columns.iter().any(|(_, k)| k == c) && name_key(h) != "序号")
        .map(|(_, h)| registry::names::normalise(h))
        .collect();
    Some(Layout { sheet, header_row, columns, ignored })
}

/// Which sheet this file most likely is: the one whose header row names
/// the most of its fields, a title that names a ledger breaking ties.
pub fn guess(rows: &[Vec<String>]) -> Option<Sheet> {
    let title: String = rows.iter().take(3).flatten().map(|c| name_key(c)).collect();
    Sheet::ALL
        .iter()
        .filter_map(|&s| {
            let l = find(s, rows)?;
            let titled = s.titles().iter().any(|t| title.contains(t));
            Some((s, (l.columns.len() * 100 / fields(s).len(), titled)))
        })
        .max_by_key(|(_, score)| *score)
        .map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn the_header_row_is_found_under_merged_titles_and_exact_names_win() {
        let rows = vec![
            row(&["工会会员实名制登记表"]),
            row(&["填报单位：某某镇总工会", "", "", "2026年12月"]),
            row(&["序号", "姓名", "身份证号码", "所在工会", "入会时间", "备注", "女职工人数"]),
            row(&["1", "张三", "110105194912310021", "某工会", "2020-01-01", "", ""]),
        ];
        let l = find(Sheet::Member, &rows).unwrap();
        assert_eq!(l.header_row, 2);
        assert_eq!(l.column("resident_id"), Some(2));
        assert_eq!(l.column("joined_on"), Some(4));
        assert_eq!(l.ignored, vec!["备注".to_owned(), "女职工人数".to_owned()]);
        assert_eq!(guess(&rows), Some(Sheet::Member));

        let org = vec![row(&["工会名称", "组建形式", "乡镇（街道）", "女职工人数", "职工人数"])];
        let l = find(Sheet::Organisation, &org).unwrap();
        assert_eq!(l.column("workers"), Some(4), "职工人数 is claimed by its exact name, not inside 女职工人数");
        assert_eq!(l.column("women_workers"), Some(3));
    }

    #[test]
    fn a_sheet_without_its_required_columns_is_not_that_sheet() {
        let rows = vec![row(&["姓名", "性别", "民族"])];
        assert_eq!(find(Sheet::Member, &rows), None);
        assert_eq!(guess(&rows), None);
    }

    #[test]
    fn each_exported_ledger_is_recognised_by_its_own_headers() {
        use crate::ledgers::Ledger;
        for (ledger, sheet) in [
            (Ledger::Organisation, Sheet::Organisation),
            (Ledger::Member, Sheet::Member),
            (Ledger::Cadre, Sheet::Cadre),
            (Ledger::Transfer, Sheet::Transfer),
            (Ledger::Entity, Sheet::Entities),
            (Ledger::Area, Sheet::Areas),
        ] {
            let rows = vec![row(&[ledger.title()]), ledger.headers().iter().map(|h| h.to_string()).collect()];
            assert_eq!(guess(&rows), Some(sheet), "{}", ledger.title());
            let l = find(sheet, &rows).unwrap();
            assert_eq!(l.header_row, 1);
            assert!(l.ignored.is_empty(), "{}: {:?} unclaimed", ledger.title(), l.ignored);
        }
    }
}
