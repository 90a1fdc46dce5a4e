//! What wijksim may touch: it writes only into folders it wrote itself, one writer at a time, and cleans
//! up after itself, also after a signal or a crash.
//!
//! - **Ownership.** A folder is wijksim's when its `manifest.json` is a wijksim manifest (of a run or of a
//!   sweep). Only such a folder may be replaced (with `force`), and only when it holds nothing besides
//!   what wijksim wrote there. An empty folder may be written into. Anything else at the output path (a
//!   folder of other files, a regular file, a device, a pipe, a symbolic link) is refused.
//! - **One writer.** A lock file `.NAME.lock` beside the folder is held (an advisory `flock`) while a
//!   command writes `NAME`; a second writer fails at once. The lock file is removed when the writer ends.
//! - **Staging.** Hidden staging entries (`.NAME.partial-PID`, `.NAME.old-PID`, `.NAME.tmp-PID`) are
//!   registered while they exist. On SIGINT, SIGTERM or SIGHUP the binary calls [`clean_up_now`], which
//!   removes them (and puts an `.old` folder back if the swap was cut between its two renames). Entries a
//!   killed process left behind (its PID no longer runs) are removed by the next writer of the same
//!   place, which says so ([`clear_stale`]).

use crate::error::{Error, Fault, Message, Opt, Result, says};
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Where a folder may be written, and whether it replaces earlier results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Nothing there yet.
    Missing,
    /// An empty folder.
    Empty,
    /// A folder of wijksim results that holds nothing else.
    Results,
}

/// The kind of a wijksim folder, from its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Written by `wijksim run`.
    Run,
    /// Written by `wijksim sweep` or `wijksim merge`.
    Sweep,
}

fn refused(path: &Path, problem: impl Into<Message>, fix: impl Into<Message>) -> Error {
    Error::OutputRefused(Fault::new(
        problem
            .into()
            .after(format!("output '{}' ", path.display())),
        fix,
    ))
}

/// The error for earlier results at `target` that the call did not ask to replace.
fn exists(target: &Path) -> Error {
    Error::OutputExists(Fault::new(
        format!("output folder '{}' already holds results", target.display()),
        says!(
            "choose another folder with ",
            Opt::Out,
            ", or pass ",
            Opt::Force,
            " to replace it"
        ),
    ))
}

/// The kind of wijksim folder `dir` is (`None`: it has no wijksim manifest), and the top-level names its
/// manifest says wijksim wrote.
pub fn kind_of(dir: &Path) -> Option<(Kind, BTreeSet<String>)> {
    let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let o = v.as_object()?;
    o.get("wijksim_version")?.as_str()?;
    let mut names: BTreeSet<String> = ["manifest.json".to_string()].into();
    if let Some(files) = o.get("files").and_then(|f| f.as_array()) {
        for f in files.iter().filter_map(|f| f.as_str()) {
            names.insert(f.split('/').next().unwrap_or(f).to_string());
        }
    }
    if o.contains_key("sweep_sha256") {
        for n in [
            "sweep.csv",
            "sweep.toml",
            "scenario.toml",
            "tornado.svg",
            "tornado.png",
        ] {
            names.insert(n.to_string());
        }
        Some((Kind::Sweep, names))
    } else if o.contains_key("scenario_sha256") && o.contains_key("files") {
        // The report and figures `wijksim report` adds in the other languages.
        use crate::output::lang::Lang;
        for lang in Lang::ALL {
            for run in Lang::ALL {
                let (report, plots) = lang.file_names(run);
                names.insert(report);
                names.insert(plots);
            }
        }
        Some((Kind::Run, names))
    } else {
        None
    }
}

/// A hidden staging entry's parts: `.NAME.partial-PID` gives `(NAME, "partial", PID)`; also `old` and
/// `tmp`, and `.NAME.tmp-PID.png`.
pub fn staging_parts(entry: &str) -> Option<(&str, &str, u32)> {
    let rest = entry.strip_prefix('.')?;
    for kind in ["partial", "old", "tmp"] {
        let marker = format!(".{kind}-");
        if let Some(at) = rest.rfind(&marker) {
            let name = &rest[..at];
            let tail = &rest[at + marker.len()..];
            let digits = tail.split('.').next().unwrap_or("");
            if name.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let pid = digits.parse().ok()?;
            return Some((name, kind, pid));
        }
    }
    None
}

