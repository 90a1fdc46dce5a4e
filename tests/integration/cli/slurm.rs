//! The emitted Slurm scripts on a real Slurm cluster: `submit.sh` submits the job array and the merge,
//! and the merged `sweep.csv` equals an unsharded run's byte for byte; a failed shard gets the merge
//! cancelled, and `submit.sh I` reruns that shard and the merge.
//!
//! Ignored by default: they need `sbatch` and `squeue` and an idle node, e.g. the single-node cluster
//! `.ci/slurm-up` starts (as CI does). Run with `--ignored`, they fail when there is no cluster.

use super::wijksim;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a submission may take to finish (the jobs take seconds on an idle node).
const TIMEOUT: Duration = Duration::from_secs(180);

/// Runs a Slurm command; panics with a hint when it is missing or fails.
fn slurm(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{cmd}` ({e}): these tests need Slurm; start a cluster with .ci/slurm-up"
        )
    });
    assert!(
        out.status.success(),
        "`{cmd} {}` failed: {}{}; is the cluster up? (.ci/slurm-up)",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Panics unless `sbatch` and `squeue` run and some node can take jobs.
fn require_cluster() {
    slurm("sbatch", &["--version"]);
    let states = slurm("sinfo", &["-h", "-o", "%t"]);
    assert!(
        states
            .split_whitespace()
            .any(|s| ["idle", "mix", "alloc"].contains(&s.trim_end_matches(['*', '~', '#']))),
        "no Slurm node is up (sinfo: {states:?}); start one with .ci/slurm-up"
    );
}

/// A grid sweep of 6 points over the default scenario, 10 runs each.
fn sweep_file(dir: &Path) -> PathBuf {
    let p = dir.join("grid.toml");
    fs::write(
        &p,
        format!(
            "[sweep]\nname = \"grid\"\nscenario = \"{}\"\nruns = 10\ndesign = \"grid\"\n\n\
             [[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nvalues = [0.0, 0.1]\n\n\
             [[parameter]]\nkey = \"regime[dorpsbudget].phase_in_cycles\"\nname = \"phase_in\"\n\
             low = 0\nhigh = 12\nsteps = 3\n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/oosterschelde.toml")
        ),
    )
    .unwrap();
    p
}

/// Writes the scripts for `file` into `out/slurm/`: 3 shards, 1 CPU, 200M, 5 minutes each.
fn emit(file: &Path, out: &Path) {
    wijksim()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--emit-slurm", "--shards", "3", "--slurm-cpus", "1"])
        .args(["--slurm-mem", "200M", "--slurm-time", "00:05:00"])
        .assert()
        .success();
}

/// The unsharded `sweep.csv`.
fn unsharded(file: &Path, dir: &Path) -> Vec<u8> {
    let whole = dir.join("whole");
    wijksim()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(&whole)
        .arg("--quiet")
        .assert()
        .success();
    fs::read(whole.join("sweep.csv")).unwrap()
}

/// Runs `submit.sh` with `args` (and `WIJKSIM` if given) and returns the array's and the merge's job
/// ids, read from what it says.
fn submit(out: &Path, args: &[&str], wijksim: Option<&Path>) -> (String, String) {
    let mut cmd = Command::new("bash");
    cmd.arg(out.join("slurm/submit.sh")).args(args);
    match wijksim {
        Some(w) => cmd.env("WIJKSIM", w),
        None => cmd.env_remove("WIJKSIM"),
    };
    let st = cmd.output().unwrap();
    let said = String::from_utf8_lossy(&st.stdout);
    assert!(
        st.status.success(),
        "submit.sh failed: {said}{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let ids: Vec<&str> = said
        .split("as job ")
        .skip(1)
        .filter_map(|s| s.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 2, "two job ids in {said:?}");
    (ids[0].to_string(), ids[1].to_string())
}

/// `(job or task id, state, reason)` of the job's tasks as `squeue` lists them, finished ones too.
fn states(job: &str) -> Vec<(String, String, String)> {
    slurm("squeue", &["-h", "-t", "all", "-j", job, "-o", "%i %T %r"])
        .lines()
        .map(|l| {
            let mut w = l.split_whitespace().map(str::to_string);
            let mut next = || w.next().unwrap_or_default();
            (next(), next(), next())
        })
        .collect()
}

/// Waits until every task of the job has ended and returns their states; panics after [`TIMEOUT`]
/// with what `squeue` says and the logs.
fn wait(job: &str, out: &Path) -> Vec<(String, String, String)> {
    let start = Instant::now();
    loop {
        let s = states(job);
        let pending = |state: &str| {
            [
                "PENDING",
                "RUNNING",
                "CONFIGURING",
                "COMPLETING",
                "SUSPENDED",
                "REQUEUED",
            ]
            .contains(&state)
        };
        if !s.is_empty() && !s.iter().any(|(_, state, _)| pending(state)) {
            return s;
        }
        if start.elapsed() > TIMEOUT {
            let logs: String = fs::read_dir(out.join("slurm/logs"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| {
                    let text = fs::read_to_string(e.path()).unwrap_or_default();
                    format!("--- {}\n{text}", e.path().display())
                })
                .collect();
            panic!(
                "job {job} has not ended within {TIMEOUT:?}: {s:?}\nsqueue:\n{}\n{logs}",
                slurm("squeue", &["-t", "all"])
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
#[ignore = "needs a running Slurm cluster: .ci/slurm-up"]
fn emitted_sweep_runs_on_slurm_and_merges_to_the_unsharded_table() {
    require_cluster();
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path());
    // A space, a `#` and a `%` in the path: quoted for bash, for sbatch and for its file patterns.
    let out = dir.path().join("on slurm #1 100%");
    emit(&file, &out);
    // The jobs run the binary the scripts name (no WIJKSIM).
    let (array, merge) = submit(&out, &[], None);
    let tasks = wait(&array, &out);
    assert_eq!(tasks.len(), 3, "{tasks:?}");
    assert!(tasks.iter().all(|t| t.1 == "COMPLETED"), "{tasks:?}");
    let m = wait(&merge, &out);
    assert_eq!(m[0].1, "COMPLETED", "the merge: {m:?}");
    for task in 1..=3 {
        let log = out.join(format!("slurm/logs/shard-{array}_{task}.out"));
        assert!(log.is_file(), "{} is missing", log.display());
    }
    assert!(out.join(format!("slurm/logs/merge-{merge}.out")).is_file());
    assert!(
        fs::read(out.join("merged/sweep.csv")).unwrap() == unsharded(&file, dir.path()),
        "the merged sweep.csv differs from the unsharded one"
    );
}

