//! Slurm scripts for a sweep on a cluster: a job array that runs the shards, and a merge job that
//! starts when every shard has succeeded.
//!
//! `submit.sh` submits both (`sbatch --parsable shards.sbatch`, then `sbatch
//! --dependency=afterok:<job> merge.sbatch`); `submit.sh 3,7` submits only array tasks 3 and 7 and
//! the merge, to rerun failed shards. Every shard resumes its folder (`--resume`), so a shard that
//! failed, hit its time limit or was preempted continues where it stopped when resubmitted. The merge
//! carries `--kill-on-invalid-dep=yes`: when a shard fails, Slurm cancels it instead of leaving it
//! pending forever. Logs are named by job and task (`shard-%A_%a.out`, `merge-%j.out`), so a
//! resubmission does not overwrite the logs of the failed attempt.

use crate::error::{Error, Fault, Opt, says};
use std::path::Path;

/// Resources and names of the jobs.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// Number of shards (array tasks).
    pub shards: usize,
    /// Time limit per shard, `HH:MM:SS` or `D-HH:MM:SS`.
    pub time: String,
    /// CPUs per shard (also its `--threads`).
    pub cpus: usize,
    /// Memory per shard, e.g. `4G`.
    pub mem: String,
    /// Partition (`None`: the cluster's default).
    pub partition: Option<String>,
    /// Account (`None`: the user's default).
    pub account: Option<String>,
}

/// Quotes a word for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Quotes the value of an `#SBATCH` option as sbatch reads it, where needed: within double quotes,
/// with `"`, `\\` and `#` escaped by a backslash. (sbatch does not read single quotes, so
/// [`sh_quote`] is wrong there.)
pub fn sbatch_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        return s.to_string();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '#') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// A folder as a Slurm file name pattern: `%` doubled, so that only the patterns we add expand.
fn pattern_dir(dir: &str) -> String {
    dir.replace('%', "%%")
}

fn common(name: &str, o: &SlurmOptions) -> String {
    let mut s = String::new();
    if let Some(p) = &o.partition {
        s.push_str(&format!("#SBATCH --partition={}\n", sbatch_quote(p)));
    }
    if let Some(a) = &o.account {
        s.push_str(&format!("#SBATCH --account={}\n", sbatch_quote(a)));
    }
    s.push_str(&format!(
        "#SBATCH --job-name={}\n",
        sbatch_quote(&format!("wijksim-{name}"))
    ));
    s
}

/// The scripts `(file name, text)`: `shards.sbatch`, `merge.sbatch` and `submit.sh`. Paths should be
/// absolute, so the jobs find them from any working directory.
pub fn scripts(
    name: &str,
    wijksim: &Path,
    sweep_file: &Path,
    out: &Path,
    o: &SlurmOptions,
) -> Vec<(String, String)> {
    vec![
        (
            "shards.sbatch".into(),
            shards_script(name, wijksim, sweep_file, out, o),
        ),
        ("merge.sbatch".into(), merge_script(name, wijksim, out, o)),
        ("submit.sh".into(), submit_script(name, out, o.shards)),
    ]
}

/// The folder of the jobs' logs.
fn logs_dir(out: &Path) -> String {
    out.join("slurm").join("logs").display().to_string()
}

/// The `#SBATCH --output` of a log `file` (a Slurm file name pattern) in the logs folder.
fn log_option(out: &Path, file: &str) -> String {
    sbatch_quote(&format!("{}/{file}", pattern_dir(&logs_dir(out))))
}

/// `shards.sbatch`: the job array that runs one shard per task, each resuming its folder.
fn shards_script(
    name: &str,
    wijksim: &Path,
    sweep_file: &Path,
    out: &Path,
    o: &SlurmOptions,
) -> String {
    format!(
        "#!/bin/bash\n\
         # Runs one shard of the sweep per array task; submitted by submit.sh.\n\
         #SBATCH --array=1-{n}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --mem={mem}\n\
         #SBATCH --time={time}\n\
         {common}\
         #SBATCH --output={log}\n\
         set -euo pipefail\n\
         if [ -z \"${{WIJKSIM:-}}\" ]; then WIJKSIM={exe}; fi\n\
         \"$WIJKSIM\" sweep {sweep} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" \\\n    \
         --out {outq}/shards/shard-\"$SLURM_ARRAY_TASK_ID\"-of-{n} \\\n    \
         --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --resume --quiet\n",
        n = o.shards,
        exe = sh_quote(&wijksim.display().to_string()),
        sweep = sh_quote(&sweep_file.display().to_string()),
        outq = sh_quote(&out.display().to_string()),
        cpus = o.cpus,
        mem = sbatch_quote(&o.mem),
        time = sbatch_quote(&o.time),
        common = common(name, o),
        log = log_option(out, "shard-%A_%a.out"),
    )
}

