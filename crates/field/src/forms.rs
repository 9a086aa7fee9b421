//! The forms the UI draws, one per record kind: each field's path in the
//! record's JSON (`place.township`, `liuyou.premises`), its input type, its
//! labels and, for categorical fields, the registry's own options. The UI
//! builds every form from this, so a label or an option is written once.

use crate::codes;
use registry::model::*;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub key: &'static str,
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Path in the record's JSON, dot-separated.
    pub name: &'static str,
    /// text, textarea, int, bool, date, time, choice, resident_id,
    /// credit_code, phone, ethnicity, area (with `level`), ref (with
    /// `ref_kind`), position (latitude, longitude, accuracy, typed or read
    /// from the device) and photos (with `options`: the items a photo may
    /// be evidence of).
    #[serde(rename = "type")]
    pub input: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'static str>,
    /// Filled from the ID number when left empty.
    pub derived: bool,
    /// A group heading the field starts (六有, 八有…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Form {
    pub kind: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub fields: Vec<Field>,
}

fn f(name: &'static str, input: &'static str, zh: &'static str, en: &'static str, required: bool) -> Field {
    Field {
        name,
        input,
        zh,
        en,
        required,
        options: Vec::new(),
        ref_kind: None,
        level: None,
        derived: false,
        group: None,
    }
}

macro_rules! choices {
    ($t:ty) => {
        <$t>::ALL.iter().map(|v| Choice { key: v.key(), zh: v.zh().into(), en: v.en().into() }).collect::<Vec<_>>()
    };
}

fn choice(name: &'static str, zh: &'static str, en: &'static str, required: bool, options: Vec<Choice>) -> Field {
    Field { options, ..f(name, "choice", zh, en, required) }
}

fn reference(name: &'static str, kind: &'static str, zh: &'static str, en: &'static str, required: bool) -> Field {
    Field { ref_kind: Some(kind), ..f(name, "ref", zh, en, required) }
}

fn place() -> Vec<Field> {
    vec![
        Field { level: Some("township"), ..f("place.township", "area", "乡镇（街道）", "Township", true) },
        Field { level: Some("community"), ..f("place.community", "area", "社区（村）", "Community", false) },
        Field { level: Some("grid"), ..f("place.grid", "area", "网格", "Grid", false) },
    ]
}

fn grouped(mut field: Field, zh: &'static str, en: &'static str) -> Field {
    field.group = Some((zh, en));
    field
}

