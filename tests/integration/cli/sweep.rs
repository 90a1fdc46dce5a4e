//! `wijksim sweep` and `wijksim merge`: designs, resumable long runs, sharding, Slurm scripts.

use super::wijksim;
use std::fs;
use std::path::{Path, PathBuf};

fn scenario() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/oosterschelde.toml").to_string()
}

/// A sweep file in `dir` over the default scenario with `design` lines and parameter tables.
fn sweep_file(dir: &Path, name: &str, head: &str, params: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    fs::write(
        &p,
        format!(
            "[sweep]\nname = \"{name}\"\nscenario = \"{}\"\nruns = 20\n{head}\n{params}",
            scenario()
        ),
    )
    .unwrap();
    p
}

const ONE_WAY: &str = r#"
[[parameter]]
key = "regime[dorpsbudget].prevention"
name = "prevention"
low = 0.0
high = 0.2

[[parameter]]
key = "regime[dorpsbudget].budget_share_of_provider"
name = "budget_share"
low = 0.9
high = 1.3

[[parameter]]
key = "regime[dorpsbudget].modifier[BT->WV].hazard_ratio"
low = 1.0
high = 2.0
"#;

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    wijksim()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// `sweep.csv` as rows of fields, with the header.
fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (head, rows)
}

fn col(head: &[String], name: &str) -> usize {
    head.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn one_way_sweep_writes_a_tidy_table_and_a_tornado_plot() {
    let dir = tempfile::tempdir().unwrap();
    let f = sweep_file(dir.path(), "ow", "design = \"one_way\"", ONE_WAY);
    let out = dir.path().join("out");
    sweep(&f, &out, &["--quiet"])
        .success()
        .stdout(predicates::str::contains("7 of 7 points done"));
    let (head, rows) = table(&out.join("sweep.csv"));
    assert_eq!(
        &head[..4],
        [
            "point",
            "prevention",
            "budget_share",
            "regime[dorpsbudget].modifier[BT->WV].hazard_ratio"
        ]
    );
    for m in [
        "baseline.care_cost_total",
        "baseline.municipal_spend_2025",
        "dorpsbudget_noord_beveland.care_cost_difference",
        "dorpsbudget_noord_beveland.municipal_spend_difference",
        "dorpsbudget_noord_beveland.p_care_cost_lower",
        "dorpsbudget_noord_beveland.p_overspend",
        "dorpsbudget_noord_beveland.overspend",
        "dorpsbudget_noord_beveland.aandeel_waakvlam_cy3_p_met",
    ] {
        col(&head, m);
    }
    assert_eq!(rows.len(), 7, "base + low and high of 3 parameters");
    // The pilot areas have metrics of their own (issue 12). Outside them the arms are identical run
    // by run (common random numbers), so the pilot's effect on care is the same there as in the
    // region; their totals are the villages' own.
    let (region, pilot) = (
        col(&head, "dorpsbudget_noord_beveland.care_cost_difference"),
        col(
            &head,
            "dorpsbudget_noord_beveland.pilot_areas.care_cost_difference",
        ),
    );
    let total = col(&head, "baseline.pilot_areas.care_cost_total");
    for r in &rows {
        let x = |c: usize| r[c].parse::<f64>().unwrap();
        assert!((x(region) - x(pilot)).abs() <= 0.02, "{r:?}");
        assert!(x(total) > 0.0 && x(total) < x(col(&head, "baseline.care_cost_total")) / 10.0);
    }
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["0", "1", "2", "3", "4", "5", "6"]);
    // Base values from the scenario; each low/high with the others at base.
    assert_eq!(rows[0][1..4], ["0.1", "1.1", "1.5"]);
    assert_eq!(rows[1][1..4], ["0", "1.1", "1.5"]);
    assert_eq!(rows[4][1..4], ["0.1", "1.3", "1.5"]);
    // The same seed at every point: the baseline arm, which no swept number touches, is identical.
    let b = col(&head, "baseline.care_cost_total");
    assert!(rows.iter().all(|r| r[b] == rows[0][b]));
    // Without a bandbreedte the municipality tops up every overspend and the reserve comes back at
    // the pilot's end: over the pilot it pays what was spent, whatever the budget. The budget decides
    // the chance of overspending instead: smaller budget, more often.
    let d = col(
        &head,
        "dorpsbudget_noord_beveland.municipal_spend_difference",
    );
    let num = |r: usize| rows[r][d].parse::<f64>().unwrap();
    assert!(
        (num(4) - num(0)).abs() < 1e-6 * num(0).abs()
            && (num(3) - num(0)).abs() < 1e-6 * num(0).abs(),
        "{} {} {}",
        num(3),
        num(0),
        num(4)
    );
    let p = col(&head, "dorpsbudget_noord_beveland.p_overspend");
    let pr = |r: usize| rows[r][p].parse::<f64>().unwrap();
    assert!(
        pr(3) > pr(0) && pr(0) > pr(4),
        "P(overspend) {} {} {}",
        pr(3),
        pr(0),
        pr(4)
    );
    // The effect parameters move the care delivered, monotonically: more prevention and more
    // stepping down to Waakvlam mean less care (rows: 1, 2 prevention low, high; 5, 6 the hazard
    // ratio low, high). Their tornado bars thus have width (they had none when the metric was the
    // pilot's cost, which the budget fixed).
    let c = col(&head, "dorpsbudget_noord_beveland.care_cost_difference");
    let care = |r: usize| rows[r][c].parse::<f64>().unwrap();
    assert!(
        care(2) < care(0) && care(0) < care(1),
        "prevention: {} {} {}",
        care(1),
        care(0),
        care(2)
    );
    assert!(
        care(6) < care(0) && care(0) < care(5),
        "hazard ratio: {} {} {}",
        care(5),
        care(0),
        care(6)
    );
    for f in [
        "tornado.png",
        "tornado.svg",
        "manifest.json",
        "sweep.toml",
        "scenario.toml",
    ] {
        assert!(out.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    let svg = fs::read_to_string(out.join("tornado.svg")).unwrap();
    assert!(svg.contains("budget_share") && svg.contains("prevention"));
}

#[test]
fn grid_and_latin_hypercube_designs() {
    let dir = tempfile::tempdir().unwrap();
    let grid = sweep_file(
        dir.path(),
        "grid",
        "design = \"grid\"",
        "[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nvalues = [0.0, 0.1]\n\n[[parameter]]\nkey = \"regime[dorpsbudget].phase_in_cycles\"\nname = \"phase_in\"\nlow = 0\nhigh = 12\nsteps = 3\n",
    );
    sweep(&grid, &dir.path().join("g"), &["--quiet"]).success();
    let (_, rows) = table(&dir.path().join("g/sweep.csv"));
    let combos: Vec<(String, String)> = rows.iter().map(|r| (r[1].clone(), r[2].clone())).collect();
    let want: Vec<(String, String)> = [
        ("0", "0"),
        ("0", "6"),
        ("0", "12"),
        ("0.1", "0"),
        ("0.1", "6"),
        ("0.1", "12"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(combos, want);
    assert!(
        !dir.path().join("g/tornado.png").exists(),
        "tornado plots are for one-way designs"
    );

    let lhs = sweep_file(
        dir.path(),
        "lhs",
        "design = \"latin_hypercube\"\npoints = 10\ndesign_seed = 3",
        "[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nlow = 0.0\nhigh = 0.2\n\n[[parameter]]\nkey = \"regime[dorpsbudget].phase_in_cycles\"\nlow = 0\nhigh = 20\n",
    );
    sweep(&lhs, &dir.path().join("l"), &["--quiet"]).success();
    let (_, rows) = table(&dir.path().join("l/sweep.csv"));
    assert_eq!(rows.len(), 10);
    let mut strata: Vec<usize> = rows
        .iter()
        .map(|r| (r[1].parse::<f64>().unwrap() / 0.02) as usize)
        .collect();
    strata.sort();
    assert_eq!(
        strata,
        (0..10).collect::<Vec<_>>(),
        "one point per tenth of the range"
    );
    assert!(
        rows.iter().all(|r| !r[2].contains('.')),
        "a whole-number parameter takes whole values"
    );
}

#[test]
fn results_do_not_depend_on_threads_or_parallel_mode() {
    let dir = tempfile::tempdir().unwrap();
    let f = sweep_file(dir.path(), "ow", "design = \"one_way\"", ONE_WAY);
    // 7 points: 1 thread runs them one by one; 2 threads run points in parallel; 4 threads (more than
    // half the points) run the runs of each point in parallel.
    let mut outs = Vec::new();
    for t in ["1", "2", "4"] {
        let out = dir.path().join(format!("t{t}"));
        let a = sweep(&f, &out, &["--threads", t]).success();
        let so = String::from_utf8(a.get_output().stdout.clone()).unwrap();
        outs.push((fs::read(out.join("sweep.csv")).unwrap(), so));
    }
    assert!(outs[1].1.contains("points in parallel") && outs[2].1.contains("runs in parallel"));
    assert!(outs[0].0 == outs[1].0 && outs[1].0 == outs[2].0);
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let f = sweep_file(dir.path(), "ow", "design = \"one_way\"", ONE_WAY);
    let whole = dir.path().join("whole");
    sweep(&f, &whole, &["--quiet"]).success();
    let want = fs::read(whole.join("sweep.csv")).unwrap();
    // Stopped after 3 points, then a torn line as a kill in the middle of a write leaves it.
    let part = dir.path().join("part");
    sweep(&f, &part, &["--max-points", "3", "--quiet"])
        .success()
        .stdout(predicates::str::contains("--resume"));
    let m = fs::read_to_string(part.join("manifest.json")).unwrap();
    assert!(m.contains("\"complete\": false") && m.contains("\"points_done\": 3"));
    let mut csv = fs::OpenOptions::new()
        .append(true)
        .open(part.join("sweep.csv"))
        .unwrap();
    std::io::Write::write_all(&mut csv, b"5,0.1,1,2,1234").unwrap();
    drop(csv);
    // Without --resume the folder is refused, not overwritten.
    sweep(&f, &part, &[])
        .code(2)
        .stderr(predicates::str::contains("--resume"));
    sweep(&f, &part, &["--resume", "--quiet"])
        .success()
        .stdout(predicates::str::contains("(3 from before)"));
    assert!(fs::read(part.join("sweep.csv")).unwrap() == want);
    // Resuming a complete sweep runs nothing and changes nothing.
    sweep(&f, &part, &["--resume", "--quiet"])
        .success()
        .stdout(predicates::str::contains("0 run now"));
    assert!(fs::read(part.join("sweep.csv")).unwrap() == want);
    // Another sweep cannot resume this folder.
    let other = sweep_file(dir.path(), "ow2", "design = \"one_way\"\nseed = 5", ONE_WAY);
    sweep(&other, &part, &["--resume"])
        .code(2)
        .stderr(predicates::str::contains("another sweep"));
}

#[test]
fn a_killed_sweep_keeps_whole_rows_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("slow.toml");
    fs::write(
        &f,
        format!(
            "[sweep]\nscenario = \"{}\"\nruns = 150\ndesign = \"latin_hypercube\"\npoints = 24\n[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nlow = 0.0\nhigh = 0.2\n",
            scenario()
        ),
    )
    .unwrap();
    let whole = dir.path().join("whole");
    sweep(&f, &whole, &["--quiet", "--threads", "2"]).success();
    let want = fs::read_to_string(whole.join("sweep.csv")).unwrap();
    let out = dir.path().join("killed");
    let bin = assert_cmd::cargo::cargo_bin("wijksim");
    let mut child = std::process::Command::new(bin)
        .arg("sweep")
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--threads", "2"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: no clean-up) once a few points are in.
    let start = std::time::Instant::now();
    loop {
        let rows = fs::read_to_string(out.join("sweep.csv"))
            .map_or(0, |t| t.lines().count().saturating_sub(1));
        if rows >= 3 || start.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = fs::read_to_string(out.join("sweep.csv")).unwrap();
    // Every line but possibly a torn last one is a whole row of the uninterrupted sweep.
    let whole_rows: Vec<&str> = want.lines().collect();
    let complete: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end())
        .collect();
    assert!(complete.len() >= 4, "header and at least 3 rows");
    for l in &complete {
        assert!(whole_rows.contains(l), "not a whole row: {l}");
    }
    sweep(&f, &out, &["--resume", "--quiet"]).success();
    assert_eq!(fs::read_to_string(out.join("sweep.csv")).unwrap(), want);
}

#[test]
fn shards_merge_into_the_unsharded_table_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let f = sweep_file(dir.path(), "ow", "design = \"one_way\"", ONE_WAY);
    let whole = dir.path().join("whole");
    sweep(&f, &whole, &["--quiet"]).success();
    let shards: Vec<PathBuf> = (1..=3).map(|i| dir.path().join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        sweep(&f, s, &["--shard", &format!("{}/3", i + 1), "--quiet"]).success();
        let (_, rows) = table(&s.join("sweep.csv"));
        assert!(rows.iter().all(|r| r[0].parse::<usize>().unwrap() % 3 == i));
    }
    let merged = dir.path().join("merged");
    wijksim()
        .args(["merge", "--out"])
        .arg(&merged)
        .args(&shards)
        .assert()
        .success();
    for f in ["sweep.csv", "tornado.svg", "tornado.png"] {
        assert!(
            fs::read(merged.join(f)).unwrap() == fs::read(whole.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // A missing shard, an incomplete shard, and shards of another sweep are refused.
    let m2 = dir.path().join("m2");
    wijksim()
        .args(["merge", "--out"])
        .arg(&m2)
        .args(&shards[..2])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("shard 3/3 is missing"));
    let part = dir.path().join("part3");
    sweep(
        &f,
        &part,
        &["--shard", "3/3", "--max-points", "1", "--quiet"],
    )
    .success();
    wijksim()
        .args(["merge", "--out"])
        .arg(&m2)
        .args(&shards[..2])
        .arg(&part)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not complete"));
    let other = sweep_file(dir.path(), "ow3", "design = \"one_way\"\nseed = 9", ONE_WAY);
    let foreign = dir.path().join("foreign3");
    sweep(&other, &foreign, &["--shard", "3/3", "--quiet"]).success();
    wijksim()
        .args(["merge", "--out"])
        .arg(&m2)
        .args(&shards[..2])
        .arg(&foreign)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("another sweep"));
    assert!(!m2.exists(), "a refused merge writes nothing");
}

/// A stand-in `sbatch` that runs each job at once (the array tasks one by one) and reads the
/// `#SBATCH` lines as sbatch does: a value ends at a space outside double quotes or at a `#`, its
/// double quotes are removed and a backslash escapes the next character; `--output` expands `%A` (array job), `%a` (task), `%j` (job) and `%%`. Job ids
/// count up from 101. A job whose dependency failed is cancelled if it asks for
/// `--kill-on-invalid-dep=yes`, and otherwise stays pending forever (logged, not run).
const STAND_IN_SBATCH: &str = r#"#!/bin/bash
set -u
n=$(( $(cat "$SBATCH_STATE/next" 2>/dev/null || echo 100) + 1 )); echo "$n" > "$SBATCH_STATE/next"
dep=""; array=""; script=""; kill=""
for a in "$@"; do case "$a" in
  --parsable) ;; --dependency=*) dep="${a#--dependency=}";; --array=*) array="${a#--array=}";;
  --kill-on-invalid-dep=*) kill="${a#*=}";; *) script="$a";; esac; done
