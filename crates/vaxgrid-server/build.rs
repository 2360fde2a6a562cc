//! Joins each language's Fluent files (`locales/<lang>/*.ftl`, in name
//! order) into one source in OUT_DIR, so each part of the app keeps its
//! texts in a file of its own and the binary still carries one bundle per
//! language. Nothing is downloaded.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=locales");
    for lang in ["vi", "zh", "en"] {
        let dir = Path::new("locales").join(lang);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a readable locales folder").path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .collect();
        files.sort();
        let mut joined = String::new();
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            joined.push_str(&format!("# --- {}\n", file.display()));
            joined.push_str(&text);
            if !joined.ends_with('\n') {
                joined.push('\n');
            }
        }
        std::fs::write(Path::new(&out).join(format!("{lang}.ftl")), joined)
            .expect("OUT_DIR is writable");
    }
}
