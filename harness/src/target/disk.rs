//! `disk`: a fresh directory under `work_dir`, on whatever filesystem that is. Nothing is
//! mounted; the directory is removed on teardown.

use super::{finish, private_dir, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::Path;

pub(super) fn provision(work_dir: &Path) -> Result<Target, TargetError> {
    let guard = Guard::new();
    let dir = private_dir(&guard, "disk", work_dir)?;
    let footprint = Footprint { private_dir: Some(dir.clone()), ..Footprint::default() };
    finish(&TargetSpec::Disk, &dir, guard, footprint)
}
