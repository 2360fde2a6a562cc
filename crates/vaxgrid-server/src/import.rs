//! Persons from the persons file (`vaxgrid_interop::csv::persons`, shared by
//! `POST /api/v1/persons/import` and `vaxgrid import persons`): each row
//! read there becomes here the person to register, its id checked (or a
//! new one given).

use vaxgrid_interop::csv::persons::PersonRow;
use vaxgrid_interop::csv::RowError as CsvRowError;
use vaxgrid_store::model::NewPerson;
use vaxgrid_store::persons::RowError;

/// The store's form of a file's row error.
pub fn row_error(e: CsvRowError) -> RowError {
    RowError {
        row: e.row,
        field: e.field,
        message: e.message,
    }
}

/// The person a row registers: its `id` when the file gives one (a UUID),
/// else a new one.
pub fn new_person(row: PersonRow) -> Result<NewPerson, (String, String)> {
    let id =
        crate::extract::id_or_new("id", row.id.as_deref()).map_err(|e| e.field_and_message())?;
    Ok(NewPerson {
        id,
        id_type: row.id_type,
        id_number: row.id_number,
        full_name: row.full_name,
        birth_date: row.birth_date,
        sex: row.sex,
        phone: row.phone,
        home_area: row.home_area,
        occupation: row.occupation,
        priority_groups: row.priority_groups,
    })
}

/// The row a person is written as (the id is not in it).
pub fn person_row(p: &NewPerson) -> PersonRow {
    PersonRow {
        id: None,
        id_type: p.id_type,
        id_number: p.id_number.clone(),
        full_name: p.full_name.clone(),
        birth_date: p.birth_date,
        sex: p.sex,
        phone: p.phone.clone(),
        home_area: p.home_area.clone(),
        occupation: p.occupation.clone(),
        priority_groups: p.priority_groups.clone(),
    }
}

/// Reads a persons file row by row (after checking the header): the person
/// each row registers, or the error of that row.
pub struct PersonCsv<R: std::io::Read> {
    rows: vaxgrid_interop::csv::persons::PersonCsv<R>,
}

impl<R: std::io::Read> PersonCsv<R> {
    pub fn new(input: R) -> Result<PersonCsv<R>, RowError> {
        vaxgrid_interop::csv::persons::PersonCsv::new(input)
            .map(|rows| PersonCsv { rows })
            .map_err(row_error)
    }
}

impl<R: std::io::Read> Iterator for PersonCsv<R> {
    /// The 1-based data row and the person or the error of that row.
    type Item = (usize, Result<NewPerson, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (row, person) = self.rows.next()?;
        let person = person.map_err(row_error).and_then(|p| {
            new_person(p).map_err(|(field, message)| RowError {
                row,
                field,
                message,
            })
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
