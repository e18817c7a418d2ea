//! Every `.gz` the reference wrote in the golden cases: our strict reader accepts it as
//! one member, and each backend re-encodes the payload at the case's `compression` level
//! with the golden header and a member that decompresses to the same bytes.
//!
//! FORMAT.md §13 leaves open whether zlib-rs reproduces zlib 1.2.13's deflate bytes.
//! It does not: `zlib_rs_deflate_bytes_vs_golden` (ignored, run with `--ignored`) shows
//! 30 of the 78 golden members identical; the others differ in the deflate body only.

use std::path::{Path, PathBuf};

use cellucid_core::codec::gzip::{gunzip_single_member, GzipEncoder};
use cellucid_core::codec::{Json, PayloadKind};
use cellucid_core::options::GzipBackend;

mod support;

/// The golden set beside the repository (or under `$CELLUCID_SHARED`); missing is a failure.
fn golden() -> std::path::PathBuf {
    let g = support::tree::shared_dir().join("golden");
    assert!(g.is_dir(), "golden set not found at {} (set CELLUCID_SHARED)", g.display());
    g
}
const BACKENDS: [GzipBackend; 4] =
    [GzipBackend::Auto, GzipBackend::ZlibRs, GzipBackend::Libdeflate, GzipBackend::Miniz];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "gz") {
            out.push(p);
        }
    }
}

/// `(level, gz files)` for each golden case that compresses.
fn golden_cases() -> Vec<(String, u32, Vec<PathBuf>)> {
    let mut cases = Vec::new();
    let Ok(dirs) = std::fs::read_dir(golden()) else { return cases };
    for d in dirs.flatten() {
        let case = d.path();
        let Ok(params) = std::fs::read_to_string(case.join("params.json")) else { continue };
        let params = Json::parse(&params).expect("params.json parses");
        let Some(Json::Int(level)) = params.get("compression") else { continue };
        let mut files = Vec::new();
        walk(&case.join("expected"), &mut files);
        files.sort();
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        cases.push((name, *level as u32, files));
    }
    cases.sort();
    cases
}

#[test]
fn golden_members_reencode_with_every_backend() {
    golden();
    let cases = golden_cases();
    let total: usize = cases.iter().map(|c| c.2.len()).sum();
    assert!(cases.len() >= 3 && total >= 70, "found {} cases, {total} gz files", cases.len());
    let mut levels: Vec<u32> = cases.iter().map(|c| c.1).collect();
    levels.dedup();
    let mut out = Vec::new();
    for (name, level, files) in &cases {
        let mut encoders: Vec<GzipEncoder> = BACKENDS.iter().map(|&b| GzipEncoder::new(*level, b)).collect();
        for f in files {
            let golden = std::fs::read(f).expect("read golden gz");
            let payload = gunzip_single_member(&golden)
                .unwrap_or_else(|e| panic!("{name} {}: {e}", f.display()));
            for enc in &mut encoders {
                enc.encode(&payload, &mut out);
                assert_eq!(out[..10], golden[..10], "{name} {} {:?}: header", f.display(), enc.backend);
                let back = gunzip_single_member(&out).expect("our member is valid");
                assert!(back == payload, "{name} {} {:?}: payload differs", f.display(), enc.backend);
            }
        }
    }
}

/// The quantized genes of the golden set, coded as the default backend codes them
/// (run-length at levels 1–6, the smaller of two codings above): every member decodes
/// to the golden payload, and together they are no larger than zlib 1.2.13's members.
#[test]
fn golden_gene_codes_run_length_coded_no_larger_than_zlib() {
    golden();
    let (mut ours, mut zlib, mut members) = (0usize, 0usize, 0usize);
    let mut out = Vec::new();
    for (name, level, files) in golden_cases() {
        let mut enc = GzipEncoder::new(level, GzipBackend::Auto);
        for f in files {
            let rel = f.to_string_lossy();
            let Some(at) = rel.find("/var/") else { continue };
            if PayloadKind::of_path(&rel[at + 1..]) != PayloadKind::GeneCodes {
                continue;
            }
            let golden = std::fs::read(&f).expect("read golden gz");
            let payload = gunzip_single_member(&golden).expect("golden is one member");
            enc.encode_codes(&payload, &mut out);
            assert_eq!(out[..10], golden[..10], "{name} {rel}: header");
            assert_eq!(gunzip_single_member(&out).expect("valid member"), payload, "{name} {rel}");
            ours += out.len();
            zlib += golden.len();
            members += 1;
        }
    }
    println!("{members} golden gene-code members: {ours} bytes run-length coded, {zlib} bytes by zlib");
    assert!(members >= 10, "only {members} quantized gene members in the golden set");
    assert!(ours <= zlib, "{ours} bytes against zlib's {zlib}");
}

/// Compares zlib-rs's deflate bytes with zlib 1.2.13's (the golden files), listing the
/// members that differ. Known to fail with zlib-rs 0.6 (48 of 78 differ), hence ignored;
/// it passes only with a deflate that reproduces zlib 1.2.13.
#[test]
#[ignore = "zlib-rs's deflate bytes differ from zlib 1.2.13 on 48 of 78 golden members"]
fn zlib_rs_deflate_bytes_vs_golden() {
    golden();
    let mut out = Vec::new();
    let mut differing = Vec::new();
    let mut total = 0;
    for (name, level, files) in golden_cases() {
        let mut enc = GzipEncoder::new(level, GzipBackend::ZlibRs);
        for f in files {
            let golden = std::fs::read(&f).expect("read golden gz");
            let payload = gunzip_single_member(&golden).expect("golden is one member");
            enc.encode(&payload, &mut out);
            total += 1;
            if out != golden {
                differing.push(format!("{name} L{level} {} ({} vs {} bytes)", f.display(), out.len(), golden.len()));
            }
        }
    }
    eprintln!("zlib-rs byte-identical on {} of {total} golden members", total - differing.len());
    for d in &differing {
        eprintln!("  differs: {d}");
    }
    assert!(differing.is_empty(), "{} of {total} golden members differ", differing.len());
}
