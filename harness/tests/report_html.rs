//! The HTML report in a real browser: Debian's `chromium`, headless (installed by
//! `scripts/install-browser.sh`; this test installs nothing). It renders the page from
//! a real `quick` sweep store, takes a screenshot, dumps the DOM and checks that every
//! table and plot is there and that nothing failed to load.

mod support;

use std::path::Path;
use std::process::Command;

use support::{browser, chromium};

#[test]
fn html_report_renders_in_chromium() {
    let bin = chromium();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/data/quick.jsonl");
    let st = Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
        .args(["report", store.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // No external resource: no URL other than the SVG namespace, no src/href at all.
    let stripped = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!stripped.contains("http://") && !stripped.contains("https://"));
    assert!(!stripped.contains("src=") && !stripped.contains("href="));
    let url = format!("file://{}", page.display());

    let shot = dir.path().join("shot.png");
    let o = browser(&bin, &dir.path().join("p1"), &[format!("--screenshot={}", shot.display()), "--window-size=1280,4000".into()], &url);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium failed: {log}");
    assert!(!log.contains("Failed to load"), "{log}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank 1280x4000 page compresses to a few kB; tables, text and plots do not.
    assert!(png.len() > 100_000, "screenshot is only {} bytes", png.len());
    if let Ok(keep) = std::env::var("CELLUCID_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }

    let o = browser(&bin, &dir.path().join("p2"), &["--dump-dom".into()], &url);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(!log.contains("Failed to load"), "{log}");
    let dom = String::from_utf8_lossy(&o.stdout);
    for id in ["scaling", "gene-expression", "bytes-per-value", "levers", "compression", "quantization", "scale", "atlas", "filesystems", "connectivities", "writers"] {
        assert!(dom.contains(&format!("id=\"table-{id}\"")), "table {id} missing from the DOM");
    }
    for id in ["gene-time", "gene-disk", "compression-tradeoff"] {
        let at = dom.find(&format!("id=\"plot-{id}\"")).unwrap_or_else(|| panic!("plot {id} missing"));
        assert!(dom[at..].contains("<svg"), "plot {id} has no svg");
    }
    assert_eq!(dom.matches("<table").count(), 12, "11 tables and the verdicts");
    assert!(dom.contains("gz9-smallest-slowest") && dom.contains("q8-good-default"));
}

/// `--writer` narrows the report to one writer; an unknown one is refused by name; `--baseline`
/// names table 9's speed-up column. (No browser needed.)
#[test]
fn report_cli_selects_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/data/quick.jsonl");
    let run = |extra: &[&str], out: &str| {
        Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
            .args(["report", store.to_str().unwrap(), "--out", dir.path().join(out).to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&["--writer", "cellucid-py-0.9.2"], "one");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let verdicts = std::fs::read_to_string(dir.path().join("one/csv/verdicts.csv")).unwrap();
    assert!(verdicts.lines().skip(1).all(|l| l.contains(",cellucid-py-0.9.2,")), "{verdicts}");
    let o = run(&["--baseline", "cellucid-py-0.9.2"], "both");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t9 = std::fs::read_to_string(dir.path().join("both/csv/writers.csv")).unwrap();
    assert!(t9.lines().next().unwrap().contains("speed-up vs cellucid-py-0.9.2"), "{t9}");
    let o = run(&["--writer", "cellucid-x"], "none");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("\"cellucid-x\" is not in the results") && err.contains("cellucid-bench"), "{err}");
}
