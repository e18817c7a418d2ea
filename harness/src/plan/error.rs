//! `PlanError`: why a plan cannot be read or run. Every value problem names the axis
//! (or top-level key) it is about, so a user can find the line to fix.

/// Why a plan is refused.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("plan is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A key that plans do not have (a typo would otherwise be silently ignored).
    #[error("plan has an unknown key `{key}` in {place} (known: {known})")]
    UnknownKey { key: String, place: String, known: String },
    /// A value of an axis (or a top-level setting such as `repeats`) is wrong.
    #[error("plan axis `{axis}`{}: {reason}", value.as_ref().map(|v| format!(" value {v}")).unwrap_or_default())]
    Invalid { axis: String, value: Option<String>, reason: String },
    #[error("there is no built-in plan `{name}` (built-in plans: {known})")]
    UnknownBuiltin { name: String, known: String },
    /// `--shard I/N` that is not two integers with `I < N`.
    #[error("shard `{0}` must be I/N with 0 <= I < N, e.g. 3/8")]
    Shard(String),
}

impl PlanError {
    /// The offending axis or key, when the error is about one.
    pub fn axis(&self) -> Option<&str> {
        match self {
            PlanError::Invalid { axis, .. } => Some(axis),
            PlanError::UnknownKey { key, .. } => Some(key),
            _ => None,
        }
    }

    pub(crate) fn invalid(axis: impl Into<String>, value: Option<String>, reason: impl Into<String>) -> PlanError {
        PlanError::Invalid { axis: axis.into(), value, reason: reason.into() }
    }
}
