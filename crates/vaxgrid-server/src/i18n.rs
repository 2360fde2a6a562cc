//! The languages of the pages: Vietnamese, Simplified Chinese and English.
//! Every visible string comes from the Fluent files in `locales/`, built
//! into the binary; plural rules are each locale's (Fluent's CLDR rules),
//! and numbers and dates are written the way each locale writes them.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// Marks a message key kept in data (a nav item, a status), so the key
/// test finds it.
pub const fn tkey(key: &'static str) -> &'static str {
    key
}

/// The cookie the language switch sets.
pub const LANG_COOKIE: &str = "vaxgrid_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    Zh,
    En,
}

/// The Fluent sources, one per language, in [`Lang::ALL`] order: each is
/// the files of `locales/<lang>/` joined by build.rs (one file per part of
/// the app, so parts add texts without touching each other's files).
pub const SOURCES: [(&str, &str); 3] = [
    ("vi", include_str!(concat!(env!("OUT_DIR"), "/vi.ftl"))),
    ("zh", include_str!(concat!(env!("OUT_DIR"), "/zh.ftl"))),
    ("en", include_str!(concat!(env!("OUT_DIR"), "/en.ftl"))),
];

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 3] {
    static BUNDLES: OnceLock<[Bundle; 3]> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.map(build))
}

fn build(lang: Lang) -> Bundle {
    let (code, source) = SOURCES[lang.index()];
    let id: unic_langid::LanguageIdentifier = code.parse().expect("a valid language id");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The pages are plain HTML, not mixed-direction text: no FSI/PDI marks
    // around each argument.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(match lang {
        Lang::Vi => format_vi,
        Lang::Zh => format_zh,
        Lang::En => format_en,
    }));
    // A broken file is caught by the unit tests; here the valid messages load.
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
    let _ = bundle.add_resource(resource);
    bundle
}

fn format_number<M>(lang: Lang, value: &FluentValue, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(n) => {
            let digits = n.options.minimum_fraction_digits.unwrap_or(0);
            if digits == 0 && n.value.fract() == 0.0 {
                Some(lang.int(n.value as i64))
            } else {
                Some(lang.decimal(n.value, digits.max(1)))
            }
        }
        _ => None,
    }
}

fn format_vi<M>(v: &FluentValue, m: &M) -> Option<String> {
    format_number(Lang::Vi, v, m)
}
fn format_zh<M>(v: &FluentValue, m: &M) -> Option<String> {
    format_number(Lang::Zh, v, m)
}
fn format_en<M>(v: &FluentValue, m: &M) -> Option<String> {
    format_number(Lang::En, v, m)
}

