//! Output folders and files, written whole or not at all.
//!
//! Files are first written into a hidden staging folder beside the target; only when every file is
//! complete is the staging folder renamed into place. A failed or interrupted run leaves no half-written
//! results, and an existing folder is only replaced when the caller asks (`force`).
//!
//! This is the one way the library writes a file: into a [`Staged`] folder ([`Staged::write`], or a
//! writer of its own at [`Staged::file_path`]), or one file alone with [`write_atomic`] /
//! [`write_atomic_with`]. The exceptions say why where they are: a sweep's `sweep.csv` grows a line per
//! point so that a stopped sweep resumes (a torn last line is dropped), and a lock file holds only its
//! holder's process id.

pub mod csv;
pub mod excel;
pub mod lang;
pub mod manifest;
pub mod plot;
pub mod report;
pub mod tables;

pub mod guard;

use crate::error::{Error, Fault, Opt, Result, says};
use guard::{Lock, Staging};
use std::path::{Path, PathBuf};

/// A folder being written.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    stage: Staging,
    force: bool,
    files: Vec<String>,
    written: std::collections::HashSet<String>,
    _lock: Lock,
}

/// Writes one file whole or not at all: into a temporary file beside it (removed on a signal or a
/// failure), then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| std::io::Write::write_all(w, bytes))
}

