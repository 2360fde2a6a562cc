//! The persons file: the layout of `vaxgrid import persons`,
//! `POST /api/v1/persons/import` and `vaxgrid export persons`.
//!
//! Columns: `id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups`
//! (groups separated by `;`), and optionally `id` (a UUID, as `vaxgrid
//! export persons` writes it, so records keep their ids across systems).
//! A header row is required.

use serde::Deserialize;
use time::Date;
use vaxgrid_core::identity::{IdType, Sex};

use super::{checked_row, error_message, header_error, RowError};

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

/// The header `vaxgrid export persons` writes: `id`, then [`PERSON_HEADER`].
pub const EXPORT_HEADER: [&str; 10] = {
    let mut header = ["id"; 10];
    let mut i = 0;
    while i < PERSON_HEADER.len() {
        header[i + 1] = PERSON_HEADER[i];
        i += 1;
    }
    header
};

/// A registered person as `vaxgrid export persons` writes it: one value
/// per column of [`EXPORT_HEADER`], named, so the order of the columns is
/// kept here only.
#[derive(Debug, Clone, Copy)]
pub struct ExportedPerson<'a> {
    pub id: &'a str,
    pub id_type: IdType,
    pub id_number: &'a str,
    pub full_name: &'a str,
    /// `YYYY-MM-DD`, as stored.
    pub birth_date: &'a str,
    pub sex: Sex,
    pub phone: Option<&'a str>,
    pub home_area: &'a str,
    pub occupation: Option<&'a str>,
    pub priority_groups: &'a [String],
}

impl ExportedPerson<'_> {
    /// The row's cells in the order of [`EXPORT_HEADER`], each marked as
    /// text where a spreadsheet would run it (`core::spreadsheet`).
    pub fn cells(&self) -> [String; 10] {
        let groups = self.priority_groups.join(";");
        [
            self.id,
            self.id_type.as_str(),
            self.id_number,
            self.full_name,
            self.birth_date,
            self.sex.as_str(),
            self.phone.unwrap_or(""),
            self.home_area,
            self.occupation.unwrap_or(""),
            &groups,
        ]
        .map(|cell| vaxgrid_core::spreadsheet::safe_cell(cell).into_owned())
    }
}

/// A row's cells as they are in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonCells {
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

/// One person of the file, its cells read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The `id` column's value when the file has it and the cell is not
    /// empty; not checked here (the reader of the row decides whether it is
    /// an id it accepts).
    pub id: Option<String>,
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    pub birth_date: Date,
    pub sex: Sex,
    pub phone: Option<String>,
    pub home_area: String,
    pub occupation: Option<String>,
    pub priority_groups: Vec<String>,
}

impl PersonRow {
    /// The row's cells in the order of [`PERSON_HEADER`] (the id is not
    /// one of them), as they are, not marked as spreadsheet text.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.id_type.as_str().to_string(),
            self.id_number.clone(),
            self.full_name.clone(),
            format_date(self.birth_date),
            self.sex.as_str().to_string(),
            self.phone.clone().unwrap_or_default(),
            self.home_area.clone(),
            self.occupation.clone().unwrap_or_default(),
            self.priority_groups.join(";"),
        ]
    }
}

fn parse_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).ok()
}

fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn check_row(mut r: PersonCells) -> Result<PersonRow, (String, String)> {
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
    let birth_date = parse_date(r.birth_date.trim()).ok_or_else(|| {
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
    Ok(PersonRow {
        id: non_empty(r.id),
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

/// Reads a persons file row by row (after checking the header).
pub struct PersonCsv<R: std::io::Read> {
    rows: ::csv::DeserializeRecordsIntoIter<R, PersonCells>,
    row: usize,
    /// The header, to name a cell that does not read by its column.
    header: ::csv::StringRecord,
}

impl<R: std::io::Read> PersonCsv<R> {
    /// Reads the header: the columns a person needs must be there.
    pub fn new(input: R) -> Result<PersonCsv<R>, RowError> {
        let mut reader = super::reader(input);
        let header = reader
            .headers()
            .map_err(|e| header_error("header", error_message(&e)))?
            .clone();
        let missing: Vec<&str> = PERSON_HEADER[..5]
            .iter()
            .chain(std::iter::once(&"home_area"))
            .filter(|c| !header.iter().any(|x| x == **c))
            .copied()
            .collect();
        if let Some(first) = missing.first() {
            return Err(header_error(
                first,
                format!("the header lacks the column(s) {}", missing.join(", ")),
            ));
        }
        Ok(PersonCsv {
            rows: reader.into_deserialize(),
            row: 0,
            header,
        })
    }
}

impl<R: std::io::Read> Iterator for PersonCsv<R> {
    /// The 1-based data row and the person or the error of that row.
    type Item = (usize, Result<PersonRow, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.rows.next()?;
        self.row += 1;
        let row = self.row;
        Some((row, checked_row(row, record, &self.header, check_row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n\
                        cccd,022080000101,Lê Văn Một,1980-01-02,male,0912345678,0665801,nông dân,frontline\n";

    type Rows = Vec<(usize, Result<PersonRow, RowError>)>;

    /// Every row of `text`, or the header's error.
    fn read(text: &[u8]) -> Result<Rows, RowError> {
        PersonCsv::new(text).map(Iterator::collect)
    }

    fn only_error(text: &str) -> RowError {
        let rows = read(text.as_bytes()).expect("a header that reads");
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.into_iter().next().unwrap().1.expect_err("a bad row")
    }

    fn err(row: usize, field: &str, message: &str) -> RowError {
        RowError {
            row,
            field: field.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_good_row_reads_whole_and_writes_back_the_same() {
        let rows = read(GOOD.as_bytes()).unwrap();
        let (row, person) = rows.into_iter().next().unwrap();
        let person = person.unwrap();
        assert_eq!(row, 1);
        assert_eq!(person.id, None);
        assert_eq!(person.id_type, IdType::Cccd);
        assert_eq!(person.birth_date, time::macros::date!(1980 - 01 - 02));
        assert_eq!(person.sex, Sex::Male);
        assert_eq!(person.priority_groups, ["frontline"]);
        let written = GOOD.lines().nth(1).unwrap();
        assert_eq!(person.cells().join(","), written);
    }

    #[test]
    fn exported_files_read_back_with_their_ids_and_unmarked_cells() {
        let text = format!(
            "id,{}\n0190a5f0-0000-7000-8000-0000000000aa,none,,'=Bà Tư,1950-03-04,female,'+84912345678,0665801,,a; b|c\n",
            PERSON_HEADER.join(",")
        );
        let person = read(text.as_bytes()).unwrap().remove(0).1.unwrap();
        assert_eq!(
            person.id.as_deref(),
            Some("0190a5f0-0000-7000-8000-0000000000aa")
        );
        assert_eq!(person.id_type, IdType::None);
        assert_eq!(person.full_name, "=Bà Tư");
        assert_eq!(person.phone.as_deref(), Some("+84912345678"));
        assert_eq!(person.occupation, None);
        assert_eq!(person.priority_groups, ["a", "b", "c"]);
    }

    #[test]
    fn an_exported_person_reads_back_with_its_id() {
        let groups = ["frontline".to_string(), "elderly".to_string()];
        let person = ExportedPerson {
            id: "0190a5f0-0000-7000-8000-0000000000aa",
            id_type: IdType::Cccd,
            id_number: "022080000101",
            full_name: "=Lê Văn Một",
            birth_date: "1980-01-02",
            sex: Sex::Male,
            phone: Some("+84912345678"),
            home_area: "0665801",
            occupation: None,
            priority_groups: &groups,
        };
        let mut file = ::csv::Writer::from_writer(Vec::new());
        file.write_record(EXPORT_HEADER).unwrap();
        file.write_record(person.cells()).unwrap();
        let bytes = file.into_inner().unwrap();
        assert!(String::from_utf8_lossy(&bytes).starts_with(&format!(
            "id,{}\n0190a5f0-0000-7000-8000-0000000000aa,cccd,022080000101,'=Lê Văn Một,",
            PERSON_HEADER.join(",")
        )));
        let read = read(&bytes).unwrap().remove(0).1.unwrap();
        assert_eq!(
            read,
            PersonRow {
                id: Some(person.id.into()),
                id_type: IdType::Cccd,
                id_number: "022080000101".into(),
                full_name: "=Lê Văn Một".into(),
                birth_date: time::macros::date!(1980 - 01 - 02),
                sex: Sex::Male,
                phone: Some("+84912345678".into()),
                home_area: "0665801".into(),
                occupation: None,
                priority_groups: groups.to_vec(),
            }
        );
    }

    #[test]
    fn a_header_without_a_needed_column_names_them() {
        let e = read(b"id_type,id_number,full_name,sex\n").unwrap_err();
        assert_eq!(
            e,
            err(
                0,
                "birth_date",
                "the header lacks the column(s) birth_date, home_area"
            )
        );
    }

    #[test]
    fn an_unknown_column_is_refused_on_each_row() {
        let good = GOOD.lines().nth(1).unwrap();
        let text = format!("{},shoe_size\n{good},42\n", PERSON_HEADER.join(","));
        let e = only_error(&text);
        assert_eq!(e.row, 1);
        assert_eq!(e.field, "shoe_size");
        assert!(e.message.contains("unknown field `shoe_size`"), "{e:?}");
    }

    #[test]
    fn a_short_row_is_counted_against_the_header() {
        let text = format!("{}\ncccd,022080000101\n", PERSON_HEADER.join(","));
        assert_eq!(
            only_error(&text),
            err(1, "row", "the row has 2 columns; the header has 9")
        );
    }

    #[test]
    fn each_bad_cell_names_its_column() {
        let good = GOOD.lines().nth(1).unwrap();
        let with = |column: usize, value: &str| {
            let mut cells: Vec<&str> = good.split(',').collect();
            cells[column] = value;
            format!("{}\n{}\n", PERSON_HEADER.join(","), cells.join(","))
        };
        assert_eq!(
            only_error(&with(0, "visa")),
            err(
                1,
                "id_type",
                "'visa' is not an ID type; use cccd, cmnd, cn_resident, passport or none"
            )
        );
        assert_eq!(
            only_error(&with(0, "none")),
            err(1, "id_number", "a person of id_type none has no id_number")
        );
        assert_eq!(
            only_error(&with(3, "02/01/1980")),
            err(1, "birth_date", "'02/01/1980' is not a date YYYY-MM-DD")
        );
        assert_eq!(
            only_error(&with(4, "m")),
            err(1, "sex", "'m' is not male, female or other")
        );
        assert_eq!(
            only_error(&with(2, "Lê\0Một")),
            err(1, "full_name", "text must not contain NUL characters")
        );
    }

    #[test]
    fn a_cell_that_does_not_read_is_named_by_its_header() {
        // The csv crate gives the cell's position (2); the error names the
        // column.
        let mut text = format!("{}\ncccd,022080000101,L", PERSON_HEADER.join(",")).into_bytes();
        text.push(0xff);
        text.extend(b",1980-01-02,male,,0665801,,\n");
        let rows = read(&text).expect("a header that reads");
        assert_eq!(
            rows[0].1.clone().expect_err("a bad row"),
            err(1, "full_name", "the cell is not valid UTF-8")
        );
    }

    #[test]
    fn rows_are_numbered_from_one_after_the_header() {
        let good = GOOD.lines().nth(1).unwrap();
        let text = format!("{}\n{good}\nbad\n{good}\n", PERSON_HEADER.join(","));
        let rows = read(text.as_bytes()).unwrap();
        let numbers: Vec<(usize, bool)> = rows.iter().map(|(r, p)| (*r, p.is_ok())).collect();
        assert_eq!(numbers, [(1, true), (2, false), (3, true)]);
        assert_eq!(rows[1].1.as_ref().unwrap_err().row, 2);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_give_rows_or_row_errors(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            match read(&bytes) {
                Err(e) => prop_assert!(e.row == 0 && !e.field.is_empty() && !e.message.is_empty()),
                Ok(rows) => {
                    for (row, person) in rows {
                        if let Err(e) = person {
                            prop_assert!(e.row == row && !e.field.is_empty() && !e.message.is_empty(), "{:?}", e);
                        }
                    }
                }
            }
        }

        #[test]
        fn a_mutated_good_file_gives_rows_or_row_errors(at in 0usize..GOOD.len(), byte in any::<u8>(), cut in 0usize..GOOD.len()) {
            let mut bytes = GOOD.as_bytes().to_vec();
            bytes[at] = byte;
            bytes.truncate(cut.max(1));
            if let Ok(rows) = read(&bytes) {
                // A byte may become a line break and split the row in two.
                prop_assert!(rows.len() <= 2);
                for (_, person) in rows {
                    if let Err(e) = person {
                        prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{:?}", e);
                    }
                }
            }
        }
    }
}
