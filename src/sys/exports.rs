//! The WIT `client` export, and the conversions every export shares: each
//! function converts the generated types to the crate's own, runs the
//! operation over [`WasiIo`], and converts back. No logic lives here.

use super::{env, Stderr, WasiIo};
use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::model as m;
use crate::gitbook::ops::{Invite, MemberFilter};
use crate::gitbook::Client;
use crate::observe::Observed;
use crate::role::{Role, RoleFilter};
use crate::settings::{RawSettings, RetryPolicy, Timeouts};
use crate::validate::{Email, GitBookId};
use std::time::Duration;

wit_bindgen::generate!({
    path: "wit",
    world: "directory-sync",
});

use exports::gitbook::directory_sync::client::Guest;
use exports::gitbook::directory_sync::types as wit;

pub(super) struct Component;

export!(Component);

/// The client every export works through: its changes are audited and
/// each call gets a request line named after the WIT `function`, on stderr.
pub(super) type LoggedClient<'s, 'l, 'k, 'i> = Client<'s, Observed<'l, 'k, &'i mut WasiIo>>;

pub(super) fn with_client<T>(
    function: &'static str,
    settings: wit::Settings,
    run: impl FnOnce(&mut LoggedClient<'_, '_, '_, '_>) -> Result<T, Error>,
) -> Result<T, wit::Error> {
    let token = settings.token.clone();
    let result = crate::observe::call(function, env, token.as_deref(), WasiIo::default(), &mut Stderr, |io| {
        let settings = raw_settings(settings).resolve(env)?;
        let mut client = Client::new(&settings, io);
        run(&mut client)
    });
    result.map_err(to_wit_error)
}

impl Guest for Component {
    fn invite(settings: wit::Settings, request: wit::InviteRequest) -> Result<wit::InviteResult, wit::Error> {
        with_client("client.invite", settings, |client| {
            let with_roles: Vec<(String, Option<Role>)> =
                request.with_roles.into_iter().map(|i| (i.email, i.role.map(from_wit_role))).collect();
            let invite = Invite::parse(&request.emails, &with_roles, request.role.map(from_wit_role), request.sso)?;
            let result = client.invite(&invite)?;
            Ok(wit::InviteResult {
                user_ids: result.user_ids,
                invited: result.invited,
                failed_sso_emails: result.failed_sso_emails,
            })
        })
    }

    fn remove_member(settings: wit::Settings, user_id: String) -> Result<wit::Removal, wit::Error> {
        with_client("client.remove-member", settings, |client| {
            let user = GitBookId::parse("user-id", &user_id)?;
            client.remove_member(&user).map(to_wit_removal)
        })
    }

    fn remove_member_by_email(settings: wit::Settings, email: String) -> Result<wit::EmailRemoval, wit::Error> {
        with_client("client.remove-member-by-email", settings, |client| {
            let email = Email::parse("email", &email)?;
            let removal = client.remove_member_by_email(&email)?;
            Ok(wit::EmailRemoval { outcome: to_wit_removal(removal.outcome), user_id: removal.user_id })
        })
    }