/// As [`write_atomic`], the bytes written by `fill`: when it fails (or the file cannot be written to
/// the end), nothing changes at `path` and the temporary file is removed.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let _registered = guard::remove_on_signal(&tmp);
    let fill_tmp = || -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    };
    let written = fill_tmp()
        .map_err(|e| write_err(path, e))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| write_err(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_err(path: &Path, source: std::io::Error) -> Error {
    Error::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Makes the folders of `rel` (a relative folder path) inside `stage`, one level at a time, so that a
/// stage removed by a signal handler is never made again.
fn make_dirs_in(stage: &Path, rel: &Path) -> std::io::Result<()> {
    let mut at = stage.to_path_buf();
    for c in rel.components() {
        at.push(c);
        match std::fs::create_dir(&at) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

fn pid() -> u32 {
    std::process::id()
}

impl Staged {
    /// Starts writing `target`. Fails at once (before any long work) if anything but an empty folder
    /// or earlier wijksim results is there (see [`guard::check_place`]), if it holds results and
    /// `force` is false, if another writer holds it, or if its parent cannot be written. Staging entries
    /// a killed process left there are cleared first ([`guard::take_notes`] says which).
    pub fn create(target: &Path, force: bool) -> Result<Staged> {
        let (parent, name) = guard::split(target)?;
        guard::check_place(target, force)?;
        std::fs::create_dir_all(&parent).map_err(|e| write_err(&parent, e))?;
        let lock = guard::lock(target)?;
        Self::locked(target, &parent, &name, force, lock)
    }

    /// Starts writing the first of `base`, `base-2`, `base-3`, ... that is free: nothing there, or an
    /// empty folder, and no other writer. Never replaces anything.
    pub fn create_new(base: &Path) -> Result<Staged> {
        let (parent, name) = guard::split(base)?;
        std::fs::create_dir_all(&parent).map_err(|e| write_err(&parent, e))?;
        for i in 1..=10_000u32 {
            let target = if i == 1 {
                base.to_path_buf()
            } else {
                parent.join(format!("{name}-{i}"))
            };
            if !matches!(
                guard::check_place(&target, false),
                Ok(guard::Place::Missing | guard::Place::Empty)
            ) {
                continue;
            }
            let lock = match guard::lock(&target) {
                Ok(l) => l,
                Err(Error::OutputBusy(_)) => continue,
                Err(e) => return Err(e),
            };
            let this = target.file_name().map(|n| n.to_string_lossy().into_owned());
            match Self::locked(&target, &parent, &this.unwrap_or_default(), false, lock) {
                Err(Error::OutputExists(_) | Error::OutputRefused(_)) => continue,
                r => return r,
            }
        }
        Err(Error::OutputRefused(Fault::new(
            format!(
                "no free folder beside '{}' (tried 10000 names)",
                base.display()
            ),
            says!("choose a folder with ", Opt::Out),
        )))
    }

    fn locked(target: &Path, parent: &Path, name: &str, force: bool, lock: Lock) -> Result<Staged> {
        guard::clear_stale(parent, Some(name));
        let place = guard::check_place(target, force)?;
        if place == guard::Place::Results {
            guard::clear_stale(target, None);
        }
        let stage = parent.join(format!(".{name}.partial-{}", pid()));
        Self::with_stage(target, stage, force, lock)
    }

    /// Makes the (empty) staging folder `stage`, registered for removal on a signal.
    fn with_stage(target: &Path, stage: PathBuf, force: bool, lock: Lock) -> Result<Staged> {
        let stage = Staging::create(stage.clone()).map_err(|e| write_err(&stage, e))?;
        Ok(Staged {
            target: target.to_path_buf(),
            stage,
            force,
            files: Vec::new(),
            written: Default::default(),
            _lock: lock,
        })
    }

    /// Starts rewriting some entries of the finished run folder `dir` in place (see
    /// [`Staged::replace_in`]), holding its lock; the stage is `dir/.rerender.partial-PID`.
    pub fn inside(dir: &Path) -> Result<Staged> {
        let (parent, name) = guard::split(dir)?;
        let lock = guard::lock(dir)?;
        guard::clear_stale(&parent, Some(&name));
        if guard::kind_of(dir).is_some_and(|(k, _)| k == guard::Kind::Run) {
            guard::clear_stale(dir, None);
        }
        let stage = dir.join(format!(".rerender.partial-{}", pid()));
        Self::with_stage(dir, stage, true, lock)
    }

    /// The final folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Files written so far.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Writes one file into the folder.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.file_path(name)?;
        std::fs::write(&path, bytes).map_err(|e| write_err(&self.target.join(name), e))?;
        Ok(())
    }

    /// The staging path for a file that a writer creates itself (e.g. a PNG), with its folders made.
    pub fn file_path(&mut self, name: &str) -> Result<PathBuf> {
        let rel = Path::new(name);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(write_err(
                &self.target.join(name),
                std::io::Error::other("not a plain relative file name"),
            ));
        }
        if let Some(parent) = rel.parent() {
            make_dirs_in(self.stage.path(), parent)
                .map_err(|e| write_err(&self.target.join(name), e))?;
        }
        if !self.written.insert(name.to_string()) {
            return Err(write_err(
                &self.target.join(name),
                std::io::Error::other("written twice in one run (two names give this file name)"),
            ));
        }
        self.files.push(name.to_string());
        Ok(self.stage.path().join(rel))
    }

    /// `stem`, or `stem-2`, `stem-3`, ... : the first for which no `{folder}{stem}{ext}` of `exts` is
    /// written yet. Names made from user text (arms, areas) can coincide once made file-safe.
    pub fn free_stem(&self, folder: &str, stem: &str, exts: &[&str]) -> String {
        let free = |s: &str| {
            exts.iter()
                .all(|e| !self.written.contains(&format!("{folder}{s}{e}")))
        };
        if free(stem) {
            return stem.to_string();
        }
        (2..)
            .map(|i| format!("{stem}-{i}"))
            .find(|s| free(s))
            .expect("some number is free")
    }

    /// Renames the folder `from` written so far (e.g. `plots`) to `to`, with every file in it; nothing
    /// happens when nothing was written under `from`.
    pub fn rename_folder(&mut self, from: &str, to: &str) -> Result<()> {
        let (old, new) = (format!("{from}/"), format!("{to}/"));
        if from == to || !self.files.iter().any(|f| f.starts_with(&old)) {
            return Ok(());
        }
        if self.files.iter().any(|f| f.starts_with(&new) || f == to) {
            return Err(write_err(
                &self.target.join(to),
                std::io::Error::other("written twice in one run"),
            ));
        }
        std::fs::rename(self.stage.path().join(from), self.stage.path().join(to))
            .map_err(|e| write_err(&self.target.join(to), e))?;
        let moved = |f: &str| match f.strip_prefix(&old) {
            Some(rest) => format!("{new}{rest}"),
            None => f.to_string(),
        };
        self.files = self.files.iter().map(|f| moved(f)).collect();
        self.written = self.written.iter().map(|f| moved(f)).collect();
        Ok(())
    }

    /// Moves the finished folder into place (checking once more that what is there may be replaced).
    pub fn commit(self) -> Result<PathBuf> {
        let name = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = self
            .stage
            .path()
            .with_file_name(format!(".{name}.old-{}", pid()));
        guard::check_place(&self.target, self.force)?;
        self.stage
            .swap_into(&self.target, &old)
            .map_err(|e| write_err(&self.target, e))?;
        Ok(self.target)
    }
}

impl Staged {
    /// Moves every finished top-level entry (file or folder) into `dir`, each replacing the entry of
    /// the same name: a file by an atomic rename, a folder by renaming the old one aside first. The
    /// other entries of `dir` are left as they are. Returns the names replaced.
    pub fn replace_in(self, dir: &Path) -> Result<Vec<String>> {
        let mut tops: Vec<String> = Vec::new();
        for f in &self.files {
            let top = f.split('/').next().unwrap_or(f).to_string();
            if !tops.contains(&top) {
                tops.push(top);
            }
        }
        for top in &tops {
            let from = self.stage.path().join(top);
            let to = dir.join(top);
            if from.is_dir() && to.exists() {
                let old = dir.join(format!(".{top}.old-{}", pid()));
                guard::swap(&from, &to, &old).map_err(|e| write_err(&to, e))?;
            } else {
                std::fs::rename(&from, &to).map_err(|e| write_err(&to, e))?;
            }
        }
        // Dropping the stage removes it (now empty).
        Ok(tops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    fn half_then_fail(w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(b"the first half of the new table\n")?;
        w.flush()?;
        Err(std::io::Error::other("no space left"))
    }

    #[test]
    fn a_write_that_fails_half_way_leaves_no_half_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("table.csv");
        std::fs::write(&old, "the old table\n").unwrap();
        // Over an earlier file: it stays as it was.
        let e = write_atomic_with(&old, half_then_fail).unwrap_err();
        assert!(matches!(e, Error::Write { .. }), "{e:?}");
        assert!(e.to_string().contains("table.csv"), "{e}");
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "the old table\n");
        // A new file: not there at all.
        let new = dir.path().join("new.csv");
        write_atomic_with(&new, half_then_fail).unwrap_err();
        assert!(!new.exists());
        // Written to the end but not put in place (a folder is there): nothing changes either.
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("inside"), "x").unwrap();
        write_atomic(&folder, b"whole\n").unwrap_err();
        assert!(folder.join("inside").is_file());
        // No temporary file is left behind.
        assert_eq!(names(dir.path()), ["folder", "table.csv"]);
        // A write that succeeds replaces the file whole.
        write_atomic(&old, b"the new table\n").unwrap();
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "the new table\n");
        assert_eq!(names(dir.path()), ["folder", "table.csv"]);
    }
}
