//! The county layer's own refusals: each a [`Code`](registry::message::Code)
//! of the project's one catalogue, defined once here and listed in [`ALL`].

/// An auth failure or refusal, with a stable code: a [`Code`] of the
/// project's one catalogue.
///
/// [`Code`]: registry::message::Code
pub use registry::message::Code as Denied;

pub const UNAUTHENTICATED: Denied = Denied {
    status: 401,
    code: "UNAUTHENTICATED",
    zh: "未登录或凭据无效",
    en: "Not signed in, or the credentials are not valid",
};

pub const DEVICE_REVOKED: Denied = Denied {
    status: 401,
    code: "DEVICE_REVOKED",
    zh: "该设备已被停用，请联系县总工会",
    en: "This device was revoked; contact the county federation",
};

pub const DEVICE_SUSPENDED: Denied = Denied {
    status: 403,
    code: sync::server::DEVICE_SUSPENDED,
    zh: "本设备查询了过多本辖区以外的记录，已暂停同步；请联系县总工会核实后恢复",
    en: "This device asked about too many records outside its area and is suspended; the county federation can reinstate it",
};

pub const DEVICE_WIPED: Denied = Denied {
    status: 401,
    code: "DEVICE_WIPED",
    zh: "县总工会已要求清除本机数据",
    en: "The county federation asked for this device's data to be wiped",
};

pub const NOT_FOUND_AREA: Denied =
    Denied { status: 404, code: "AREA_NOT_FOUND", zh: "没有这个区域", en: "No such area" };

pub const NOT_FOUND_EXPORT: Denied =
    Denied { status: 404, code: "EXPORT_NOT_FOUND", zh: "没有这个导出任务", en: "No such export" };

pub const FORBIDDEN: Denied =
    Denied { status: 403, code: "FORBIDDEN", zh: "没有权限执行此操作", en: "You may not do this" };

pub const ENROLMENT_INVALID: Denied = Denied {
    status: 401,
    code: "ENROLMENT_INVALID",
    zh: "注册码无效、已过期或已被使用",
    en: "The enrolment code is not valid, has expired or was already used",
};

pub const ACTOR_TAKEN: Denied = Denied {
    status: 409,
    code: "DEVICE_ID_TAKEN",
    zh: "该设备标识已被另一台设备使用",
    en: "This device id is already used by another device",
};

pub const USER_NOT_FOUND: Denied =
    Denied { status: 404, code: "USER_NOT_FOUND", zh: "找不到该账号", en: "No such account" };

pub const DEVICE_NOT_FOUND: Denied =
    Denied { status: 404, code: "DEVICE_NOT_FOUND", zh: "找不到该设备", en: "No such device" };

pub const BAD_REQUEST: Denied =
    Denied { status: 400, code: "BAD_REQUEST", zh: "请求内容有误", en: "The request is malformed" };

pub const USER_EXISTS: Denied =
    Denied { status: 409, code: "USER_EXISTS", zh: "该账号已存在", en: "That account exists already" };

pub const CANNOT_DISABLE_SELF: Denied = Denied {
    status: 409,
    code: "CANNOT_DISABLE_SELF",
    zh: "不能停用自己的账号",
    en: "You cannot disable your own account",
};

pub const NOTHING_TO_REVIEW: Denied = Denied {
    status: 409,
    code: "NOTHING_TO_REVIEW",
    zh: "没有待审核的信用代码",
    en: "There is no kept credit code to review",
};

pub const IMPORT_MAPPING: Denied = Denied {
    status: 400,
    code: "IMPORT_MAPPING",
    zh: "请指定哪一列是单位名称",
    en: "Say which column holds the entity's name",
};

pub const PHOTO_NOT_FOUND: Denied =
    Denied { status: 404, code: "PHOTO_NOT_FOUND", zh: "没有这张照片", en: "No such photo" };

pub const EXPORTS_BUSY: Denied = Denied {
    status: 429,
    code: "EXPORTS_BUSY",
    zh: "导出任务过多，请等待已有导出完成",
    en: "Too many exports at once; wait for one to finish",
};

pub const EXPORT_RUNNING: Denied =
    Denied { status: 409, code: "EXPORT_RUNNING", zh: "导出尚未完成", en: "The export has not finished" };

