//! The package: licence, metadata, minimum Rust version, and the README agreeing with them.

use std::fs;

fn file(name: &str) -> String {
    fs::read_to_string(format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_package_states_its_licence_metadata_and_minimum_rust() {
    let cargo: toml::Table = file("Cargo.toml").parse().unwrap();
    let package = cargo["package"].as_table().unwrap();
    for key in ["license", "description", "repository", "rust-version"] {
        assert!(
            package.get(key).and_then(|v| v.as_str()).is_some(),
            "Cargo.toml lacks package.{key}"
        );
    }
    assert_eq!(package["license"].as_str(), Some("EUPL-1.2"));
    let licence = file("LICENSE");
    assert!(licence.contains("EUROPEAN UNION PUBLIC LICENCE v. 1.2"));
    assert!(
        licence.contains("15. Applicable Law") && licence.contains("Compatible Licences"),
        "LICENSE holds the whole licence, up to its appendix"
    );
    assert!(file("CITATION.cff").contains("license: EUPL-1.2"));
    let msrv = package["rust-version"].as_str().unwrap();
    let readme = file("README.md");
    assert!(
        readme.contains(&format!("Rust {msrv} or later")),
        "the README's set-up names the minimum Rust version {msrv}"
    );
    assert!(readme.contains("EUPL-1.2"));
}
