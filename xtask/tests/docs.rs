//! The committed documentation matches the code: the generated reference is what the clap
//! definitions and values.yaml produce today, and every relative link resolves.

#[test]
fn generated_reference_matches_the_code() {
    let root = xtask::repo_root();
    let differ = xtask::drift(&root).expect("the reference can be generated");
    assert!(
        differ.is_empty(),
        "the committed reference differs from what the code generates; run `cargo run -p xtask -- docs` \
         and commit the result. Files: {differ:?}"
    );
}

#[test]
fn every_relative_link_in_the_markdown_resolves() {
    let root = xtask::repo_root();
    let files = xtask::links::markdown_files(&root);
    assert!(files.len() > 5, "README.md and docs/ are found: {files:?}");
    let broken = xtask::links::broken(&root);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
