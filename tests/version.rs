//! One version: the crate, the WIT package, the component built from them
//! and every place that names the package agree, so the number on a release
//! (its file name, its embedded metadata, its OCI tag: scripts/release.sh
//! takes it from Cargo.toml) says which interface a host compiles against.
//! How versions move is in docs/release.md ("Versions").

use std::path::{Path, PathBuf};

const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PACKAGE: &str = "gitbook:directory-sync";

#[test]
fn the_wit_package_has_the_crates_version() {
    let mut resolve = wit_parser::Resolve::default();
    let (main, _) = resolve.push_dir(Path::new(ROOT).join("wit")).expect("wit/ parses");
    let name = &resolve.packages[main].name;
    assert_eq!(format!("{}:{}", name.namespace, name.name), PACKAGE);
    let version = name.version.as_ref().expect("the WIT package is versioned").to_string();
    assert_eq!(version, CRATE_VERSION, "wit/ is {PACKAGE}@{version} but Cargo.toml says {CRATE_VERSION}: bump both");
}

#[test]
fn the_built_component_exports_the_package_at_the_crates_version() {
    let bytes = std::fs::read(host_test::component_path()).expect("host-test's build script built the component");
    let decoded = wit_component::decode(&bytes).expect("the component decodes");
    let resolve = decoded.resolve();
    let world = &resolve.worlds[world_of(&decoded)];
    let mut exported = Vec::new();
    for key in world.exports.keys() {
        let name = resolve.name_world_key(key);
        if name.starts_with(PACKAGE) {
            exported.push(name);
        }
    }
    assert!(exported.len() >= 4, "the component exports {exported:?} of {PACKAGE}");
    for name in &exported {
        assert!(
            name.ends_with(&format!("@{CRATE_VERSION}")),
            "the component exports {name}, not version {CRATE_VERSION}"
        );
    }
}

fn world_of(decoded: &wit_component::DecodedWasm) -> wit_parser::WorldId {
    match decoded {
        wit_component::DecodedWasm::Component(_, world) => *world,
        wit_component::DecodedWasm::WitPackage(..) => panic!("the component decoded as a WIT package"),
    }
}

/// Every `gitbook:directory-sync…@X.Y.Z` written in the repository (host
/// examples in every language, workflow WIT, tests, docs) is the crate's
/// version: a host example left on an old version would fail to link
/// against the release.
#[test]
fn every_reference_to_the_package_names_the_crates_version() {
    let mut stale = Vec::new();
    let mut seen = 0;
    for file in text_files(Path::new(ROOT)) {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        for (line_no, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find(PACKAGE) {
                rest = &rest[at + PACKAGE.len()..];
                let reference: String =
                    rest.chars().take_while(|c| c.is_ascii_alphanumeric() || "/-_.@".contains(*c)).collect();
                // `gitbook:directory-sync-guide` and the like are other packages.
                if !reference.starts_with(['/', '@']) {
                    continue;
                }
                let Some((_, version)) = reference.split_once('@') else { continue };
                let version = version.trim_end_matches('.');
                if !version.starts_with(|c: char| c.is_ascii_digit()) {
                    continue;
                }
                seen += 1;
                if version != CRATE_VERSION {
                    let path = file.strip_prefix(ROOT).unwrap_or(&file).display().to_string();
                    stale.push(format!("{path}:{}: {PACKAGE}{reference}", line_no + 1));
                }
            }
        }
    }
    assert!(seen >= 5, "found only {seen} versioned references to {PACKAGE}: is the walk looking in the right places?");
    assert!(stale.is_empty(), "references to another version than {CRATE_VERSION}:\n{}", stale.join("\n"));
}

#[test]
fn the_changelog_has_a_section_for_this_version() {
    let changelog = std::fs::read_to_string(Path::new(ROOT).join("CHANGELOG.md")).expect("CHANGELOG.md exists");
    let heading = format!("## [{CRATE_VERSION}]");
    assert!(
        changelog.lines().any(|l| l.starts_with(&heading)),
        "CHANGELOG.md has no `{heading}` section: say what this version changes"
    );
}

/// The repository's text files, less what is not ours or not current:
/// build output, dependencies, git's own files, the changelog (it names
/// past versions on purpose) and BENCHMARKS.md (the record of the run that
/// wrote it, function names included).
fn text_files(dir: &Path) -> Vec<PathBuf> {
    const SKIP_DIRS: &[&str] = &["target", "node_modules", ".git", "dist", "corpus", "artifacts", ".venv", "venv"];
    const SKIP_FILES: &[&str] = &["CHANGELOG.md", "BENCHMARKS.md", "Cargo.lock"];
    const TEXT: &[&str] = &["rs", "md", "wit", "toml", "mjs", "js", "ts", "py", "sh", "json", "yaml", "yml"];
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIP_DIRS.contains(&name.as_str()) {
                files.extend(text_files(&path));
            }
        } else if !SKIP_FILES.contains(&name.as_str())
            && path.extension().is_some_and(|e| TEXT.contains(&e.to_string_lossy().as_ref()))
        {
            files.push(path);
        }
    }
    files
}
