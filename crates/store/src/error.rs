//! The store's errors: each has a stable code and a message in zh-CN and English.

use registry::{Issue, Message};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key does not open the file: wrong key, or the file is damaged.
    #[error("the store could not be opened: wrong key, or the file is damaged")]
    WrongKeyOrCorrupt,
    /// A plain, unencrypted SQLite file: not a Sanjian store.
    #[error("the file is an unencrypted SQLite database, not a Sanjian store")]
    NotEncrypted,
    /// An encrypted database that is not a Sanjian store.
    #[error("the file is not a Sanjian store")]
    Foreign,
    /// Written by a newer version of Sanjian.
    #[error("the store was written by a newer version (schema {found}, this build knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("no store at {0}")]
    Missing(String),
    #[error("a file already exists at {0}; refusing to create a store over it")]
    AlreadyExists(String),
    #[error("record {0} not found")]
    NotFound(String),
    #[error("record {0} was deleted")]
    Deleted(String),
    /// Saving was refused: the record has blocking issues.
    #[error("the record has {} blocking issue(s)", .0.len())]
    Invalid(Vec<Issue>),
    /// A record with the same natural key already exists.
    #[error("the same person or entity is already registered as {0}")]
    Duplicate(String),
    /// A document that cannot be read as a record.
    #[error("malformed document: {0}")]
    Malformed(String),
    #[error("the record is a {found}, not a {expected}")]
    WrongKind { expected: &'static str, found: &'static str },
    /// Changes that depend on changes this store does not have yet.
    #[error("changes to {0} depend on changes not received yet")]
    MissingDependencies(String),
    #[error("no conflict on field {0}")]
    NoConflict(String),
    #[error("the record has no field {0}")]
    UnknownField(String),
    #[error("the disk is full; nothing was written")]
    DiskFull,
    #[error(transparent)]
    Automerge(#[from] automerge::AutomergeError),
    #[error("database: {0}")]
    Sqlite(rusqlite::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => StoreError::WrongKeyOrCorrupt,
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull,
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// A stable code the UI can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::WrongKeyOrCorrupt => "STORE_WRONG_KEY",
            StoreError::NotEncrypted => "STORE_NOT_ENCRYPTED",
            StoreError::Foreign => "STORE_FOREIGN",
            StoreError::TooNew { .. } => "STORE_TOO_NEW",
            StoreError::Missing(_) => "STORE_MISSING",
            StoreError::AlreadyExists(_) => "STORE_EXISTS",
            StoreError::NotFound(_) => "RECORD_NOT_FOUND",
            StoreError::Deleted(_) => "RECORD_DELETED",
            StoreError::Invalid(_) => "RECORD_INVALID",
            StoreError::Duplicate(_) => "RECORD_DUPLICATE",
            StoreError::Malformed(_) => "DOCUMENT_MALFORMED",
            StoreError::WrongKind { .. } => "RECORD_WRONG_KIND",
            StoreError::MissingDependencies(_) => "CHANGES_MISSING_DEPS",
            StoreError::NoConflict(_) => "NO_CONFLICT",
            StoreError::UnknownField(_) => "FIELD_UNKNOWN",
            StoreError::DiskFull => "DISK_FULL",
            StoreError::Automerge(_) => "DOCUMENT_ERROR",
            StoreError::Sqlite(_) => "DATABASE_ERROR",
            StoreError::Io(_) => "IO_ERROR",
        }
    }

    /// The message shown to a person (the technical detail is in the
    /// `Display` text, for logs).
    pub fn message(&self) -> Message {
        let (zh, en) = match self {
            StoreError::WrongKeyOrCorrupt => {
                ("无法打开数据：密码错误或文件已损坏", "The data cannot be opened: wrong key, or the file is damaged")
            }
            StoreError::NotEncrypted => {
                ("该文件是未加密的数据库，不是三建数据文件", "The file is an unencrypted database, not Sanjian's")
            }
            StoreError::Foreign => ("该文件不是三建数据文件", "The file is not Sanjian's data"),
            StoreError::TooNew { .. } => {
                ("数据文件由更新版本的三建写入，请先升级软件", "A newer Sanjian wrote this data: update the app first")
            }
            StoreError::Missing(_) => ("找不到数据文件", "The data file is missing"),
            StoreError::AlreadyExists(_) => {
                ("该位置已有文件，为防止覆盖数据，未新建", "A file is already there; nothing was created over it")
            }
            StoreError::NotFound(_) => ("找不到该记录", "No such record"),
            StoreError::Deleted(_) => ("该记录已删除", "The record was deleted"),
            StoreError::Invalid(issues) => {
                return Message::new(
                    format!("记录有{}处需要修改，未保存", issues.len()),
                    format!("The record has {} thing(s) to fix; it was not saved", issues.len()),
                );
            }
            StoreError::Duplicate(_) => (
                "已登记：同一身份证号或信用代码已有记录，请打开已有记录",
                "Registered already: a record with this ID number or credit code exists; open it",
            ),
            StoreError::Malformed(_) => {
                ("记录数据格式有误，已隔离待审核", "The record's data is malformed; held for review")
            }
            StoreError::WrongKind { .. } => ("记录类型不符", "The record is of another kind"),
            StoreError::MissingDependencies(_) => {
                ("收到的修改缺少前序修改，需重新同步", "Changes arrived before those they build on: sync again")
            }
            StoreError::NoConflict(_) => ("该字段没有冲突", "The field has no conflict"),
            StoreError::UnknownField(f) => {
                return Message::new(format!("记录没有“{f}”这一项"), format!("The record has no field {f}"));
            }
            StoreError::DiskFull => (
                "存储空间已满，未写入任何内容；请清理空间后重试",
                "The disk is full; nothing was written. Free space, then retry",
            ),
            StoreError::Automerge(_) => ("记录文档出错", "The record's document failed"),
            StoreError::Sqlite(_) => ("数据库出错", "Database error"),
            StoreError::Io(_) => ("文件读写出错", "File error"),
        };
        Message::new(zh, en)
    }
}

