//! Shared helpers of the integration tests.
#![allow(dead_code)] // each test binary uses some of them
pub mod built;
pub mod tree;