pub const BLOBS_UNAVAILABLE: Denied = Denied {
    status: 503,
    code: "BLOBS_UNAVAILABLE",
    zh: "服务器未配置照片存储",
    en: "The server keeps no attachments",
};

pub const PHOTO_NOT_UPLOADED: Denied = Denied {
    status: 404,
    code: "PHOTO_NOT_UPLOADED",
    zh: "照片尚未从设备上传",
    en: "The photo has not been uploaded from its device yet",
};

/// Nothing is known by the name asked for: no such address, or no such
/// record. One meaning wherever it is answered (the server, the field app).
pub const NOT_FOUND: Denied = sync::codes::NOT_FOUND;

/// Too many failed sign-ins or redemptions from one place; the edge says
/// how many minutes to wait.
pub const TOO_MANY_ATTEMPTS: Denied = Denied {
    status: 429,
    code: "TOO_MANY_ATTEMPTS",
    zh: "尝试次数过多，请稍后再试",
    en: "Too many attempts: try again later",
};

pub const TOKEN_EXPIRED: Denied = Denied {
    status: 401,
    code: "TOKEN_EXPIRED",
    zh: "本机的登录凭据已过期，请用新的注册码重新注册",
    en: "This device's credentials have expired: enrol it again with a new code",
};

pub const AREA_NAME: Denied =
    Denied { status: 400, code: "AREA_NAME", zh: "请填写名称", en: "The name is required" };

/// The area above is missing, unknown or outside every township (the call
/// site says which).
pub const AREA_PARENT: Denied =
    Denied {
        status: 400, code: "AREA_PARENT", zh: "请选择上级区域和层级", en: "Choose the level and the area above"
    };

pub const AREA_LEVEL: Denied = Denied {
    status: 400,
    code: "AREA_LEVEL",
    zh: "社区（村）只能建在乡镇下，网格只能建在乡镇或社区（村）下",
    en: "A community goes under a township; a grid under a township or community",
};

pub const AREA_NAME_TAKEN: Denied = Denied {
    status: 400,
    code: "AREA_NAME_TAKEN",
    zh: "同一上级下已有同名区域",
    en: "An area of that name is already there",
};
// A list another office sent (`reconcile`): refused whole, or a row set
// aside in its report. Call sites say more (the line, the limit).
pub const IMPORT_UNREADABLE: Denied =
    Denied { status: 400, code: "IMPORT_UNREADABLE", zh: "文件无法读取", en: "The file cannot be read" };
pub const IMPORT_TOO_LARGE: Denied = Denied {
    status: 400,
    code: "IMPORT_TOO_LARGE",
    zh: "文件行数或列数过多，请拆分后再导入",
    en: "The file has too many rows or columns; split it and import the parts",
};
pub const IMPORT_ENCODING: Denied = Denied {
    status: 400,
    code: "IMPORT_ENCODING",
    zh: "文件编码无法识别（应为UTF-8或GBK）",
    en: "The file's encoding is neither UTF-8 nor GBK",
};
pub const IMPORT_EMPTY: Denied =
    Denied { status: 400, code: "IMPORT_EMPTY", zh: "文件没有数据行", en: "The file has no data rows" };
pub const IMPORT_NOT_FOUND: Denied =
    Denied { status: 404, code: "IMPORT_NOT_FOUND", zh: "没有这次名单比对", en: "No such import" };
pub const NO_NAME: Denied =
    Denied { status: 422, code: "NO_NAME", zh: "该行没有单位名称", en: "The row has no entity name" };
pub const WORKERS_NOT_A_NUMBER: Denied = Denied {
    status: 422,
    code: "WORKERS_NOT_A_NUMBER",
    zh: "职工人数不是整数",
    en: "The number of workers is not a whole number",
};
pub const DUPLICATE_ROW: Denied =
    Denied {
        status: 422, code: "DUPLICATE_ROW", zh: "与前面某行是同一单位", en: "The same entity as an earlier row"
    };

// A row of a county's own ledger that is not imported (intake): the
// report says which row and why; the other rows are.

