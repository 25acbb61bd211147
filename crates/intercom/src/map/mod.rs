//! Pure functions between Intercom's wire shapes and canonical records.

pub mod to_canonical;