#[test]
#[ignore = "needs a running Slurm cluster: .ci/slurm-up"]
fn a_failed_shard_on_slurm_cancels_the_merge_and_reruns_alone() {
    require_cluster();
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path());
    let out = dir.path().join("failing shard");
    emit(&file, &out);
    // The jobs run wijksim through a wrapper that fails shard 2 while `fail` exists.
    let (fail, wrapper) = super::sweep::failing_shard_wrapper(dir.path());

    let (array, merge) = submit(&out, &[], Some(&wrapper));
    let mut tasks = wait(&array, &out);
    tasks.sort();
    let got: Vec<(&str, &str)> = tasks.iter().map(|t| (&t.0[..], &t.1[..])).collect();
    let want = [
        (format!("{array}_1"), "COMPLETED"),
        (format!("{array}_2"), "FAILED"),
        (format!("{array}_3"), "COMPLETED"),
    ];
    let want: Vec<(&str, &str)> = want.iter().map(|(i, s)| (&i[..], *s)).collect();
    assert_eq!(got, want);
    // Slurm cancels the merge (`--kill-on-invalid-dep=yes`) rather than leaving it pending.
    let m = wait(&merge, &out);
    assert_eq!(
        (&m[0].1[..], &m[0].2[..]),
        ("CANCELLED", "DependencyNeverSatisfied"),
        "the merge: {m:?}"
    );
    assert!(!out.join("merged").exists());
    let failed = fs::read_to_string(out.join(format!("slurm/logs/shard-{array}_2.out"))).unwrap();
    assert!(failed.contains("shard 2 fails"), "{failed}");

    // Rerun only the failed shard and the merge, as the README says.
    fs::remove_file(&fail).unwrap();
    let (array2, merge2) = submit(&out, &["2"], Some(&wrapper));
    let tasks = wait(&array2, &out);
    assert_eq!(
        tasks
            .iter()
            .map(|t| (&t.0[..], &t.1[..]))
            .collect::<Vec<_>>(),
        [(&format!("{array2}_2")[..], "COMPLETED")],
        "only task 2 runs again"
    );
    let m = wait(&merge2, &out);
    assert_eq!(m[0].1, "COMPLETED", "the merge: {m:?}");
    assert!(
        out.join(format!("slurm/logs/shard-{array}_2.out"))
            .is_file(),
        "the rerun keeps the failed attempt's log"
    );
    assert!(
        fs::read(out.join("merged/sweep.csv")).unwrap() == unsharded(&file, dir.path()),
        "the merged sweep.csv differs from the unsharded one"
    );
}