fn checks(prefix_fields: &[(&'static str, &'static str, &'static str)]) -> Vec<Field> {
    prefix_fields.iter().map(|&(name, zh, en)| f(name, "bool", zh, en, false)).collect()
}

/// The 六有 items: field path, labels.
const LIUYOU: [(&str, &str, &str); 6] = [
    ("liuyou.premises", "有开展工作的场所设施", "Premises and facilities"),
    ("liuyou.elected_chair", "有依法选举的工会主席", "A lawfully elected chair"),
    ("liuyou.organisation", "有独立健全的组织机构", "A sound organisation"),
    ("liuyou.activities", "有服务职工的活动载体", "Activities serving workers"),
    ("liuyou.rules", "有效能完善的制度机制", "Working rules"),
    ("liuyou.results", "有会员满意的工作绩效", "Results members are satisfied with"),
];

/// The 八有 items: field path, labels.
const BAYOU: [(&str, &str, &str); 8] = [
    ("bayou.sign_board", "有牌子", "Sign board"),
    ("bayou.approval", "有批复", "Approval"),
    ("bayou.seal", "有印章", "Seal"),
    ("bayou.funds", "有经费", "Funds"),
    ("bayou.premises", "有场所", "Premises"),
    ("bayou.rules", "有制度", "Rules"),
    ("bayou.activities", "有活动", "Activities"),
    ("bayou.archives", "有档案", "Archives"),
];

pub fn entity() -> Form {
    let mut fields = vec![
        f("name", "text", "单位名称", "Name", true),
        f("credit_code", "credit_code", "统一社会信用代码", "Unified Social Credit Code", false),
        f("credit_code_override", "text", "校验位不符时保留的理由", "Reason to keep a code whose check fails", false),
        choice("unit_kind", "法人类别", "Kind of legal person", true, choices!(UnitKind)),
        choice("ownership", "经济类型", "Ownership", true, choices!(Ownership)),
        choice("industry", "行业", "Industry", true, choices!(Industry)),
        f("address", "text", "地址", "Address", false),
    ];
    fields.extend(place());
    fields.extend([
        f("workers", "int", "职工人数", "Workers", true),
        f("women_workers", "int", "女职工人数", "Women workers", true),
        reference("union_id", "union", "所属工会", "Covering union", false),
        f("owner_name", "text", "主要负责人", "Owner or legal representative", false),
        f("contact_phone", "phone", "联系电话", "Contact phone", false),
        f("closed", "bool", "已注销或迁出", "Closed or moved away", false),
        f("notes", "textarea", "备注", "Notes", false),
        photos(false),
    ]);
    Form { kind: "entity", zh: RecordKind::Entity.zh(), en: RecordKind::Entity.en(), fields }
}

pub fn union() -> Form {
    let mut fields = vec![
        f("name", "text", "工会名称", "Union name", true),
        choice("kind", "组建形式", "Kind", true, choices!(UnionKind)),
        choice("sector", "领域", "Sector", false, choices!(Sector)),
    ];
    fields.extend(place());
    fields.extend([
        reference("parent_union", "union", "上级工会", "Parent union", false),
        f("founded_on", "date", "成立日期", "Founded on", false),
        f("approved_on", "date", "批复日期", "Approved on", false),
        choice("approved_by", "批复单位", "Approved by", false, choices!(ApprovalBody)),
        f("approval_doc", "text", "批复文号", "Approval document no.", false),
        f("workers", "int", "职工人数", "Workers", true),
        f("women_workers", "int", "女职工人数", "Women workers", true),
        f("has_women_committee", "bool", "已建女职工委员会", "Has a women workers' committee", false),
        f("has_audit_committee", "bool", "已建经费审查委员会", "Has an audit committee", false),
        f("credit_code", "credit_code", "工会法人统一社会信用代码", "Union's own credit code", false),
        f("credit_code_override", "text", "校验位不符时保留的理由", "Reason to keep a code whose check fails", false),
    ]);
    let liuyou = checks(&LIUYOU);
    let bayou = checks(&BAYOU);
    for (i, field) in liuyou.into_iter().enumerate() {
        fields.push(if i == 0 { grouped(field, "六有", "The six haves (六有)") } else { field });
    }
    for (i, field) in bayou.into_iter().enumerate() {
        fields.push(if i == 0 {
            grouped(field, "八有（非公企业）", "The eight haves (private enterprises)")
        } else {
            field
        });
    }
    fields.extend([
        f("dissolved_on", "date", "撤销或合并日期", "Dissolved on", false),
        f("notes", "textarea", "备注", "Notes", false),
        photos(true),
    ]);
    Form { kind: "union", zh: RecordKind::Union.zh(), en: RecordKind::Union.en(), fields }
}

pub fn member() -> Form {
    let mut fields = vec![
        f("name", "text", "姓名", "Name", true),
        f("resident_id", "resident_id", "公民身份号码", "Resident ID number", true),
        Field { derived: true, ..choice("sex", "性别", "Sex", false, choices!(Sex)) },
        Field { derived: true, ..f("birth_date", "date", "出生日期", "Birth date", false) },
        f("ethnicity", "ethnicity", "民族", "Ethnicity", true),
        choice("education", "学历", "Education", true, choices!(Education)),
        choice("political_status", "政治面貌", "Political status", true, choices!(PoliticalStatus)),
        reference("union_id", "union", "所在工会", "Union", true),
        reference("employer_id", "entity", "工作单位", "Employer", false),
        f("employer_name", "text", "工作单位名称", "Employer's name", false),
        f("joined_on", "date", "入会日期", "Joined on", true),
        f("phone", "phone", "手机号码", "Mobile phone", false),
        f("migrant_worker", "bool", "农民工", "Migrant worker", false),
        f("dispatched_worker", "bool", "劳务派遣工", "Dispatched worker", false),
    ];
    fields.extend(place());
    fields.push(f("left_on", "date", "离会日期", "Left on", false));
    Form { kind: "member", zh: RecordKind::Member.zh(), en: RecordKind::Member.en(), fields }
}

pub fn cadre() -> Form {
    let mut fields = vec![
        f("name", "text", "姓名", "Name", true),
        f("resident_id", "resident_id", "公民身份号码", "Resident ID number", false),
        reference("union_id", "union", "所在工会", "Union", true),
        reference("member_id", "member", "会员记录", "Member record", false),
        choice("role", "职务", "Role", true, choices!(CadreRole)),
        f("elected_on", "date", "任职日期", "In office from", false),
        f("left_on", "date", "离任日期", "Left office on", false),
        f("full_time", "bool", "专职", "Full time", false),
        choice("owner_relation", "与企业负责人关系", "Relation to the owner", true, choices!(OwnerRelation)),
        f("phone", "phone", "手机号码", "Mobile phone", false),
    ];
    fields.extend(place());
    Form { kind: "cadre", zh: RecordKind::Cadre.zh(), en: RecordKind::Cadre.en(), fields }
}

pub fn transfer() -> Form {
    let mut fields = vec![
        reference("member_id", "member", "会员", "Member", true),
        f("member_name", "text", "会员姓名", "Member's name", true),
        reference("from_union", "union", "转出工会", "From union", true),
        reference("to_union", "union", "转入工会", "To union", true),
        f("date", "date", "接转日期", "Date", true),
        choice("reason", "接转原因", "Reason", true, choices!(TransferReason)),
        f("note", "textarea", "备注", "Note", false),
    ];
    fields.extend(place());
    Form { kind: "transfer", zh: RecordKind::Transfer.zh(), en: RecordKind::Transfer.en(), fields }
}

pub fn hardship() -> Form {
    let mut fields = vec![
        f("name", "text", "姓名", "Name", true),
        f("resident_id", "resident_id", "公民身份号码", "Resident ID number", false),
        reference("member_id", "member", "会员记录", "Member record", false),
        reference("union_id", "union", "所在工会", "Union", false),
        choice("kind", "困难类型", "Kind of hardship", true, choices!(HardshipKind)),
        f("situation", "textarea", "困难情况", "Situation", true),
        f("household_size", "int", "家庭人口", "Household size", true),
        f("monthly_income_yuan", "int", "家庭人均月收入（元）", "Monthly income per head (yuan)", true),
        f("registered_on", "date", "建档日期", "Registered on", true),
        f("closed_on", "date", "脱困日期", "Closed on", false),
        f("phone", "phone", "联系电话", "Phone", false),
    ];
    fields.extend(place());
    fields.push(photos(false));
    Form { kind: "hardship", zh: RecordKind::Hardship.zh(), en: RecordKind::Hardship.en(), fields }
}

/// A record's photos; for a union, each may be evidence of a 六有 / 八有 item.
fn photos(items: bool) -> Field {
    // A photo of a union may be the evidence of one of its 六有 / 八有 items,
    // named as the checklist names them.
    let options = if items {
        let named = |group_zh: &str, group_en: &str, &(key, zh, en): &(&'static str, &str, &str)| Choice {
            key,
            zh: format!("{group_zh}：{zh}").into(),
            en: format!("{group_en}: {en}").into(),
        };
        let liuyou = LIUYOU.iter().map(|i| named("六有", "Six haves", i));
        let bayou = BAYOU.iter().map(|i| named("八有", "Eight haves", i));
        let all: Vec<Choice> = liuyou.chain(bayou).collect();
        debug_assert!(all.iter().map(|c| c.key).eq(registry::validate::PHOTO_ITEMS));
        all
    } else {
        Vec::new()
    };
    Field { options, ..f("photos", "photos", "照片", "Photos", false) }
}

/// A door-to-door census visit, filled in at the door.
pub fn visit() -> Form {
    let mut fields = vec![
        reference("entity_id", "entity", "走访单位", "Entity visited", false),
        f("entity_name", "text", "单位名称（现场所见）", "Entity's name (as found)", true),
        choice("outcome", "走访结果", "Outcome", true, choices!(VisitOutcome)),
        f("visited_on", "date", "走访日期", "Visited on", true),
        f("time", "time", "时间", "Time", false),
        f("surveyor", "text", "走访人", "Surveyor", true),
        f("follow_up_on", "date", "再次走访日期", "Visit again on", false),
        f("notes", "textarea", "情况记录", "Notes", false),
        f("position", "position", "位置", "Position", false),
        photos(false),
    ];
    fields.extend(place());
    Form { kind: "visit", zh: RecordKind::Visit.zh(), en: RecordKind::Visit.en(), fields }
}

/// Every form, with the ethnicity list for the pickers.
pub fn all() -> serde_json::Value {
    serde_json::json!({
        "forms": [entity(), union(), member(), cadre(), transfer(), hardship(), visit()],
        "ethnicities": ETHNICITIES.to_vec(),
        "visit_kinds": choices!(VisitKind),
    })
}

fn form_of(kind: &str) -> Option<Form> {
    Some(match kind {
        "entity" => entity(),
        "union" => union(),
        "member" => member(),
        "cadre" => cadre(),
        "transfer" => transfer(),
        "hardship" => hardship(),
        "visit" => visit(),
        _ => return None,
    })
}

fn get_path<'v>(data: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(data, |v, key| v.get(key))
}

fn set_path(data: &mut serde_json::Value, path: &str, value: serde_json::Value) {
    let mut at = data;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !at.is_object() {
            *at = serde_json::Value::Object(Default::default());
        }
        let map = at.as_object_mut().expect("made an object above");
        if keys.peek().is_none() {
            map.insert(key.to_owned(), value);
            return;
        }
        at = map.entry(key.to_owned()).or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
}

fn blank(v: Option<&serde_json::Value>) -> bool {
    match v {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// Reads a form's input as a record. The UI sends what the surveyor has
/// typed so far: a required field left empty becomes a `REQUIRED` issue on
/// that field (and a placeholder, so the rest can still be checked), an
/// empty optional field is absent, and a number typed as text is read as a
/// number. Field issues the placeholders cause are dropped.
pub fn parse(
    value: &serde_json::Value,
    today: registry::Date,
) -> Result<(Record, Vec<registry::Issue>), crate::ApiError> {
    let kind = value.get("kind").and_then(|k| k.as_str()).ok_or_else(|| crate::ApiError::bad_args("record kind"))?;
    let mut data = value.get("data").cloned().unwrap_or_else(|| serde_json::json!({}));
    if !data.is_object() {
        return Err(crate::ApiError::bad_args("record data"));
    }
    let mut issues = Vec::new();
    if let Some(form) = form_of(kind) {
        for field in &form.fields {
            let current = get_path(&data, field.name);
            if blank(current) {
                if field.required {
                    issues.push(registry::validate::REQUIRED.error(field.name));
                    let placeholder = match field.input {
                        "choice" => serde_json::json!(field.options.first().map_or("", |o| o.key)),
                        "date" => serde_json::json!("2000-01-01"),
                        "int" => serde_json::json!(0),
                        "bool" => serde_json::json!(false),
                        _ => serde_json::json!(""),
                    };
                    set_path(&mut data, field.name, placeholder);
                } else if current.is_some() && !matches!(field.input, "text" | "textarea" | "time") {
                    set_path(&mut data, field.name, serde_json::Value::Null);
                }
            } else if field.input == "int"
                && let Some(serde_json::Value::String(s)) = current
            {
                match s.trim().parse::<i64>() {
                    Ok(n) => set_path(&mut data, field.name, serde_json::json!(n)),
                    Err(_) => {
                        issues.push(registry::Issue::error(
                            field.name,
                            codes::NOT_A_NUMBER.code,
                            "请填写整数",
                            "Enter a whole number",
                        ));
                        set_path(&mut data, field.name, serde_json::json!(0));
                    }
                }
            }
        }
    }
    let mut record: Record = serde_json::from_value(serde_json::json!({"kind": kind, "data": data}))
        .map_err(|e| crate::ApiError::bad_args(&e.to_string()))?;
    let flagged: Vec<String> = issues.iter().map(|i: &registry::Issue| i.field.clone()).collect();
    let found = registry::validate::check(&mut record, today);
    issues.extend(found.into_iter().filter(|i| !flagged.contains(&i.field)));
    Ok((record, issues))
}
