//! The report built from a real (trimmed) `quick` sweep store: tables, verdicts and
//! every output format.

use cellucid_reports::model::{Results, Store};
use cellucid_reports::recommend::Budget;
use cellucid_reports::{Options, Report};
use cellucid_reports::verdicts::Outcome;
use std::path::Path;

fn build(results: &Results, budget: Budget) -> Report {
    cellucid_reports::build(results, &Options::new(budget)).unwrap()
}

fn results() -> Results {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quick.jsonl");
    Results::new(vec![Store::read(&path).unwrap()])
}

#[test]
fn store_model_is_tolerant() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quick.jsonl")).unwrap();
    let store = Store::parse(&text).unwrap();
    assert_eq!(store.samples.len(), 132);
    assert_eq!(store.header.machine.cores, 2);
    // A torn last line (a killed writer) is skipped, an unknown field ignored.
    let mut lines: Vec<&str> = text.lines().take(3).collect();
    let extra = lines[1].replacen('{', "{\"new_field\":[1,2],", 1);
    lines[1] = &extra;
    let torn = format!("{}\n{{\"cell_id\":\"x\",\"wal", lines.join("\n"));
    let s = Store::parse(&torn).unwrap();
    assert_eq!(s.samples.len(), 2);
    assert!(s.truncated);
    // A bad line in the middle is an error with its line number.
    let bad = format!("{}\nnot json\n{}\n", lines[0], lines[1]);
    let e = Store::parse(&bad).unwrap_err().to_string();
    assert!(e.contains(":2:"), "{e}");
}

#[test]
fn tables_hold_measured_numbers() {
    let report = build(&results(), Budget::default());
    let ids: Vec<&str> = report.tables.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["scaling", "gene-expression", "bytes-per-value", "levers", "compression", "quantization", "scale", "atlas", "filesystems", "connectivities", "writers"]
    );
    for t in &report.tables {
        assert!(t.context.machine.contains("AMD EPYC"), "{}", t.id);
        assert_eq!(t.context.date, "2026-11-24");
        for r in &t.rows {
            assert_eq!(r.len(), t.columns.len(), "{}", t.id);
        }
    }
    // Plain f32 is exactly 4 bytes per value, q8 one byte (plus the manifest).
    let bpv = report.tables.iter().find(|t| t.id == "bytes-per-value").unwrap();
    let f32plain = &bpv.rows[0];
    assert_eq!(f32plain[0].text, "f32");
    assert!((f32plain[3].value.unwrap() - 4.0).abs() < 0.01);
    // The reference is about 10x slower on both headline settings: its speed-up
    // against cellucid-bench (the baseline) is about 0.1.
    let writers = report.tables.iter().find(|t| t.id == "writers").unwrap();
    assert_eq!(writers.rows.len(), 4, "two cells, two writers each");
    for r in writers.rows.iter().filter(|r| r[2].text == "cellucid-py-0.9.2") {
        let speedup = r[9].value.unwrap();
        assert!((1.0 / 14.0..1.0 / 8.0).contains(&speedup), "{speedup}");
    }
    // q8 fidelity: error within one quantization step (1/254 of the range).
    let q = cellucid_reports::tables::quantization::fidelity_gene(8);
    assert!(q.max_rel <= 1.0 / 254.0 + 1e-6 && q.max_rel > 0.0, "{q:?}");
    let q16 = cellucid_reports::tables::quantization::fidelity_gene(16);
    assert!(q16.rms_rel < q.rms_rel / 100.0);
}

