//! Setting one table of several writers side by side.
//!
//! Each writer's table is built from its own runs; this module only lays the finished
//! tables out together. Writers whose table read no cell are left out (a column of
//! "not measured" says nothing the verdict matrix does not); with one writer left, its
//! table is shown as it is, its title naming the writer.
//!
//! Two layouts, chosen per table ([`layout`]):
//! - **columns**: one row per key (a rule, a lever, a quantization, a tier), and each
//!   writer's measured columns beside each other. These tables have a fixed set of rows
//!   that every writer shares, and the comparison a reader makes is along the row
//!   ("the exponent is 1.0 for one writer, 0.6 for the other").
//! - **blocks**: a leading `writer` column and each writer's rows in turn. These tables
//!   list measured cells (or comparisons of targets), which differ between writers (a
//!   slow writer runs fewer, smaller cells): aligned as columns they would be mostly
//!   holes, and their many columns would double in width.

use crate::report::{Cell, Context, Plot, Table};

/// How a table's writers are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The first `key` columns identify a row; the last `shared` columns do not depend
    /// on the writer (computed, not measured); the columns between are per writer.
    Columns { key: usize, shared: usize },
    /// A `writer` column, then each writer's rows.
    Blocks,
}

/// The layout of each table of [`super::build_one`], by id.
pub fn layout(id: &str) -> Layout {
    match id {
        "scaling" => Layout::Columns { key: 4, shared: 0 },
        "bytes-per-value" => Layout::Columns { key: 3, shared: 0 },
        "levers" => Layout::Columns { key: 1, shared: 0 },
        // The fidelity columns are the format's codec, the same for every writer.
        "quantization" => Layout::Columns { key: 2, shared: 3 },
        "scale" => Layout::Columns { key: 3, shared: 0 },
        _ => Layout::Blocks,
    }
}

/// One table from the same table of each writer (in column order).
pub fn combine(per_writer: Vec<(&str, &Table)>) -> Table {
    let with_data: Vec<(&str, &Table)> = per_writer.iter().copied().filter(|(_, t)| t.context.cells > 0).collect();
    match with_data.len() {
        0 | 1 => {
            let (w, t) = with_data.first().or(per_writer.first()).copied().expect("at least one writer is selected");
            let mut t = t.clone();
            t.title = format!("{} — {w}", t.title);
            t
        }
        _ => {
            let mut t = match layout(&with_data[0].1.id) {
                Layout::Columns { key, shared } => columns(&with_data, key, shared),
                Layout::Blocks => blocks(&with_data),
            };
            let names: Vec<&str> = with_data.iter().map(|(w, _)| *w).collect();
            t.title = format!("{} — {} side by side", t.title, names.join(", "));
            t.context = context(&with_data);
            t.notes = notes(&with_data);
            t
        }
    }
}

fn columns(tables: &[(&str, &Table)], key: usize, shared: usize) -> Table {
    let first = tables[0].1;
    let width = first.columns.len();
    let measured = width.saturating_sub(key + shared);
    let mut columns: Vec<String> = first.columns[..key].to_vec();
    for (w, t) in tables {
        columns.extend(t.columns[key..key + measured].iter().map(|c| format!("{w}: {c}")));
    }
    columns.extend(first.columns[key + measured..].iter().cloned());
    // Rows in order of first appearance over the writers.
    let row_key = |r: &Vec<Cell>| r[..key.min(r.len())].iter().map(|c| c.text.clone()).collect::<Vec<_>>();
    let mut keys: Vec<Vec<String>> = Vec::new();
    for (_, t) in tables {
        for r in &t.rows {
            let k = row_key(r);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let rows = keys
        .iter()
        .map(|k| {
            let found: Vec<Option<&Vec<Cell>>> =
                tables.iter().map(|(_, t)| t.rows.iter().find(|r| row_key(r) == *k && r.len() == width)).collect();
            let any = found.iter().flatten().next().copied();
            let mut row: Vec<Cell> = any.map_or_else(|| k.iter().map(Cell::text).collect(), |r| r[..key].to_vec());
            for f in &found {
                match f {
                    Some(r) => row.extend(r[key..key + measured].iter().cloned()),
                    None => row.extend((0..measured).map(|_| Cell::missing("not measured"))),
                }
            }
            match any {
                Some(r) => row.extend(r[key + measured..].iter().cloned()),
                None => row.extend((0..shared).map(|_| Cell::missing("–"))),
            }
            row
        })
        .collect();
    Table { columns, rows, ..first.clone() }
}

fn blocks(tables: &[(&str, &Table)]) -> Table {
    let first = tables[0].1;
    let mut columns = vec!["writer".to_string()];
    columns.extend(first.columns.iter().cloned());
    let rows = tables
        .iter()
        .flat_map(|(w, t)| {
            t.rows.iter().map(move |r| {
                let mut row = vec![Cell::text(*w)];
                row.extend(r.iter().cloned());
                row
            })
        })
        .collect();
    Table { columns, rows, ..first.clone() }
}

/// Each writer's runs and spread, named.
fn context(tables: &[(&str, &Table)]) -> Context {
    let first = &tables[0].1.context;
    let per = |f: fn(&Context) -> &String| {
        tables.iter().map(|(w, t)| format!("{w}: {}", f(&t.context))).collect::<Vec<_>>().join("; ")
    };
    Context {
        machine: first.machine.clone(),
        date: first.date.clone(),
        runs: per(|c| &c.runs),
        spread: per(|c| &c.spread),
        interval: per(|c| &c.interval),
        cells: tables.iter().map(|(_, t)| t.context.cells).sum(),
    }
}

/// The notes of every writer's table, each once (most are the same text).
fn notes(tables: &[(&str, &Table)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, t) in tables {
        for n in &t.notes {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
    }
    out
}

/// One plot from the same plot of each writer: the series of every writer, named by
/// writer when more than one writer has any.
pub fn merge_plots(per_writer: Vec<(&str, &Plot)>) -> Plot {
    let drawing: Vec<&(&str, &Plot)> = per_writer.iter().filter(|(_, p)| !p.series.is_empty()).collect();
    let first = drawing.first().map_or(per_writer[0].1, |(_, p)| *p);
    let mut plot = first.clone();
    if drawing.len() > 1 {
        plot.series = drawing
            .iter()
            .flat_map(|(w, p)| {
                p.series
                    .iter()
                    .map(move |s| crate::report::Series { name: format!("{w}: {}", s.name), points: s.points.clone() })
            })
            .collect();
    } else if let Some((w, _)) = drawing.first() {
        plot.title = format!("{} — {w}", plot.title);
    }
    plot
}