/// The project's one error model: a store refusal answered by a server is
/// a conflict with what is stored (409) unless it names a missing record
/// (404) or a record the rules refuse (422); the rest are failures (500).
impl registry::message::Coded for StoreError {
    fn code(&self) -> &str {
        StoreError::code(self)
    }
    fn message(&self) -> Message {
        StoreError::message(self)
    }
    fn status(&self) -> u16 {
        match self {
            StoreError::NotFound(_) | StoreError::Deleted(_) => 404,
            StoreError::Invalid(_) => 422,
            StoreError::Duplicate(_)
            | StoreError::WrongKind { .. }
            | StoreError::MissingDependencies(_)
            | StoreError::NoConflict(_)
            | StoreError::UnknownField(_)
            | StoreError::Malformed(_) => 409,
            _ => 500,
        }
    }
    fn issues(&self) -> &[Issue] {
        match self {
            StoreError::Invalid(issues) => issues,
            _ => &[],
        }
    }
}

/// A document a device sent that parses but is not a record: held in the
/// quarantine under this code.
pub const RECORD_UNREADABLE: registry::message::Code = registry::message::Code {
    status: 409,
    code: "RECORD_UNREADABLE",
    zh: "记录内容无法读取，已隔离待审核",
    en: "The record's contents cannot be read; held for review",
};

/// Every code the store defines: one per variant of [`StoreError`], and
/// [`RECORD_UNREADABLE`].
pub fn catalogue() -> Vec<registry::message::Entry> {
    use registry::message::Entry;
    // Details stand as "…": the catalogue gives a code's general text.
    let s = || "…".to_owned();
    let variants = [
        StoreError::WrongKeyOrCorrupt,
        StoreError::NotEncrypted,
        StoreError::Foreign,
        StoreError::TooNew { found: 0, known: 0 },
        StoreError::Missing(s()),
        StoreError::AlreadyExists(s()),
        StoreError::NotFound(s()),
        StoreError::Deleted(s()),
        StoreError::Invalid(Vec::new()),
        StoreError::Duplicate(s()),
        StoreError::Malformed(s()),
        StoreError::WrongKind { expected: "", found: "" },
        StoreError::MissingDependencies(s()),
        StoreError::NoConflict(s()),
        StoreError::UnknownField(s()),
        StoreError::DiskFull,
        StoreError::Automerge(automerge::AutomergeError::Fail),
        StoreError::Sqlite(rusqlite::Error::InvalidQuery),
        StoreError::Io(std::io::Error::other("…")),
    ];
    let mut out: Vec<Entry> = variants.iter().map(Entry::of).collect();
    for e in &mut out {
        if e.code == "RECORD_INVALID" || e.code == "FIELD_UNKNOWN" {
            e.message = match e.code.as_str() {
                "RECORD_INVALID" => {
                    Message::new("记录未通过校验，未保存", "The record did not pass the checks; not saved")
                }
                _ => Message::new("记录没有这一项", "The record has no such field"),
            };
        }
    }
    out.push(Entry::of(&RECORD_UNREADABLE));
    out
}