#[test]
fn verdicts_cover_the_guide() {
    let report = build(&results(), Budget::default());
    let get = |id: &str| report.verdict(id, "cellucid-bench").unwrap_or_else(|| panic!("no verdict {id}"));
    assert_eq!(get("files-equal-genes").outcome, Outcome::Holds);
    assert_eq!(get("bytes-per-value").outcome, Outcome::Holds);
    assert_eq!(get("gzip-smaller-slower").outcome, Outcome::Holds);
    assert_eq!(get("gz9-smallest-slowest").outcome, Outcome::NotMeasured);
    assert_eq!(get("local-ssd-over-network").outcome, Outcome::NotMeasured);
    assert_eq!(get("panel-best-lever").outcome, Outcome::Holds);
    for id in ["q8-good-default", "gz1-for-speed", "gz6-tradeoff", "gt200k-impractical", "le50k-many-genes-ok", "dense-graphs-explode"] {
        assert!(!get(id).evidence.is_empty());
    }
    // A tighter disk budget turns the 200k-cell tier into "panel needed".
    let tight = build(&results(), Budget { time_s: 300.0, disk_bytes: 0.5e9 });
    let v = tight.verdict("50k-200k-panel", "cellucid-bench").unwrap();
    assert_eq!(v.outcome, Outcome::Holds, "{}", v.evidence);
}

#[test]
fn every_format_is_written() {
    let report = build(&results(), Budget::default());
    let dir = tempfile::tempdir().unwrap();
    let files = cellucid_reports::export::write_all(&report, dir.path()).unwrap();
    let names: Vec<String> = files.iter().map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
    for want in ["report.md", "report.json", "report.html", "csv/levers.csv", "csv/verdicts.csv", "plots/gene-time.svg", "plots/gene-time.png"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    let png = std::fs::read(dir.path().join("plots/gene-time.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // The SVG namespace is a name, not a resource; nothing else may point outside.
    let stripped = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!stripped.contains("http://") && !stripped.contains("https://") && !stripped.contains("src="));
    assert_eq!(html.matches("<svg").count(), report.plots.len());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["tables"].as_array().unwrap().len(), report.tables.len());
    let csv = std::fs::read_to_string(dir.path().join("csv/levers.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("time ratio [95 % CI] (lo)"));
}

/// Table 6b lists the runs of a million cells and more with their memory limit and what
/// was spilled; without such runs it says how to get them.
#[test]
fn the_atlas_table_shows_memory_limit_peak_and_spill() {
    let atlas = |report: &Report| report.tables.iter().find(|t| t.id == "atlas").unwrap().clone();
    let empty = atlas(&build(&results(), Budget::default()));
    assert_eq!(empty.rows.len(), 1);
    assert!(empty.rows[0][0].text.contains("--blocks atlas-2m,atlas-4m"), "{:?}", empty.rows[0][0]);
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quick.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // An old store: our writer was the subject "ours".
    let first = lines.iter().position(|l| l.contains("\"subject\":\"ours\"") && l.contains("\"ok\":true")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&lines[first]).unwrap();
    v["cell_id"] = "atlas".into();
    v["label"] = "2000000x20000 d=0.05 q8 gz6 disk mem=4G cellucid-bench".into();
    v["target"] = "disk".into();
    v["dataset"]["cells"] = 2_000_000.into();
    v["dataset"]["genes"] = 20_000.into();
    v["settings"]["gene_panel"] = serde_json::Value::Null;
    v["wall_s"] = 600.0.into();
    v["max_rss_bytes"] = 4_200_000_000u64.into();
    v["memory_limit_bytes"] = (4u64 << 30).into();
    v["spill_bytes"] = 16_000_000_000u64.into();
    lines.push(v.to_string());
    let results = Results::new(vec![Store::parse(&lines.join("\n")).unwrap()]);
    let t = atlas(&build(&results, Budget::default()));
    let row = t.rows.iter().find(|r| r[0].text.starts_with("2000000x20000")).expect("the atlas row");
    let texts: Vec<&str> = row.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts[0], "2000000x20000 d=0.05 q8 gz6 disk mem=4G");
    assert_eq!(texts[1], "4.0 GiB");
    assert_eq!(row[6].value, Some(4.2), "peak RSS GB");
    assert_eq!(row[7].value, Some(16.0), "spilled GB");
    assert!((row[9].value.unwrap() - 600.0 / 40.0).abs() < 1e-9, "seconds per 10^9 values");
}
