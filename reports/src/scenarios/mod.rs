//! Verdicts of the rules judged from scenario records (the harness's
//! `cellucid-bench scenario NAME`), one module per rule. Each gives `None` when the
//! writer has no records of its scenario, so the caller keeps "not measured".

pub mod too_many_files;
