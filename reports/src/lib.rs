//! # cellucid-reports
//!
//! Turns the harness's stored samples into the performance-tuning guide's tables with
//! measured numbers, plots, and one self-contained HTML page, with a verdict on every
//! rule of thumb. One small module per output format behind one trait.
