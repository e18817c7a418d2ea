//! `name=/path`: a directory the user points at, on whatever filesystem it is (an NFS
//! share, a USB disk, …). The directory itself is never mounted, changed or removed: the
//! target's root is a fresh hidden subdirectory (`.cellucid-bench-XXXXXX`) created in it
//! and removed with everything in it on teardown.

use super::guard::Resource;
use super::{tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::Path;

pub(super) fn provision(spec: &TargetSpec, name: &str, path: &Path) -> Result<Target, TargetError> {
    let meta =
        std::fs::metadata(path).map_err(|e| tools::io_failed(name, "open", format!("{}: {e}", path.display())))?;
    if !meta.is_dir() {
        return Err(tools::io_failed(name, "open", format!("{} is not a directory", path.display())));
    }
    let guard = Guard::new();
    let root = tempfile::Builder::new()
        .prefix(".cellucid-bench-")
        .tempdir_in(path)
        .map_err(|e| tools::io_failed(name, "create root", format!("{}: {e}", path.display())))?
        .keep();
    guard.push(Resource::Dir(root.clone()));
    // Absolute, like every other target's root, even for a relative `name=dir`.
    let root =
        root.canonicalize().map_err(|e| tools::io_failed(name, "create root", format!("{}: {e}", root.display())))?;
    let info = super::info::query(&root)?;
    let footprint = Footprint { private_dir: Some(root.clone()), ..Footprint::default() };
    Ok(Target { spec: spec.clone(), root, info, footprint, guard, nofile: None })
}
