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

    /// The message shown to a person.
    pub fn message(&self) -> Message {
        let zh = match self {
            StoreError::WrongKeyOrCorrupt => "无法打开数据：密码错误或文件已损坏".to_owned(),
            StoreError::NotEncrypted => "该文件是未加密的数据库，不是三建数据文件".to_owned(),
            StoreError::Foreign => "该文件不是三建数据文件".to_owned(),
            StoreError::TooNew { .. } => "数据文件由更新版本的三建写入，请先升级软件".to_owned(),
            StoreError::Missing(_) => "找不到数据文件".to_owned(),
            StoreError::AlreadyExists(_) => "该位置已有文件，为防止覆盖数据，未新建".to_owned(),
            StoreError::NotFound(_) => "找不到该记录".to_owned(),
            StoreError::Deleted(_) => "该记录已删除".to_owned(),
            StoreError::Invalid(issues) => format!("记录有{}处需要修改，未保存", issues.len()),
            StoreError::Duplicate(_) => "该人员或单位已登记，请打开已有记录".to_owned(),
            StoreError::Malformed(_) => "记录数据格式有误，已隔离待审核".to_owned(),
            StoreError::WrongKind { .. } => "记录类型不符".to_owned(),
            StoreError::MissingDependencies(_) => "收到的修改缺少前序修改，需重新同步".to_owned(),
            StoreError::NoConflict(_) => "该字段没有冲突".to_owned(),
            StoreError::UnknownField(f) => format!("记录没有“{f}”这一项"),
            StoreError::DiskFull => "存储空间已满，未写入任何内容；请清理空间后重试".to_owned(),
            StoreError::Automerge(_) => "记录文档出错".to_owned(),
            StoreError::Sqlite(_) => "数据库出错".to_owned(),
            StoreError::Io(_) => "文件读写出错".to_owned(),
        };
        Message::new(zh, self.to_string())
    }
}
