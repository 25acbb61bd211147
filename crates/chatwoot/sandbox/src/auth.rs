//! Who is calling: the `api_access_token` of a user or an agent bot on an account, the platform
//! app's token, and Pundit's roles (`../shared/research/chatwoot.md §1`).

use axum::http::HeaderMap;

use crate::error::{ApiError, ApiResult};
use crate::state::{Account, Database, User};

/// Who is calling, resolved from the `api_access_token` header.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's user, if it is a user token.
    pub user_id: Option<u64>,
    /// The token's agent bot, if it is a bot token.
    pub bot_id: Option<u64>,
    pub admin: bool,
    /// `Current.user.name`, used in activity messages.
    pub name: String,
}

/// Who may call an action (Pundit policies, §1 Roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Any valid token of the account, agent bots included.
    Any,
    /// A user, agent or administrator, not a bot.
    User,
    /// An administrator.
    Admin,
}

impl Caller {
    /// Refuses a caller below `role`.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        match role {
            Role::Any => Ok(()),
            Role::User => self.require_user().map(drop),
            Role::Admin => self.require_admin(),
        }
    }

    /// Pundit: administrator-only actions (§1 Roles).
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// `validate_bot_access_token!`: bots may only call a few endpoints (§1).
    pub fn require_user(&self) -> ApiResult<u64> {
        self.user_id.ok_or_else(|| {
            ApiError::Unauthorized("Access to this endpoint is not authorized for bots".into())
        })
    }
}

/// The `api_access_token` header. Rack maps both `api_access_token` and `api-access-token` to
/// `HTTP_API_ACCESS_TOKEN`, so Chatwoot accepts either spelling.
pub fn access_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("api_access_token")
        .or_else(|| headers.get("api-access-token"))
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
}

impl Database {
    /// Resolves `api_access_token` for an Application API call on `account_id`
    /// (`access_token_auth_helper.rb`, `ensure_current_account_helper.rb`).
    pub fn authorize(&self, headers: &HeaderMap, account_id: u64) -> ApiResult<Caller> {
        let token = access_token(headers);
        let invalid = || ApiError::Unauthorized("Invalid Access Token".into());
        let token = token.ok_or_else(invalid)?;
        if let Some(user) = self.users.values().find(|u| u.access_token == token) {
            let account = self.accounts.get(&account_id).ok_or(ApiError::NotFound)?;
            if account.status != "active" {
                return Err(ApiError::Unauthorized("Account is suspended".into()));
            }
            let au = self.account_user(account_id, user.id).ok_or_else(|| {
                ApiError::Unauthorized("You are not authorized to access this account".into())
            })?;
            return Ok(Caller {
                user_id: Some(user.id),
                bot_id: None,
                admin: au.role == "administrator",
                name: user.name.clone(),
            });
        }
        if let Some(bot) = self.agent_bots.values().find(|b| b.access_token == token) {
            self.accounts.get(&account_id).ok_or(ApiError::NotFound)?;
            if bot.account_id.is_some_and(|a| a != account_id) {
                return Err(ApiError::Unauthorized(
                    "Bot is not authorized to access this account".into(),
                ));
            }
            return Ok(Caller {
                user_id: None,
                bot_id: Some(bot.id),
                admin: false,
                name: bot.name.clone(),
            });
        }
        Err(invalid())
    }

    /// Checks the platform app token (`platform_controller.rb`).
    pub fn authorize_platform(&self, headers: &HeaderMap) -> ApiResult<()> {
        if access_token(headers) == Some(self.platform_token.as_str()) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("Invalid access_token".into()))
        }
    }

    /// `validate_platform_app_permissible`.
    pub fn require_permissible(&self, kind: &'static str, id: u64) -> ApiResult<()> {
        if self.permissibles.contains(&(kind, id)) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("Non permissible resource".into()))
        }
    }

    /// A platform call on user `id`: the app's token, the user, then its permission.
    pub fn platform_user(&self, headers: &HeaderMap, id: u64) -> ApiResult<&User> {
        self.authorize_platform(headers)?;
        let user = self.users.get(&id).ok_or(ApiError::NotFound)?;
        self.require_permissible("User", id)?;
        Ok(user)
    }

    /// A platform call on account `id`: the app's token, the account, then its permission.
    pub fn platform_account(&self, headers: &HeaderMap, id: u64) -> ApiResult<&Account> {
        self.authorize_platform(headers)?;
        let account = self.accounts.get(&id).ok_or(ApiError::NotFound)?;
        self.require_permissible("Account", id)?;
        Ok(account)
    }
}
