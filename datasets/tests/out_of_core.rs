//! The gene matrix read for an export — only a panel's columns, or spilled out of core
//! under a memory budget — gives exactly the folder of a full in-memory read, on every
//! golden case and on synthetic CSR, CSC and dense files (non-canonical CSR included),
//! and the same refusal when a gene is not finite.

use std::path::Path;

use cellucid_core::compare::compare_folders;
use cellucid_core::stage::genes::panel_columns;
use cellucid_core::{export_with_blocks, Compressed, ColumnBlocks, Dataset, ExportOptions, ExportReport, Matrix, Values};
use cellucid_datasets::golden;
use cellucid_datasets::h5ad::{self, Mapping, ReadOptions, SpillBudget};
use cellucid_datasets::synthetic::{generate, DatasetSpec, Layout};

/// How one export reads its gene matrix.
#[derive(Clone, Copy, Debug)]
enum Read {
    Full,
    Panel,
    Spill,
}

/// Read `file` (holding its arrays under `mapping`) the `how` way and export it to
/// `out`; the report or the error's text.
fn export_as(file: &Path, mapping: &Mapping, options: &ExportOptions, how: Read, out: &Path, scratch: &Path) -> Result<ExportReport, String> {
    let mut ro = ReadOptions { x_as_csc: true, ..ReadOptions::default() };
    if matches!(how, Read::Panel | Read::Spill) {
        let var = h5ad::read_var(file).map_err(|e| e.to_string())?;
        ro.x_columns = panel_columns(&var, options);
    }
    if matches!(how, Read::Spill) {
        // One byte: every block is a single column, everything spills.
        ro.x_budget = Some(SpillBudget { bytes: 1, scratch_dir: scratch.to_path_buf() });
    }
    let (ds, spilled) = h5ad::read_for_export(file, mapping, &ro).map_err(|e| e.to_string())?;
    let blocks = spilled.as_deref().map(|s| s as &dyn ColumnBlocks);
    export_with_blocks(&ds, blocks, options, out, &|_| {}).map_err(|e| e.to_string())
}

/// Every way of reading gives the full read's folder (or its refusal); returns the
/// spill report's spilled bytes.
fn assert_same(file: &Path, mapping: &Mapping, options: &ExportOptions, label: &str) -> u64 {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).expect("scratch");
    let full = tmp.path().join("full");
    let expected = export_as(file, mapping, options, Read::Full, &full, &scratch);
    let mut spilled = 0;
    for how in [Read::Panel, Read::Spill] {
        let out = tmp.path().join(format!("{how:?}"));
        let got = export_as(file, mapping, options, how, &out, &scratch);
        match (&expected, &got) {
            (Ok(_), Ok(report)) => {
                let problems = compare_folders(&full, &out, None);
                assert!(problems.is_empty(), "{label} {how:?}: {problems:?}");
                if matches!(how, Read::Spill) {
                    spilled = report.spill_bytes;
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{label} {how:?}: different refusals"),
            (a, b) => panic!("{label} {how:?}: full read {:?}, this read {:?}", a.as_ref().err(), b.as_ref().err()),
        }
        let left: Vec<_> = std::fs::read_dir(&scratch).expect("scratch").collect();
        assert!(left.is_empty(), "{label} {how:?}: spill files left behind: {left:?}");
    }
    spilled
}

#[test]
fn every_golden_case_is_the_same_with_a_panel_read_and_a_tiny_memory_limit() {
    let cases = golden::case_dirs(&golden::golden_root()).expect("golden cases");
    let mut written = 0;
    let mut spilled_cases = 0;
    for case in &cases {
        let ds = golden::load_dataset(case).expect("golden dataset");
        let Some(Matrix::Dense(_) | Matrix::Csr(_) | Matrix::Csc(_) | Matrix::Coo(_)) = &ds.gene_expression else { continue };
        let options = golden::export_options(case).expect("golden options");
        // The file keeps X's layout; COO is stored as CSR, as anndata does.
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("case.h5ad");
        if h5ad::write(&ds, &file).is_err() {
            continue;
        }
        written += 1;
        if assert_same(&file, &Mapping::written(&ds), &options, &case.display().to_string()) > 0 {
            spilled_cases += 1;
        }
    }
    assert!(written >= 6, "only {written} golden cases could be written as .h5ad");
    assert!(spilled_cases >= 1, "no golden case spilled its gene matrix");
}

/// A synthetic dataset whose X has the given layout.
fn synthetic(layout: Layout) -> Dataset {
    let spec = DatasetSpec { cells: 400, genes: 60, density: 0.2, layout, latent_dims: 5, seed: 7, ..DatasetSpec::default() };
    generate(&spec).expect("synthetic dataset")
}

fn options_for(panel: Option<&[&str]>) -> ExportOptions {
    let mut o = ExportOptions::new("ooc", "ooc", "uint8");
    o.created_at = Some("2026-01-01T00:00:00Z".into());
    o.var_quantization = Some(8);
    o.compression = Some(6);
    o.gene_identifiers = panel.map(|p| p.iter().map(|s| s.to_string()).collect());
    o
}

fn gene_ids(ds: &Dataset, picks: &[usize]) -> Vec<String> {
    let var = ds.var.as_ref().expect("var");
    picks
        .iter()
        .map(|&i| match &var.index[i] {
            cellucid_core::Label::Str(s) => s.clone(),
            other => panic!("gene id {other:?}"),
        })
        .collect()
}

fn write_tmp(ds: &Dataset, dir: &Path, name: &str) -> (std::path::PathBuf, Mapping) {
    let file = dir.join(name);
    h5ad::write(ds, &file).expect("write h5ad");
    (file, Mapping::written(ds))
}

#[test]
fn csr_csc_and_dense_files_give_the_same_folder_with_a_panel_and_a_budget_far_below_the_matrix() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for layout in [Layout::Csr, Layout::Csc, Layout::Dense] {
        let ds = synthetic(layout);
        let (file, m) = write_tmp(&ds, tmp.path(), &format!("{layout:?}.h5ad"));
        let ids = gene_ids(&ds, &[41, 3, 17, 0, 59]);
        let panel: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_same(&file, &m, &options_for(Some(&panel)), &format!("{layout:?} panel"));
        // A one-byte budget reads every layout block by block (CSR through spill files).
        let budget = SpillBudget { bytes: 1, scratch_dir: tmp.path().to_path_buf() };
        let ro = ReadOptions { x_as_csc: true, x_budget: Some(budget), ..ReadOptions::default() };
        let (_, blocks) = h5ad::read_for_export(&file, &m, &ro).expect("read");
        let blocks = blocks.expect("read by blocks");
        assert_eq!(blocks.starts().len(), 60 + 1, "{layout:?}: one column per block");
        drop(blocks);
        let spilled = assert_same(&file, &m, &options_for(None), &format!("{layout:?} all genes"));
        if layout == Layout::Csr {
            assert!(spilled > 0, "a one-byte budget must spill a CSR matrix");
        }
    }
}

