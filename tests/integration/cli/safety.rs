//! wijksim touches only what it wrote: `--force` replaces only its own folders, nothing is written
//! through a link or over a file or device, names cannot reach outside the output folder, one writer
//! at a time, and staging entries go away on signals and after crashes. Each data-loss case is first
//! reproduced (the situation that lost data before), then shown to lose nothing.

use super::{default_text, wijksim};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn run_into(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    wijksim()
        .args(["run", "--quiet", "--runs", "20", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

fn stderr(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

/// The hidden entries (staging folders, temporary files, locks) in `dir`.
fn hidden(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// Every file under `dir` with its bytes, for before/after comparisons.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// A slow run (several seconds) into `out`, as a child process.
fn spawn_run(out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("wijksim"));
    c.args(["run", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Waits (at most 60 s) until `cond` holds.
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited 60 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

fn stage_of(dir: &Path, name: &str, child: &Child) -> PathBuf {
    dir.join(format!(".{name}.partial-{}", child.id()))
}

#[test]
fn force_never_deletes_a_folder_wijksim_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("thesis");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("thesis.txt"), "four years of work").unwrap();
    fs::create_dir(out.join("data")).unwrap();
    let err = stderr(run_into(&out, &["--force"]).code(2));
    assert!(
        err.contains("did not write") && err.contains("thesis.txt") && err.contains("data"),
        "{err}"
    );
    assert!(err.contains("not even with --force"), "{err}");
    assert_eq!(
        fs::read_to_string(out.join("thesis.txt")).unwrap(),
        "four years of work"
    );
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
}

#[test]
fn force_keeps_files_the_user_added_to_a_results_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &[]).success();
    fs::write(out.join("notes.txt"), "my notes").unwrap();
    let before = snapshot(&out);
    let err = stderr(run_into(&out, &["--force", "--seed", "9"]).code(2));
    assert!(err.contains("notes.txt") && err.contains("move"), "{err}");
    assert_eq!(snapshot(&out), before, "nothing in the folder changed");
    // Moved out, the folder is wijksim's own again and may be replaced.
    fs::remove_file(out.join("notes.txt")).unwrap();
    run_into(&out, &["--force", "--seed", "9"]).success();
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
}

#[test]
fn a_file_device_pipe_or_link_at_out_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file.
    let file = dir.path().join("results");
    fs::write(&file, "a user's file").unwrap();
    for force in [&[][..], &["--force"][..]] {
        let err = stderr(run_into(&file, force).code(2));
        assert!(err.contains("is a file, not a folder"), "{err}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "a user's file");
    }
    // A pipe.
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = stderr(run_into(&fifo, &["--force"]).code(2));
    assert!(err.contains("is a pipe"), "{err}");
    // A symbolic link to an empty folder: never written through.
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let err = stderr(run_into(&link, &["--force"]).code(2));
    assert!(err.contains("symbolic link"), "{err}");
    assert!(fs::read_dir(&real).unwrap().next().is_none());
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A device: /dev/null stays a character device (as root it used to become a results folder).
    use std::os::unix::fs::FileTypeExt;
    let null = Path::new("/dev/null");
    let err = stderr(run_into(null, &[]).code(2));
    assert!(err.contains("is a device"), "{err}");
    let err = stderr(run_into(null, &["--force"]).code(2));
    assert!(err.contains("is a device"), "{err}");
    assert!(fs::metadata(null).unwrap().file_type().is_char_device());
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
}

#[test]
fn names_cannot_reach_outside_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    // Scenario name.
    let sc = dir.path().join("s.toml");
    let text = default_text().replacen("name = \"oosterschelde\"", "name = \"../../escaped\"", 1);
    assert!(text.contains("../../escaped"));
    fs::write(&sc, &text).unwrap();
    let err = stderr(wijksim().arg("check").arg(&sc).assert().code(2));
    assert!(
        err.contains("scenario.name") && err.contains("letters, digits"),
        "{err}"
    );
    let long = "x".repeat(101);
    fs::write(
        &sc,
        default_text().replacen("name = \"oosterschelde\"", &format!("name = \"{long}\""), 1),
    )
    .unwrap();
    let err = stderr(wijksim().arg("check").arg(&sc).assert().code(2));
    assert!(err.contains("at most 100"), "{err}");
    // Sweep name: `name = "../x"` wrote outside output/, and with --force deleted the folder there.
    let work = dir.path().join("work");
    fs::create_dir_all(work.join("output")).unwrap();
    let victim = dir.path().join("x");
    fs::create_dir(&victim).unwrap();
    fs::write(victim.join("keep.txt"), "keep").unwrap();
    let sw = work.join("sw.toml");
    fs::write(
        &sw,
        format!(
            "[sweep]\nname = \"../../x\"\nscenario = \"{}\"\nruns = 5\ndesign = \"grid\"\n[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nvalues = [0.0, 0.1]\n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/oosterschelde.toml")
        ),
    )
    .unwrap();
    let err = stderr(
        wijksim()
            .current_dir(&work)
            .args(["sweep", "sw.toml", "--force", "--quiet"])
            .assert()
            .code(2),
    );
    assert!(
        err.contains("sweep.name") && err.contains("letters, digits"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(victim.join("keep.txt")).unwrap(), "keep");
    assert_eq!(fs::read_dir(work.join("output")).unwrap().count(), 0);
}

#[test]
fn arm_names_give_file_names_inside_plots_that_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("s.toml");
    // Two pilot arms whose names give the same file name, one of them with separators and `..`.
    let pilot = "[[arm]]\nname = \"dorpsbudget_noord_beveland\"\n";
    let text = default_text();
    let at = text.find(pilot).expect("the default has this arm");
    let arm = &text[at..];
    let arm = &arm[..arm.find("\n\n").unwrap_or(arm.len())];
    let twin = arm.replacen(
        "dorpsbudget_noord_beveland",
        "dorpsbudget/../noord beveland",
        1,
    );
    let twin2 = arm.replacen(
        "dorpsbudget_noord_beveland",
        "dorpsbudget_.._noord_beveland",
        1,
    );
    fs::write(&sc, format!("{text}\n{twin}\n\n{twin2}\n")).unwrap();
    let out = dir.path().join("o");
    wijksim()
        .arg("run")
        .arg(&sc)
        .args(["--quiet", "--runs", "10", "--out"])
        .arg(&out)
        .assert()
        .success();
    let plots: Vec<String> = fs::read_dir(out.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let stacked: Vec<&String> = plots
        .iter()
        .filter(|p| p.starts_with("stacked_dorpsbudget_") && p.ends_with(".png"))
        .collect();
    assert_eq!(
        stacked.len(),
        3,
        "one stacked plot per pilot arm: {stacked:?}"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_array().unwrap();
    let mut names: Vec<&str> = files.iter().map(|f| f.as_str().unwrap()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "no file is written twice");
    // Nothing outside the folder.
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        2,
        "only s.toml and o"
    );
}

#[test]
fn signals_remove_the_staging_folder_and_keep_the_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &[]).success();
    let before = snapshot(&out);
    for (sig, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let child = spawn_run(&out, &["--force", "--runs", "15000", "--threads", "1"], &[]);
        let stage = stage_of(dir.path(), "o", &child);
        wait_for("the staging folder", || stage.exists());
        signal(&child, sig);
        let res = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(code), "SIG{sig}: {err}");
        assert!(err.contains("removed"), "SIG{sig}: {err}");
        assert!(
            hidden(dir.path()).is_empty(),
            "SIG{sig} left {:?}",
            hidden(dir.path())
        );
        assert_eq!(
            snapshot(&out),
            before,
            "SIG{sig}: the old results are whole"
        );
    }
}

