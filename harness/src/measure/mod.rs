//! What a run left on disk (`tree`) and what the hardware could do at best (`floor`).
pub mod floor;
pub mod tree;
