//! Normalisers (being written).
