//! Slurm scripts for a sweep on a cluster: a job array that runs the shards, and a merge job that
//! starts when every shard has succeeded.
//!
//! `submit.sh` submits both (`sbatch --parsable --array=1-N shards.sbatch`, then `sbatch
//! --dependency=afterok:<job> merge.sbatch`). Every shard resumes its folder (`--resume`), so a shard
//! that hit its time limit or was preempted continues where it stopped when resubmitted.

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

fn common(name: &str, o: &SlurmOptions) -> String {
    let mut s = String::new();
    if let Some(p) = &o.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(a) = &o.account {
        s.push_str(&format!("#SBATCH --account={a}\n"));
    }
    s.push_str(&format!(
        "#SBATCH --job-name={}\n",
        sh_quote(&format!("wijksim-{name}"))
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
    let exe = sh_quote(&wijksim.display().to_string());
    let sweep = sh_quote(&sweep_file.display().to_string());
    let outq = sh_quote(&out.display().to_string());
    let logs = out.join("slurm").join("logs");
    let logq = logs.display().to_string();
    let n = o.shards;
    let shards = format!(
        "#!/bin/bash\n\
         # Runs one shard of the sweep per array task; submitted by submit.sh.\n\
         #SBATCH --array=1-{n}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --mem={mem}\n\
         #SBATCH --time={time}\n\
         {common}\
         #SBATCH --output={logq}/shard-%a.out\n\
         set -euo pipefail\n\
         WIJKSIM=\"${{WIJKSIM:-{exe}}}\"\n\
         \"$WIJKSIM\" sweep {sweep} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" \\\n    \
         --out {outq}/shards/shard-\"$SLURM_ARRAY_TASK_ID\"-of-{n} \\\n    \
         --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --resume --quiet\n",
        cpus = o.cpus,
        mem = o.mem,
        time = o.time,
        common = common(name, o),
    );
    let shard_dirs: String = (1..=n)
        .map(|i| format!(" \\\n    {outq}/shards/shard-{i}-of-{n}"))
        .collect();
    let merge = format!(
        "#!/bin/bash\n\
         # Merges the shards into {out}/merged once every shard has succeeded; submitted by submit.sh.\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --mem=2G\n\
         #SBATCH --time=00:30:00\n\
         {common}\
         #SBATCH --output={logq}/merge.out\n\
         set -euo pipefail\n\
         WIJKSIM=\"${{WIJKSIM:-{exe}}}\"\n\
         \"$WIJKSIM\" merge --force --out {outq}/merged{shard_dirs}\n",
        out = out.display(),
        common = common(name, o),
    );
    let submit = format!(
        "#!/bin/bash\n\
         # Submits the sweep `{name}` to Slurm: {n} shards as a job array, then the merge when all succeeded.\n\
         # Run: bash {submit_path}\n\
         set -euo pipefail\n\
         here=\"$(cd \"$(dirname \"${{BASH_SOURCE[0]}}\")\" && pwd)\"\n\
         mkdir -p {logs_q}\n\
         array=$(sbatch --parsable \"$here/shards.sbatch\")\n\
         array=${{array%%;*}}\n\
         merge=$(sbatch --parsable --dependency=afterok:\"$array\" \"$here/merge.sbatch\")\n\
         merge=${{merge%%;*}}\n\
         echo \"submitted shards as job $array (array 1-{n}) and the merge as job $merge\"\n\
         echo \"results: {out}/merged/sweep.csv\"\n",
        submit_path = out.join("slurm").join("submit.sh").display(),
        logs_q = sh_quote(&logq),
        out = out.display(),
    );
    vec![
        ("shards.sbatch".into(), shards),
        ("merge.sbatch".into(), merge),
        ("submit.sh".into(), submit),
    ]
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
        return Err(crate::error::Error::Options(
            "--shards must be at least 1".into(),
        ));
    }
    let dir = out.join("slurm");
    let err = |p: &Path| {
        let path = p.display().to_string();
        move |source| crate::error::Error::Write { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(err(&dir))?;
    for (file, text) in scripts(name, wijksim, sweep_file, out, o) {
        let p = dir.join(file);
        std::fs::write(&p, text).map_err(err(&p))?;
    }
    Ok(dir)
}
