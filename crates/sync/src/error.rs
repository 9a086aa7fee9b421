//! Sync errors, each with a stable code and a message in Chinese and English.

use registry::message::Message;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("malformed sync message: {0}")]
    Wire(String),
    #[error("the message is too large")]
    TooLarge,
    #[error("document {id}: {detail}")]
    Document { id: String, code: &'static str, detail: String },
    #[error("the sync cursor is not valid")]
    BadCursor,
    #[error("the server's data could not be read: {0}")]
    Sealed(String),
    #[error("database: {0}")]
    Db(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("network: {0}")]
    Network(String),
    #[error("the server refused the request: {code}: {}", message.en)]
    Refused { status: u16, code: String, message: Message },
    #[error("the server failed: {0}")]
    Server(String),
    #[error("interrupted")]
    Interrupted,
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::Wire(_) => "SYNC_MALFORMED",
            SyncError::TooLarge => "SYNC_TOO_LARGE",
            SyncError::Document { code, .. } => code,
            SyncError::BadCursor => "SYNC_BAD_CURSOR",
            SyncError::Sealed(_) => "SERVER_DATA_UNREADABLE",
            SyncError::Db(_) => "DATABASE_ERROR",
            SyncError::Store(e) => e.code(),
            SyncError::Network(_) => "NETWORK_UNAVAILABLE",
            SyncError::Refused { code, .. } => code,
            SyncError::Server(_) => "SERVER_ERROR",
            SyncError::Interrupted => "SYNC_INTERRUPTED",
        }
    }

    /// The HTTP status a server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            SyncError::Wire(_) | SyncError::Document { .. } | SyncError::BadCursor => 400,
            SyncError::TooLarge => 413,
            SyncError::Refused { status, .. } => *status,
            _ => 500,
        }
    }

    /// Can the same request succeed later without any change?
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Network(_) | SyncError::Server(_) | SyncError::Interrupted)
            || matches!(self, SyncError::Refused { status, .. } if *status == 429 || *status == 503)
    }

    pub fn message(&self) -> Message {
        let (zh, en) = match self {
            SyncError::Wire(_) => ("同步数据格式有误", "The sync message is malformed"),
            SyncError::TooLarge => ("同步数据过大", "The sync message is too large"),
            SyncError::Document { .. } => {
                ("记录数据无法读取，未保存任何内容", "A record could not be read; nothing was saved")
            }
            SyncError::BadCursor => ("同步进度标记无效，请重新同步", "The sync cursor is not valid; sync again"),
            SyncError::Sealed(_) => ("服务器数据无法解密", "The server's data could not be decrypted"),
            SyncError::Db(_) => ("数据库出错", "Database error"),
            SyncError::Store(e) => return e.message(),
            SyncError::Network(_) => {
                ("无法连接服务器，联网后将自动同步", "Cannot reach the server; sync resumes when online")
            }
            SyncError::Refused { message, .. } => return message.clone(),
            SyncError::Server(_) => ("服务器出错，稍后将重试", "The server failed; sync will retry"),
            SyncError::Interrupted => ("同步已中断，下次将继续", "Sync was interrupted and will resume"),
        };
        Message::new(zh, en)
    }
}

impl registry::message::Coded for SyncError {
    fn code(&self) -> &str {
        SyncError::code(self)
    }
    fn message(&self) -> Message {
        SyncError::message(self)
    }
    fn status(&self) -> u16 {
        SyncError::status(self)
    }
}

/// A refusal of the catalogue, as the sync layer carries it.
impl From<registry::message::Code> for SyncError {
    fn from(d: registry::message::Code) -> SyncError {
        SyncError::Refused { status: d.status, code: d.code.into(), message: Message::new(d.zh, d.en) }
    }
}