#[test]
fn a_killed_run_leaves_staging_that_the_next_run_removes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let mut child = spawn_run(&out, &["--runs", "15000", "--threads", "1"], &[]);
    let stage = stage_of(dir.path(), "o", &child);
    wait_for("the staging folder", || stage.exists());
    child.kill().unwrap();
    child.wait().unwrap();
    // Reproduced: SIGKILL cannot be caught; the staging folder stays.
    assert!(stage.exists());
    let err = stderr(run_into(&out, &[]).success());
    assert!(
        err.contains("removed") && err.contains("no longer runs"),
        "{err}"
    );
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
    assert!(out.join("summary.csv").exists());
}

#[test]
fn a_kill_between_the_two_renames_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &[]).success();
    let before = snapshot(&out);
    // The test hook pauses the replacing run after it renamed the old results aside and before it
    // renames the new ones into place: the worst moment for a crash.
    let mut child = spawn_run(
        &out,
        &["--force", "--runs", "20", "--seed", "5"],
        &[("WIJKSIM_TEST_PAUSE_IN_SWAP", "1")],
    );
    let old = dir.path().join(format!(".o.old-{}", child.id()));
    wait_for("the old results renamed aside", || old.exists());
    child.kill().unwrap();
    child.wait().unwrap();
    // Reproduced: the results folder is gone, the old one hidden, the new one staged.
    assert!(!out.exists());
    assert!(old.exists());
    // The next command into the same place puts the old results back and clears the staging.
    let err = stderr(run_into(&out, &[]).code(2));
    assert!(err.contains("put back"), "{err}");
    assert!(err.contains("already holds results"), "{err}");
    assert_eq!(snapshot(&out), before);
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
}