/// A value handed to a message: text, or a number that also picks the
/// plural form.
pub enum Arg {
    Text(String),
    Number(f64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Number(n as f64)
    }
}
impl From<&i64> for Arg {
    fn from(n: &i64) -> Arg {
        Arg::Number(*n as f64)
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Number(n as f64)
    }
}
impl From<&usize> for Arg {
    fn from(n: &usize) -> Arg {
        Arg::Number(*n as f64)
    }
}
impl From<i32> for Arg {
    fn from(n: i32) -> Arg {
        Arg::Number(n as f64)
    }
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Vi, Lang::Zh, Lang::En];

    fn index(self) -> usize {
        match self {
            Lang::Vi => 0,
            Lang::Zh => 1,
            Lang::En => 2,
        }
    }

    /// The code in the cookie and the switch: vi, zh, en.
    pub fn code(self) -> &'static str {
        SOURCES[self.index()].0
    }

    /// The `lang` attribute of a page.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::Zh => "zh-Hans",
            Lang::En => "en",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Vi => "Tiếng Việt",
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best of our languages in an `Accept-Language` header, by its
    /// quality values (the first listed wins a tie).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::parse) else {
                continue;
            };
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language of a request: the switch's cookie, else the browser's
    /// `Accept-Language`, else Vietnamese.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        if let Some(lang) = crate::auth::cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or(Lang::Vi)
    }

    /// The message `key`; the key itself when no file has it (a unit test
    /// makes sure none is missing).
    pub fn t(self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with arguments.
    pub fn ta(self, key: &str, args: Vec<(&str, Arg)>) -> String {
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fargs.set(name.to_string(), FluentValue::from(s)),
                Arg::Number(n) => fargs.set(name.to_string(), FluentValue::from(n)),
            }
        }
        self.format(key, Some(&fargs))
    }

    /// The message `key` with one argument.
    pub fn t1(self, key: &str, name: &str, value: impl Into<Arg>) -> String {
        self.ta(key, vec![(name, value.into())])
    }

    /// The message `key` with two arguments.
    pub fn t2(
        self,
        key: &str,
        name1: &str,
        value1: impl Into<Arg>,
        name2: &str,
        value2: impl Into<Arg>,
    ) -> String {
        self.ta(key, vec![(name1, value1.into()), (name2, value2.into())])
    }

    fn format(self, key: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &bundles()[self.index()];
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    fn group_separator(self) -> char {
        match self {
            Lang::Vi => '.',
            Lang::Zh | Lang::En => ',',
        }
    }

    fn decimal_separator(self) -> char {
        match self {
            Lang::Vi => ',',
            Lang::Zh | Lang::En => '.',
        }
    }

    /// An integer with the locale's thousands separator: vi `5.420.855`,
    /// zh and en `5,420,855`.
    pub fn int(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.group_separator());
            }
            out.push(c);
        }
        out
    }

    /// A decimal with `digits` fraction digits: vi `12,5`, zh and en `12.5`.
    pub fn decimal(self, value: f64, digits: usize) -> String {
        let text = format!("{:.*}", digits, value.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let whole: i64 = whole.parse().unwrap_or(0);
        let sign = if value < 0.0 && text.chars().any(|c| ('1'..='9').contains(&c)) {
            "-"
        } else {
            ""
        };
        if fraction.is_empty() {
            format!("{sign}{}", self.int(whole))
        } else {
            format!(
                "{sign}{}{}{fraction}",
                self.int(whole),
                self.decimal_separator()
            )
        }
    }

    /// A share in percent with one fraction digit: vi `12,5%`, en `12.5%`.
    pub fn percent(self, part: i64, whole: i64) -> String {
        let value = if whole <= 0 {
            0.0
        } else {
            100.0 * part as f64 / whole as f64
        };
        format!("{}%", self.decimal(value, 1))
    }

    /// A date: vi `05/12/2026`, zh `2026年12月5日`, en `5 Dec 2026`.
    pub fn date(self, d: time::Date) -> String {
        let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
        match self {
            Lang::Vi => format!("{day:02}/{m:02}/{y:04}"),
            Lang::Zh => format!("{y}年{m}月{day}日"),
            Lang::En => {
                const MONTHS: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                format!("{day} {} {y}", MONTHS[usize::from(m) - 1])
            }
        }
    }

    /// A stored `YYYY-MM-DD` (or a timestamp starting with one) as a date
    /// of the locale; anything else as it is.
    pub fn date_text(self, stored: &str) -> String {
        match stored.get(..10).and_then(vaxgrid_store::parse_date) {
            Some(d) => {
                let rest = stored[10..].trim_start_matches(['T', ' ']);
                let time = rest.get(..5).filter(|t| t.as_bytes().get(2) == Some(&b':'));
                match time {
                    Some(t) => format!("{} {t}", self.date(d)),
                    None => self.date(d),
                }
            }
            None => stored.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The message ids a Fluent file defines (terms and attributes aside).
    fn ids(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
            .collect()
    }

    #[test]
    fn every_file_parses_and_defines_the_same_keys() {
        let mut sets = Vec::new();
        for (code, source) in SOURCES {
            if let Err((_, errors)) = FluentResource::try_new(source.to_string()) {
                panic!("{code}.ftl does not parse: {errors:?}");
            }
            sets.push((code, ids(source)));
        }
        let all: BTreeSet<String> = sets.iter().flat_map(|(_, s)| s.clone()).collect();
        for (code, source) in SOURCES {
            let mut seen = BTreeSet::new();
            let twice: Vec<_> = source
                .lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
                .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
                .filter(|id| !seen.insert(id.clone()))
                .collect();
            assert!(twice.is_empty(), "locales/{code}/ defines {twice:?} twice");
        }
        for (code, set) in &sets {
            let missing: Vec<_> = all.difference(set).collect();
            assert!(missing.is_empty(), "{code}.ftl lacks {missing:?}");
        }
    }

    /// The keys the templates and the server's code ask for: every
    /// `.t("…")`, `.t1("…"`, `.t2("…"`, `.ta("…"` call and every `tkey("…")`.
    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for pattern in [".t(\"", ".t1(\"", ".t2(\"", ".ta(\"", "tkey(\""] {
            let mut rest = text;
            while let Some(at) = rest.find(pattern) {
                let after = &rest[at + pattern.len()..];
                let end = after.find('"').unwrap_or(0);
                let key = &after[..end];
                if !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    keys.push(key.to_string());
                }
                rest = &after[end..];
            }
        }
        keys
    }

    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_key_used_is_defined() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let defined = ids(SOURCES[2].1);
        let mut paths = Vec::new();
        files(&root.join("templates"), &mut paths);
        files(&root.join("src"), &mut paths);
        let mut seen = 0;
        for path in paths {
            if path.ends_with("i18n.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for key in used_keys(&text) {
                seen += 1;
                assert!(
                    defined.contains(&key),
                    "{} uses the key '{key}' that no .ftl defines",
                    path.display()
                );
            }
        }
        assert!(seen > 50, "only {seen} keys found: the scan is broken");
    }

    #[test]
    fn numbers_dates_and_plurals_follow_the_locale() {
        assert_eq!(Lang::Vi.int(5_420_855), "5.420.855");
        assert_eq!(Lang::Zh.int(5_420_855), "5,420,855");
        assert_eq!(Lang::En.int(-1_000), "-1,000");
        assert_eq!(Lang::En.int(999), "999");
        assert_eq!(Lang::Vi.decimal(1234.5, 1), "1.234,5");
        assert_eq!(Lang::Vi.percent(1, 8), "12,5%");
        assert_eq!(Lang::En.percent(1, 0), "0.0%");
        let d = time::macros::date!(2026 - 12 - 05);
        assert_eq!(Lang::Vi.date(d), "05/12/2026");
        assert_eq!(Lang::Zh.date(d), "2026年12月5日");
        assert_eq!(Lang::En.date(d), "5 Dec 2026");
        assert_eq!(
            Lang::Vi.date_text("2026-12-05T08:30:00Z"),
            "05/12/2026 08:30"
        );
        assert_eq!(Lang::Vi.date_text("soon"), "soon");
        // Plurals: one and other in English, one form in vi and zh; the
        // count goes through the locale's number format.
        assert_eq!(Lang::En.t1("residents", "count", 1), "1 resident");
        assert_eq!(
            Lang::En.t1("residents", "count", 5_420_855),
            "5,420,855 residents"
        );
        assert_eq!(
            Lang::Vi.t1("residents", "count", 5_420_855),
            "5.420.855 người dân"
        );
        assert_eq!(Lang::Zh.t1("residents", "count", 1), "1 名居民");
        assert_eq!(Lang::En.t("no-such-key"), "no-such-key");
    }

    #[test]
    fn the_language_comes_from_the_cookie_then_accept_language() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, vi;q=0.7"),
            Some(Lang::Vi)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, vi;q=0.1"),
            Some(Lang::Vi)
        );
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_request(&h), Lang::Vi);
        h.insert(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::of_request(&h), Lang::En);
        h.insert(header::COOKIE, "vaxgrid_lang=zh".parse().unwrap());
        assert_eq!(Lang::of_request(&h), Lang::Zh);
    }
}
