//! The application status machine, as a transition table. Anything not in the table is
//! refused (409 `invalid_transition`) and changes nothing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written by the talent.
    Draft,
    /// Submitted, waiting for the registered employer it names to confirm the employment
    /// (not in the officials' queue yet).
    AwaitingEmployer,
    /// Waiting for an official.
    Submitted,
    /// An official asked for more; the talent may edit and resubmit.
    SupplementRequested,
    /// Approved: a card was issued.
    Approved,
    /// Rejected with a coded reason.
    Rejected,
    /// Withdrawn by the talent.
    Withdrawn,
}

/// What someone does to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The talent edits facts.
    Update,
    /// The talent submits (or resubmits).
    Submit,
    /// The talent withdraws.
    Withdraw,
    /// An official approves.
    Approve,
    /// An official rejects.
    Reject,
    /// An official asks for missing material.
    RequestSupplement,
    /// The talent submits a draft naming a registered employer.
    AwaitEmployer,
    /// The employer confirms the employment.
    EmployerConfirm,
    /// The employer declines.
    EmployerDecline,
}

/// The transition table: (from, action, to).
pub const TRANSITIONS: &[(Status, Action, Status)] = &[
    (Status::Draft, Action::Update, Status::Draft),
    (Status::Draft, Action::Submit, Status::Submitted),
    (Status::Draft, Action::Withdraw, Status::Withdrawn),
    (
        Status::Draft,
        Action::AwaitEmployer,
        Status::AwaitingEmployer,
    ),
    (
        Status::AwaitingEmployer,
        Action::EmployerConfirm,
        Status::Submitted,
    ),
    (
        Status::AwaitingEmployer,
        Action::EmployerDecline,
        Status::Rejected,
    ),
    (
        Status::AwaitingEmployer,
        Action::Withdraw,
        Status::Withdrawn,
    ),
    (Status::Submitted, Action::Approve, Status::Approved),
    (Status::Submitted, Action::Reject, Status::Rejected),
    (
        Status::Submitted,
        Action::RequestSupplement,
        Status::SupplementRequested,
    ),
    (Status::Submitted, Action::Withdraw, Status::Withdrawn),
    (
        Status::SupplementRequested,
        Action::Update,
        Status::SupplementRequested,
    ),
    (
        Status::SupplementRequested,
        Action::Submit,
        Status::Submitted,
    ),
    (
        Status::SupplementRequested,
        Action::Withdraw,
        Status::Withdrawn,
    ),
];

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::AwaitingEmployer => "awaiting_employer",
            Status::Submitted => "submitted",
            Status::SupplementRequested => "supplement_requested",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Status> {
        [
            Status::Draft,
            Status::AwaitingEmployer,
            Status::Submitted,
            Status::SupplementRequested,
            Status::Approved,
            Status::Rejected,
            Status::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// The status after `action`, if the table allows it.
    pub fn after(self, action: Action) -> Option<Status> {
        TRANSITIONS
            .iter()
            .find(|(from, a, _)| *from == self && *a == action)
            .map(|(_, _, to)| *to)
    }

    /// The statuses `action` may start from (for the conditional update that applies it).
    pub fn sources(action: Action) -> Vec<&'static str> {
        TRANSITIONS
            .iter()
            .filter(|(_, a, _)| *a == action)
            .map(|(from, _, _)| from.as_str())
            .collect()
    }

    /// Still in progress: one open application per talent and scheme.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Draft
                | Status::AwaitingEmployer
                | Status::Submitted
                | Status::SupplementRequested
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 7] = [
        Status::Draft,
        Status::AwaitingEmployer,
        Status::Submitted,
        Status::SupplementRequested,
        Status::Approved,
        Status::Rejected,
        Status::Withdrawn,
    ];
    const ACTIONS: [Action; 9] = [
        Action::Update,
        Action::Submit,
        Action::Withdraw,
        Action::Approve,
        Action::Reject,
        Action::RequestSupplement,
        Action::AwaitEmployer,
        Action::EmployerConfirm,
        Action::EmployerDecline,
    ];

    #[test]
    fn final_states_allow_nothing() {
        for status in [Status::Approved, Status::Rejected, Status::Withdrawn] {
            for action in ACTIONS {
                assert_eq!(status.after(action), None, "{status:?} {action:?}");
            }
        }
    }

    #[test]
    fn the_table_matches_the_contract() {
        let allowed: usize = ALL
            .iter()
            .map(|s| ACTIONS.iter().filter(|a| s.after(**a).is_some()).count())
            .sum();
        assert_eq!(allowed, TRANSITIONS.len());
        assert_eq!(
            Status::Draft.after(Action::Approve),
            None,
            "a draft cannot be decided"
        );
        assert_eq!(
            Status::Submitted.after(Action::Update),
            None,
            "submitted facts are frozen"
        );
        assert_eq!(
            Status::SupplementRequested.after(Action::Submit),
            Some(Status::Submitted)
        );
        for status in ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            Status::sources(Action::Withdraw),
            [
                "draft",
                "awaiting_employer",
                "submitted",
                "supplement_requested"
            ]
        );
        // The employer answers only what waits for it; officials never see it before.
        assert_eq!(
            Status::AwaitingEmployer.after(Action::EmployerConfirm),
            Some(Status::Submitted)
        );
        assert_eq!(
            Status::AwaitingEmployer.after(Action::EmployerDecline),
            Some(Status::Rejected)
        );
        assert_eq!(Status::AwaitingEmployer.after(Action::Approve), None);
        assert_eq!(Status::Submitted.after(Action::EmployerConfirm), None);
        assert_eq!(Status::AwaitingEmployer.after(Action::Update), None);
    }
}
