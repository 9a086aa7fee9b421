//! The field app's codes of the project's one catalogue
//! ([`registry::message::Code`]): what the app's own commands refuse.
//! Codes of the layers below (the store, sync, cards) are theirs.

use registry::message::Code;

pub const ALREADY_SET_UP: Code = Code {
    status: 400,
    code: "ALREADY_SET_UP",
    zh: "本机已设置，请输入PIN码解锁",
    en: "This device is already set up: unlock it with its PIN",
};
pub const APP_LOCKED: Code =
    Code { status: 400, code: "APP_LOCKED", zh: "请先输入PIN码解锁", en: "Unlock the app with your PIN first" };
pub const BACKEND_ERROR: Code =
    Code { status: 400, code: "BACKEND_ERROR", zh: "后台出错", en: "The backend failed" };
pub const BAD_BASE64: Code =
    Code { status: 400, code: "BAD_BASE64", zh: "照片数据有误", en: "The photo's data is malformed" };
pub const CARD_BAD_ID: Code =
    Code {
        status: 400, code: "CARD_BAD_ID", zh: "会员记录编号有误", en: "The member's record id is malformed"
    };
pub const CARD_KEY_DAMAGED: Code =
    Code {
        status: 400, code: "CARD_KEY_DAMAGED", zh: "本机发卡密钥已损坏", en: "This device's card key is damaged"
    };
pub const CARD_MEMBER_LEFT: Code = Code {
    status: 400,
    code: "CARD_MEMBER_LEFT",
    zh: "该会员已离会或转出，不能发卡",
    en: "The member has left or transferred out; no card",
};
pub const CARD_NOT_A_MEMBER: Code =
    Code { status: 400, code: "CARD_NOT_A_MEMBER", zh: "只能为会员发卡", en: "Cards are for members only" };
pub const CARD_NOT_KEPT: Code = Code {
    status: 400,
    code: "CARD_NOT_KEPT",
    zh: "本机没有该会员当前的会员卡，可重新发卡",
    en: "This device holds no current card for this member; issue one",
};
pub const CARD_NO_KEY: Code = Code {
    status: 400,
    code: "CARD_NO_KEY",
    zh: "本机没有发卡密钥：需先在县总工会服务器注册",
    en: "This device has no card key: enrol it with the county server first",
};
pub const CARD_NO_ROOT: Code = Code {
    status: 400,
    code: "CARD_NO_ROOT",
    zh: "本机没有县总工会的会员卡根密钥：需先注册并同步",
    en: "This device holds no county card root key: enrol and sync it first",
};
pub const CARD_RECORD_DELETED: Code = Code {
    status: 400,
    code: "CARD_RECORD_DELETED",
    zh: "该记录已删除，不能发卡",
    en: "The record was deleted; no card",
};
pub const DELETE_REASON_REQUIRED: Code =
    Code { status: 400, code: "DELETE_REASON_REQUIRED", zh: "请填写删除原因", en: "Give a reason for deleting" };
pub const ENROL_MALFORMED: Code = Code {
    status: 400,
    code: "ENROL_MALFORMED",
    zh: "服务器返回的注册信息有误",
    en: "The server sent malformed enrolment data",
};
pub const FORBIDDEN_ORIGIN: Code = Code {
    status: 400,
    code: "FORBIDDEN_ORIGIN",
    zh: "只接受本机应用的请求",
    en: "Only the app on this machine may call its backend",
};
pub const LICENCE_QR_NO_CODE: Code = Code {
    status: 400,
    code: "LICENCE_QR_NO_CODE",
    zh: "这个二维码里没有可用的统一社会信用代码，请对照营业执照手工填写",
    en: "This QR code carries no usable credit code; type it from the licence",
};
pub const LOCK_FILE_DAMAGED: Code = Code {
    status: 400,
    code: "LOCK_FILE_DAMAGED",
    zh: "解锁信息已损坏，需重置本机数据后重新注册",
    en: "The unlock file is damaged: reset this device and enrol it again",
};
pub const NOT_ENROLLED: Code = Code {
    status: 400,
    code: "NOT_ENROLLED",
    zh: "本机尚未在县总工会服务器注册，无法同步",
    en: "This device is not enrolled with a county server, so it cannot sync",
};
pub const NOT_SET_UP: Code =
    Code { status: 400, code: "NOT_SET_UP", zh: "本机尚未设置", en: "This device is not set up yet" };
pub const PHOTO_NOT_JPEG: Code =
    Code { status: 400, code: "PHOTO_NOT_JPEG", zh: "照片须为JPEG格式", en: "The photo must be a JPEG" };
pub const PHOTO_SIZE: Code =
    Code { status: 400, code: "PHOTO_SIZE", zh: "照片超过8MB", en: "The photo is larger than 8 MB" };
pub const PIN_KDF_FAILED: Code =
    Code { status: 400, code: "PIN_KDF_FAILED", zh: "PIN码处理失败", en: "The PIN could not be processed" };
