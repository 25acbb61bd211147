//! The kit's tests, one binary: each fault kind as a real client sees it, and the validator
//! loading the real vendor specs (ignored without `DESKMOVE_SPECS_DIR`).

mod faults;
mod vendor_specs;