unq() { local s=$1 r="" i c esc=0 q=0; for ((i=0;i<${#s};i++)); do c=${s:i:1}
  if ((esc)); then r+=$c; esc=0; elif [[ $c == '\' ]]; then esc=1; elif [[ $c == '"' ]]; then q=$((1-q))
  elif [[ $c == '#' ]] || { ((!q)) && [[ $c == [[:space:]] ]]; }; then break; else r+=$c; fi; done
  printf '%s' "$r"; }
opt() { unq "$(sed -n "s/^#SBATCH --$1=//p" "$script" | head -1)"; }
pat() { local s=$1 r="" i c; for ((i=0;i<${#s};i++)); do c=${s:i:1}
  if [[ $c == % ]]; then i=$((i+1)); case ${s:i:1} in A) r+=$n;; a) r+=$2;; j) r+=$3;; %) r+=%;; esac; else r+=$c; fi; done
  printf '%s' "$r"; }
: "${kill:=$(opt kill-on-invalid-dep)}"
out=$(opt output)
echo "job $n: deps '$dep' script $(basename "$script") output '$out'" >> "$SBATCH_STATE/log"
if [ -n "$dep" ] && [ -e "$SBATCH_STATE/failed-${dep#afterok:}" ]; then
  if [ "$kill" = yes ]; then echo "job $n: cancelled, dependency never satisfied" >> "$SBATCH_STATE/log"
  else echo "job $n: pending forever" >> "$SBATCH_STATE/log"; fi
  echo "$n"; exit 0
fi
: "${array:=$(opt array)}"
if [ -n "$array" ]; then
  for part in ${array//,/ }; do
    if [[ $part == *-* ]]; then tasks=$(seq "${part%-*}" "${part#*-}"); else tasks=$part; fi
    for i in $tasks; do
      echo "job $n: task $i" >> "$SBATCH_STATE/log"
      SLURM_ARRAY_TASK_ID=$i SLURM_CPUS_PER_TASK=1 bash "$script" > "$(pat "$out" "$i" "$n")" 2>&1 \
        || touch "$SBATCH_STATE/failed-$n"
    done
  done
else
  bash "$script" > "$(pat "$out" 0 "$n")" 2>&1 || touch "$SBATCH_STATE/failed-$n"
fi
echo "$n"
"#;

pub(crate) fn executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `wijksim` wrapper in `dir` (a space in its name) that fails shard 2 of 3 while the returned flag
/// file exists: `(flag, wrapper)`.
pub(crate) fn failing_shard_wrapper(dir: &Path) -> (PathBuf, PathBuf) {
    let fail = dir.join("fail");
    fs::write(&fail, "").unwrap();
    let wrapper = dir.join("wijksim wrapper");
    executable(
        &wrapper,
        &format!(
            "#!/bin/bash\nif [ -e '{}' ] && [[ \" $* \" == *' --shard 2/3 '* ]]; then echo 'shard 2 fails' >&2; exit 1; fi\nexec '{}' \"$@\"\n",
            fail.display(),
            assert_cmd::cargo::cargo_bin("wijksim").display()
        ),
    );
    (fail, wrapper)
}

#[test]
fn emitted_slurm_scripts_run_the_shards_and_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let f = sweep_file(dir.path(), "ow", "design = \"one_way\"", ONE_WAY);
    // Issue 10: a path with a space (and a `#` and a `%`, which sbatch and its file patterns read).
    let out = dir.path().join("my cluster #1 100%");
    sweep(
        &f,
        &out,
        &[
            "--emit-slurm",
            "--shards",
            "3",
            "--slurm-time",
            "00:20:00",
            "--slurm-partition",
            "short",
        ],
    )
    .success()
    .stdout(predicates::str::contains("submit.sh"));
    let slurm = out.join("slurm");
    let shards = fs::read_to_string(slurm.join("shards.sbatch")).unwrap();
    let merge = fs::read_to_string(slurm.join("merge.sbatch")).unwrap();
    for want in [
        "#SBATCH --array=1-3",
        "#SBATCH --time=00:20:00",
        "#SBATCH --partition=short",
        "--shard \"$SLURM_ARRAY_TASK_ID/3\"",
        "--resume",
        "shard-%A_%a.out\"",
    ] {
        assert!(shards.contains(want), "{want} missing from\n{shards}");
    }
    assert!(
        merge.contains("#SBATCH --kill-on-invalid-dep=yes"),
        "{merge}"
    );
    for s in ["shards.sbatch", "merge.sbatch", "submit.sh"] {
        let ok = std::process::Command::new("bash")
            .arg("-n")
            .arg(slurm.join(s))
            .status()
            .unwrap();
        assert!(ok.success(), "{s} is not valid bash");
    }
    let bin = dir.path().join("bin");
    let state = dir.path().join("sbatch-state");
    fs::create_dir(&bin).unwrap();
    fs::create_dir(&state).unwrap();
    executable(&bin.join("sbatch"), STAND_IN_SBATCH);
    // The jobs run wijksim through a wrapper that fails shard 2 while `fail` exists.
    let (fail, wrapper) = failing_shard_wrapper(dir.path());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let submit = |args: &[&str]| {
        let st = std::process::Command::new("bash")
            .arg(slurm.join("submit.sh"))
            .args(args)
            .env("PATH", &path)
            .env("SBATCH_STATE", &state)
            .env("WIJKSIM", &wrapper)
            .output()
            .unwrap();
        assert!(st.status.success(), "{st:?}");
        String::from_utf8(st.stdout).unwrap()
    };
    let log = || fs::read_to_string(state.join("log")).unwrap();
    let logs = slurm.join("logs");

    // First submission: shard 2 fails, so Slurm cancels the merge instead of leaving it pending.
    let said = submit(&[]);
    assert!(said.contains("rerun only the failed shards"), "{said}");
    assert!(
        log().contains("job 102: deps 'afterok:101'"),
        "the merge waits for the array: {}",
        log()
    );
    assert!(log().contains("job 102: cancelled"), "{}", log());
    assert!(!out.join("merged").exists());
    for task in 1..=3 {
        assert!(logs.join(format!("shard-101_{task}.out")).is_file());
    }
    let failed = fs::read_to_string(logs.join("shard-101_2.out")).unwrap();
    assert!(failed.contains("shard 2 fails"), "{failed}");

    // Rerun only the failed shard and the merge, as the README says.
    fs::remove_file(&fail).unwrap();
    submit(&["2"]);
    let second: Vec<String> = log()
        .lines()
        .filter(|l| l.starts_with("job 103: task"))
        .map(str::to_string)
        .collect();
    assert_eq!(second, ["job 103: task 2"], "{}", log());
    assert!(
        logs.join("shard-101_2.out").is_file() && logs.join("shard-103_2.out").is_file(),
        "the rerun keeps the failed attempt's log"
    );
    assert!(logs.join("merge-104.out").is_file(), "{}", log());
    let whole = dir.path().join("whole");
    sweep(&f, &whole, &["--quiet"]).success();
    assert!(
        fs::read(out.join("merged/sweep.csv")).unwrap()
            == fs::read(whole.join("sweep.csv")).unwrap()
    );
}

#[test]
fn bad_sweep_files_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "design = \"one_way\"",
            "[[parameter]]\nkey = \"regime[dorpsbudget].preventie\"\nlow = 0.0\nhigh = 0.1\n",
            &[
                ":7:",
                "parameter[0].key",
                "no key `preventie`",
                "prevention",
                "fix:",
            ],
        ),
        (
            "design = \"one_way\"",
            "[[parameter]]\nkey = \"regime[dorpsbudjet].prevention\"\nlow = 0.0\nhigh = 0.1\n",
            &[":7:", "no element `dorpsbudjet`", "dorpsbudget"],
        ),
        (
            "design = \"one_way\"",
            "[[parameter]]\nkey = \"regime[dorpsbudget].on_surplus\"\nlow = 0.0\nhigh = 0.1\n",
            &[":7:", "text, not a number"],
        ),
        (
            "design = \"random\"",
            ONE_WAY,
            &[":5:", "sweep.design", "latin_hypercube"],
        ),
        (
            "design = \"latin_hypercube\"",
            ONE_WAY,
            &["sweep.points", "points = 200"],
        ),
        (
            "design = \"one_way\"",
            "[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nlow = 0.0\nhigh = 1.5\n",
            &["point 2", "prevention", "makes the scenario invalid"],
        ),
        (
            "design = \"one_way\"\nmetric = \"cost\"",
            ONE_WAY,
            &[":6:", "sweep.metric", "baseline.care_cost_total"],
        ),
    ];
    for (i, (head, params, want)) in cases.iter().enumerate() {
        let f = sweep_file(dir.path(), &format!("bad{i}"), head, params);
        let out = dir.path().join(format!("out{i}"));
        let a = sweep(&f, &out, &[]).code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        for w in *want {
            assert!(err.contains(w), "case {i}: `{w}` missing from:\n{err}");
        }
        assert!(!err.contains("panicked"));
        assert!(!out.exists(), "case {i}: no output for a bad sweep");
    }
}

#[test]
fn a_shard_checks_its_own_points_while_check_and_slurm_check_every_point() {
    let dir = tempfile::tempdir().unwrap();
    // A grid whose point 1 (prevention 1.5, not a share) lies in shard 2 of 2; shard 1 holds 0 and 2.
    let f = sweep_file(
        dir.path(),
        "lazy",
        "design = \"grid\"",
        "[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nname = \"prevention\"\nvalues = [0.0, 1.5, 0.1]\n",
    );
    let names_the_point = |err: &[u8]| {
        let err = String::from_utf8_lossy(err);
        for w in [
            "lazy.toml:1: `parameter`",
            "point 1 (prevention = 1.5) makes the scenario invalid",
            "regime[0].prevention",
            "fix:",
        ] {
            assert!(err.contains(w), "`{w}` missing from:\n{err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    };
    // The shard without the bad point runs its points.
    let s1 = dir.path().join("s1");
    sweep(&f, &s1, &["--shard", "1/2", "--quiet"]).success();
    let (_, rows) = table(&s1.join("sweep.csv"));
    let points: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(points, ["0", "2"]);
    // The shard with it stops before anything runs or is written.
    let s2 = dir.path().join("s2");
    names_the_point(
        &sweep(&f, &s2, &["--shard", "2/2", "--quiet"])
            .code(2)
            .get_output()
            .stderr,
    );
    assert!(!s2.exists());
    // `check` and the Slurm scripts look at every point.
    let a = wijksim().arg("check").arg(&f).assert().code(2);
    names_the_point(&a.get_output().stderr);
    let cluster = dir.path().join("cluster");
    let a = sweep(&f, &cluster, &["--emit-slurm", "--shards", "2"]).code(2);
    names_the_point(&a.get_output().stderr);
    assert!(
        !cluster.exists(),
        "no Slurm scripts for a sweep with a bad point"
    );
}

#[test]
fn sweeps_keep_or_fix_parameter_uncertainty() {
    let dir = tempfile::tempdir().unwrap();
    // The default scenario with an uncertain BT tariff.
    let text = super::default_text().replace(
        "tariff_per_hour = 66.00",
        "tariff_per_hour = { dist = \"gamma\", mean = 66.0, sd = 6.0 }",
    );
    assert!(text.contains("dist = \"gamma\""));
    fs::write(dir.path().join("psa.toml"), &text).unwrap();
    let head = |psa: &str| {
        format!("[sweep]\nscenario = \"psa.toml\"\nruns = 40\ndesign = \"grid\"\n{psa}\n")
    };
    let prevention = "[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nvalues = [0.1]\n";
    let tariff = "[[parameter]]\nkey = \"cost[begeleiding_bt].tariff_per_hour\"\nname = \"tariff\"\nvalues = [66.0]\n";
    let spread = |file: &str, body: String| -> f64 {
        let f = dir.path().join(file);
        fs::write(&f, body).unwrap();
        let out = dir.path().join(format!("{file}.out"));
        sweep(&f, &out, &["--quiet"]).success();
        let (head, rows) = table(&out.join("sweep.csv"));
        let p = |c: &str| rows[0][col(&head, c)].parse::<f64>().unwrap();
        p("baseline.care_cost_total_p95") - p("baseline.care_cost_total_p05")
    };
    let drawn = spread("a.toml", head("") + prevention);
    let fixed_by_psa_off = spread("b.toml", head("psa = false") + prevention);
    let fixed_by_sweep = spread("c.toml", head("") + prevention + "\n" + tariff);
    // Drawing the tariff per run widens the spread of the total cost; fixing it, either way, does not.
    assert!(
        drawn > 1.5 * fixed_by_psa_off,
        "{drawn} vs {fixed_by_psa_off}"
    );
    assert_eq!(fixed_by_psa_off, fixed_by_sweep);
}

/// Peak resident memory (kB) and most live threads of a sweep of `points` small points with 2 threads,
/// read from /proc while it runs.
fn peak_of_sweep(dir: &Path, points: usize) -> (u64, u64) {
    let f = dir.join(format!("p{points}.toml"));
    fs::write(
        &f,
        format!(
            "[sweep]\nscenario = \"{}\"\nruns = 3\ndesign = \"latin_hypercube\"\npoints = {points}\n[[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nlow = 0.0\nhigh = 0.2\n",
            scenario()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wijksim"))
        .arg("sweep")
        .arg(&f)
        .arg("--out")
        .arg(dir.join(format!("o{points}")))
        .args(["--quiet", "--threads", "2"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let field = |text: &str, key: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (mut rss, mut threads) = (0, 0);
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = fs::read_to_string(&status) {
            rss = rss.max(field(&text, "VmHWM:"));
            threads = threads.max(field(&text, "Threads:"));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(child.wait().unwrap().success());
    (rss, threads)
}

#[test]
fn memory_and_threads_stay_flat_in_the_number_of_points() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("SKIPPED: needs /proc to read memory and threads");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (rss50, threads50) = peak_of_sweep(dir.path(), 50);
    let (rss400, threads400) = peak_of_sweep(dir.path(), 400);
    assert!(rss50 > 0 && threads50 > 0, "read nothing from /proc");
    // Each point used to build its own thread pool: 37 MB and 54 threads at 50 points, 208 MB and
    // 396 threads at 400.
    assert!(
        rss400 <= rss50 + 4096,
        "peak memory grew with points: {rss50} kB at 50, {rss400} kB at 400"
    );
    assert!(
        threads400 <= threads50 && threads400 <= 2 + 3,
        "threads grew with points: {threads50} at 50, {threads400} at 400"
    );
}

/// A sweep of a scenario in pounds draws its tornado in pounds, also after a merge of shards (the
/// manifest records the currency); a sweep in euros writes no currency into its manifest.
#[test]
fn a_sweep_of_a_scenario_in_pounds_draws_its_tornado_in_pounds() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hiv.toml");
    fs::write(
        &f,
        format!(
            "[sweep]\nname = \"hiv\"\nscenario = \"{}\"\nruns = 5\ndesign = \"one_way\"\n\
             metric = \"combination.care_cost_difference\"\n\n[[parameter]]\n\
             key = \"regime[combination].modifier[A->B].relative_risk\"\nname = \"rr_a_b\"\n\
             low = 0.4\nhigh = 0.6\n",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scenarios/hiv_combination.toml"
            )
        ),
    )
    .unwrap();
    let shards: Vec<PathBuf> = (1..=2).map(|i| dir.path().join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        sweep(&f, s, &["--shard", &format!("{}/2", i + 1), "--quiet"]).success();
        let manifest = fs::read_to_string(s.join("manifest.json")).unwrap();
        assert!(manifest.contains("\"currency\": \"GBP\""), "{manifest}");
    }
    let merged = dir.path().join("merged");
    wijksim()
        .args(["merge", "--out"])
        .arg(&merged)
        .args(&shards)
        .assert()
        .success();
    let tornado = fs::read_to_string(merged.join("tornado.svg")).unwrap();
    assert!(
        tornado.contains("£ ") && !tornado.contains('€'),
        "{tornado}"
    );
    // In euros, the manifest is as it always was.
    let eur = sweep_file(dir.path(), "eur", "design = \"one_way\"", ONE_WAY);
    let out = dir.path().join("eur-out");
    sweep(&eur, &out, &["--quiet"]).success();
    assert!(
        !fs::read_to_string(out.join("manifest.json"))
            .unwrap()
            .contains("currency")
    );
    assert!(
        fs::read_to_string(out.join("tornado.svg"))
            .unwrap()
            .contains("€ ")
    );
}
