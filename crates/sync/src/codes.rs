//! The sync layer's codes of the project's one catalogue
//! ([`registry::message::Code`]): its refusals, and the reasons a push is
//! held in the county's quarantine (shown in the console's review queue).
//!
//! The errors of [`SyncError`](crate::SyncError)'s own variants are listed
//! by [`catalogue`]; a code is defined once, here or there.

use registry::message::{Code, Entry};

/// Nothing is known by the name asked for: no such address or record. One
/// meaning wherever it is answered (the server, the field app, a review).
pub const NOT_FOUND: Code = Code {
    status: 404,
    code: "NOT_FOUND",
    zh: "没有找到：该地址或记录不存在",
    en: "Not found: no such address or record",
};
pub const ENROLMENT_TEXT_INVALID: Code = Code {
    status: 400,
    code: "ENROLMENT_TEXT_INVALID",
    zh: "注册码格式不正确",
    en: "This is not a Sanjian enrolment code",
};
pub const QUOTA_EXCEEDED: Code = Code {
    status: 413,
    code: "QUOTA_EXCEEDED",
    zh: "本设备待县总工会审核的数据已达上限，未同步任何内容；请联系县总工会处理后再同步",
    en: "This device has too much waiting for the county's review; nothing was synced. Ask the county federation to review it, then sync again",
};
pub const MERGE_SAME: Code =
    Code {
        status: 409, code: "MERGE_SAME", zh: "不能把记录与自身合并", en: "A record cannot be merged with itself"
    };
pub const MERGE_KIND: Code = Code {
    status: 409,
    code: "MERGE_KIND",
    zh: "只能合并会员或法人单位",
    en: "Only members and legal entities can be merged",
};
pub const QUARANTINE_NOT_FOUND: Code =
    Code { status: 409, code: "QUARANTINE_NOT_FOUND", zh: "没有这条隔离记录", en: "No such quarantine entry" };
pub const QUARANTINE_RESOLVED: Code =
    Code {
        status: 409, code: "QUARANTINE_RESOLVED", zh: "这条隔离记录已处理", en: "This entry was resolved already"
    };
pub const QUARANTINE_NOT_APPLICABLE: Code = Code {
    status: 409,
    code: "QUARANTINE_NOT_APPLICABLE",
    zh: "冒用其他设备身份或更改记录类型的写入不能采用",
    en: "A write under another device's name or changing a record's kind cannot be applied",
};
pub const QUARANTINE_MISSING_CHANGES: Code = Code {
    status: 409,
    code: "QUARANTINE_MISSING_CHANGES",
    zh: "这些修改依赖于服务器尚未收到的修改，暂不能采用",
    en: "These changes build on changes the server has not received; they cannot be applied yet",
};
pub const BAD_DECISION: Code =
    Code {
        status: 409, code: "BAD_DECISION", zh: "处理方式只能是采用或驳回", en: "The decision is apply or dismiss"
    };

// Why a push was held for review rather than applied.
pub const ACTOR_MISMATCH: Code = Code {
    status: 409,
    code: "ACTOR_MISMATCH",
    zh: "修改由另一台设备作出，不能由本设备上传",
    en: "The changes were made by another device",
};
pub const KIND_CHANGED: Code =
    Code { status: 409, code: "KIND_CHANGED", zh: "不能更改记录类型", en: "A record's kind cannot change" };
pub const OUT_OF_SCOPE: Code = Code {
    status: 403,
    code: "OUT_OF_SCOPE",
    zh: "记录不在本设备负责的乡镇和网格内",
    en: "The record is outside the device's townships and grids",
};
pub const RULES_BROKEN: Code = Code {
    status: 409,
    code: "RULES_BROKEN",
    zh: "记录不符合方案规则，待县总工会审核",
    en: "The record breaks the plan's rules; held for the county's review",
};
pub const REFERENCE_OUT_OF_SCOPE: Code = Code {
    status: 403,
    code: "REFERENCE_OUT_OF_SCOPE",
    zh: "记录引用了本设备辖区以外的记录",
    en: "The record refers to a record outside the device's area",
};
pub const DEVICE_CLONED: Code = Code {
    status: 409,
    code: "DEVICE_CLONED",
    zh: "本设备的修改编号与已收到的不同内容重复：设备数据可能被复制",
    en: "This device sent other contents under a change number already received: its data may have been copied",
};
pub const CHANGE_NOT_CANONICAL: Code = Code {
    status: 422,
    code: "CHANGE_NOT_CANONICAL",
    zh: "修改的编码方式与 Automerge 不同（多见于其他程序写的客户端），已隔离待县总工会审核",
    en: "A change is not encoded as Automerge encodes it (usually a client another program wrote); kept aside for the county's review",
};
pub const DOCUMENT_TOO_LARGE: Code = Code {
    status: 413,
    code: "DOCUMENT_TOO_LARGE",
    zh: "记录数据过大，待县总工会审核",
    en: "The record's document is too large; held for the county's review",
};

/// Every code the sync layer defines: the constants above and one per
/// variant of [`SyncError`](crate::SyncError) (a refusal carries another's
/// code, so it has none of its own; a database failure is the store's
/// `DATABASE_ERROR`).
pub fn catalogue() -> Vec<Entry> {
    use crate::SyncError as E;
    let mut out: Vec<Entry> = [
        NOT_FOUND,
        ENROLMENT_TEXT_INVALID,
        QUOTA_EXCEEDED,
        MERGE_SAME,
        MERGE_KIND,
        QUARANTINE_NOT_FOUND,
        QUARANTINE_RESOLVED,
        QUARANTINE_NOT_APPLICABLE,
        QUARANTINE_MISSING_CHANGES,
        BAD_DECISION,
        ACTOR_MISMATCH,
        KIND_CHANGED,
        OUT_OF_SCOPE,
        RULES_BROKEN,
        REFERENCE_OUT_OF_SCOPE,
        DEVICE_CLONED,
        CHANGE_NOT_CANONICAL,
        DOCUMENT_TOO_LARGE,
    ]
    .iter()
    .map(Entry::of)
    .collect();
    let variants = [
        E::Wire(String::new()),
        E::TooLarge,
        E::BadCursor,
        E::Sealed(String::new()),
        E::Network(String::new()),
        E::Server(String::new()),
        E::Interrupted,
    ];
    out.extend(variants.iter().map(Entry::of));
    out
}
