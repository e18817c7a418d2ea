//! Structure-aware mutations, written with the `hdf5` crate into a copy of a seed file:
//! a file that is valid HDF5 but a wrong or hostile AnnData file.
//!
//! Each picks one object of the seed (found by walking it) and changes one thing the
//! reader must check: an `encoding-type` (to another kind, or garbage), an attribute's
//! type, a sparse matrix's `shape`, a dataset's dtype or length, the values of
//! `indptr`/`indices`/`codes` (out of range, negative, unsorted), strings (empty, very
//! long, duplicated, one missing), or a whole group or dataset removed.

use crate::plan::SplitMix64;
use cellucid_datasets::h5ad::checked;
use hdf5::types::VarLenUnicode;
use hdf5::{File, Group, Location};
use std::path::Path;

/// The error of a mutation that could not be written (the mutant is then skipped).
pub type Result<T> = std::result::Result<T, hdf5::Error>;

/// Every object of a file: groups and datasets by path, with their attribute names.
struct Objects {
    groups: Vec<String>,
    datasets: Vec<String>,
    /// (object path, attribute name)
    attrs: Vec<(String, String)>,
}

/// Applies one structural mutation to the file at `path` (opened read-write).
pub fn mutate(path: &Path, rng: &mut SplitMix64) -> Result<String> {
    let file = File::open_rw(path)?;
    let objects = walk(&file)?;
    let what = match rng.below(8) {
        0 => encoding_type(&file, &objects, rng)?,
        1 => attribute_type(&file, &objects, rng)?,
        2 => sparse_shape(&file, &objects, rng)?,
        3 => dtype(&file, &objects, rng)?,
        4 => index_values(&file, &objects, rng)?,
        5 => strings(&file, &objects, rng)?,
        6 => length(&file, &objects, rng)?,
        _ => remove(&file, &objects, rng)?,
    };
    file.flush()?;
    Ok(what)
}

fn walk(file: &File) -> Result<Objects> {
    let mut o = Objects { groups: Vec::new(), datasets: Vec::new(), attrs: Vec::new() };
    let root: &Group = file;
    for a in root.attr_names()? {
        o.attrs.push(("/".into(), a));
    }
    walk_group(root, "", &mut o)?;
    Ok(o)
}

fn walk_group(g: &Group, prefix: &str, o: &mut Objects) -> Result<()> {
    for name in g.member_names()? {
        let path = format!("{prefix}{name}");
        if let Ok(sub) = g.group(&name) {
            o.attrs.extend(sub.attr_names()?.into_iter().map(|a| (path.clone(), a)));
            o.groups.push(path.clone());
            walk_group(&sub, &format!("{path}/"), o)?;
        } else if let Ok(ds) = g.dataset(&name) {
            o.attrs.extend(ds.attr_names()?.into_iter().map(|a| (path.clone(), a)));
            o.datasets.push(path);
        }
    }
    Ok(())
}

fn pick<'a, T>(items: &'a [T], rng: &mut SplitMix64) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.below(items.len())])
}

/// The group or dataset at `path` as a location for attributes.
fn location(file: &File, path: &str) -> Result<Location> {
    if path == "/" {
        return Ok((***file).clone());
    }
    match file.group(path) {
        Ok(g) => Ok((*g).clone()),
        Err(_) => Ok((**file.dataset(path)?).clone()),
    }
}

fn set_string_attr(loc: &Location, name: &str, value: &str) -> Result<()> {
    let _ = loc.delete_attr(name);
    let v: VarLenUnicode = value.parse().map_err(|_| hdf5::Error::from("NUL in attribute value"))?;
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&v)
}

const KINDS: [&str; 14] = [
    "csr_matrix", "csc_matrix", "array", "categorical", "dataframe", "string-array", "nullable-integer",
    "nullable-boolean", "nullable-string-array", "dict", "awkward-array", "", "numeric-scalar", "CSR_MATRIX",
];

fn encoding_type(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let with: Vec<&(String, String)> = o.attrs.iter().filter(|(_, a)| a == "encoding-type").collect();
    let Some((path, _)) = pick(&with, rng).copied() else { return remove(file, o, rng) };
    let kind = KINDS[rng.below(KINDS.len())];
    set_string_attr(&location(file, path)?, "encoding-type", kind)?;
    Ok(format!("{path}@encoding-type set to {kind:?}"))
}

