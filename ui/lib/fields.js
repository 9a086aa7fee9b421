// Generated from the field app's forms (crates/sanjian/tests/codes.rs).
// Do not edit: SANJIAN_BLESS=1 cargo test -p sanjian --test codes rewrites it.

/** @type {Record<string, Record<string, { zh: string, en: string }>>} */
export const fields = {
  "cadre": {
    "elected_on": {
      "en": "In office from",
      "zh": "任职日期"
    },
    "full_time": {
      "en": "Full time",
      "zh": "专职"
    },
    "left_on": {
      "en": "Left office on",
      "zh": "离任日期"
    },
    "member_id": {
      "en": "Member record",
      "zh": "会员记录"
    },
    "name": {
      "en": "Name",
      "zh": "姓名"
    },
    "owner_relation": {
      "en": "Relation to the owner",
      "zh": "与企业负责人关系"
    },
    "phone": {
      "en": "Mobile phone",
      "zh": "手机号码"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "resident_id": {
      "en": "Resident ID number",
      "zh": "公民身份号码"
    },
    "role": {
      "en": "Role",
      "zh": "职务"
    },
    "union_id": {
      "en": "Union",
      "zh": "所在工会"
    }
  },
  "entity": {
    "address": {
      "en": "Address",
      "zh": "地址"
    },
    "closed": {
      "en": "Closed or moved away",
      "zh": "已注销或迁出"
    },
    "contact_phone": {
      "en": "Contact phone",
      "zh": "联系电话"
    },
    "credit_code": {
      "en": "Unified Social Credit Code",
      "zh": "统一社会信用代码"
    },
    "credit_code_override": {
      "en": "Reason to keep a code whose check fails",
      "zh": "校验位不符时保留的理由"
    },
    "industry": {
      "en": "Industry",
      "zh": "行业"
    },
    "name": {
      "en": "Name",
      "zh": "单位名称"
    },
    "notes": {
      "en": "Notes",
      "zh": "备注"
    },
    "owner_name": {
      "en": "Owner or legal representative",
      "zh": "主要负责人"
    },
    "ownership": {
      "en": "Ownership",
      "zh": "经济类型"
    },
    "photos": {
      "en": "Photos",
      "zh": "照片"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "union_id": {
      "en": "Covering union",
      "zh": "所属工会"
    },
    "unit_kind": {
      "en": "Kind of legal person",
      "zh": "法人类别"
    },
    "women_workers": {
      "en": "Women workers",
      "zh": "女职工人数"
    },
    "workers": {
      "en": "Workers",
      "zh": "职工人数"
    }
  },
  "hardship": {
    "closed_on": {
      "en": "Closed on",
      "zh": "脱困日期"
    },
    "household_size": {
      "en": "Household size",
      "zh": "家庭人口"
    },
    "kind": {
      "en": "Kind of hardship",
      "zh": "困难类型"
    },
    "member_id": {
      "en": "Member record",
      "zh": "会员记录"
    },
    "monthly_income_yuan": {
      "en": "Monthly income per head (yuan)",
      "zh": "家庭人均月收入（元）"
    },
    "name": {
      "en": "Name",
      "zh": "姓名"
    },
    "phone": {
      "en": "Phone",
      "zh": "联系电话"
    },
    "photos": {
      "en": "Photos",
      "zh": "照片"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "registered_on": {
      "en": "Registered on",
      "zh": "建档日期"
    },
    "resident_id": {
      "en": "Resident ID number",
      "zh": "公民身份号码"
    },
    "situation": {
      "en": "Situation",
      "zh": "困难情况"
    },
    "union_id": {
      "en": "Union",
      "zh": "所在工会"
    }
  },
  "member": {
    "birth_date": {
      "en": "Birth date",
      "zh": "出生日期"
    },
    "dispatched_worker": {
      "en": "Dispatched worker",
      "zh": "劳务派遣工"
    },
    "education": {
      "en": "Education",
      "zh": "学历"
    },
    "employer_id": {
      "en": "Employer",
      "zh": "工作单位"
    },
    "employer_name": {
      "en": "Employer's name",
      "zh": "工作单位名称"
    },
    "ethnicity": {
      "en": "Ethnicity",
      "zh": "民族"
    },
    "joined_on": {
      "en": "Joined on",
      "zh": "入会日期"
    },
    "left_on": {
      "en": "Left on",
      "zh": "离会日期"
    },
    "migrant_worker": {
      "en": "Migrant worker",
      "zh": "农民工"
    },
    "name": {
      "en": "Name",
      "zh": "姓名"
    },
    "phone": {
      "en": "Mobile phone",
      "zh": "手机号码"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "political_status": {
      "en": "Political status",
      "zh": "政治面貌"
    },
    "resident_id": {
      "en": "Resident ID number",
      "zh": "公民身份号码"
    },
    "sex": {
      "en": "Sex",
      "zh": "性别"
    },
    "union_id": {
      "en": "Union",
      "zh": "所在工会"
    }
  },
  "transfer": {
    "date": {
      "en": "Date",
      "zh": "接转日期"
    },
    "from_union": {
      "en": "From union",
      "zh": "转出工会"
    },
    "member_id": {
      "en": "Member",
      "zh": "会员"
    },
    "member_name": {
      "en": "Member's name",
      "zh": "会员姓名"
    },
    "note": {
      "en": "Note",
      "zh": "备注"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "reason": {
      "en": "Reason",
      "zh": "接转原因"
    },
    "to_union": {
      "en": "To union",
      "zh": "转入工会"
    }
  },
  "union": {
    "approval_doc": {
      "en": "Approval document no.",
      "zh": "批复文号"
    },
    "approved_by": {
      "en": "Approved by",
      "zh": "批复单位"
    },
    "approved_on": {
      "en": "Approved on",
      "zh": "批复日期"
    },
    "bayou.activities": {
      "en": "Activities",
      "zh": "有活动"
    },
    "bayou.approval": {
      "en": "Approval",
      "zh": "有批复"
    },
    "bayou.archives": {
      "en": "Archives",
      "zh": "有档案"
    },
    "bayou.funds": {
      "en": "Funds",
      "zh": "有经费"
    },
    "bayou.premises": {
      "en": "Premises",
      "zh": "有场所"
    },
    "bayou.rules": {
      "en": "Rules",
      "zh": "有制度"
    },
    "bayou.seal": {
      "en": "Seal",
      "zh": "有印章"
    },
    "bayou.sign_board": {
      "en": "Sign board",
      "zh": "有牌子"
    },
    "credit_code": {
      "en": "Union's own credit code",
      "zh": "工会法人统一社会信用代码"
    },
    "credit_code_override": {
      "en": "Reason to keep a code whose check fails",
      "zh": "校验位不符时保留的理由"
    },
    "dissolved_on": {
      "en": "Dissolved on",
      "zh": "撤销或合并日期"
    },
    "founded_on": {
      "en": "Founded on",
      "zh": "成立日期"
    },
    "has_audit_committee": {
      "en": "Has an audit committee",
      "zh": "已建经费审查委员会"
    },
    "has_women_committee": {
      "en": "Has a women workers' committee",
      "zh": "已建女职工委员会"
    },
    "kind": {
      "en": "Kind",
      "zh": "组建形式"
    },
    "liuyou.activities": {
      "en": "Activities serving workers",
      "zh": "有服务职工的活动载体"
    },
    "liuyou.elected_chair": {
      "en": "A lawfully elected chair",
      "zh": "有依法选举的工会主席"
    },
    "liuyou.organisation": {
      "en": "A sound organisation",
      "zh": "有独立健全的组织机构"
    },
    "liuyou.premises": {
      "en": "Premises and facilities",
      "zh": "有开展工作的场所设施"
    },
    "liuyou.results": {
      "en": "Results members are satisfied with",
      "zh": "有会员满意的工作绩效"
    },
    "liuyou.rules": {
      "en": "Working rules",
      "zh": "有效能完善的制度机制"
    },
    "name": {
      "en": "Union name",
      "zh": "工会名称"
    },
    "notes": {
      "en": "Notes",
      "zh": "备注"
    },
    "parent_union": {
      "en": "Parent union",
      "zh": "上级工会"
    },
    "photos": {
      "en": "Photos",
      "zh": "照片"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "sector": {
      "en": "Sector",
      "zh": "领域"
    },
    "women_workers": {
      "en": "Women workers",
      "zh": "女职工人数"
    },
    "workers": {
      "en": "Workers",
      "zh": "职工人数"
    }
  },
  "visit": {
    "entity_id": {
      "en": "Entity visited",
      "zh": "走访单位"
    },
    "entity_name": {
      "en": "Entity's name (as found)",
      "zh": "单位名称（现场所见）"
    },
    "follow_up_on": {
      "en": "Visit again on",
      "zh": "再次走访日期"
    },
    "notes": {
      "en": "Notes",
      "zh": "情况记录"
    },
    "outcome": {
      "en": "Outcome",
      "zh": "走访结果"
    },
    "photos": {
      "en": "Photos",
      "zh": "照片"
    },
    "place.community": {
      "en": "Community",
      "zh": "社区（村）"
    },
    "place.grid": {
      "en": "Grid",
      "zh": "网格"
    },
    "place.township": {
      "en": "Township",
      "zh": "乡镇（街道）"
    },
    "position": {
      "en": "Position",
      "zh": "位置"
    },
    "surveyor": {
      "en": "Surveyor",
      "zh": "走访人"
    },
    "time": {
      "en": "Time",
      "zh": "时间"
    },
    "visited_on": {
      "en": "Visited on",
      "zh": "走访日期"
    }
  }
};
