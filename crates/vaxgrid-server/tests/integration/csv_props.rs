//! Property tests: the persons and doses CSV readers answer any input with rows or
//! row errors, never a panic.

use proptest::prelude::*;
use vaxgrid_server::import::parse_persons_csv;

const GOOD: &str = "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n\
                    cccd,022080000101,Lê Văn Một,1980-01-02,male,0912345678,0665801,nông dân,frontline\n";

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (people, errors) = parse_persons_csv(bytes.as_slice());
        for e in &errors {
            prop_assert!(!e.field.is_empty() && !e.message.is_empty());
        }
        let _ = people;
    }

    #[test]
    fn mutated_good_file(at in 0usize..GOOD.len(), byte in any::<u8>(), cut in 0usize..GOOD.len()) {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes[at] = byte;
        bytes.truncate(cut.max(1));
        let (people, errors) = parse_persons_csv(bytes.as_slice());
        prop_assert!(people.len() + errors.len() <= 2);
        for e in &errors {
            prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{:?}", e);
        }
    }
}

const GOOD_DOSES: &str = "id,person_id,kind,corrects_id,product_code,lot_number,site_code,administered_on,reason,author\n\
    0190a5f0-0000-7000-8000-000000000001,0190a5f0-0000-7000-8000-0000000000aa,administered,,AZ,AZ-1,S1,2021-07-01,,\n\
    0190a5f0-0000-7000-8000-000000000002,0190a5f0-0000-7000-8000-0000000000aa,entered_in_error,0190a5f0-0000-7000-8000-000000000001,,,,,typo,clerk\n";

fn doses_answered(bytes: &[u8]) -> Result<usize, TestCaseError> {
    match vaxgrid_server::dose_csv::DoseCsv::new(bytes, vaxgrid_store::model::Actor::system("test"))
    {
        Err(e) => {
            prop_assert!(
                e.row == 0 && !e.field.is_empty() && !e.message.is_empty(),
                "{:?}",
                e
            );
            Ok(0)
        }
        Ok(rows) => {
            let mut n = 0;
            for (row, command) in rows {
                n += 1;
                if let Err(e) = command {
                    prop_assert!(
                        e.row == row && !e.field.is_empty() && !e.message.is_empty(),
                        "{:?}",
                        e
                    );
                }
            }
            Ok(n)
        }
    }
}

proptest! {
    #[test]
    fn doses_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        doses_answered(&bytes)?;
    }

    #[test]
    fn doses_mutated_good_file(at in 0usize..GOOD_DOSES.len(), byte in any::<u8>(), cut in 0usize..GOOD_DOSES.len()) {
        let mut bytes = GOOD_DOSES.as_bytes().to_vec();
        bytes[at] = byte;
        bytes.truncate(cut.max(1));
        // A byte may become a line break and split a row in two.
        prop_assert!(doses_answered(&bytes)? <= 3);
    }
}

#[test]
fn the_good_doses_file_reads_whole() {
    let rows: Vec<_> = vaxgrid_server::dose_csv::DoseCsv::new(
        GOOD_DOSES.as_bytes(),
        vaxgrid_store::model::Actor::system("test"),
    )
    .unwrap()
    .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(_, c)| c.is_ok()), "{rows:?}");
}