pub const PIN_MISMATCH: Code =
    Code { status: 400, code: "PIN_MISMATCH", zh: "两次输入的PIN码不一致", en: "The two PINs differ" };
pub const PIN_NOT_DIGITS: Code =
    Code { status: 400, code: "PIN_NOT_DIGITS", zh: "PIN码只能是数字", en: "The PIN must be digits only" };
pub const PIN_TOO_SIMPLE: Code = Code {
    status: 400,
    code: "PIN_TOO_SIMPLE",
    zh: "PIN码过于简单（全部相同或连续数字）",
    en: "The PIN is too simple (one repeated digit or a run)",
};
pub const POSSIBLE_DUPLICATE: Code = Code {
    status: 400,
    code: "POSSIBLE_DUPLICATE",
    zh: "可能已登记过：请先查看相似记录，确认不是同一人或同一单位后再保存",
    en: "This may be registered already: check the similar records, then confirm it is not the same",
};
pub const RESET_NOT_CONFIRMED: Code =
    Code { status: 400, code: "RESET_NOT_CONFIRMED", zh: "请输入“重置”确认", en: "Type RESET to confirm" };
pub const TRANSFER_NOT_A_MEMBER: Code =
    Code {
        status: 400, code: "TRANSFER_NOT_A_MEMBER", zh: "只能接转会员", en: "Only members can be transferred"
    };
pub const TRANSFER_NO_UNION: Code =
    Code {
        status: 400, code: "TRANSFER_NO_UNION", zh: "转入工会不存在", en: "The receiving union does not exist"
    };

// Codes whose call sites say more (a count, a limit, a time to wait).
pub const BAD_ARGUMENTS: Code =
    Code { status: 400, code: "BAD_ARGUMENTS", zh: "请求参数有误", en: "Bad request arguments" };
pub const PIN_LENGTH: Code =
    Code { status: 400, code: "PIN_LENGTH", zh: "PIN码位数不对", en: "The PIN has the wrong number of digits" };
pub const PIN_LOCKED: Code = Code {
    status: 400,
    code: "PIN_LOCKED",
    zh: "PIN码错误次数过多，请稍后再试",
    en: "Too many wrong PINs: try again later",
};
pub const PIN_WIPED: Code = Code {
    status: 400,
    code: "PIN_WIPED",
    zh: "PIN码连续错误次数过多，本机数据已清除；请用新的注册码重新注册",
    en: "Too many wrong PINs in a row: this device's data was wiped; enrol it again",
};
pub const PIN_WRONG: Code = Code { status: 400, code: "PIN_WRONG", zh: "PIN码错误", en: "Wrong PIN" };
pub const PHOTO_TOO_LARGE: Code = Code {
    status: 400,
    code: "PHOTO_TOO_LARGE",
    zh: "照片尺寸过大，请先缩小",
    en: "The photo is too large: resize it first",
};
pub const NOT_A_NUMBER: Code =
    Code { status: 400, code: "NOT_A_NUMBER", zh: "请填写整数", en: "Enter a whole number" };
pub const UNKNOWN_COMMAND: Code =
    Code { status: 400, code: "UNKNOWN_COMMAND", zh: "未知的操作", en: "Unknown command" };
pub const CARD_QR: Code = Code { status: 400, code: "CARD_QR", zh: "二维码生成失败", en: "The QR code failed" };

/// Every code the field app defines.
pub const ALL: &[Code] = &[
    ALREADY_SET_UP,
    APP_LOCKED,
    BACKEND_ERROR,
    BAD_BASE64,
    CARD_BAD_ID,
    CARD_KEY_DAMAGED,
    CARD_MEMBER_LEFT,
    CARD_NOT_A_MEMBER,
    CARD_NOT_KEPT,
    CARD_NO_KEY,
    CARD_NO_ROOT,
    CARD_RECORD_DELETED,
    DELETE_REASON_REQUIRED,
    ENROL_MALFORMED,
    FORBIDDEN_ORIGIN,
    LICENCE_QR_NO_CODE,
    LOCK_FILE_DAMAGED,
    NOT_ENROLLED,
    NOT_SET_UP,
    PHOTO_NOT_JPEG,
    PHOTO_SIZE,
    PIN_KDF_FAILED,
    PIN_MISMATCH,
    PIN_NOT_DIGITS,
    PIN_TOO_SIMPLE,
    POSSIBLE_DUPLICATE,
    RESET_NOT_CONFIRMED,
    TRANSFER_NOT_A_MEMBER,
    TRANSFER_NO_UNION,
    BAD_ARGUMENTS,
    PIN_LENGTH,
    PIN_LOCKED,
    PIN_WIPED,
    PIN_WRONG,
    PHOTO_TOO_LARGE,
    NOT_A_NUMBER,
    UNKNOWN_COMMAND,
    CARD_QR,
];
