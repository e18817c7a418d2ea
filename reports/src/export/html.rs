//! HTML: one self-contained page, `report.html`. CSS is inline, plots are inline SVG,
//! and nothing is fetched (no script, no font, no image URL), so the page works offline
//! and from any folder. It reads top to bottom: what was measured, the verdicts in plain
//! words, then each guide section's table with its context and notes, then the plots.

use super::{plot, write_file, Exporter};
use crate::error::ReportError;
use crate::report::{Report, Table};
use crate::verdicts::Outcome;
use std::path::{Path, PathBuf};

pub struct Html;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const CSS: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.92em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f1f4f8}tr:nth-child(even) td{background:#fafafa}
.ctx{color:#555;font-size:.88em}.guide{border-left:4px solid #8ab;padding:.2em .8em;background:#f5fafc;margin:.5em 0}
.note{color:#444;font-size:.88em}.v-holds{color:#17632a;font-weight:bold}.v-partly{color:#8a5a00;font-weight:bold}
.v-does_not_hold{color:#a11;font-weight:bold}.v-not_measured{color:#777;font-weight:bold}
.num{font-size:.9em;color:#333}figure{margin:1em 0}figcaption{font-size:.9em;color:#444}svg{max-width:100%;height:auto}";

fn table_html(t: &Table) -> String {
    let mut out = format!(
        "<section class=\"table\" id=\"table-{}\"><h2>{}</h2><p class=\"guide\">Guide: {}</p><p class=\"ctx\">{}</p><table><thead><tr>",
        esc(&t.id),
        esc(&t.title),
        esc(&t.guide),
        esc(&t.context.line())
    );
    for c in &t.columns {
        out.push_str(&format!("<th>{}</th>", esc(c)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            out.push_str(&format!("<td>{}</td>", esc(&c.text)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    for n in &t.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>", esc(n)));
    }
    out.push_str("</section>\n");
    out
}

fn class(o: Outcome) -> &'static str {
    match o {
        Outcome::Holds => "v-holds",
        Outcome::Partly => "v-partly",
        Outcome::DoesNotHold => "v-does_not_hold",
        Outcome::NotMeasured => "v-not_measured",
    }
}

pub fn render(r: &Report) -> Result<String, ReportError> {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1>\n",
        esc(&r.title),
        esc(&r.title)
    );
    out.push_str(&format!(
        "<p class=\"ctx\">Machine: {}. Built from: {}. Date: {}. Plans: {}. Writers: {}. {} measured runs ({} failed runs and {} cells skipped over budget left out).</p>\n",
        esc(&r.machine),
        esc(&r.commits),
        esc(&r.date),
        esc(&r.plans),
        esc(&r.writers_line()),
        r.samples,
        r.failed,
        r.skipped
    ));
    out.push_str("<p>Cellucid's performance-tuning guide gives rules of thumb for exporting single-cell data to the viewer. This page checks each rule against exports measured on this machine, then shows the guide's sections as tables of measured numbers. Ratios below 1 mean “smaller or faster than without”. Numbers in brackets are intervals; “n&lt;3” marks settings measured fewer than three times. Each writer is judged on its own runs only; a value marked “extrapolated” is a prediction for a cell that was not run, never a measurement.</p>\n");
    out.push_str("<section id=\"verdicts\"><h2>Verdicts on the guide's rules of thumb, per writer</h2><table><thead><tr><th>rule of thumb</th>");
    for w in &r.writers {
        out.push_str(&format!("<th>{}</th>", esc(&w.describe())));
    }
    out.push_str("<th>id</th></tr></thead><tbody>");
    for v in &r.verdicts {
        out.push_str(&format!("<tr><td>{}</td>", esc(&v.rule)));
        for j in &v.by_writer {
            out.push_str(&format!(
                "<td><span class=\"{}\">{}</span><br><span class=\"num\">{}</span></td>",
                class(j.outcome),
                j.outcome.label(),
                esc(&j.evidence)
            ));
        }
        out.push_str(&format!("<td><code>{}</code></td></tr>", esc(&v.id)));
    }
    out.push_str("</tbody></table></section>\n");
    for t in &r.tables {
        out.push_str(&table_html(t));
    }
    out.push_str("<section id=\"plots\"><h2>Plots</h2>\n");
    for p in &r.plots {
        let svg = plot::svg_string(p)?;
        // Drop the XML declaration so that the SVG can sit inline in HTML.
        let svg = svg.trim_start_matches(|c| c != '<');
        let svg = if svg.starts_with("<?xml") { svg.split_once("?>").map_or(svg, |(_, rest)| rest) } else { svg };
        out.push_str(&format!(
            "<figure class=\"plot\" id=\"plot-{}\">{}<figcaption>{}</figcaption></figure>\n",
            esc(&p.id),
            svg.trim(),
            esc(&p.title)
        ));
    }
    out.push_str("</section></body></html>\n");
    Ok(out)
}

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        Ok(vec![write_file(dir, "report.html", render(report)?.as_bytes())?])
    }
}
