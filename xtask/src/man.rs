//! Man pages (clap_mangen: one page per command and subcommand, `tweetpipe-producer-topic-create.1`
//! and so on) and shell completions (clap_complete: bash, zsh, fish) from the clap definitions.
//! They are committed under docs/reference/ so packagers can take them without building.

use std::path::Path;

use clap::Command;
use clap_complete::Shell;

use crate::Generated;

pub const MAN_DIR: &str = "docs/reference/man";
pub const COMPLETIONS_DIR: &str = "docs/reference/completions";

/// One page per visible command, named `parent-child.1` as man(1) users expect.
pub fn man_pages(root: &Command) -> anyhow::Result<Vec<Generated>> {
    let mut pages = Vec::new();
    page(root, root.get_name().to_string(), &mut pages)?;
    Ok(pages)
}

fn page(command: &Command, name: String, pages: &mut Vec<Generated>) -> anyhow::Result<()> {
    let mut buffer = Vec::new();
    // After `Command::build`, a subcommand's display name is already `parent-child`.
    clap_mangen::Man::new(command.clone()).title(name.clone()).render(&mut buffer)?;
    pages.push(Generated { path: Path::new(MAN_DIR).join(format!("{name}.1")), contents: buffer });
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        page(sub, format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}

/// Completion scripts for the shells most users have.
pub fn completions(root: &Command) -> Vec<Generated> {
    let name = root.get_name().to_string();
    [
        (Shell::Bash, format!("{name}.bash")),
        (Shell::Zsh, format!("_{name}")),
        (Shell::Fish, format!("{name}.fish")),
    ]
    .into_iter()
    .map(|(shell, file)| {
        let mut buffer = Vec::new();
        clap_complete::generate(shell, &mut root.clone(), name.clone(), &mut buffer);
        Generated { path: Path::new(COMPLETIONS_DIR).join(file), contents: buffer }
    })
    .collect()
}
