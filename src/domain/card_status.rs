//! The card status machine, as a transition table like the application's: what an official
//! (or a later holder action) may do to a card in each status. Anything not in the table is
//! refused (409 `invalid_transition`) and changes nothing. `expired` is not stored: a card past
//! its last day is expired whatever its status, and only revocation still applies to it.

/// Where a card stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStatus {
    /// In force.
    Active,
    /// Temporarily not in force; may be resumed.
    Suspended,
    /// Withdrawn for good.
    Revoked,
}

/// What is done to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    /// Suspend an active card.
    Suspend,
    /// Resume a suspended card.
    Resume,
    /// Revoke a card that is not revoked yet (also when expired, or superseded by a renewal).
    Revoke,
    /// The holder reports the card lost (挂失): an active card is suspended at once with the
    /// reason `reported_lost`, and only then may a replacement be issued.
    ReportLoss,
}

/// The entry of a card in its issuer's status list (IETF Token Status List, 2 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEntry {
    /// 0: valid.
    Valid,
    /// 1: revoked (invalid).
    Revoked,
    /// 2: suspended.
    Suspended,
}

/// The transition table: (from, action, to).
pub const TRANSITIONS: &[(CardStatus, CardAction, CardStatus)] = &[
    (
        CardStatus::Active,
        CardAction::Suspend,
        CardStatus::Suspended,
    ),
    (
        CardStatus::Suspended,
        CardAction::Resume,
        CardStatus::Active,
    ),
    (CardStatus::Active, CardAction::Revoke, CardStatus::Revoked),
    (
        CardStatus::Suspended,
        CardAction::Revoke,
        CardStatus::Revoked,
    ),
    (
        CardStatus::Active,
        CardAction::ReportLoss,
        CardStatus::Suspended,
    ),
];

/// The suspension reason of a card its holder reported lost; a replacement needs it.
pub const REPORTED_LOST: &str = "reported_lost";

impl CardStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Active => "active",
            CardStatus::Suspended => "suspended",
            CardStatus::Revoked => "revoked",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(stored: &str) -> Option<CardStatus> {
        [
            CardStatus::Active,
            CardStatus::Suspended,
            CardStatus::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }

    /// The status after `action`, or `None` when the table does not allow it; an expired card
    /// may only be revoked.
    pub fn after(self, action: CardAction, expired: bool) -> Option<CardStatus> {
        if expired && action != CardAction::Revoke {
            return None;
        }
        TRANSITIONS
            .iter()
            .find(|(from, a, _)| *from == self && *a == action)
            .map(|(_, _, to)| *to)
    }

    /// The card's entry in its issuer's status list.
    pub fn list_entry(self) -> ListEntry {
        match self {
            CardStatus::Active => ListEntry::Valid,
            CardStatus::Suspended => ListEntry::Suspended,
            CardStatus::Revoked => ListEntry::Revoked,
        }
    }
}

impl ListEntry {
    /// The entry a list's two bits hold; `None` for 3, which the list never uses.
    pub fn from_bits(bits: u8) -> Option<ListEntry> {
        match bits {
            0 => Some(ListEntry::Valid),
            1 => Some(ListEntry::Revoked),
            2 => Some(ListEntry::Suspended),
            _ => None,
        }
    }
}

impl CardAction {
    /// The audit action of a card moved by it.
    pub fn audit_action(self) -> &'static str {
        match self {
            CardAction::Suspend => "card.suspended",
            CardAction::Resume => "card.resumed",
            CardAction::Revoke => "card.revoked",
            CardAction::ReportLoss => "card.reported_lost",
        }
    }

    /// The past participle, for messages (`a revoked card cannot be resumed`).
    pub fn done(self) -> &'static str {
        match self {
            CardAction::Suspend => "suspended",
            CardAction::Resume => "resumed",
            CardAction::Revoke => "revoked",
            CardAction::ReportLoss => "reported lost",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CardStatus; 3] = [
        CardStatus::Active,
        CardStatus::Suspended,
        CardStatus::Revoked,
    ];
    const ACTIONS: [CardAction; 4] = [
        CardAction::Suspend,
        CardAction::Resume,
        CardAction::Revoke,
        CardAction::ReportLoss,
    ];

    #[test]
    fn the_table_is_the_contract() {
        use CardAction::*;
        use CardStatus::*;
        // "POST /cards/{id}/suspend, /resume, /revoke … revoked is final (409 afterwards)".
        let expected = [
            (Active, Suspend, Some(Suspended)),
            (Active, Resume, None),
            (Active, Revoke, Some(Revoked)),
            (Suspended, Suspend, None),
            (Suspended, Resume, Some(Active)),
            (Suspended, Revoke, Some(Revoked)),
            (Revoked, Suspend, None),
            (Revoked, Resume, None),
            (Revoked, Revoke, None),
            // "a loss report on a revoked or expired card is 409"; a suspended card is out of
            // use already, and a second report changes nothing.
            (Active, ReportLoss, Some(Suspended)),
            (Suspended, ReportLoss, None),
            (Revoked, ReportLoss, None),
        ];
        for (from, action, to) in expected {
            assert_eq!(from.after(action, false), to, "{from:?} {action:?}");
        }
    }

    #[test]
    fn an_expired_card_may_only_be_revoked_and_names_round_trip() {
        for status in ALL {
            for action in ACTIONS {
                let allowed = status.after(action, true).is_some();
                assert_eq!(
                    allowed,
                    action == CardAction::Revoke && status != CardStatus::Revoked
                );
            }
            assert_eq!(CardStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CardStatus::parse("expired"), None);
        assert_eq!(CardStatus::Revoked.list_entry(), ListEntry::Revoked);
        assert_eq!(CardStatus::Suspended.list_entry(), ListEntry::Suspended);
        assert_eq!(CardStatus::Active.list_entry(), ListEntry::Valid);
    }
}
