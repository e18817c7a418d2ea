//! The zstd what-if codec: the same payloads as the gzip export, in zstd frames with
//! `.zst` names; the viewer cannot load it, and `validate` says so.

mod support;

use cellucid_core::{export, validate};
use cellucid_datasets::golden;
use std::fs;

#[test]
fn zstd_what_if_holds_the_same_payloads_and_is_not_loadable() {
    let case = support::tree::shared_dir().join("golden/case02_csr_q8_gz6_graph");
    let ds = golden::load_dataset(&case).expect("case");
    let mut o = golden::export_options(&case).expect("options");
    o.compression = None;
    o.zstd_what_if = Some(3);
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("zstd");
    export(&ds, &o, &out).expect("export");
    let expected = case.join("expected");
    let mut checked = 0;
    for g in 0..10 {
        let z = fs::read(out.join(format!("var/{g}.values.u8.zst"))).expect("zst payload");
        let gz = fs::read(expected.join(format!("var/{g}.values.u8.gz"))).expect("golden payload");
        let want = cellucid_core::codec::gzip::gunzip_single_member(&gz).expect("gunzip");
        assert_eq!(zstd::bulk::decompress(&z, want.len()).expect("zstd"), want);
        checked += 1;
    }
    assert_eq!(checked, 10);
    assert!(!validate(&out).is_ok(), "a zstd folder must not pass the viewer's checks");
    o.compression = Some(6);
    let err = export(&ds, &o, &tmp.path().join("both")).expect_err("zstd and gzip together are refused");
    assert_eq!(err.field(), Some("zstd_what_if"));
}
