//! CSV bulk lists: the persons file layout shared by the HTTP import and the
//! `vaxgrid import persons` command.
//!
//! Columns: `id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups`
//! (groups separated by `;`), and optionally `id` (a UUID, as `vaxgrid
//! export persons` writes it, so records keep their ids across systems).
//! A header row is required.

use serde::Deserialize;
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::model::NewPerson;
use vaxgrid_store::persons::RowError;

pub const PERSON_HEADER: [&str; 9] = [
    "id_type",
    "id_number",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "home_area",
    "occupation",
    "priority_groups",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRow {
    #[serde(default)]
    id: Option<String>,
    id_type: String,
    id_number: String,
    full_name: String,
    birth_date: String,
    sex: String,
    #[serde(default)]
    phone: Option<String>,
    home_area: String,
    #[serde(default)]
    occupation: Option<String>,
    #[serde(default)]
    priority_groups: Option<String>,
}

/// The column a CSV error is about, when it says.
pub fn csv_field(e: &csv::Error) -> String {
    let text = e.to_string();
    text.split("field ")
        .nth(1)
        .and_then(|rest| rest.split(['`', ':', ' ']).find(|s| !s.is_empty()))
        .map_or_else(|| "row".to_string(), |s| s.trim_matches('`').to_string())
}

pub fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} columns; the header has {expected_len}")
        }
        csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
        _ => e.to_string(),
    }
}

fn row_to_person(mut r: PersonRow) -> Result<NewPerson, (String, String)> {
    // Cells written as spreadsheet-safe text (a leading apostrophe) read
    // back as the value that was exported.
    let unmark = |s: &mut String| *s = vaxgrid_core::spreadsheet::read_cell(s).to_string();
    for text in [&mut r.id_number, &mut r.full_name, &mut r.home_area] {
        unmark(text);
    }
    for text in [&mut r.phone, &mut r.occupation].into_iter().flatten() {
        unmark(text);
    }
    let bad = |f: &str, m: String| (f.to_string(), m);
    // `none` (a person without a national document, as `vaxgrid export
    // persons` writes them) comes with an empty number.
    let id_type = IdType::parse_stored(r.id_type.trim()).ok_or_else(|| {
        bad(
            "id_type",
            format!(
                "'{}' is not an ID type; use cccd, cmnd, cn_resident, passport or none",
                r.id_type
            ),
        )
    })?;
    if id_type == IdType::None && !r.id_number.trim().is_empty() {
        return Err(bad(
            "id_number",
            "a person of id_type none has no id_number".into(),
        ));
    }
    let birth_date = vaxgrid_store::parse_date(r.birth_date.trim()).ok_or_else(|| {
        bad(
            "birth_date",
            format!("'{}' is not a date YYYY-MM-DD", r.birth_date),
        )
    })?;
    let sex = Sex::parse(r.sex.trim())
        .ok_or_else(|| bad("sex", format!("'{}' is not male, female or other", r.sex)))?;
    for (field, value) in [
        ("full_name", &r.full_name),
        ("id_number", &r.id_number),
        ("home_area", &r.home_area),
    ] {
        if value.contains('\0') {
            return Err(bad(field, "text must not contain NUL characters".into()));
        }
    }
    let non_empty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let id = crate::extract::id_or_new("id", non_empty(r.id).as_deref())
        .map_err(|e| e.field_and_message())?;
    Ok(NewPerson {
        id,
        id_type,
        id_number: r.id_number,
        full_name: r.full_name,
        birth_date,
        sex,
        phone: non_empty(r.phone),
        home_area: r.home_area.trim().to_string(),
        occupation: non_empty(r.occupation),
        priority_groups: r
            .priority_groups
            .unwrap_or_default()
            .split([';', '|'])
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Reads a persons CSV row by row (after checking the header).
pub struct PersonCsv<R: std::io::Read> {
    rows: csv::DeserializeRecordsIntoIter<R, PersonRow>,
    row: usize,
}

impl<R: std::io::Read> PersonCsv<R> {
    pub fn new(input: R) -> Result<PersonCsv<R>, RowError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let header = reader.headers().map_err(|e| RowError {
            row: 0,
            field: "header".into(),
            message: csv_message(&e),
        })?;
        let missing: Vec<&str> = PERSON_HEADER[..5]
            .iter()
            .chain(std::iter::once(&"home_area"))
            .filter(|c| !header.iter().any(|x| x == **c))
            .copied()
            .collect();
        if let Some(first) = missing.first() {
            return Err(RowError {
                row: 0,
                field: first.to_string(),
                message: format!("the header lacks the column(s) {}", missing.join(", ")),
            });
        }
        Ok(PersonCsv {
            rows: reader.into_deserialize(),
            row: 0,
        })
    }
}

impl<R: std::io::Read> Iterator for PersonCsv<R> {
    /// The 1-based data row and the person or the error of that row.
    type Item = (usize, Result<NewPerson, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.rows.next()?;
        self.row += 1;
        let row = self.row;
        let person = record
            .map_err(|e| (csv_field(&e), csv_message(&e)))
            .and_then(row_to_person)
            .map_err(|(field, message)| RowError {
                row,
                field,
                message,
            });
        Some((row, person))
    }
}

/// Parses a whole persons CSV: the persons of the good rows and an error for
/// each bad row (1-based data row numbers; row 0 is the header).
pub fn parse_persons_csv<R: std::io::Read>(input: R) -> (Vec<(usize, NewPerson)>, Vec<RowError>) {
    let mut people = Vec::new();
    let mut errors = Vec::new();
    match PersonCsv::new(input) {
        Ok(rows) => {
            for (row, person) in rows {
                match person {
                    Ok(p) => people.push((row, p)),
                    Err(e) => errors.push(e),
                }
            }
        }
        Err(e) => errors.push(e),
    }
    (people, errors)
}

/// Writes one person row in the import layout (used by tests, the demo and the benchmark).
pub fn person_csv_row(p: &NewPerson) -> Vec<String> {
    vec![
        p.id_type.as_str().to_string(),
        p.id_number.clone(),
        p.full_name.clone(),
        vaxgrid_store::format_date(p.birth_date),
        p.sex.as_str().to_string(),
        p.phone.clone().unwrap_or_default(),
        p.home_area.clone(),
        p.occupation.clone().unwrap_or_default(),
        p.priority_groups.join(";"),
    ]
}
