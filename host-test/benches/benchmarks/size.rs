//! Size of the release component, what each profile setting buys (variants
//! built with `CARGO_PROFILE_RELEASE_*` overrides into a scratch target
//! directory), and what takes the space (function sizes from the `name`
//! section of an unstripped build).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

pub struct Variant {
    pub name: &'static str,
    pub what: &'static str,
    pub env: &'static [(&'static str, &'static str)],
    /// Link a core module (`-Clink-arg=--skip-wit-component`), shrink it
    /// with binaryen's `wasm-opt -Oz`, then make the component with
    /// `wasm-tools component new`.
    pub wasm_opt: bool,
}

const WASM_OPT: &str = "then `wasm-opt -Oz` on the core module (linked with `-Clink-arg=--skip-wit-component`, \
                        wrapped by `wasm-tools component new`)";

/// The workspace profile is `lto = true`, `codegen-units = 1`,
/// `strip = true`, `panic = "abort"` with `opt-level` "s" or "z"; each
/// variant changes one setting, the `defaults` one all of them (cargo's
/// defaults). The variant with the workspace's own opt-level is skipped (it
/// is the workspace build); section 6 compares both levels.
pub const VARIANTS: &[Variant] = &[
    Variant { name: "opt-s", what: "`opt-level = \"s\"`", env: &[("OPT_LEVEL", "s")], wasm_opt: false },
    Variant { name: "opt-z", what: "`opt-level = \"z\"`", env: &[("OPT_LEVEL", "z")], wasm_opt: false },
    Variant { name: "opt-3", what: "`opt-level = 3`", env: &[("OPT_LEVEL", "3")], wasm_opt: false },
    Variant { name: "no-lto", what: "`lto = false`", env: &[("LTO", "false")], wasm_opt: false },
    Variant { name: "cgu-16", what: "`codegen-units = 16`", env: &[("CODEGEN_UNITS", "16")], wasm_opt: false },
    Variant {
        name: "no-strip",
        what: "`strip = false` (keeps the `name` section and the standard library's debug info)",
        env: &[("STRIP", "false")],
        wasm_opt: false,
    },
    Variant { name: "unwind", what: "`panic = \"unwind\"`", env: &[("PANIC", "unwind")], wasm_opt: false },
    Variant {
        name: "defaults",
        what: "cargo's release defaults (`opt-level = 3`, no LTO, 16 codegen units, no strip, unwind)",
        env: &[("OPT_LEVEL", "3"), ("LTO", "false"), ("CODEGEN_UNITS", "16"), ("STRIP", "false"), ("PANIC", "unwind")],
        wasm_opt: false,
    },
    Variant { name: "wasm-opt", what: WASM_OPT, env: &[], wasm_opt: true },
    Variant { name: "opt-s-wasm-opt", what: "`opt-level = \"s\"`, ", env: &[("OPT_LEVEL", "s")], wasm_opt: true },
    Variant { name: "opt-z-wasm-opt", what: "`opt-level = \"z\"`, ", env: &[("OPT_LEVEL", "z")], wasm_opt: true },
];

impl Variant {
    pub fn describe(&self) -> String {
        match (self.name, self.wasm_opt) {
            ("wasm-opt", _) => format!("the workspace profile, {WASM_OPT}"),
            (_, true) => format!("{}{WASM_OPT}", self.what),
            _ => self.what.to_owned(),
        }
    }
}

/// binaryen's `wasm-opt`, from the npm package `benches/node` installs.
fn wasm_opt(workspace: &Path) -> Result<PathBuf> {
    let path = workspace.join("benches/node/node_modules/binaryen/bin/wasm-opt");
    if !path.exists() {
        bail!("binaryen's wasm-opt is not installed (npm ci in benches/node)");
    }
    Ok(path)
}

pub struct Built {
    pub variant: &'static Variant,
    /// The component, or why it could not be built.
    pub result: Result<(PathBuf, u64), String>,
}

