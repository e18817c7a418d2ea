//! `recommend`'s model against real exports it did not calibrate on: predicted time and
//! bytes within 30 % of the measured ones on three configurations (sizes inside the
//! calibrated range but not calibrated on, and three different settings).

use cellucid_bench::cli::recommend::{calibrate, calibration_settings, measure, synthetic_dataset, CALIBRATION_REPEATS, CALIBRATION_SIZES};
use cellucid_reports::model::Codec;
use cellucid_reports::recommend::{Model, Setting};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Relative errors (time, bytes) of the model on three configurations it did not calibrate on.
fn prediction_errors() -> Vec<(String, f64, f64)> {
    // On tmpfs when there is one: disk writeback of earlier exports lands at random in
    // later ones on a small machine, and this test is about the model, not the disk.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm).unwrap() } else { tempfile::tempdir().unwrap() };
    let density = 0.1;
    let obs = calibrate(dir.path(), density, CALIBRATION_SIZES, &calibration_settings(), CALIBRATION_REPEATS).unwrap();
    let model = Model::fit(&obs);
    assert_eq!(model.settings.len(), 12);

    let configs = [
        (20_000usize, 1_000usize, Setting { var_quantization: Some(8), codec: Codec::Gzip(6) }),
        // f32 plain is the cheapest setting per value: at 8,000 × 1,500 an export took
        // 40–60 ms and its own median moved by ±25 % between test runs, too little time
        // to hold any model to 30 %. At 30 M values it is measurable (as the CI gate's
        // plan requires of its configurations).
        (24_000, 1_250, Setting { var_quantization: None, codec: Codec::None }),
        (16_000, 800, Setting { var_quantization: Some(16), codec: Codec::Gzip(1) }),
    ];
    // The checks are measured like the calibration: in rounds over the three
    // configurations, so that a drift of the machine does not land on one of them only.
    let datasets: Vec<_> = configs
        .iter()
        .map(|&(cells, genes, _)| {
            assert!(!CALIBRATION_SIZES.contains(&(cells, genes)));
            synthetic_dataset(cells, genes, density).unwrap()
        })
        .collect();
    let mut runs: Vec<Vec<_>> = vec![Vec::new(); configs.len()];
    for _ in 0..5 {
        for (i, &(cells, genes, setting)) in configs.iter().enumerate() {
            runs[i].push(measure(&datasets[i], cells, genes, setting, dir.path()).unwrap());
        }
    }
    let mut errors = Vec::new();
    for (i, &(cells, genes, setting)) in configs.iter().enumerate() {
        let time = median(runs[i].iter().map(|o| o.time_s).collect());
        let bytes = median(runs[i].iter().map(|o| o.bytes).collect());
        let p = model.get(setting).unwrap().predict(cells as f64, genes as f64);
        let (et, eb) = (p.time_s / time - 1.0, p.bytes / bytes - 1.0);
        eprintln!(
            "{cells}x{genes} {}: time predicted {:.3} s, measured {:.3} s ({:+.1} %); bytes predicted {:.0}, measured {:.0} ({:+.1} %)",
            setting.label(),
            p.time_s,
            time,
            et * 100.0,
            p.bytes,
            bytes,
            eb * 100.0
        );
        errors.push((format!("{cells}x{genes} {}", setting.label()), et, eb));
    }
    errors
}

/// Bytes are deterministic for a dataset and setting: checked on every test run.
#[test]
fn byte_predictions_within_30_percent_of_real_exports() {
    let bad: Vec<_> = prediction_errors().into_iter().filter(|e| e.2.abs() > 0.3).collect();
    assert!(bad.is_empty(), "byte predictions off by more than 30 %: {bad:?}");
}

/// Times are a measurement on a shared machine, so this runs by hand
/// (`cargo test --release -p cellucid-bench --test recommend -- --ignored --nocapture`).
/// With calibration and checks both measured in interleaved rounds the errors here were
/// within ±20 % (see the README); a timed assertion on a shared machine still stays out of
/// the default suite.
#[test]
#[ignore = "timing measurement: run by hand on a quiet machine"]
fn time_predictions_within_30_percent_of_real_exports() {
    let bad: Vec<_> = prediction_errors().into_iter().filter(|e| e.1.abs() > 0.3).collect();
    assert!(bad.is_empty(), "time predictions off by more than 30 %: {bad:?}");
}