/// A non-canonical CSR (unsorted, duplicated entries) with a NaN in gene 5.
fn non_canonical(mut ds: Dataset) -> Dataset {
    let Some(Matrix::Csr(c)) = &ds.gene_expression else { panic!("expected CSR") };
    let (rows, cols) = c.shape;
    let mut indptr = vec![0u64];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    let Values::F32(values) = &c.data else { panic!("expected float32 data") };
    for r in 0..rows {
        let (a, b) = (c.indptr[r] as usize, c.indptr[r + 1] as usize);
        // Reversed order, and the row's first entry stored twice (summed on export).
        for k in (a..b).rev() {
            indices.push(c.indices[k]);
            data.push(values[k]);
        }
        if b > a {
            indices.push(c.indices[a]);
            data.push(0.25);
        }
        if r == 7 {
            indices.push(5);
            data.push(f32::NAN);
        }
        indptr.push(indices.len() as u64);
    }
    ds.gene_expression = Some(Matrix::Csr(Compressed { shape: (rows, cols), indptr, indices, data: Values::F32(data) }));
    ds
}

#[test]
fn non_canonical_entries_and_a_non_finite_gene_outside_or_inside_the_panel() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ds = non_canonical(synthetic(Layout::Csr));
    let (file, m) = write_tmp(&ds, tmp.path(), "noncanonical.h5ad");
    // Gene 5 (NaN) outside the panel: every read exports, identically.
    let ids = gene_ids(&ds, &[9, 2, 33]);
    let panel: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_same(&file, &m, &options_for(Some(&panel)), "panel without the NaN gene");
    // Inside it (or all genes): every read refuses with the same message.
    let ids = gene_ids(&ds, &[9, 5, 33]);
    let panel: Vec<&str> = ids.iter().map(String::as_str).collect();
    let scratch = tmp.path();
    let out = tmp.path().join("refused");
    let err = export_as(&file, &m, &options_for(Some(&panel)), Read::Spill, &out, scratch).expect_err("NaN gene refused");
    assert!(err.contains("cannot be published") && err.contains(&ids[1]), "{err}");
    assert_same(&file, &m, &options_for(Some(&panel)), "panel with the NaN gene");
    assert_same(&file, &m, &options_for(None), "all genes, NaN in gene 5");
}

/// Overwrites the column index of stored entry `k` of the CSR at `X` with `value`.
fn patch_csr_index(file: &Path, k: usize, value: i64) {
    let f = hdf5::File::open_rw(file).expect("open rw");
    let ds = f.dataset("X/indices").expect("X/indices");
    let mut v: Vec<i64> = ds.read_raw().expect("read indices");
    v[k] = value;
    if ds.dtype().expect("dtype").size() == 4 {
        let narrow: Vec<i32> = v.iter().map(|&x| x as i32).collect();
        ds.write_raw(&narrow).expect("write indices");
    } else {
        ds.write_raw(&v).expect("write indices");
    }
}

#[test]
fn an_index_outside_the_matrix_is_refused_alike_by_every_read_naming_the_first_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ds = synthetic(Layout::Csr);
    let (file, m) = write_tmp(&ds, tmp.path(), "bad_index.h5ad");
    patch_csr_index(&file, 700, 61);
    patch_csr_index(&file, 90, -2);
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).expect("scratch");
    for how in [Read::Full, Read::Panel, Read::Spill] {
        let out = tmp.path().join(format!("out-{how:?}"));
        let ids = gene_ids(&ds, &[1, 2]);
        let panel: Vec<&str> = ids.iter().map(String::as_str).collect();
        let options = options_for(matches!(how, Read::Panel).then_some(&panel[..]));
        let err = export_as(&file, &m, &options, how, &out, &scratch).expect_err("bad index refused");
        assert!(err.contains("X/indices") && err.contains("index -2 outside 0..60"), "{how:?}: {err}");
        assert!(!out.exists(), "{how:?}: nothing published");
    }
}