fn attribute_type(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let Some((path, name)) = pick(&o.attrs, rng) else { return remove(file, o, rng) };
    let loc = location(file, path)?;
    loc.delete_attr(name)?;
    let what = match rng.below(4) {
        0 => {
            loc.new_attr::<i64>().create(name.as_str())?.write_scalar(&7)?;
            "an int64 scalar"
        }
        1 => {
            loc.new_attr::<f64>().shape(3).create(name.as_str())?.write_raw(&[1.5, -2.0, f64::NAN])?;
            "a float64 array"
        }
        2 => {
            let v: Vec<VarLenUnicode> = ["a", "b"].iter().filter_map(|s| s.parse().ok()).collect();
            loc.new_attr::<VarLenUnicode>().shape(2).create(name.as_str())?.write_raw(&v)?;
            "a string array"
        }
        _ => {
            loc.new_attr::<bool>().create(name.as_str())?.write_scalar(&true)?;
            "a bool"
        }
    };
    Ok(format!("{path}@{name} replaced by {what}"))
}

fn sparse_shape(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let with: Vec<&(String, String)> = o.attrs.iter().filter(|(_, a)| a == "shape" || a == "h5sparse_shape").collect();
    let Some((path, name)) = pick(&with, rng).copied() else { return index_values(file, o, rng) };
    let loc = location(file, path)?;
    let old: Vec<i64> = loc.attr(name)?.read_raw::<i64>().unwrap_or_default();
    let (r, c) = (old.first().copied().unwrap_or(0), old.get(1).copied().unwrap_or(0));
    let new: Vec<i64> = match rng.below(6) {
        0 => vec![r + 1, c],
        1 => vec![r, c - 1],
        2 => vec![c, r],
        3 => vec![-1, c],
        4 => vec![r, c, 1],
        _ => vec![1 << 40, 1 << 40],
    };
    loc.delete_attr(name)?;
    loc.new_attr::<i64>().shape(new.len()).create(name.as_str())?.write_raw(&new)?;
    Ok(format!("{path}@{name} {old:?} set to {new:?}"))
}

/// A dataset's values as float64 and its shape (any numeric dtype converts).
fn numeric(file: &File, path: &str) -> Option<(Vec<f64>, Vec<usize>)> {
    let ds = file.dataset(path).ok()?;
    let v = ds.read_raw::<f64>().ok()?;
    Some((v, ds.shape()))
}

/// Replaces the dataset at `path` by `values` of type T in `shape`, keeping its attributes' meaning
/// (encoding attributes are copied as strings).
fn replace<T: hdf5::H5Type>(file: &File, path: &str, values: &[T], shape: &[usize]) -> Result<()> {
    let old = file.dataset(path)?;
    let enc: Vec<(String, String)> = ["encoding-type", "encoding-version"]
        .iter()
        .filter_map(|a| {
            let s = checked::attr_strings(&old.attr(a).ok()?, a).ok()?.into_iter().next()?;
            Some((a.to_string(), s))
        })
        .collect();
    drop(old);
    file.unlink(path)?;
    let ds = file.new_dataset::<T>().shape(shape).create(path)?;
    if !values.is_empty() {
        ds.write_raw(values)?;
    }
    for (a, v) in enc {
        set_string_attr(&ds, &a, &v)?;
    }
    Ok(())
}

fn dtype(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let Some(path) = pick(&o.datasets, rng) else { return remove(file, o, rng) };
    let (v, shape) = numeric(file, path).unwrap_or_else(|| {
        let n = file.dataset(path).map(|d| d.size()).unwrap_or(1);
        (vec![1.0; n], vec![n])
    });
    let to = match rng.below(6) {
        0 => {
            replace(file, path, &v.iter().map(|&x| x as i8).collect::<Vec<_>>(), &shape)?;
            "int8"
        }
        1 => {
            replace(file, path, &v.iter().map(|&x| x as u64).collect::<Vec<_>>(), &shape)?;
            "uint64"
        }
        2 => {
            replace(file, path, &v.iter().map(|&x| x as f32).collect::<Vec<_>>(), &shape)?;
            "float32"
        }
        3 => {
            replace(file, path, &v.iter().map(|&x| x != 0.0).collect::<Vec<_>>(), &shape)?;
            "bool"
        }
        4 => {
            let s: Vec<VarLenUnicode> = v.iter().filter_map(|x| x.to_string().parse().ok()).collect();
            replace(file, path, &s, &[s.len()])?;
            "strings"
        }
        _ => {
            replace(file, path, &v.iter().map(|&x| x as i64 as f64 + 0.5).collect::<Vec<_>>(), &shape)?;
            "float64 (+0.5)"
        }
    };
    Ok(format!("{path} rewritten as {to}"))
}

