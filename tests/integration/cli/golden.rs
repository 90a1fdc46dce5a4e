//! Golden files: the bytes of every CSV a small fixture run writes are pinned by their SHA-256, so a
//! change of results (of any number, in any table) is deliberate and visible in review. This guards
//! the promise that a scenario, seed and version give the same files, with any number of threads.
//!
//! After a deliberate change of results, update the list and say why in the commit:
//! `WIJKSIM_UPDATE_GOLDEN=1 cargo test --release --test integration golden::`.

use super::wijksim;
use std::fs;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// `sha256sum` lines (`<hex>  <file>`) of the CSV files in `dir`, sorted by name.
fn csv_hashes(dir: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let hash = wijksim::scenario::sha256_hex(&fs::read(dir.join(n)).unwrap());
            format!("{hash}  {n}\n")
        })
        .collect()
}

/// Differences between two hash lists, file by file.
fn differences(want: &str, got: &str) -> Vec<String> {
    let parse = |s: &str| -> Vec<(String, String)> {
        s.lines()
            .filter_map(|l| l.split_once("  "))
            .map(|(h, n)| (n.to_string(), h.to_string()))
            .collect()
    };
    let (want, got) = (parse(want), parse(got));
    let mut out = Vec::new();
    for (name, hash) in &want {
        match got.iter().find(|(n, _)| n == name) {
            None => out.push(format!("{name}: no longer written")),
            Some((_, h)) if h != hash => out.push(format!("{name}: changed")),
            _ => {}
        }
    }
    for (name, _) in &got {
        if !want.iter().any(|(n, _)| n == name) {
            out.push(format!("{name}: new"));
        }
    }
    out
}

#[test]
fn every_csv_of_the_golden_run_is_byte_for_byte_as_pinned_with_1_and_2_threads() {
    let list = golden("pilot.sha256");
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("threads-{threads}"));
        wijksim()
            .arg("run")
            .arg(golden("pilot.toml"))
            .args(["--quiet", "--threads", threads, "--out"])
            .arg(&out)
            .assert()
            .success();
        runs.push((threads, csv_hashes(&out)));
    }
    assert_eq!(
        runs[0].1, runs[1].1,
        "the tables differ between --threads 1 and --threads 2"
    );
    let got = &runs[0].1;
    if std::env::var_os("WIJKSIM_UPDATE_GOLDEN").is_some() {
        fs::write(&list, got).unwrap();
        eprintln!("updated {}", list.display());
        return;
    }
    let want = fs::read_to_string(&list).unwrap_or_default();
    let changed = differences(&want, got);
    assert!(
        changed.is_empty(),
        "the results of tests/golden/pilot.toml changed:\n  {}\n\
         If this change of results is deliberate, update the pinned hashes with\n  \
         WIJKSIM_UPDATE_GOLDEN=1 cargo test --release --test integration golden::\n\
         and say in the commit why the numbers changed. Otherwise it is a bug: the same scenario, \
         seed and version must give the same files.\nNow:\n{got}",
        changed.join("\n  ")
    );
}