    fn update_team_members(
        settings: wit::Settings,
        team_id: String,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<(), wit::Error> {
        with_client("client.update-team-members", settings, |client| {
            let team = GitBookId::parse("team-id", &team_id)?;
            let add = crate::validate::member_refs("add", &add)?;
            let remove = crate::validate::member_refs("remove", &remove)?;
            client.update_team_members(&team, &add, &remove)
        })
    }

    fn list_members(settings: wit::Settings, filter: wit::MemberFilter) -> Result<Vec<wit::Member>, wit::Error> {
        with_client("client.list-members", settings, |client| {
            let filter = from_wit_filter(filter)?;
            Ok(client.list_members(&filter)?.into_iter().map(to_wit_member).collect())
        })
    }

    fn list_members_page(
        settings: wit::Settings,
        filter: wit::MemberFilter,
        page: Option<String>,
        limit: Option<u32>,
    ) -> Result<wit::MemberPage, wit::Error> {
        with_client("client.list-members-page", settings, |client| {
            let filter = from_wit_filter(filter)?;
            let result = client.list_members_page(&filter, page.as_deref(), limit)?;
            Ok(wit::MemberPage {
                items: result.items.into_iter().map(to_wit_member).collect(),
                count: result.count,
                next_page: result.next_page,
            })
        })
    }

    fn get_member(settings: wit::Settings, user_id: String) -> Result<wit::Member, wit::Error> {
        with_client("client.get-member", settings, |client| {
            let user = GitBookId::parse("user-id", &user_id)?;
            client.get_member(&user).map(to_wit_member)
        })
    }

    fn set_member_role(
        settings: wit::Settings,
        user_id: String,
        role: Option<wit::Role>,
    ) -> Result<wit::Member, wit::Error> {
        with_client("client.set-member-role", settings, |client| {
            let user = GitBookId::parse("user-id", &user_id)?;
            client.set_member_role(&user, role.map(from_wit_role)).map(to_wit_member)
        })
    }

    fn set_sso_member(settings: wit::Settings, user_id: String) -> Result<wit::Member, wit::Error> {
        with_client("client.set-sso-member", settings, |client| {
            let user = GitBookId::parse("user-id", &user_id)?;
            client.set_sso_member(&user).map(to_wit_member)
        })
    }

    fn find_member_by_email(settings: wit::Settings, email: String) -> Result<Option<wit::Member>, wit::Error> {
        with_client("client.find-member-by-email", settings, |client| {
            let email = Email::parse("email", &email)?;
            Ok(client.find_member_by_email(&email)?.map(to_wit_member))
        })
    }
}

fn raw_settings(settings: wit::Settings) -> RawSettings {
    RawSettings {
        base_url: settings.base_url,
        organization: settings.organization,
        token: settings.token,
        allow_insecure_http: settings.allow_insecure_http,
        retry: settings.retry.map(|r| RetryPolicy {
            max_attempts: r.max_attempts,
            max_wait: Duration::from_millis(r.max_wait_ms),
            deadline: Duration::from_millis(r.deadline_ms),
            base_delay: Duration::from_millis(r.base_delay_ms),
        }),
        timeouts: settings.timeouts.map(|t| Timeouts {
            connect: Duration::from_millis(t.connect_ms),
            first_byte: Duration::from_millis(t.first_byte_ms),
            between_bytes: Duration::from_millis(t.between_bytes_ms),
        }),
        concurrency: settings.concurrency,
    }
}

fn from_wit_filter(filter: wit::MemberFilter) -> Result<MemberFilter, Error> {
    let role = filter.role.map(|r| match r {
        wit::RoleFilter::Role(role) => RoleFilter::Role(from_wit_role(role)),
        wit::RoleFilter::Guest => RoleFilter::Guest,
    });
    MemberFilter::parse(role, filter.search.as_deref())
}

pub(super) fn from_wit_role(role: wit::Role) -> Role {
    match role {
        wit::Role::Admin => Role::Admin,
        wit::Role::Create => Role::Create,
        wit::Role::Edit => Role::Edit,
        wit::Role::Review => Role::Review,
        wit::Role::Comment => Role::Comment,
        wit::Role::Read => Role::Read,
    }
}

pub(super) fn to_wit_role(role: Role) -> wit::Role {
    match role {
        Role::Admin => wit::Role::Admin,
        Role::Create => wit::Role::Create,
        Role::Edit => wit::Role::Edit,
        Role::Review => wit::Role::Review,
        Role::Comment => wit::Role::Comment,
        Role::Read => wit::Role::Read,
    }
}

fn to_wit_removal(removal: m::Removal) -> wit::Removal {
    match removal {
        m::Removal::Deleted => wit::Removal::Deleted,
        m::Removal::NotAMember => wit::Removal::NotAMember,
        m::Removal::ApprovalRequested => wit::Removal::ApprovalRequested,
    }
}

#[inline(never)]
fn to_wit_member(member: m::Member) -> wit::Member {
    wit::Member {
        id: member.id,
        role: member.role.map(to_wit_role),
        user: wit::User {
            id: member.user.id,
            display_name: member.user.display_name,
            email: member.user.email,
            photo_url: member.user.photo_url,
        },
        disabled: member.disabled,
        joined_at: member.joined_at,
        last_seen_at: member.last_seen_at,
        sso: member.sso,
        spaces: member.spaces,
        teams: member.teams,
    }
}

#[inline(never)]
pub(super) fn to_wit_error(error: Error) -> wit::Error {
    let (kind, failure) = match error {
        Error::InvalidInput { field, message } => {
            return wit::Error::InvalidInput(wit::InvalidInput { field, message })
        }
        Error::SafetyStop(message) => return wit::Error::SafetyStop(message),
        Error::Api(kind, failure) => (kind, failure),
    };
    let ApiFailure { operation, status, message, attempts, elapsed_ms, retry_after_ms, effect_unknown: _ } = failure;
    let failure =
        wit::ApiFailure { operation: operation.to_owned(), status, message, attempts, elapsed_ms, retry_after_ms };
    match kind {
        FailureKind::Unauthorized => wit::Error::Unauthorized(failure),
        FailureKind::Forbidden => wit::Error::Forbidden(failure),
        FailureKind::NotFound => wit::Error::NotFound(failure),
        FailureKind::Conflict => wit::Error::Conflict(failure),
        FailureKind::Rejected => wit::Error::Rejected(failure),
        FailureKind::RateLimited => wit::Error::RateLimited(failure),
        FailureKind::ServerError => wit::Error::ServerError(failure),
        FailureKind::InvalidResponse => wit::Error::InvalidResponse(failure),
        FailureKind::Transport => wit::Error::Transport(failure),
        FailureKind::DeadlineExceeded => wit::Error::DeadlineExceeded(failure),
    }
}
