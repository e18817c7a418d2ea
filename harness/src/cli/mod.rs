//! One module per subcommand.
pub mod ci;
pub mod compare;
pub mod export;
pub mod generate;
pub mod recommend;
pub mod report;
pub mod sweep;
pub mod validate;
