//! The command-line reference of one binary as Markdown, from its clap definition: every
//! subcommand, every flag with its environment variable, default and help, grouped by the
//! headings `--help` shows. Hidden flags stay hidden, and so do defaults marked
//! `hide_default_value` (the local stack's database URL carries a password).

use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command};

/// The whole reference of a built command (call `Command::build` first, so global flags and
/// binary names have propagated to the subcommands).
pub fn markdown(root: &Command) -> String {
    let name = root.get_name();
    let mut out = String::new();
    let _ = writeln!(out, "# `{name}` command-line reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the clap definitions by `cargo run -p xtask -- docs`; do not edit by hand. -->\n"
    );
    let _ = writeln!(
        out,
        "Every setting is a flag and, where listed, an environment variable (the flag wins). \
         Durations are written as humans write them: `200ms`, `20s`, `5m`, `1h 30m`. \
         See [configuration](../configuration.md) for how the settings fit together.\n"
    );
    let mut commands = Vec::new();
    collect(root, &mut Vec::new(), &mut commands);
    for (path, _) in &commands {
        let title = path.join(" ");
        let _ = writeln!(out, "- [`{title}`](#{})", anchor(&title));
    }
    out.push('\n');
    for (path, command) in commands {
        section(&mut out, &path.join(" "), command);
    }
    out
}

/// Every visible command, depth first, with its path of names.
fn collect<'a>(command: &'a Command, parents: &mut Vec<String>, out: &mut Vec<(Vec<String>, &'a Command)>) {
    parents.push(command.get_name().to_string());
    out.push((parents.clone(), command));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        collect(sub, parents, out);
    }
    parents.pop();
}

/// GitHub's anchor for a heading made of words and spaces.
fn anchor(title: &str) -> String {
    title.to_lowercase().replace(' ', "-")
}

fn section(out: &mut String, title: &str, command: &Command) {
    let _ = writeln!(out, "## {title}\n");
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        let _ = writeln!(out, "{}\n", about.to_string().trim());
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.trim().trim_start_matches("Usage:").trim();
    let _ = writeln!(out, "```text\n{usage}\n```\n");
    let subs: Vec<&Command> =
        command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help").collect();
    if !subs.is_empty() {
        let _ = writeln!(out, "| command | what it does |\n|---|---|");
        for sub in subs {
            let sub_title = format!("{title} {}", sub.get_name());
            let about = sub.get_about().map(|a| cell(&a.to_string())).unwrap_or_default();
            let _ = writeln!(out, "| [`{}`](#{}) | {about} |", sub.get_name(), anchor(&sub_title));
        }
        out.push('\n');
    }
    let args: Vec<&Arg> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .collect();
    let mut headings: Vec<Option<&str>> = Vec::new();
    for arg in &args {
        if !headings.contains(&arg.get_help_heading()) {
            headings.push(arg.get_help_heading());
        }
    }
    for heading in headings {
        let _ = writeln!(out, "**{}**\n", heading.unwrap_or("Options"));
        let _ = writeln!(out, "| flag | environment | default | description |\n|---|---|---|---|");
        for arg in args.iter().filter(|a| a.get_help_heading() == heading) {
            let env = match arg.get_env() {
                Some(env) if !arg.is_hide_env_set() => format!("`{}`", env.to_string_lossy()),
                _ => String::new(),
            };
            let _ = writeln!(out, "| {} | {env} | {} | {} |", flag(arg), default(arg), description(arg));
        }
        out.push('\n');
    }
}

/// `-X, --name <VALUE>` as `--help` shows it.
fn flag(arg: &Arg) -> String {
    let value = if arg.get_action().takes_values() {
        let names: Vec<String> = match arg.get_value_names() {
            Some(names) => names.iter().map(|n| format!("<{n}>")).collect(),
            None => vec![format!("<{}>", arg.get_id().as_str().to_uppercase())],
        };
        names.join(" ")
    } else {
        String::new()
    };
    let mut names = Vec::new();
    if let Some(short) = arg.get_short() {
        names.push(format!("-{short}"));
    }
    if let Some(long) = arg.get_long() {
        names.push(format!("--{long}"));
    }
    if arg.is_positional() {
        return format!("`{value}`");
    }
    let joined = names.join(", ");
    if value.is_empty() {
        format!("`{joined}`")
    } else {
        format!("`{joined} {}`", value.replace('|', "\\|"))
    }
}

fn default(arg: &Arg) -> String {
    let is_switch = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count);
    if arg.is_hide_default_value_set() || is_switch {
        return String::new();
    }
    let values: Vec<String> =
        arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    if values.is_empty() {
        String::new()
    } else {
        format!("`{}`", values.join(","))
    }
}

fn description(arg: &Arg) -> String {
    let mut text = arg.get_long_help().or(arg.get_help()).map(|h| h.to_string()).unwrap_or_default();
    // clap drops a one-line help's final full stop; sentences follow it here.
    let text_ends = text.trim_end().ends_with(['.', '!', '?', ')', '`']);
    if !text.trim().is_empty() && !text_ends {
        text = format!("{}.", text.trim_end());
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    let is_bool_value = values.len() == 2 && values.iter().all(|v| v == "`true`" || v == "`false`");
    if !values.is_empty() && !is_bool_value {
        let _ = write!(text, " One of {}.", values.join(", "));
    }
    if arg.is_required_set() {
        text.push_str(" **Required.**");
    }
    if matches!(arg.get_action(), ArgAction::Append) {
        text.push_str(" Repeatable.");
    }
    cell(&text)
}

/// Text made safe for one table cell.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}
