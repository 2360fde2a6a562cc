//! The workspace's rule on the shape of its own source: no function over
//! 80 lines outside tests and data tables, so each reads as an outline of
//! named steps (docs/ARCHITECTURE.md, "Code shape"). It lives in core's
//! tests because core builds fastest; it reads every crate's `src/`.

use std::path::{Path, PathBuf};

/// The longest a function may be, from its `fn` line to its closing brace.
const MAX_LINES: usize = 80;

/// Functions allowed to be longer, with why: tables of data, where one
/// entry a line is the clearest form. Each entry is (path from `crates/`,
/// function name).
const DATA_TABLES: &[(&str, &str)] = &[
    // The route table: one line a route, the router's and the access
    // matrix's single source.
    ("vaxgrid-server/src/lib.rs", "routes"),
    ("vaxgrid-server/src/web/admin.rs", "routes"),
    ("vaxgrid-server/src/api/allocation.rs", "routes"),
    // The product catalogue and the FHIR capability statement.
    ("vaxgrid-core/src/product.rs", "standard_products"),
    (
        "vaxgrid-interop/src/fhir/capability.rs",
        "capability_statement",
    ),
];

/// A function found in a source file: where it starts and how long it is.
#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    line: usize,
    lines: usize,
}

/// The functions of a file's text with a body, outside its trailing
/// `#[cfg(test)]` module. A function ends at the first line holding only
/// its closing brace at its own indentation (rustfmt's layout).
fn functions(text: &str) -> Vec<Function> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or(lines.len());
    let mut found = Vec::new();
    for (i, line) in lines[..end].iter().enumerate() {
        let Some((indent, name)) = fn_start(line) else {
            continue;
        };
        if line.contains('{') && line.trim_end().ends_with('}') {
            found.push(Function {
                name: name.to_string(),
                line: i + 1,
                lines: 1,
            });
            continue;
        }
        let close = format!("{indent}}}");
        let Some(last) = (i..end).find(|&j| {
            let l = lines[j];
            l == close || (l.starts_with(&close) && !l[close.len()..].starts_with(' '))
        }) else {
            continue;
        };
        // A declaration without a body (in a trait) ends with `;` before
        // any opening brace.
        let head: String = lines[i..=last].join("\n");
        let body = head.find('{');
        let semi = head.find(';');
        if matches!((semi, body), (Some(s), Some(b)) if s < b) || body.is_none() {
            continue;
        }
        found.push(Function {
            name: name.to_string(),
            line: i + 1,
            lines: last - i + 1,
        });
    }
    found
}

/// The indentation and name of a line that starts a function.
fn fn_start(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let mut rest = trimmed;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
        }
    }
    let rest = rest.strip_prefix("fn ")?;
    let name_end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some((indent, &rest[..name_end]))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_function_is_longer_than_80_lines_outside_data_tables() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&crates)
        .expect("crates/ is readable")
        .flatten()
    {
        rust_files(&entry.path().join("src"), &mut files);
    }
    assert!(files.len() > 100, "only {} source files found", files.len());
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source is readable");
        let path = file
            .strip_prefix(&crates)
            .expect("under crates/")
            .to_string_lossy()
            .replace('\\', "/");
        for f in functions(&text) {
            if f.lines > MAX_LINES && !DATA_TABLES.contains(&(path.as_str(), f.name.as_str())) {
                long.push(format!("{path}:{} {} ({} lines)", f.line, f.name, f.lines));
            }
        }
    }
    long.sort();
    assert!(
        long.is_empty(),
        "{} functions over {MAX_LINES} lines; split each into named steps \
         (or, for a table of data, list it in DATA_TABLES with why):\n{}",
        long.len(),
        long.join("\n")
    );
}

#[test]
fn a_function_is_measured_from_its_fn_line_to_its_closing_brace() {
    let text = "\
fn short() {
    one();
}
fn one_line() -> u8 { 1 }

pub(crate) async fn longer(
    a: u8,
) -> u8 {
    if a > 1 {
        a
    } else {
        0
    }
}

trait T {
    fn declared(&self) -> u8;
    fn provided(&self) -> u8 {
        1
    }
}

#[cfg(test)]
mod tests {
    fn not_counted() {}
}
";
    let found = functions(text);
    let named: Vec<(&str, usize, usize)> = found
        .iter()
        .map(|f| (f.name.as_str(), f.line, f.lines))
        .collect();
    assert_eq!(
        named,
        [
            ("short", 1, 3),
            ("one_line", 4, 1),
            ("longer", 6, 9),
            ("provided", 18, 3)
        ]
    );
}
