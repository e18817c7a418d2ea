//! Peak memory of an export from CSC input, against the bound:
//! input size + threads × cells × 8 bytes + 64 MB.
//!
//! The dataset is generated in this process, then the kernel's peak-RSS mark is reset
//! (`/proc/self/clear_refs` ← 5) so that `VmHWM` afterwards is the export's own peak
//! (absolute: it includes the input and the program itself). Output goes to tmpfs, whose
//! pages are not charged to the process's RSS.
//!
//! `cargo run --release -p cellucid-benches --example peak_memory -- [CELLS] [GENES]`

use cellucid_benches::{gene_dataset, tmpfs_dir};
use cellucid_core::{export, DenseArray, ExportOptions, Label, ObsColumn, ObsData, ObsFrame, VarFrame};

fn status_kb(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let cells = args.first().copied().unwrap_or(100_000);
    let genes = args.get(1).copied().unwrap_or(2_000);
    let mut ds = gene_dataset(cells, genes);
    // Only what the gene stage needs around it: a 2-D embedding, a tiny latent, one field.
    ds.x_umap_2d = Some(DenseArray::new_2d(cells, 2, (0..cells * 2).map(|i| (i % 997) as f32).collect::<Vec<f32>>()).into());
    ds.latent_space = Some(DenseArray::new_2d(cells, 2, (0..cells * 2).map(|i| (i % 13) as f32).collect::<Vec<f32>>()).into());
    ds.obs = Some(ObsFrame {
        n_rows: cells,
        columns: vec![ObsColumn {
            name: "cluster".into(),
            data: ObsData::Categorical { categories: vec![Label::Str("a".into()), Label::Str("b".into())], codes: (0..cells as i32).map(|i| i % 2).collect() },
        }],
    });
    ds.var = Some(VarFrame::from_ids((0..genes).map(|g| format!("g{g}"))));
    ds.connectivities = None;
    ds.vector_fields = None;
    let input = ds.nbytes() as u64;
    let threads = rayon::current_num_threads() as u64;
    let before = status_kb("VmRSS:") * 1024;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let dir = tmpfs_dir();
    let mut o = ExportOptions::new("peak", "peak", "uint8");
    o.var_quantization = Some(8);
    o.compression = Some(6);
    let report = export(&ds, &o, &dir.path().join("out")).expect("export");
    let peak = status_kb("VmHWM:") * 1024;
    let bound = input + threads * cells as u64 * 8 + (64 << 20);
    println!("cells {cells}, genes {genes}, threads {threads}, export {:.2} s", report.wall.as_secs_f64());
    println!("input (CSC) {:.1} MB; RSS before export {:.1} MB", input as f64 / 1e6, before as f64 / 1e6);
    println!(
        "peak RSS during export {:.1} MB; bound input + threads*cells*8 + 64 MB = {:.1} MB -> {}",
        peak as f64 / 1e6,
        bound as f64 / 1e6,
        if peak < bound { "within" } else { "EXCEEDED" }
    );
}
