//! The Helm values table, from `values.yaml` itself: the `# comment` lines directly above a key
//! (at the key's indentation) describe it, and the value written there is its default. The
//! parser reads the subset of YAML a values file uses (nested maps, flow `{}`/`[]` values,
//! block lists, `|` text); every value must be described, by its own comment or, for a leaf, by
//! its parent's.

use std::fmt::Write as _;

/// One key of the values file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Dotted path, e.g. `kafka.sasl.mechanism`.
    pub path: String,
    indent: usize,
    /// What is written after the colon (or the block list's items), `None` for a map.
    pub default: Option<String>,
    pub comment: String,
}

/// Every key, in file order.
pub fn parse(yaml: &str) -> Vec<Value> {
    let mut values: Vec<Value> = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut comment: Vec<String> = Vec::new();
    let mut comment_indent = 0;
    // Inside a `|` text block: lines indented deeper than this belong to it.
    let mut text_block: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if let Some(block) = text_block {
            if body.is_empty() || indent > block {
                continue;
            }
            text_block = None;
        }
        if body.is_empty() {
            comment.clear();
            continue;
        }
        if let Some(text) = body.strip_prefix('#') {
            if comment.is_empty() || comment_indent != indent {
                comment.clear();
                comment_indent = indent;
            }
            comment.push(text.trim().to_string());
            continue;
        }
        if let Some(item) = body.strip_prefix("- ") {
            // An item of the nearest key above that is less indented: a block list.
            if let Some(owner) = values.iter_mut().rev().find(|v| v.indent < indent) {
                let item = strip_comment(item);
                owner.default = Some(match owner.default.take() {
                    Some(items) => format!("{}, {item}]", items.trim_end_matches(']')),
                    None => format!("[{item}]"),
                });
            }
            comment.clear();
            continue;
        }
        let Some((key, rest)) = body.split_once(':') else { continue };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let path = stack.iter().map(|(_, k)| k.as_str()).chain([key]).collect::<Vec<_>>().join(".");
        let rest = strip_comment(rest.trim());
        let default = match rest {
            "" => None,
            "|" | "|-" | ">" | ">-" => {
                text_block = Some(indent);
                Some("(text, see values.yaml)".to_string())
            }
            value => Some(value.to_string()),
        };
        let described = if comment_indent == indent { comment.join(" ") } else { String::new() };
        values.push(Value { path, indent, default, comment: described });
        stack.push((indent, key.to_string()));
        comment.clear();
    }
    values
}

/// `value  # note` → `value`, leaving quoted text alone.
fn strip_comment(value: &str) -> &str {
    if value.starts_with('"') || value.starts_with('\'') {
        return value;
    }
    value.split_once(" #").map_or(value, |(v, _)| v).trim()
}

fn is_parent(values: &[Value], value: &Value) -> bool {
    let prefix = format!("{}.", value.path);
    values.iter().any(|v| v.path.starts_with(&prefix))
}

/// The values nothing describes: no comment of their own, and no described parent for a leaf.
pub fn undocumented(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter(|v| v.comment.is_empty())
        .filter(|v| {
            let parent = v.path.rsplit_once('.').map(|(p, _)| p);
            is_parent(values, v)
                || parent.map_or(true, |p| values.iter().all(|o| o.path != p || o.comment.is_empty()))
        })
        .map(|v| v.path.clone())
        .collect()
}

/// The table, one section per top-level key; fails naming the values that lack a description.
pub fn markdown(yaml: &str, source: &str) -> anyhow::Result<String> {
    let values = parse(yaml);
    let missing = undocumented(&values);
    if !missing.is_empty() {
        anyhow::bail!(
            "{source}: describe these values with a `# comment` line above them: {}",
            missing.join(", ")
        );
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Helm values reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the comments in {source} by `cargo run -p xtask -- docs`; do not edit by hand. -->\n"
    );
    let _ = writeln!(
        out,
        "Every value of the chart `deploy/helm/tweetpipe`, its default and what it does; \
         `values.schema.json` checks their types at install time. See [deployment](../deployment.md).\n"
    );
    for top in values.iter().filter(|v| !v.path.contains('.')) {
        let _ = writeln!(out, "## `{}`\n", top.path);
        let prefix = format!("{}.", top.path);
        if !top.comment.is_empty() && is_parent(&values, top) {
            let _ = writeln!(out, "{}\n", html_escape(&top.comment));
        }
        let rows: Vec<&Value> = if is_parent(&values, top) {
            values.iter().filter(|v| v.path.starts_with(&prefix)).collect()
        } else {
            vec![top]
        };
        let _ = writeln!(out, "| value | default | description |\n|---|---|---|");
        for value in rows {
            let default = match &value.default {
                Some(d) if value.path.ends_with("rules") || d.starts_with('(') => d.replace('|', "\\|"),
                Some(d) => format!("`{}`", d.replace('|', "\\|")),
                None if is_parent(&values, value) => String::new(),
                None => "`[]`".to_string(),
            };
            let text = html_escape(&value.comment).replace('|', "\\|");
            let _ = writeln!(out, "| `{}` | {default} | {text} |", value.path);
        }
        out.push('\n');
    }
    Ok(out)
}

/// Comment text as Markdown shows it: `<release>` is not an HTML tag.
fn html_escape(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# file header\n\nimage:\n  # The registry path.\n  repository: ghcr.io/x\n  pullPolicy: IfNotPresent  # why\n# Args.\nextraArgs:\n  - --a\n  # - --b  # commented out\n  - --c\nrules: |\n  # not a comment of ours\n  jb: x\n# Child comments.\nres:\n  requests: {cpu: 1}\n";

    #[test]
    fn reads_paths_defaults_and_comments() {
        let values = parse(SAMPLE);
        let find = |p: &str| values.iter().find(|v| v.path == p).unwrap_or_else(|| panic!("{p} missing"));
        assert_eq!(find("image.repository").comment, "The registry path.");
        assert_eq!(find("image.pullPolicy").default.as_deref(), Some("IfNotPresent"));
        assert_eq!(find("extraArgs").default.as_deref(), Some("[--a, --c]"));
        assert_eq!(find("extraArgs").comment, "Args.");
        assert_eq!(find("res.requests").default.as_deref(), Some("{cpu: 1}"));
        assert!(values.iter().all(|v| v.path != "jb"), "text block lines are not keys");
    }

    #[test]
    fn names_every_undescribed_value() {
        let values = parse(SAMPLE);
        // image has no comment of its own and is a map; pullPolicy's parent has none either;
        // rules has none; res.requests is covered by its parent's.
        assert_eq!(undocumented(&values), ["image", "image.pullPolicy", "rules"]);
        assert!(markdown(SAMPLE, "values.yaml").is_err());
    }
}