fn list_some(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    let more = names.len().saturating_sub(shown.len());
    let mut s = shown.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// Checks what is at `target` and whether it may be written: refuses a file, device, pipe or symbolic
/// link, a folder with anything wijksim did not write, and earlier results unless `force`.
pub fn check_place(target: &Path, force: bool) -> Result<Place> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        // Not there, or its parent is not a folder or cannot be read: then making it fails, with
        // that error.
        Err(_) => return Ok(Place::Missing),
    };
    not_a_real_folder(target, &meta.file_type())?;
    let entries: Vec<String> = match std::fs::read_dir(target) {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => {
            return Err(refused(
                target,
                format!("cannot be read: {e}"),
                says!("choose another folder with ", Opt::Out),
            ));
        }
    };
    if entries.is_empty() {
        return Ok(Place::Empty);
    }
    let Some((_, ours)) = kind_of(target) else {
        let mut names = entries;
        names.sort();
        return Err(refused(
            target,
            says!(
                format!(
                    "is a folder that wijksim did not write (it has no wijksim manifest.json); it holds {}. wijksim never replaces it, not even with ",
                    list_some(&names)
                ),
                Opt::Force
            ),
            says!("choose a new or empty folder with ", Opt::Out),
        ));
    };
    let mut foreign: Vec<String> = entries
        .into_iter()
        .filter(|e| !ours.contains(e) && staging_parts(e).is_none())
        .collect();
    foreign.sort();
    if !foreign.is_empty() {
        return Err(refused(
            target,
            says!(
                format!(
                    "holds wijksim results and also files wijksim did not write: {}. wijksim never deletes them, not even with ",
                    list_some(&foreign)
                ),
                Opt::Force
            ),
            says!(
                "move those files out of the folder, or choose another folder with ",
                Opt::Out
            ),
        ));
    }
    if !force {
        return Err(exists(target));
    }
    Ok(Place::Results)
}

/// Refuses a target that is a symbolic link or not a folder.
fn not_a_real_folder(target: &Path, ft: &std::fs::FileType) -> Result<()> {
    if ft.is_symlink() {
        return Err(refused(
            target,
            "is a symbolic link; wijksim writes only into real folders, never through a link",
            says!(
                "give the folder the link points to, or another folder, with ",
                Opt::Out
            ),
        ));
    }
    if !ft.is_dir() {
        let what = describe(ft);
        return Err(refused(
            target,
            format!("is {what}, not a folder; wijksim never replaces it"),
            says!(
                "choose a folder for the results with ",
                Opt::Out,
                " (a new or empty one)"
            ),
        ));
    }
    Ok(())
}

fn describe(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_fifo() {
            return "a pipe";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_file() {
        "a file"
    } else {
        "not a folder"
    }
}

/// The parent folder and the file name of an output path (`..` and `/` have none: refused).
pub fn split(target: &Path) -> Result<(PathBuf, String)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            refused(
                target,
                "has no folder name of its own",
                says!(
                    "give the output folder by name, e.g. ",
                    Opt::Out,
                    " results/run1"
                ),
            )
        })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// The longest name that becomes a folder or file name (bytes): with the prefixes and suffixes wijksim
/// adds (`.NAME-shard-10-of-10.partial-4194304`, `fan_ARM_STATE.png`) it stays well inside the 255 bytes
/// file systems allow.
pub const MAX_NAME: usize = 100;

/// Checks a name that becomes a folder name (a scenario's or a sweep's): letters, digits, `-` and `_`,
/// at most [`MAX_NAME`] bytes. So no `..`, no separator and no absolute path can reach a path.
/// Returns the problem.
pub fn check_folder_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty (it names output folders)".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "name `{}` must be letters, digits, - or _ (it names output folders)",
            crate::error::short(name)
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "the name is {} characters long; it names output folders and may be at most {MAX_NAME}",
            name.len()
        ));
    }
    Ok(())
}

/// A folder name made from any text (e.g. a file's stem): characters other than letters, digits, `-` and
/// `_` become `_`, cut to [`MAX_NAME`] bytes.
pub fn folder_name_from(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME)
        .collect();
    if s.is_empty() {
        s.push_str("sweep");
    }
    s
}

