//! Account-scoped tables, handled once: lookup, listing, uniqueness, save and removal.
//!
//! Chatwoot reaches almost every record through `Current.account.<table>.find(id)`, so a row of
//! another account is a 404 like a missing one (`../shared/research/chatwoot.md §1`). The tables
//! differ only by row type and map; [`AccountScoped`] names both so one generic helper serves
//! them all.

use std::collections::BTreeMap;

use super::database::Database;
use super::records::{
    Article, AutomationRule, CannedResponse, Category, Contact, Conversation,
    CustomAttributeDefinition, Inbox, Label, Portal, Team, Webhook,
};
use crate::error::{ApiError, ApiResult};

/// A row that belongs to one account, kept in one map of the [`Database`].
pub trait AccountScoped: Clone + 'static {
    /// The table name, also the name of its id counter.
    const TABLE: &'static str;
    /// Primary key (0 for a row not saved yet).
    fn id(&self) -> u64;
    /// Sets the primary key.
    fn set_id(&mut self, id: u64);
    /// The owning account.
    fn account_id(&self) -> u64;
    /// The table.
    fn table(s: &Database) -> &BTreeMap<u64, Self>;
    /// The table, writable.
    fn table_mut(s: &mut Database) -> &mut BTreeMap<u64, Self>;
}

macro_rules! account_scoped {
    ($($row:ty => $table:ident),* $(,)?) => {$(
        impl AccountScoped for $row {
            const TABLE: &'static str = stringify!($table);
            fn id(&self) -> u64 {
                self.id
            }
            fn set_id(&mut self, id: u64) {
                self.id = id;
            }
            fn account_id(&self) -> u64 {
                self.account_id
            }
            fn table(s: &Database) -> &BTreeMap<u64, Self> {
                &s.$table
            }
            fn table_mut(s: &mut Database) -> &mut BTreeMap<u64, Self> {
                &mut s.$table
            }
        }
    )*};
}

account_scoped!(
    Contact => contacts,
    Inbox => inboxes,
    Conversation => conversations,
    Label => labels,
    Team => teams,
    CannedResponse => canned_responses,
    CustomAttributeDefinition => custom_attribute_definitions,
    Portal => portals,
    Category => categories,
    Article => articles,
    Webhook => webhooks,
    AutomationRule => automation_rules,
);

impl Database {
    /// Row `id` of `account`; a missing row and another account's row are both 404.
    pub fn scoped<T: AccountScoped>(&self, account: u64, id: u64) -> ApiResult<&T> {
        T::table(self)
            .get(&id)
            .filter(|r| r.account_id() == account)
            .ok_or(ApiError::NotFound)
    }

    /// The rows of `account`, in id order.
    pub fn in_account<T: AccountScoped>(&self, account: u64) -> impl Iterator<Item = &T> {
        T::table(self)
            .values()
            .filter(move |r| r.account_id() == account)
    }

    /// Whether another row of `row`'s account satisfies `same`: a uniqueness validation with
    /// `scope: :account_id`.
    pub fn taken<T: AccountScoped>(&self, row: &T, same: impl Fn(&T) -> bool) -> bool {
        self.in_account::<T>(row.account_id())
            .any(|o| o.id() != row.id() && same(o))
    }

    /// Inserts or replaces `row`; a new row (id 0) gets the table's next id first.
    pub fn save<T: AccountScoped>(&mut self, mut row: T) -> T {
        if row.id() == 0 {
            row.set_id(self.next_id(T::TABLE));
        }
        T::table_mut(self).insert(row.id(), row.clone());
        row
    }

    /// Removes row `id` of `account`; 404 when the account has no such row.
    pub fn remove_scoped<T: AccountScoped>(&mut self, account: u64, id: u64) -> ApiResult<T> {
        self.scoped::<T>(account, id)?;
        T::table_mut(self).remove(&id).ok_or(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deskmove_sandbox::SandboxClock;

    use crate::error::ApiError;
    use crate::state::{Database, Label};

    fn label(account_id: u64, title: &str) -> Label {
        Label {
            id: 0,
            account_id,
            title: title.into(),
            description: None,
            color: "#1f93ff".into(),
            show_on_sidebar: None,
        }
    }

    #[test]
    fn rows_are_scoped_to_their_account() {
        let mut s = Database::new(1, 0, true, Arc::new(SandboxClock::new(Some(0))));
        let mine = s.save(label(1, "vip"));
        let theirs = s.save(label(2, "vip"));
        assert_eq!((mine.id, theirs.id), (1, 2));
        assert_eq!(s.scoped::<Label>(2, theirs.id).unwrap().title, "vip");
        assert_eq!(
            s.scoped::<Label>(1, theirs.id).err(),
            Some(ApiError::NotFound)
        );
        assert_eq!(
            s.in_account::<Label>(1).map(|l| l.id).collect::<Vec<_>>(),
            [1]
        );
        // Uniqueness looks at the same account only and never at the row itself.
        assert!(!s.taken(&mine, |o| o.title == "vip"));
        assert!(s.taken(&label(1, "vip"), |o| o.title == "vip"));
        // Saving a row with an id replaces it.
        let renamed = s.save(Label {
            title: "gold".into(),
            ..mine
        });
        assert_eq!(s.labels.len(), 2);
        assert_eq!(s.scoped::<Label>(1, renamed.id).unwrap().title, "gold");
        assert_eq!(
            s.remove_scoped::<Label>(1, theirs.id).err(),
            Some(ApiError::NotFound)
        );
        assert_eq!(s.remove_scoped::<Label>(2, theirs.id).unwrap().id, 2);
        assert!(!s.labels.contains_key(&2));
    }
}
