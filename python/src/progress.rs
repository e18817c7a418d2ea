//! Core's progress events → a Python callback `progress(phase, done, total)`.
//!
//! core reports from its worker threads, which must never wait for the GIL (the
//! export runs with the GIL released). Events go through a channel to the calling
//! thread, which takes the GIL only to call the callback: at every phase change and
//! at most every 100 ms during the gene stage (a call per gene would cost more than
//! writing a small gene).

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use cellucid_core::Progress;
use pyo3::prelude::*;

const INTERVAL: Duration = Duration::from_millis(100);

struct State {
    phase: &'static str,
    done: usize,
    total: usize,
    dirty: bool,
    last: Instant,
}

/// Call `callback` until the sender side is dropped (the export finished).
/// A callback that raises is reported as unraisable and not called again: the export
/// cannot be interrupted half way without losing the atomic publication.
pub fn relay(rx: &Receiver<Progress>, callback: &Py<PyAny>) {
    let mut state = State { phase: "validation", done: 0, total: 0, dirty: false, last: Instant::now() };
    let mut alive = true;
    loop {
        let urgent = match rx.recv_timeout(INTERVAL) {
            Ok(Progress::Phase(p)) => {
                // The finished phase's last counts first (the gene stage's total).
                if alive && state.dirty {
                    alive = call(callback, &state);
                    state.dirty = false;
                }
                state.phase = p.name();
                state.done = 0;
                state.total = 0;
                true
            }
            Ok(Progress::GenesStarted { total }) => {
                state.total = total;
                true
            }
            Ok(Progress::GeneDone { .. }) => {
                state.done += 1;
                state.dirty = true;
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                if alive && state.dirty {
                    call(callback, &state);
                }
                return;
            }
        };
        if alive && (urgent || (state.dirty && state.last.elapsed() >= INTERVAL)) {
            alive = call(callback, &state);
            state.dirty = false;
            state.last = Instant::now();
        }
    }
}

fn call(callback: &Py<PyAny>, s: &State) -> bool {
    Python::attach(|py| match callback.call1(py, (s.phase, s.done, s.total)) {
        Ok(_) => true,
        Err(e) => {
            e.write_unraisable(py, Some(callback.bind(py)));
            false
        }
    })
}
