//! One module per subcommand.
pub mod export;
pub mod generate;
pub mod validate;