// ---------------------------------------------------------------------------------------------------
// The registry of staging entries, for the signal handler.

static REGISTRY: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Vec<(u64, PathBuf)>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registered staging entry; dropping it unregisters (it does not remove the entry).
#[derive(Debug)]
pub struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        registry().retain(|(id, _)| *id != self.0);
    }
}

/// Registers a path (file or folder) to remove if the process is stopped by a signal.
pub fn remove_on_signal(path: &Path) -> Registered {
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    registry().push((id, path.to_path_buf()));
    Registered(id)
}

/// A staging folder that is removed when dropped (on every error path), and on a signal, unless it
/// was swapped into place ([`Staging::swap_into`]).
#[derive(Debug)]
pub struct Staging {
    path: PathBuf,
    done: bool,
    _registered: Registered,
}

impl Staging {
    /// Makes the empty staging folder `path` (removing what an earlier process of the same PID left
    /// there), registered for removal on a signal.
    pub fn create(path: PathBuf) -> std::io::Result<Staging> {
        if std::fs::symlink_metadata(&path).is_ok() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir(&path)?;
        let registered = remove_on_signal(&path);
        Ok(Staging {
            path,
            done: false,
            _registered: registered,
        })
    }

    /// The staging folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces `target` by the staging folder ([`swap`], with `old` as the aside name).
    pub fn swap_into(mut self, target: &Path, old: &Path) -> std::io::Result<()> {
        swap(&self.path, target, old)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Replaces folder `target` by folder `new`: renames `target` aside to `old`, `new` into place, and
/// removes `old`. The two renames run as one step with respect to [`clean_up_now`]: a signal waits
/// for them, and a crash between them (SIGKILL, power) leaves `old`, which [`clear_stale`] puts back.
pub fn swap(new: &Path, target: &Path, old: &Path) -> std::io::Result<()> {
    let mut reg = registry();
    let had = std::fs::symlink_metadata(target).is_ok();
    if had {
        std::fs::rename(target, old)?;
        fault_pause("WIJKSIM_TEST_PAUSE_IN_SWAP");
    }
    if let Err(e) = std::fs::rename(new, target) {
        if had {
            let _ = std::fs::rename(old, target);
        }
        return Err(e);
    }
    if !had {
        return Ok(());
    }
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    reg.push((id, old.to_path_buf()));
    drop(reg);
    let _registered = Registered(id);
    std::fs::remove_dir_all(old)
}

/// For the tests of what a crash leaves: sleeps 30 s where the named variable is set, so that a test can
/// kill the process at exactly this point.
fn fault_pause(var: &str) {
    if std::env::var_os(var).is_some() {
        std::thread::sleep(std::time::Duration::from_secs(30));
    }
}

/// Removes every registered staging entry (newest first). For the binary's signal handler: it holds
/// the registry until the process ends, so that no swap starts or is cut in half. Returns what it
/// removed.
pub fn clean_up_now() -> Vec<String> {
    let mut reg = registry();
    let mut done = Vec::new();
    for (_, p) in reg.iter().rev() {
        let quiet = p.extension().is_some_and(|x| x == "lock");
        let removed = if p.is_dir() {
            // Renamed first, so that workers still writing cannot make new entries in it.
            let mut gone = p.clone().into_os_string();
            gone.push(".removing");
            let gone = PathBuf::from(gone);
            let at = if std::fs::rename(p, &gone).is_ok() {
                &gone
            } else {
                p
            };
            std::fs::remove_dir_all(at).is_ok() || std::fs::remove_dir_all(at).is_ok()
        } else {
            std::fs::remove_file(p).is_ok()
        };
        if removed && !quiet {
            done.push(format!("removed {}", p.display()));
        }
    }
    reg.clear();
    std::mem::forget(reg);
    done
}

// ---------------------------------------------------------------------------------------------------
// Stale entries of processes that no longer run.

/// Whether process `pid` runs (where that cannot be known, it is taken to run: nothing is removed).
fn runs(pid: u32) -> bool {
    if pid == std::process::id() {
        // Our own PID on an entry we did not register: a dead process's, whose PID was reused.
        return false;
    }
    if Path::new("/proc/self").exists() {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The notes on what was cleared (see [`clear_stale`]) since the last call, for the user: a command
/// shows them whether it then succeeds or fails.
pub fn take_notes() -> Vec<String> {
    std::mem::take(&mut *NOTES.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Removes the staging entries for `name` in `parent` (all of them when `name` is `None`) left by
/// processes that no longer run, and puts back an `.old` folder whose target is missing. Call it while
/// holding the lock of the place. Each removal adds a note ([`take_notes`]).
pub fn clear_stale(parent: &Path, name: Option<&str>) {
    let notes = clear_stale_in(parent, name);
    NOTES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(notes);
}

fn clear_stale_in(parent: &Path, name: Option<&str>) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut entries: Vec<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    // `.old` first: restoring may need to know whether a `.partial` is there.
    entries.sort_by_key(|e| staging_parts(e).map(|(_, k, _)| k != "old"));
    let mut notes = Vec::new();
    for e in entries {
        let Some((n, kind, pid)) = staging_parts(&e) else {
            continue;
        };
        if name.is_some_and(|want| want != n) || runs(pid) {
            continue;
        }
        let path = parent.join(&e);
        let target = parent.join(n);
        if kind == "old" && std::fs::symlink_metadata(&target).is_err() {
            if std::fs::rename(&path, &target).is_ok() {
                notes.push(format!(
                    "put back {}: process {pid} stopped while replacing it",
                    target.display()
                ));
            }
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if removed.is_ok() {
            notes.push(format!(
                "removed {}, left by process {pid}, which no longer runs",
                path.display()
            ));
        }
    }
    notes
}

// ---------------------------------------------------------------------------------------------------
// The lock.

/// The lock of one output place, held while it is written; released and removed on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    _file: File,
    _registered: Registered,
}

/// Takes the lock of `target` (the file `.NAME.lock` beside it). Fails at once with
/// [`Error::OutputBusy`] when another process (or another writer in this one) holds it.
pub fn lock(target: &Path) -> Result<Lock> {
    let (parent, name) = split(target)?;
    let path = parent.join(format!(".{name}.lock"));
    for _ in 0..100 {
        // Not through `write_atomic`: the lock is this open file (its content is only the holder's
        // process id, for the message of a second writer).
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::Write {
                path: path.display().to_string(),
                source: e,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let by = if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (process {holder})")
                };
                return Err(Error::OutputBusy(Fault::new(
                    format!("another wijksim is writing '{}'{by}", target.display()),
                    says!(
                        "wait until it ends, or choose another folder with ",
                        Opt::Out
                    ),
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Write {
                    path: path.display().to_string(),
                    source: e,
                });
            }
        }
        // The holder before us may have removed the file between our open and our lock: then we
        // hold a lock on a file no one else sees. Check that the path is still our file.
        if same_file(&file, &path) {
            use std::io::Write;
            let mut f = &file;
            let _ = f.set_len(0);
            let _ = write!(f, "{}", std::process::id());
            let registered = remove_on_signal(&path);
            return Ok(Lock {
                path,
                _file: file,
                _registered: registered,
            });
        }
    }
    Err(Error::OutputBusy(Fault::new(
        format!(
            "could not take the lock {} (it keeps changing)",
            path.display()
        ),
        format!("make sure no other wijksim writes '{}'", target.display()),
    )))
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held: a waiting writer then sees a different file and retries.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::staging_parts;

    #[test]
    fn staging_names() {
        assert_eq!(
            staging_parts(".run.partial-12"),
            Some(("run", "partial", 12))
        );
        assert_eq!(staging_parts(".a.b.old-7"), Some(("a.b", "old", 7)));
        assert_eq!(
            staging_parts(".sweep.csv.tmp-3"),
            Some(("sweep.csv", "tmp", 3))
        );
        assert_eq!(
            staging_parts(".tornado.tmp-9.png"),
            Some(("tornado", "tmp", 9))
        );
        assert_eq!(staging_parts("run.partial-12"), None);
        assert_eq!(staging_parts(".run.partial-"), None);
        assert_eq!(staging_parts(".run.partial-x1"), None);
        assert_eq!(staging_parts(".~lock.results.xlsx#"), None);
    }
}
