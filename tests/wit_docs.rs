//! Every item of the WIT package carries a doc comment: the interface is
//! the product's contract, read by people in every host language.

#[test]
fn every_wit_item_has_a_doc_comment() {
    let wit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/wit/world.wit")).unwrap();
    let lines: Vec<&str> = wit.lines().map(str::trim).collect();
    let mut undocumented = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let structural = line.is_empty()
            || line.starts_with("//")
            || line.starts_with('}')
            || ["use ", "export ", "import "].iter().any(|p| line.starts_with(p));
        if structural {
            continue;
        }
        if i == 0 || !lines[i - 1].starts_with("///") {
            undocumented.push(format!("line {}: {line}", i + 1));
        }
    }
    assert!(undocumented.is_empty(), "undocumented WIT items:\n{}", undocumented.join("\n"));
}
