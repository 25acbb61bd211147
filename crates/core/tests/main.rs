//! The core crate's tests, one binary: the normalisers' golden cases, properties and limits, and
//! one regression test per fixed bug.

mod email;
mod html_api;
mod html_golden;
mod html_limits;
mod html_props;
mod phone;
mod regression;
mod time;
