//! Property tests: the persons CSV parser answers any input with rows or
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