pub const LEDGER_VALUE: Denied =
    Denied { status: 400, code: "LEDGER_VALUE", zh: "这一格的内容无法识别", en: "A cell cannot be read" };
pub const LEDGER_REQUIRED: Denied =
    Denied { status: 400, code: "LEDGER_REQUIRED", zh: "必填的一格为空", en: "A required cell is empty" };
pub const LEDGER_MASKED: Denied = Denied {
    status: 400,
    code: "LEDGER_MASKED",
    zh: "号码已打码，请导出带完整号码的表再导入",
    en: "The number is masked: export the ledger with full numbers and import that",
};
pub const LEDGER_NUMBER_CELL: Denied = Denied {
    status: 400,
    code: "LEDGER_NUMBER_CELL",
    zh: "号码存成了数字，末几位已丢失",
    en: "The number was stored as a number and lost its last digits",
};
pub const LEDGER_UNKNOWN_AREA: Denied =
    Denied { status: 400, code: "LEDGER_UNKNOWN_AREA", zh: "没有这个乡镇（街道）", en: "No such township" };
pub const LEDGER_UNKNOWN_UNION: Denied =
    Denied { status: 400, code: "LEDGER_UNKNOWN_UNION", zh: "没有这个工会", en: "No such union" };
pub const LEDGER_UNKNOWN_MEMBER: Denied = Denied {
    status: 400,
    code: "LEDGER_UNKNOWN_MEMBER",
    zh: "无法确定是哪一位会员",
    en: "Cannot tell which member this is",
};
pub const LEDGER_AMBIGUOUS: Denied = Denied {
    status: 400,
    code: "LEDGER_AMBIGUOUS",
    zh: "有多个同名的记录，无法确定是哪一个",
    en: "More than one record has this name",
};
pub const LEDGER_DUPLICATE_ROW: Denied = Denied {
    status: 400,
    code: "LEDGER_DUPLICATE_ROW",
    zh: "与前面一行是同一条记录",
    en: "The same record as an earlier row",
};
pub const LEDGER_DELETED: Denied =
    Denied {
        status: 409, code: "LEDGER_DELETED", zh: "该记录已被删除或合并", en: "The record was deleted or merged"
    };
pub const LEDGER_NO_COUNTY: Denied =
    Denied { status: 409, code: "LEDGER_NO_COUNTY", zh: "请先设立本县", en: "Name the county first" };

pub const ARCHIVE_PASSPHRASE: Denied = Denied {
    status: 400,
    code: "ARCHIVE_PASSPHRASE",
    zh: "口令至少10个字符：档案含全县会员的身份证号和电话",
    en: "The passphrase needs at least 10 characters: the archive holds every member's ID number and phone",
};

// 由本人申请: applications by QR poster (`crate::applications`).

pub const APPLY_POSTER_UNKNOWN: Denied = Denied {
    status: 404,
    code: "APPLY_POSTER_UNKNOWN",
    zh: "二维码无效或该工会已不接受申请",
    en: "This QR code is not valid, or the union no longer takes applications",
};
pub const APPLY_CONSENT: Denied = Denied {
    status: 422,
    code: "APPLY_CONSENT",
    zh: "请阅读并同意个人信息的使用说明",
    en: "Please read and agree to how your personal data is used",
};
pub const APPLY_INVALID: Denied = Denied {
    status: 422,
    code: "APPLY_INVALID",
    zh: "申请表有误，请按提示修改",
    en: "The form has mistakes; see the notes by the fields",
};
pub const APPLY_QUEUE_FULL: Denied = Denied {
    status: 503,
    code: "APPLY_QUEUE_FULL",
    zh: "该工会待处理的申请过多，请稍后再试或联系工会",
    en: "Too many applications wait for this union; try later or contact the union",
};
pub const APPLY_NOT_FOUND: Denied =
    Denied {
        status: 404, code: "APPLY_NOT_FOUND", zh: "没有这个申请编号", en: "No application has this reference"
    };
pub const APPLY_DECIDED: Denied =
    Denied { status: 409, code: "APPLY_DECIDED", zh: "该申请已处理", en: "This application was decided already" };
