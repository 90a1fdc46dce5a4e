//! Output folders, written whole or not at all.
//!
//! Files are first written into a hidden staging folder beside the target; only when every file is
//! complete is the staging folder renamed into place. A failed or interrupted run leaves no half-written
//! results, and an existing folder is only replaced when the caller asks (`force`).

pub mod csv;
pub mod excel;
pub mod manifest;
pub mod plot;
pub mod report;
pub mod tables;
pub mod tornado;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A folder being written.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    stage: PathBuf,
    force: bool,
    files: Vec<String>,
    done: bool,
}

fn write_err(path: &Path, source: std::io::Error) -> Error {
    Error::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Whether a folder exists and holds anything.
pub fn holds_results(dir: &Path) -> bool {
    dir.read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
        || dir.is_file()
}

/// The first of `base`, `base-2`, `base-3`, ... that holds no results.
pub fn fresh_folder(base: &Path) -> PathBuf {
    if !holds_results(base) {
        return base.to_path_buf();
    }
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (2..)
        .map(|i| base.with_file_name(format!("{name}-{i}")))
        .find(|p| !holds_results(p))
        .expect("some name is free")
}

impl Staged {
    /// Starts writing `target`. Fails at once (before any long work) if the folder holds results and
    /// `force` is false, or if its parent cannot be written.
    pub fn create(target: &Path, force: bool) -> Result<Staged> {
        if holds_results(target) && !force {
            return Err(Error::OutputExists(target.display().to_string()));
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| write_err(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let stage = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if stage.exists() {
            std::fs::remove_dir_all(&stage).map_err(|e| write_err(&stage, e))?;
        }
        std::fs::create_dir(&stage).map_err(|e| write_err(&stage, e))?;
        Ok(Staged {
            target: target.to_path_buf(),
            stage,
            force,
            files: Vec::new(),
            done: false,
        })
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
        let path = self.stage.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| write_err(&self.target.join(name), e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| write_err(&self.target.join(name), e))?;
        self.files.push(name.to_string());
        Ok(())
    }

    /// The staging path for a file that a writer creates itself (e.g. a PNG), with its folders made.
    pub fn file_path(&mut self, name: &str) -> Result<PathBuf> {
        let path = self.stage.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| write_err(&self.target.join(name), e))?;
        }
        self.files.push(name.to_string());
        Ok(path)
    }

    /// Moves the finished folder into place.
    pub fn commit(mut self) -> Result<PathBuf> {
        let old = self.stage.with_file_name(format!(
            ".{}.old-{}",
            self.target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let replacing = self.target.exists();
        if replacing {
            if !self.force && holds_results(&self.target) {
                return Err(Error::OutputExists(self.target.display().to_string()));
            }
            std::fs::rename(&self.target, &old).map_err(|e| write_err(&self.target, e))?;
        }
        std::fs::rename(&self.stage, &self.target).map_err(|e| write_err(&self.target, e))?;
        if replacing {
            let _ = std::fs::remove_dir_all(&old);
        }
        self.done = true;
        Ok(self.target.clone())
    }
}

impl Staged {
    /// Moves every finished top-level entry (file or folder) into `dir`, each replacing the entry of
    /// the same name: a file by an atomic rename, a folder by renaming the old one aside first. The
    /// other entries of `dir` are left as they are. Returns the names replaced.
    pub fn replace_in(mut self, dir: &Path) -> Result<Vec<String>> {
        let mut tops: Vec<String> = Vec::new();
        for f in &self.files {
            let top = f.split('/').next().unwrap_or(f).to_string();
            if !tops.contains(&top) {
                tops.push(top);
            }
        }
        for top in &tops {
            let from = self.stage.join(top);
            let to = dir.join(top);
            if from.is_dir() && to.exists() {
                let old = dir.join(format!(".{top}.old-{}", std::process::id()));
                std::fs::rename(&to, &old).map_err(|e| write_err(&to, e))?;
                std::fs::rename(&from, &to).map_err(|e| write_err(&to, e))?;
                let _ = std::fs::remove_dir_all(&old);
            } else {
                std::fs::rename(&from, &to).map_err(|e| write_err(&to, e))?;
            }
        }
        self.done = true;
        let _ = std::fs::remove_dir_all(&self.stage);
        Ok(tops)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.stage);
        }
    }
}