#[test]
fn two_runs_into_one_folder_at_once_one_wins_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let first = spawn_run(
        &out,
        &["--runs", "3000", "--threads", "1", "--seed", "1"],
        &[],
    );
    let stage = stage_of(dir.path(), "o", &first);
    wait_for("the first run's staging folder", || stage.exists());
    for force in [&[][..], &["--force"][..]] {
        let err = stderr(run_into(&out, force).code(2));
        assert!(err.contains("another wijksim is writing"), "{err}");
        assert!(err.contains(&format!("process {}", first.id())), "{err}");
    }
    let res = first.wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 1);
    assert_eq!(m["runs"], 3000);
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
}

#[test]
fn default_runs_at_once_take_separate_folders() {
    let dir = tempfile::tempdir().unwrap();
    let first = Command::new(assert_cmd::cargo::cargo_bin("wijksim"))
        .current_dir(dir.path())
        .args(["run", "--quiet", "--runs", "3000", "--threads", "1"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let out = dir.path().join("output");
    let stage = stage_of(&out, "oosterschelde", &first);
    wait_for("the first run's staging folder", || stage.exists());
    // A user's folder of the same name is passed by, never used.
    fs::create_dir(out.join("oosterschelde-2")).unwrap();
    fs::write(out.join("oosterschelde-2/mine.txt"), "mine").unwrap();
    let said = wijksim()
        .current_dir(dir.path())
        .args(["run", "--quiet", "--runs", "20"])
        .assert()
        .success();
    let said = String::from_utf8(said.get_output().stdout.clone()).unwrap();
    assert!(said.contains("oosterschelde-3"), "{said}");
    let mut first = first;
    assert!(first.wait().unwrap().success());
    assert!(out.join("oosterschelde/summary.csv").exists());
    assert!(out.join("oosterschelde-3/summary.csv").exists());
    assert_eq!(
        fs::read_to_string(out.join("oosterschelde-2/mine.txt")).unwrap(),
        "mine"
    );
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
}

fn sweep_file(dir: &Path, points: usize, runs: usize) -> PathBuf {
    let f = dir.join("sw.toml");
    fs::write(
        &f,
        format!(
            "[sweep]\nname = \"sw\"\nscenario = \"{}\"\nruns = {runs}\ndesign = \"latin_hypercube\"\npoints = {points}\n[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nlow = 0.0\nhigh = 0.2\n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/oosterschelde.toml")
        ),
    )
    .unwrap();
    f
}

#[test]
fn a_forced_sweep_keeps_the_old_results_until_it_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let f = sweep_file(dir.path(), 6, 20);
    wijksim()
        .arg("sweep")
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    let before = snapshot(&out);
    // A slower sweep over it, with --force, killed (SIGKILL) once it runs: it used to delete the old
    // sweep before starting.
    let slow = sweep_file(dir.path(), 40, 400);
    let start = |extra: &[&str]| {
        Command::new(assert_cmd::cargo::cargo_bin("wijksim"))
            .arg("sweep")
            .arg(&slow)
            .arg("--out")
            .arg(&out)
            .args(["--quiet", "--force", "--threads", "1"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = start(&[]);
    let stage = stage_of(dir.path(), "sw", &child);
    wait_for("the sweep's staging folder", || {
        stage.join("sweep.csv").exists()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(snapshot(&out), before, "SIGKILL: the old sweep is whole");
    // Reproduced: SIGKILL cannot be caught; the staging folder stays, for now.
    assert!(stage.exists());
    // SIGTERM: this sweep's staging folder goes; and it cleared the SIGKILLed one's, with a note.
    let child = start(&[]);
    let stage2 = stage_of(dir.path(), "sw", &child);
    wait_for("the sweep's staging folder", || {
        stage2.join("sweep.csv").exists()
    });
    signal(&child, "TERM");
    let res = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(143), "{err}");
    assert!(err.contains("no longer runs"), "{err}");
    assert_eq!(snapshot(&out), before, "SIGTERM: the old sweep is whole");
    assert!(!stage.exists() && !stage2.exists());
    // A forced sweep that ends replaces the old one whole.
    let quick = sweep_file(dir.path(), 4, 10);
    wijksim()
        .arg("sweep")
        .arg(&quick)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--force"])
        .assert()
        .success();
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["points"], 4);
    assert_eq!(m["complete"], true);
}

#[test]
fn report_never_writes_into_a_folder_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &[]).success();
    let child = spawn_run(&out, &["--force", "--runs", "15000", "--threads", "1"], &[]);
    let stage = stage_of(dir.path(), "o", &child);
    wait_for("the staging folder", || stage.exists());
    let err = stderr(wijksim().arg("report").arg(&out).assert().code(2));
    assert!(err.contains("another wijksim is writing"), "{err}");
    signal(&child, "TERM");
    child.wait_with_output().unwrap();
    wijksim().arg("report").arg(&out).assert().success();
    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
}