pub const APPLY_REASON: Denied = Denied {
    status: 422,
    code: "APPLY_REASON",
    zh: "请填写不予通过的原因（100字以内）",
    en: "Give the reason for declining (up to 100 characters)",
};

pub const APPLY_TOO_LONG: Denied = Denied { status: 422, code: "APPLY_TOO_LONG", zh: "内容过长", en: "Too long" };
pub const APPLY_CHOOSE: Denied = Denied { status: 422, code: "APPLY_CHOOSE", zh: "请选择一项", en: "Choose one" };
pub const APPLY_PHONE: Denied = Denied {
    status: 422,
    code: "APPLY_PHONE",
    zh: "请填写手机号码，以便联系核实",
    en: "A phone number to reach you is needed",
};

// 会员优惠基地: merchants and their verifiers (`crate::merchants`).

pub const MERCHANT_FIELDS: Denied = Denied {
    status: 422,
    code: "MERCHANT_FIELDS",
    zh: "请填写商户名称和优惠内容（各100字以内）",
    en: "Give the merchant's name and benefit (up to 100 characters each)",
};

pub const MERCHANT_UNKNOWN: Denied = Denied {
    status: 404,
    code: "MERCHANT_UNKNOWN",
    zh: "该查验链接无效或商户已撤销",
    en: "This verifier link is not valid, or the merchant was withdrawn",
};

pub const MERCHANT_COUNTS: Denied =
    Denied {
        status: 422, code: "MERCHANT_COUNTS", zh: "查验次数报告无效", en: "The report of checks is not valid"
    };

/// Every refusal of the county layer's own, once: what the catalogue test
/// checks (codes unique, both texts) and `ui/lib/county-codes.js` lists.
pub const ALL: &[&Denied] = &[
    &UNAUTHENTICATED,
    &DEVICE_REVOKED,
    &DEVICE_SUSPENDED,
    &DEVICE_WIPED,
    &NOT_FOUND_AREA,
    &NOT_FOUND_EXPORT,
    &FORBIDDEN,
    &ENROLMENT_INVALID,
    &ACTOR_TAKEN,
    &USER_NOT_FOUND,
    &DEVICE_NOT_FOUND,
    &BAD_REQUEST,
    &USER_EXISTS,
    &CANNOT_DISABLE_SELF,
    &NOTHING_TO_REVIEW,
    &IMPORT_MAPPING,
    &PHOTO_NOT_FOUND,
    &EXPORTS_BUSY,
    &EXPORT_RUNNING,
    &BLOBS_UNAVAILABLE,
    &PHOTO_NOT_UPLOADED,
    &NOT_FOUND,
    &TOO_MANY_ATTEMPTS,
    &TOKEN_EXPIRED,
    &AREA_NAME,
    &AREA_PARENT,
    &AREA_LEVEL,
    &AREA_NAME_TAKEN,
    &LEDGER_VALUE,
    &LEDGER_REQUIRED,
    &LEDGER_MASKED,
    &LEDGER_NUMBER_CELL,
    &LEDGER_UNKNOWN_AREA,
    &LEDGER_UNKNOWN_UNION,
    &LEDGER_UNKNOWN_MEMBER,
    &LEDGER_AMBIGUOUS,
    &LEDGER_DUPLICATE_ROW,
    &LEDGER_DELETED,
    &LEDGER_NO_COUNTY,
    &ARCHIVE_PASSPHRASE,
    &IMPORT_UNREADABLE,
    &IMPORT_TOO_LARGE,
    &IMPORT_ENCODING,
    &IMPORT_EMPTY,
    &IMPORT_NOT_FOUND,
    &NO_NAME,
    &APPLY_POSTER_UNKNOWN,
    &APPLY_CONSENT,
    &APPLY_INVALID,
    &APPLY_QUEUE_FULL,
    &APPLY_NOT_FOUND,
    &APPLY_DECIDED,
    &APPLY_REASON,
    &APPLY_TOO_LONG,
    &APPLY_CHOOSE,
    &APPLY_PHONE,
    &MERCHANT_FIELDS,
    &MERCHANT_UNKNOWN,
    &MERCHANT_COUNTS,
    &WORKERS_NOT_A_NUMBER,
    &DUPLICATE_ROW,
];