fn newest_mtime(path: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(meta) = std::fs::metadata(path) else { return newest };
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest = newest.max(newest_mtime(&entry.path()));
        }
    } else if let Ok(modified) = meta.modified() {
        newest = modified;
    }
    newest
}

/// Builds every variant into `scratch` (one target directory for all, so
/// the proc-macro crates build once). The cdylib's file name carries no
/// hash, so the component is deleted before each build (forcing its link
/// with the variant's settings) and copied out after. A copy newer than
/// every source is reused.
pub fn build_variants(workspace: &Path, scratch: &Path, opt_level: &str) -> Vec<Built> {
    let sources = ["src", "wit", "Cargo.toml", "Cargo.lock"].iter().map(|p| newest_mtime(&workspace.join(p))).max();
    let out_dir = scratch.join("out");
    let _ = std::fs::create_dir_all(&out_dir);
    let mut built = Vec::new();
    // BENCH_SIZE_VARIANTS=name,name: only these (each build takes minutes).
    let only: Option<Vec<String>> =
        std::env::var("BENCH_SIZE_VARIANTS").ok().map(|v| v.split(',').map(|n| n.trim().to_owned()).collect());
    for variant in VARIANTS {
        if variant.env == [("OPT_LEVEL", opt_level)] {
            continue; // the workspace build itself (with `wasm-opt`: the `wasm-opt` variant)
        }
        if only.as_ref().is_some_and(|names| !names.iter().any(|n| n == variant.name)) {
            continue;
        }
        let copy = out_dir.join(format!("{}.wasm", variant.name));
        if std::fs::metadata(&copy).and_then(|m| m.modified()).is_ok_and(|t| Some(t) > sources) {
            let len = std::fs::metadata(&copy).map(|m| m.len()).unwrap_or(0);
            built.push(Built { variant, result: Ok((copy, len)) });
            continue;
        }
        eprintln!("building the component with {} ...", variant.describe());
        let result = build_one(workspace, scratch, variant, &copy).map_err(|e| format!("{e:#}"));
        built.push(Built { variant, result });
    }
    built
}

fn build_one(workspace: &Path, scratch: &Path, variant: &Variant, copy: &Path) -> Result<(PathBuf, u64)> {
    let release = scratch.join("wasm32-wasip2/release");
    for stale in [release.join("gitbook_directory_sync.wasm"), release.join("deps/gitbook_directory_sync.wasm")] {
        let _ = std::fs::remove_file(stale);
    }
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(workspace)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2", "-p", "gitbook-directory-sync", "--lib"])
        .arg("--target-dir")
        .arg(scratch);
    // As host-test/build.rs: the bench's own flags are not for wasm32.
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_PROFILE_")
            || ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"]
                .contains(&key.as_str())
            || key == "RUSTC_WORKSPACE_WRAPPER"
        {
            command.env_remove(key);
        }
    }
    for (key, value) in variant.env {
        command.env(format!("CARGO_PROFILE_RELEASE_{key}"), value);
    }
    let wasm_opt = if variant.wasm_opt {
        command.env("RUSTFLAGS", "-Clink-arg=--skip-wit-component");
        Some(wasm_opt(workspace)?)
    } else {
        None
    };
    run(&mut command)?;
    let built = release.join("gitbook_directory_sync.wasm");
    match wasm_opt {
        None => {
            std::fs::copy(&built, copy)?;
        }
        Some(wasm_opt) => {
            let optimized = scratch.join("core-oz.wasm");
            run(Command::new("node")
                .arg(wasm_opt)
                .args(["-Oz", "--enable-bulk-memory", "--enable-sign-ext", "--enable-nontrapping-float-to-int"])
                .args(["--enable-mutable-globals", "--enable-multivalue", "--enable-reference-types"])
                .arg(&built)
                .arg("-o")
                .arg(&optimized))?;
            run(Command::new("wasm-tools").args(["component", "new"]).arg(&optimized).arg("-o").arg(copy))?;
            run(Command::new("wasm-tools").arg("validate").arg(copy))?;
        }
    }
    Ok((copy.to_owned(), std::fs::metadata(copy)?.len()))
}

