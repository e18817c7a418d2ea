//! Every JSON file the reference wrote in the golden cases, parsed with `Json::parse`
//! and re-emitted through `Json`, must come back byte for byte: `dataset_identity.json`
//! with `to_pretty` (`json.dumps(v, indent=2)`), the manifests with `to_compact`.

use std::path::{Path, PathBuf};

use cellucid_core::codec::Json;

mod support;

/// The golden set beside the repository (or under `$CELLUCID_SHARED`); missing is a failure.
fn golden() -> std::path::PathBuf {
    let g = support::tree::shared_dir().join("golden");
    assert!(g.is_dir(), "golden set not found at {} (set CELLUCID_SHARED)", g.display());
    g
}

fn golden_json_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(cases) = std::fs::read_dir(golden()) else {
        return files;
    };
    for case in cases.flatten() {
        let expected = case.path().join("expected");
        let Ok(entries) = std::fs::read_dir(&expected) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn reemit(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("golden JSON is UTF-8");
    let v = Json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let again = if path.file_name().is_some_and(|n| n == "dataset_identity.json") {
        v.to_pretty()
    } else {
        v.to_compact()
    };
    (text, again)
}

#[test]
fn golden_json_round_trips_byte_for_byte() {
    let files = golden_json_files();
    golden();
    assert!(files.len() >= 37, "expected the 12 golden cases' JSON files, found {}", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let (text, again) = reemit(f);
        if text != again {
            let at = text.bytes().zip(again.bytes()).position(|(a, b)| a != b).unwrap_or(0);
            let lo = at.saturating_sub(40);
            failures.push(format!(
                "{} differs at byte {at}: want {:?} got {:?}",
                f.display(),
                text.get(lo..(at + 40).min(text.len())),
                again.get(lo..(at + 40).min(again.len()))
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), files.len(), failures.join("\n"));
}