/// `merge.sbatch`: the job that merges the shards' folders once every shard has succeeded.
fn merge_script(name: &str, wijksim: &Path, out: &Path, o: &SlurmOptions) -> String {
    let (n, outq) = (o.shards, sh_quote(&out.display().to_string()));
    let shard_dirs: String = (1..=n)
        .map(|i| format!(" \\\n    {outq}/shards/shard-{i}-of-{n}"))
        .collect();
    format!(
        "#!/bin/bash\n\
         # Merges the shards into {out}/merged once every shard has succeeded; submitted by submit.sh.\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --mem=2G\n\
         #SBATCH --time=00:30:00\n\
         {common}\
         #SBATCH --kill-on-invalid-dep=yes\n\
         #SBATCH --output={log}\n\
         set -euo pipefail\n\
         if [ -z \"${{WIJKSIM:-}}\" ]; then WIJKSIM={exe}; fi\n\
         \"$WIJKSIM\" merge --force --out {outq}/merged{shard_dirs}\n",
        out = out.display(),
        exe = sh_quote(&wijksim.display().to_string()),
        common = common(name, o),
        log = log_option(out, "merge-%j.out"),
    )
}

/// `submit.sh`: submits the `n` shards (or the tasks named) and the merge after them.
fn submit_script(name: &str, out: &Path, n: usize) -> String {
    format!(
        "#!/bin/bash\n\
         # Submits the sweep `{name}` to Slurm: {n} shards as a job array, then the merge when all succeeded.\n\
         # Run: bash {submit_path}\n\
         # To rerun only failed shards, name them: bash {submit_path} 3,7\n\
         # (the other shards' folders are complete; the merge then reads them all).\n\
         set -euo pipefail\n\
         here=\"$(cd \"$(dirname \"${{BASH_SOURCE[0]}}\")\" && pwd)\"\n\
         tasks=\"${{1:-1-{n}}}\"\n\
         mkdir -p {logs_q}\n\
         array=$(sbatch --parsable --array=\"$tasks\" \"$here/shards.sbatch\")\n\
         array=${{array%%;*}}\n\
         merge=$(sbatch --parsable --dependency=afterok:\"$array\" \"$here/merge.sbatch\")\n\
         merge=${{merge%%;*}}\n\
         echo \"submitted shards $tasks as job $array and the merge as job $merge\"\n\
         echo \"if a shard fails, Slurm cancels the merge: read the shard's log \"{logs_q}\"/shard-${{array}}_<task>.out,\"\n\
         echo \"then rerun only the failed shards and the merge: bash \"{submit_q}\" <tasks, e.g. 3,7>\"\n\
         echo \"results: \"{out_q}\"/merged/sweep.csv\"\n",
        submit_path = out.join("slurm").join("submit.sh").display(),
        submit_q = sh_quote(&out.join("slurm").join("submit.sh").display().to_string()),
        logs_q = sh_quote(&logs_dir(out)),
        out_q = sh_quote(&out.display().to_string()),
    )
}

/// Writes the [`scripts`] into `out/slurm/` and returns that folder.
pub fn write(
    name: &str,
    wijksim: &Path,
    sweep_file: &Path,
    out: &Path,
    o: &SlurmOptions,
) -> crate::error::Result<std::path::PathBuf> {
    if o.shards == 0 {
        return Err(Error::Options(
            says!(Opt::Shards, " must be at least 1").into(),
        ));
    }
    for p in [wijksim, sweep_file, out] {
        if p.display().to_string().contains(['\n', '\r']) {
            return Err(Error::Options(Fault::new(
                format!(
                    "cannot write Slurm scripts for a path with a line break: {:?}",
                    p.display().to_string()
                ),
                says!("rename it, or choose another folder with ", Opt::Out),
            )));
        }
    }
    let dir = out.join("slurm");
    let err = |p: &Path| {
        let path = p.display().to_string();
        move |source| crate::error::Error::Write { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(err(&dir))?;
    for (file, text) in scripts(name, wijksim, sweep_file, out, o) {
        crate::output::write_atomic(&dir.join(file), text.as_bytes())?;
    }
    Ok(dir)
}