fn run(command: &mut Command) -> Result<()> {
    let out = command.output().with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first_error = stderr.lines().find(|l| l.starts_with("error")).unwrap_or(stderr.trim()).to_owned();
        bail!("{first_error}");
    }
    Ok(())
}

/// gzip -9 size, if gzip is installed.
pub fn gzipped(path: &Path) -> Option<u64> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(path).output().ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

// ---- reading the binary ------------------------------------------------

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).context("unexpected end of the binary")?;
        self.pos += 1;
        Ok(b)
    }

    fn leb(&mut self) -> Result<u64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                bail!("LEB128 too long");
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len()).context("section past the end")?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn name(&mut self) -> Result<String> {
        let len = self.leb()? as usize;
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }

    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

/// The core modules embedded in a component (or the module itself).
fn core_modules(bytes: &[u8]) -> Result<Vec<&[u8]>> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!("not a wasm binary");
    }
    // Layer 1 in the header's upper half: a component.
    if bytes[6] == 0 {
        return Ok(vec![bytes]);
    }
    let mut modules = Vec::new();
    let mut r = Reader::new(&bytes[8..]);
    while !r.done() {
        let id = r.byte()?;
        let len = r.leb()? as usize;
        let payload = r.take(len)?;
        match id {
            1 => modules.push(payload),                  // core module
            4 => modules.extend(core_modules(payload)?), // nested component
            _ => {}
        }
    }
    Ok(modules)
}

/// What a core module spends its bytes on.
pub struct ModuleSizes {
    pub code: usize,
    pub data: usize,
    pub custom: Vec<(String, usize)>,
    /// (name, body size) of every defined function; empty names without a
    /// `name` section.
    pub functions: Vec<(String, usize)>,
}

fn module_sizes(module: &[u8]) -> Result<ModuleSizes> {
    let mut sizes = ModuleSizes { code: 0, data: 0, custom: Vec::new(), functions: Vec::new() };
    let mut imported_functions = 0u64;
    let mut bodies = Vec::new();
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut r = Reader::new(&module[8..]);
    while !r.done() {
        let id = r.byte()?;
        let len = r.leb()? as usize;
        let payload = r.take(len)?;
        let mut s = Reader::new(payload);
        match id {
            0 => {
                let name = s.name()?;
                sizes.custom.push((name.clone(), len));
                if name == "name" {
                    while !s.done() {
                        let sub = s.byte()?;
                        let sub_len = s.leb()? as usize;
                        let mut sub_r = Reader::new(s.take(sub_len)?);
                        if sub == 1 {
                            for _ in 0..sub_r.leb()? {
                                let index = sub_r.leb()?;
                                names.insert(index, sub_r.name()?);
                            }
                        }
                    }
                }
            }
            2 => {
                for _ in 0..s.leb()? {
                    s.name()?;
                    s.name()?;
                    match s.byte()? {
                        0 => {
                            s.leb()?;
                            imported_functions += 1;
                        }
                        1 => {
                            s.byte()?;
                            s.limits()?;
                        }
                        2 => s.limits()?,
                        3 => {
                            s.byte()?;
                            s.byte()?;
                        }
                        4 => {
                            s.byte()?;
                            s.leb()?;
                        }
                        other => bail!("unknown import kind {other}"),
                    }
                }
            }
            10 => {
                sizes.code = len;
                for _ in 0..s.leb()? {
                    let body = s.leb()? as usize;
                    s.take(body)?;
                    bodies.push(body);
                }
            }
            11 => sizes.data = len,
            _ => {}
        }
    }
    sizes.functions = bodies
        .into_iter()
        .enumerate()
        .map(|(i, size)| (names.remove(&(imported_functions + i as u64)).unwrap_or_default(), size))
        .collect();
    Ok(sizes)
}

/// The largest core module of a component, measured.
pub fn largest_module(path: &Path) -> Result<ModuleSizes> {
    let bytes = std::fs::read(path)?;
    let modules = core_modules(&bytes)?;
    let largest = modules.into_iter().max_by_key(|m| m.len()).context("no core module")?;
    module_sizes(largest)
}

