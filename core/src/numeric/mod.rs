//! numpy's arithmetic, reproduced exactly where the output depends on it.
