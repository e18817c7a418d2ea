//! Real `.h5ad` files holding strings a legacy or hostile writer leaves: Latin-1 in
//! "ASCII" strings, truncated UTF-8 sequences, NULs inside fixed-length records, and
//! non-UTF-8 names inside a stored type. Every file starts as a valid one written by
//! `h5ad::write`; one element is then replaced with the given raw bytes through
//! `hdf5-sys` (the `hdf5` crate's string types only accept valid text, rightly).
//!
//! Shared by `datasets/tests/strings.rs` (the reader's errors) and
//! `harness/tests/input_strings.rs` (the CLI's exit, stderr and out_dir).

#![allow(dead_code)]

use std::ffi::CString;
use std::path::Path;

use cellucid_core::{Dataset, DenseArray, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
use cellucid_datasets::h5ad;
use hdf5::types::TypeDescriptor;
use hdf5::File;
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::H5T_cset_t;

pub const ASCII: H5T_cset_t = H5T_cset_t::H5T_CSET_ASCII;
pub const UTF8: H5T_cset_t = H5T_cset_t::H5T_CSET_UTF8;

/// 4 cells × 5 genes; obs has a categorical `ct` (T, B) and a string column `batch`;
/// a 3-D latent space and a 2-D embedding.
pub fn valid_dataset() -> Dataset {
    let s = |x: &str| Label::Str(x.to_string());
    let obs = ObsFrame {
        n_rows: 4,
        columns: vec![
            ObsColumn {
                name: "ct".into(),
                data: ObsData::Categorical { categories: vec![s("T"), s("B")], codes: vec![0, 1, 1, 0] },
            },
            ObsColumn {
                name: "batch".into(),
                data: ObsData::Strings(vec![
                    Some("b1".into()),
                    Some("b2".into()),
                    Some("b1".into()),
                    Some("b2".into()),
                ]),
            },
        ],
    };
    let var =
        VarFrame { index: ["CD3E", "MS4A1", "NKG7", "LYZ", "GNLY"].iter().map(|g| s(g)).collect(), columns: vec![] };
    let x: Vec<f32> = (0..20).map(|i| (i % 3) as f32).collect();
    Dataset {
        obs: Some(obs),
        var: Some(var),
        gene_expression: Some(Matrix::Dense(DenseArray { shape: vec![4, 5], values: Values::F32(x) })),
        latent_space: Some(Matrix::Dense(DenseArray {
            shape: vec![4, 3],
            values: Values::F32((0..12).map(|i| i as f32 * 0.25).collect()),
        })),
        x_umap_2d: Some(Matrix::Dense(DenseArray {
            shape: vec![4, 2],
            values: Values::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
        })),
        ..Dataset::default()
    }
}

/// Writes the valid file to `path`.
pub fn write_valid(path: &Path) {
    h5ad::write(&valid_dataset(), path).expect("write the valid base file");
}

fn split(object: &str) -> (&str, &str) {
    object.rsplit_once('/').expect("object path has a parent")
}

/// Replaces dataset `object` (e.g. `var/_index`) with a 1-D variable-length string
/// dataset of character set `cset` holding exactly `values`.
pub fn replace_with_vlen(file: &Path, object: &str, values: &[&[u8]], cset: H5T_cset_t, encoding: Option<&str>) {
    let f = File::open_rw(file).expect("open rw");
    let (parent, name) = split(object);
    let g = f.group(parent).expect("parent group");
    g.unlink(name).expect("unlink");
    let desc = if cset == UTF8 { TypeDescriptor::VarLenUnicode } else { TypeDescriptor::VarLenAscii };
    let ds = g.new_dataset_builder().empty_as(&desc).shape(values.len()).create(name).expect("create");
    let owned: Vec<CString> = values.iter().map(|v| CString::new(*v).expect("no NUL in a vlen value")).collect();
    let ptrs: Vec<*const std::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    let dtype = ds.dtype().expect("dtype");
    write_dataset(ds.id(), dtype.id(), ptrs.as_ptr().cast());
    if let Some(e) = encoding {
        set_vlen_attr(&f, object, "encoding-type", e.as_bytes(), UTF8);
        set_vlen_attr(&f, object, "encoding-version", b"0.2.0", UTF8);
    }
}

/// Replaces dataset `object` with a 1-D fixed-length string dataset (`width` bytes per
/// record, NUL-padded) holding `records`, declared as `encoding` (`string-array`, …).
pub fn replace_with_fixed(file: &Path, object: &str, width: usize, records: &[&[u8]], encoding: Option<&str>) {
    let f = File::open_rw(file).expect("open rw");
    let (parent, name) = split(object);
    let g = f.group(parent).expect("parent group");
    g.unlink(name).expect("unlink");
    let ds = g
        .new_dataset_builder()
        .empty_as(TypeDescriptor::FixedAscii(width))
        .shape(records.len())
        .create(name)
        .expect("create");
    let bytes = fixed_bytes(width, records);
    let dtype = ds.dtype().expect("dtype");
    write_dataset(ds.id(), dtype.id(), bytes.as_ptr().cast());
    if let Some(e) = encoding {
        set_vlen_attr(&f, object, "encoding-type", e.as_bytes(), UTF8);
        set_vlen_attr(&f, object, "encoding-version", b"0.2.0", UTF8);
    }
}

fn fixed_bytes(width: usize, records: &[&[u8]]) -> Vec<u8> {
    let mut bytes = vec![0u8; width * records.len()];
    for (i, r) in records.iter().enumerate() {
        assert!(r.len() <= width, "record longer than its width");
        bytes[i * width..i * width + r.len()].copy_from_slice(r);
    }
    bytes
}

/// Sets a scalar variable-length string attribute `name` on `object` to raw `value`.
pub fn set_attr_vlen(file: &Path, object: &str, name: &str, value: &[u8], cset: H5T_cset_t) {
    let f = File::open_rw(file).expect("open rw");
    set_vlen_attr(&f, object, name, value, cset);
}

/// Runs `f` on the group or dataset at `object`.
fn at_object<R>(file: &File, object: &str, f: impl FnOnce(&hdf5::Location) -> R) -> R {
    match file.loc_type_by_name(object).expect("object type") {
        hdf5::LocationType::Group => f(&file.group(object).expect("group")),
        _ => f(&file.dataset(object).expect("dataset")),
    }
}

fn set_vlen_attr(f: &File, object: &str, name: &str, value: &[u8], cset: H5T_cset_t) {
    at_object(f, object, |loc| set_vlen_attr_on(loc, name, value, cset));
}

fn set_vlen_attr_on(loc: &hdf5::Location, name: &str, value: &[u8], cset: H5T_cset_t) {
    delete_attr(loc.id(), name);
    let desc = if cset == UTF8 { TypeDescriptor::VarLenUnicode } else { TypeDescriptor::VarLenAscii };
    let attr = loc.new_attr_builder().empty_as(&desc).create(name).expect("create attr");
    let owned = CString::new(value).expect("no NUL in a vlen value");
    let ptr = owned.as_ptr();
    let dtype = attr.dtype().expect("dtype");
    write_attr(attr.id(), dtype.id(), (&ptr as *const *const std::ffi::c_char).cast());
}

/// Sets a 1-D fixed-length string attribute `name` on `object` (e.g. `column-order`).
pub fn set_attr_fixed(file: &Path, object: &str, name: &str, width: usize, records: &[&[u8]]) {
    let f = File::open_rw(file).expect("open rw");
    at_object(&f, object, |loc| set_fixed_attr_on(loc, name, width, records));
}

fn set_fixed_attr_on(loc: &hdf5::Location, name: &str, width: usize, records: &[&[u8]]) {
    delete_attr(loc.id(), name);
    let attr = loc
        .new_attr_builder()
        .empty_as(TypeDescriptor::FixedAscii(width))
        .shape(records.len())
        .create(name)
        .expect("create attr");
    let bytes = fixed_bytes(width, records);
    let dtype = attr.dtype().expect("dtype");
    write_attr(attr.id(), dtype.id(), bytes.as_ptr().cast());
}

/// Replaces `obs` with a pre-0.7 compound dataset (one record per cell) whose fields are
/// `index` (fixed-length string) and one float field named with the raw bytes `field`.
pub fn replace_obs_with_compound(file: &Path, field: &[u8]) {
    use hdf5_sys::h5t::{H5T_class_t, H5Tclose, H5Tcreate, H5Tinsert};
    let f = File::open_rw(file).expect("open rw");
    f.unlink("obs").expect("unlink obs");
    let index_type = hdf5::Datatype::from_descriptor(&TypeDescriptor::FixedAscii(8)).expect("index type");
    let f64_type = hdf5::Datatype::from_descriptor(&TypeDescriptor::Float(hdf5::types::FloatSize::U8)).expect("f64");
    let index_name = CString::new("index").expect("name");
    let field_name = CString::new(field).expect("no NUL in the field name");
    let compound = hdf5::sync::sync(|| {
        // SAFETY: creates a 16-byte compound type and inserts two members that fit it;
        // every argument is a valid id or NUL-terminated name that outlives the call.
        unsafe {
            let t = H5Tcreate(H5T_class_t::H5T_COMPOUND, 16);
            assert!(t >= 0);
            assert!(H5Tinsert(t, index_name.as_ptr(), 0, index_type.id()) >= 0);
            assert!(H5Tinsert(t, field_name.as_ptr(), 8, f64_type.id()) >= 0);
            t
        }
    });
    let records: Vec<u8> = (0..4u8)
        .flat_map(|i| {
            let mut r = format!("cell{i}").into_bytes();
            r.resize(8, 0);
            r.extend_from_slice(&(i as f64).to_ne_bytes());
            r
        })
        .collect();
    let space = hdf5::sync::sync(|| {
        let dims = [4u64];
        // SAFETY: a 1-D dataspace of 4 elements; `dims` outlives the call.
        unsafe { hdf5_sys::h5s::H5Screate_simple(1, dims.as_ptr(), std::ptr::null()) }
    });
    let name = CString::new("obs").expect("name");
    hdf5::sync::sync(|| {
        use hdf5_sys::h5p::H5P_DEFAULT;
        // SAFETY: creates `obs` in the open file with the type and space above and writes
        // 4 records of 16 bytes from `records` (64 bytes); every id is closed once.
        unsafe {
            let ds = hdf5_sys::h5d::H5Dcreate2(
                f.id(),
                name.as_ptr(),
                compound,
                space,
                H5P_DEFAULT,
                H5P_DEFAULT,
                H5P_DEFAULT,
            );
            assert!(ds >= 0, "H5Dcreate2");
            let all = hdf5_sys::h5s::H5S_ALL;
            assert!(hdf5_sys::h5d::H5Dwrite(ds, compound, all, all, H5P_DEFAULT, records.as_ptr().cast()) >= 0);
            hdf5_sys::h5d::H5Dclose(ds);
            hdf5_sys::h5s::H5Sclose(space);
            H5Tclose(compound);
        }
    });
}

fn delete_attr(loc: hid_t, name: &str) {
    let c = CString::new(name).expect("name");
    hdf5::sync::sync(|| {
        // SAFETY: `loc` is an open object; `c` is NUL-terminated and outlives the call.
        unsafe {
            if hdf5_sys::h5a::H5Aexists(loc, c.as_ptr()) > 0 {
                hdf5_sys::h5a::H5Adelete(loc, c.as_ptr());
            }
        }
    });
}

fn write_dataset(ds: hid_t, mem: hid_t, buf: *const std::ffi::c_void) {
    let all = hdf5_sys::h5s::H5S_ALL;
    // SAFETY: `buf` holds one element of `mem` per element of the dataset (callers size
    // it so) and stays alive for the call.
    let rc =
        hdf5::sync::sync(|| unsafe { hdf5_sys::h5d::H5Dwrite(ds, mem, all, all, hdf5_sys::h5p::H5P_DEFAULT, buf) });
    assert!(rc >= 0, "H5Dwrite");
}

fn write_attr(attr: hid_t, mem: hid_t, buf: *const std::ffi::c_void) {
    // SAFETY: as `write_dataset`, for an attribute.
    let rc = hdf5::sync::sync(|| unsafe { hdf5_sys::h5a::H5Awrite(attr, mem, buf) });
    assert!(rc >= 0, "H5Awrite");
}

/// Overwrites the signature of every global heap collection (`GCOL`, where HDF5 keeps
/// variable-length strings) so that reading any such string fails inside `H5HG_read`,
/// where Debian's HDF5 1.10.8 crashed on corrupt files. Returns how many it hit.
pub fn corrupt_string_heaps(file: &Path) -> usize {
    let mut bytes = std::fs::read(file).expect("read");
    let mut hits = 0;
    for i in 0..bytes.len().saturating_sub(4) {
        if &bytes[i..i + 4] == b"GCOL" {
            bytes[i..i + 4].copy_from_slice(b"XXXX");
            hits += 1;
        }
    }
    std::fs::write(file, bytes).expect("write");
    hits
}