/// `v0` Rust mangling (`_R…`, the standard library's) to the path of
/// identifiers it names, best effort: the crate root, then every
/// length-prefixed identifier after it.
fn demangle_v0(rest: &str) -> String {
    let b = rest.as_bytes();
    // The crate root: `C`, an optional disambiguator `s…_`, the crate name.
    let Some(mut i) =
        (0..b.len()).find(|&i| b[i] == b'C' && b.get(i + 1).is_some_and(|c| *c == b's' || c.is_ascii_digit()))
    else {
        return rest.to_owned();
    };
    i += 1;
    if b.get(i) == Some(&b's') {
        i += b[i..].iter().position(|c| *c == b'_').map_or(b.len(), |p| p + 1);
    }
    let mut parts = Vec::new();
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let len: usize = rest[i..i + digits].parse().unwrap_or(0);
        let mut start = i + digits;
        if b.get(start) == Some(&b'_') {
            start += 1;
        }
        let end = (start + len).min(b.len());
        parts.push(&rest[start..end]);
        i = end;
    }
    parts.join("::")
}

/// Rust's mangling (`legacy` `_ZN…E` or `v0` `_R…`) to a path, for names
/// the linker left mangled.
fn demangle(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("_R") {
        return demangle_v0(rest);
    }
    let Some(rest) = name.strip_prefix("_ZN") else { return name.to_owned() };
    let mut r = rest.as_bytes();
    let mut parts = Vec::new();
    while let Some(first) = r.first() {
        if !first.is_ascii_digit() {
            break;
        }
        let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
        let len: usize = std::str::from_utf8(&r[..digits]).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
        if digits + len > r.len() {
            break;
        }
        parts.push(String::from_utf8_lossy(&r[digits..digits + len]).into_owned());
        r = &r[digits + len..];
    }
    let path = parts.join("::");
    let mut out = path;
    for (from, to) in [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$C$", ","),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$LP$", "("),
        ("$RP$", ")"),
        ("..", "::"),
    ] {
        out = out.replace(from, to);
    }
    out.trim_start_matches('_').to_owned()
}

/// A readable function name without the hash suffix.
pub fn display_name(raw: &str) -> String {
    let name = demangle(raw);
    match name.rfind("::h") {
        Some(i) if name.len() - i == 19 && name[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => name[..i].to_owned(),
        _ => name,
    }
}

/// Where a function's code comes from: its crate (the first path segment,
/// `<T as Trait>` counting for `T`'s crate), with the component's own crate
/// split by module, and the WIT export glue (`pkg:name/iface#func`,
/// `cabi_post_*`), drop glue and float formatting as groups of their own.
pub fn origin(raw: &str) -> String {
    let name = display_name(raw);
    if name.starts_with("cabi_") || name.split('#').next().is_some_and(|head| name.contains('#') && head.contains(':'))
    {
        return "WIT export glue (`iface#func`, `cabi_post_*`)".into();
    }
    if name.contains("drop_in_place") {
        return "drop glue".into();
    }
    if is_float_code(&name) {
        return "float formatting and parsing".into();
    }
    let trimmed = name.trim_start_matches(['<', '&', '*', ' ']).trim_start_matches("mut ").trim_start_matches("dyn ");
    let mut segments = trimmed.split("::").map(|s| {
        let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
        &s[..end]
    });
    match segments.next() {
        None | Some("") => "(unnamed)".into(),
        Some("gitbook_directory_sync") => format!("gitbook_directory_sync::{}", segments.next().unwrap_or("")),
        Some(krate) => krate.to_owned(),
    }
}

/// `core::num::flt2dec` (Grisu, Dragon), `dec2flt`, serde_json's `zmij`.
pub fn is_float_code(name: &str) -> bool {
    ["flt2dec", "dec2flt", "zmij", "float_to_decimal", "float_to_exponential"].iter().any(|k| name.contains(k))
}
