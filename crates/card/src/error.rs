//! Why a card or a list was refused: a stable code and a message in
//! Chinese and English.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("not a membership card: the text must start with UC1:")]
    Prefix,
    #[error("the card's characters are not valid Base45")]
    Encoding,
    #[error("the card is malformed: {0}")]
    Malformed(&'static str),
    #[error("the card is not signed with EdDSA")]
    Algorithm,
    #[error("the card was issued by a key this verifier does not know")]
    UnknownIssuer,
    #[error("the card was issued by a device key the county removed")]
    IssuerRemoved,
    #[error("the card was issued outside its device key's validity")]
    IssuerNotValid,
    #[error("the card's signature is not valid: forged or altered")]
    Forged,
    #[error("the card has expired")]
    Expired,
    #[error("the card is not valid yet")]
    NotYetValid,
    #[error("the card was revoked")]
    Revoked,
    #[error("the card cannot be issued: {0}")]
    Claims(&'static str),
    #[error("the list is malformed or not signed by the county")]
    ListInvalid,
    #[error("the list is older than the one already held")]
    ListRolledBack,
}

impl CardError {
    pub fn code(&self) -> &'static str {
        match self {
            CardError::Prefix => "CARD_PREFIX",
            CardError::Encoding => "CARD_ENCODING",
            CardError::Malformed(_) => "CARD_MALFORMED",
            CardError::Algorithm => "CARD_ALGORITHM",
            CardError::UnknownIssuer => "CARD_UNKNOWN_ISSUER",
            CardError::IssuerRemoved => "CARD_ISSUER_REMOVED",
            CardError::IssuerNotValid => "CARD_ISSUER_NOT_VALID",
            CardError::Forged => "CARD_FORGED",
            CardError::Expired => "CARD_EXPIRED",
            CardError::NotYetValid => "CARD_NOT_YET_VALID",
            CardError::Revoked => "CARD_REVOKED",
            CardError::Claims(_) => "CARD_CLAIMS_INVALID",
            CardError::ListInvalid => "CARD_LIST_INVALID",
            CardError::ListRolledBack => "CARD_LIST_ROLLED_BACK",
        }
    }

    /// (Chinese, English) for people.
    pub fn message(&self) -> (&'static str, &'static str) {
        match self {
            CardError::Prefix => ("这不是会员卡二维码", "This is not a membership card"),
            CardError::Encoding => ("会员卡编码无效", "The card's encoding is not valid"),
            CardError::Malformed(_) => ("会员卡数据格式有误", "The card's data is malformed"),
            CardError::Algorithm => ("会员卡签名算法不受支持", "The card's signature algorithm is not accepted"),
            CardError::UnknownIssuer => ("发卡设备不在信任名单中", "The issuing device is not on the trust list"),
            CardError::IssuerRemoved => ("发卡设备已被县总工会移除", "The issuing device was removed by the county"),
            CardError::IssuerNotValid => {
                ("发卡时该设备密钥不在有效期内", "The card was issued outside the device key's validity")
            }
            CardError::Forged => ("会员卡签名无效：伪造或被篡改", "The signature is not valid: forged or altered"),
            CardError::Expired => ("会员卡已过期", "The card has expired"),
            CardError::NotYetValid => ("会员卡尚未生效", "The card is not valid yet"),
            CardError::Revoked => ("会员卡已注销", "The card was revoked"),
            CardError::Claims(_) => ("会员卡内容不符合要求，无法发卡", "The card's contents are not valid"),
            CardError::ListInvalid => ("名单无效或非县总工会签发", "The list is invalid or not signed by the county"),
            CardError::ListRolledBack => ("名单比已有的旧，未采用", "The list is older than the one held; not used"),
        }
    }
}

/// The project's one error model ([`registry::message::Coded`]): a card or
/// list that does not verify is refused as unprocessable (422).
impl registry::message::Coded for CardError {
    fn code(&self) -> &str {
        CardError::code(self)
    }
    fn message(&self) -> registry::message::Message {
        let (zh, en) = CardError::message(self);
        registry::message::Message::new(zh, en)
    }
    fn status(&self) -> u16 {
        422
    }
}

/// Every code the card layer defines, one per variant of [`CardError`].
pub fn catalogue() -> Vec<registry::message::Entry> {
    use CardError as E;
    [
        E::Prefix,
        E::Encoding,
        E::Malformed(""),
        E::Algorithm,
        E::UnknownIssuer,
        E::IssuerRemoved,
        E::IssuerNotValid,
        E::Forged,
        E::Expired,
        E::NotYetValid,
        E::Revoked,
        E::Claims(""),
        E::ListInvalid,
        E::ListRolledBack,
    ]
    .iter()
    .map(registry::message::Entry::of)
    .collect()
}