#[test]
fn budget_parsers() {
    use cellucid_bench::cli::recommend::{parse_bytes, parse_duration};
    assert_eq!(parse_duration("5m").unwrap(), 300.0);
    assert_eq!(parse_duration("90s").unwrap(), 90.0);
    assert_eq!(parse_duration("1h").unwrap(), 3600.0);
    assert!(parse_duration("soon").is_err());
    assert_eq!(parse_bytes("2GB").unwrap(), 2e9);
    assert_eq!(parse_bytes("500mb").unwrap(), 5e8);
    assert!(parse_bytes("-1G").is_err());
}

/// `recommend --writer NAME` calibrates by running that writer: here our exporter declared
/// as a user writer that can only express q8 and gzip 6, so calibration (and the
/// recommendation) stays within those settings.
#[test]
fn recommend_for_a_declared_writer_calibrates_it_on_what_it_can_express() {
    let tmp = tempfile::tempdir().unwrap();
    let writers = tmp.path().join("w.toml");
    std::fs::write(
        &writers,
        "[[writer]]\nname = \"bench-lite\"\n\
         command = [\"{bench}\", \"export\", \"{input}\", \"{out}\", \"--params\", \"{params}\", \"--quiet\"]\n\
         version = [\"{bench}\", \"--version\"]\n\
         [writer.supports]\nvar_quantization = [8]\ngzip_levels = [6]\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
        .args(["recommend", "--cells", "30000", "--genes", "1000", "--writer", "bench-lite", "--calibration-repeats", "1", "--json", "--writers"])
        .arg(&writers)
        .arg("--target")
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("setting q16 plain: left out, var_quantization = 16: bench-lite supports none, 8"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let labels: Vec<&str> = v["model"]["settings"].as_array().unwrap().iter().filter_map(|m| m["setting"].as_str()).collect();
    assert_eq!(labels.len(), 4, "f32 and q8 × plain and gz6: {labels:?}");
    assert!(labels.iter().all(|l| !l.contains("q16") && !l.contains("gz1") && !l.contains("gz9")), "{labels:?}");
    assert!(v["source"].as_str().unwrap().starts_with("calibrated bench-lite (cellucid-bench "), "{}", v["source"]);
    // An unknown writer is one line naming the known ones.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
        .args(["recommend", "--cells", "1000", "--genes", "100", "--writer", "nope"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("no writer \"nope\" (known: cellucid-bench, cellucid-py-0.9.2"));
}

/// `recommend` predicts the writer's peak memory and warns when it exceeds the RAM
/// available: a dataset of 10⁹ cells cannot fit on any machine this runs on, 10⁴ cells
/// fits on every one. Stored results stand in for calibration (fast, no exports).
#[test]
fn recommend_predicts_peak_memory_and_warns_when_it_exceeds_ram() {
    let store = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/measurements/2026-12-02/guide.jsonl");
    let run = |cells: &str, json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cellucid-bench"));
        cmd.args(["recommend", "--cells", cells, "--genes", "20000", "--density", "0.05", "--results", store]);
        if json {
            cmd.arg("--json");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let huge = run("1000000000", false);
    assert!(huge.contains("memory: cellucid-bench peaks at about") && huge.contains("MORE than the"), "{huge}");
    let small = run("10000", false);
    assert!(small.contains("memory: cellucid-bench peaks at about") && !small.contains("MORE than"), "{small}");
    let v: serde_json::Value = serde_json::from_str(&run("10000", true)).unwrap();
    let peak = v["peak_memory_bytes"].as_u64().unwrap();
    // 10,000 × 20,000 at 5 %: an 80 MB matrix; ours holds about it once, plus start-up.
    assert!(peak > 80_000_000 && peak < 300_000_000, "{peak}");
}
