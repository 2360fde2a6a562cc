//! Property tests: arbitrary input never panics the validators, and the
//! generators only make numbers the validators accept.

use proptest::prelude::*;
use time::{Date, Month};
use vaxgrid_core::identity::{make_cccd, make_cn_resident_id, validate_id, IdType, Sex};
use vaxgrid_core::names::fold_name;

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Male), Just(Sex::Female), Just(Sex::Other)]
}

fn id_type() -> impl Strategy<Value = IdType> {
    prop_oneof![
        Just(IdType::Cccd),
        Just(IdType::Cmnd),
        Just(IdType::CnResident),
        Just(IdType::Passport)
    ]
}

/// A day after every birth date drawn: these properties are about the
/// numbers' structure, not about the clock.
const FAR: Date = time::macros::date!(2100 - 01 - 01);

fn date() -> impl Strategy<Value = Date> {
    (1900i32..2100, 1u8..=12, 1u8..=28)
        .prop_map(|(y, m, d)| Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap())
}

proptest! {
    #[test]
    fn arbitrary_text_is_answered_not_panicked(t in id_type(), number in ".{0,40}", birth in date(), s in sex()) {
        let _ = validate_id(t, &number, birth, s, FAR);
        let _ = fold_name(&number);
    }

    #[test]
    fn mutated_valid_numbers_are_answered(birth in date(), s in prop_oneof![Just(Sex::Male), Just(Sex::Female)],
                                          serial in 0u32..1_000_000, at in 0usize..18, byte in any::<u8>()) {
        let cccd = make_cccd("022", s, birth.year(), serial);
        prop_assert!(validate_id(IdType::Cccd, &cccd, birth, s, FAR).is_ok(), "{}", cccd);
        let cn = make_cn_resident_id("110105", birth, (serial % 1000) as u16);
        let cn_sex = if (serial % 1000) % 2 == 1 { Sex::Male } else { Sex::Female };
        prop_assert!(validate_id(IdType::CnResident, &cn, birth, cn_sex, FAR).is_ok(), "{}", cn);
        let mut bytes = cn.into_bytes();
        bytes[at] = byte;
        if let Ok(mutated) = String::from_utf8(bytes) {
            let _ = validate_id(IdType::CnResident, &mutated, birth, Sex::Other, FAR);
        }
    }
}