fn index_values(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let named = |p: &&String| {
        let leaf = p.rsplit('/').next().unwrap_or("");
        matches!(leaf, "indptr" | "indices" | "codes") || p.ends_with("_categories")
    };
    let with: Vec<&String> = o.datasets.iter().filter(named).collect();
    let Some(path) = pick(&with, rng).copied() else { return dtype(file, o, rng) };
    let Some((v, _)) = numeric(file, path) else { return dtype(file, o, rng) };
    let mut v: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    if v.is_empty() {
        v.push(0);
    }
    let i = rng.below(v.len());
    let max = v.iter().copied().max().unwrap_or(0);
    let what = match rng.below(6) {
        0 => {
            v[i] = max + 1 + rng.below(100) as i64;
            format!("element {i} past the largest ({max})")
        }
        1 => {
            v[i] = -1 - rng.below(3) as i64;
            format!("element {i} negative")
        }
        2 => {
            v.reverse();
            "reversed".to_string()
        }
        3 => {
            v[i] = i64::MAX;
            format!("element {i} = i64::MAX")
        }
        4 => {
            v[i] = i32::MAX as i64 + 1;
            format!("element {i} = 2^31")
        }
        _ => {
            let j = rng.below(v.len());
            v.swap(i, j);
            "two elements swapped".to_string()
        }
    };
    let n = v.len();
    replace(file, path, &v, &[n])?;
    Ok(format!("{path}: {what}"))
}

/// How many values the "long strings" mutation makes long.
const LONG_STRINGS: usize = 16;

fn strings(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let is_strings = |p: &&String| {
        file.dataset(p).ok().and_then(|d| checked::descriptor(&d, p).ok()).is_some_and(|t| {
            use hdf5::types::TypeDescriptor as T;
            matches!(t, T::VarLenUnicode | T::VarLenAscii | T::FixedAscii(_) | T::FixedUnicode(_))
        })
    };
    let with: Vec<&String> = o.datasets.iter().filter(is_strings).collect();
    let Some(path) = pick(&with, rng).copied() else { return encoding_type(file, o, rng) };
    let n = file.dataset(path)?.size();
    let base: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let (values, what): (Vec<String>, &str) = match rng.below(5) {
        0 => (vec![String::new(); n], "all empty"),
        1 => (vec!["same".to_string(); n], "all equal"),
        2 => (base[..n.saturating_sub(1)].to_vec(), "one fewer"),
        // Longer than a global heap collection's default size (64 kB), for the first few
        // values only: 70 kB for each of case 11's 65,536 values took 4.6 GB in the fuzzer.
        3 => {
            let long = |i: usize| if i < LONG_STRINGS { format!("{}{i}", "x".repeat(70_000)) } else { format!("s{i}") };
            ((0..n).map(long).collect(), "70 kB each for the first 16")
        }
        _ => ((0..n).map(|i| format!("ü\u{1F600}\u{202E}{i}")).collect(), "non-ASCII"),
    };
    let v: Vec<VarLenUnicode> = values.iter().filter_map(|s| s.parse().ok()).collect();
    let len = v.len();
    replace(file, path, &v, &[len])?;
    Ok(format!("{path}: strings {what}"))
}

fn length(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let Some(path) = pick(&o.datasets, rng) else { return remove(file, o, rng) };
    let Some((mut v, mut shape)) = numeric(file, path) else { return strings(file, o, rng) };
    let what = if rng.below(2) == 0 && !shape.is_empty() && shape[0] > 0 {
        let row: usize = shape[1..].iter().product();
        v.truncate(v.len() - row);
        shape[0] -= 1;
        "one row fewer"
    } else if shape.len() == 2 {
        shape.swap(0, 1);
        "transposed shape"
    } else {
        v.push(1.0);
        shape = vec![v.len()];
        "one element more"
    };
    replace(file, path, &v, &shape)?;
    Ok(format!("{path}: {what} (shape now {shape:?})"))
}

fn remove(file: &File, o: &Objects, rng: &mut SplitMix64) -> Result<String> {
    let all: Vec<&String> = o.groups.iter().chain(&o.datasets).collect();
    let Some(path) = pick(&all, rng).copied() else { return Ok("nothing to remove".into()) };
    file.unlink(path)?;
    Ok(format!("{path} removed"))
}
