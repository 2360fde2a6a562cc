//! National identity numbers and their consistency with the recorded person.
//!
//! - Vietnamese citizen identity card (CCCD), 12 digits: digits 1–3 the
//!   province where the birth was registered, digit 4 sex and century, digits
//!   5–6 the last two digits of the birth year, digits 7–12 a serial; no check
//!   digit (Circular 07/2016/TT-BCA, art. 7, implementing Decree 137/2015/NĐ-CP).
//! - The older 9-digit identity card (CMND) is its own ID type: digits only.
//! - Chinese resident identity card, 18 characters (GB 11643-1999): 6-digit
//!   area, birth date YYYYMMDD, 3-digit sequence (odd male, even female), and a
//!   check character by ISO 7064 MOD 11-2.
//! - Passports: free form, 5 to 20 letters and digits.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdType {
    Cccd,
    Cmnd,
    CnResident,
    Passport,
}

impl IdType {
    pub const ALL: [IdType; 4] = [
        IdType::Cccd,
        IdType::Cmnd,
        IdType::CnResident,
        IdType::Passport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdType::Cccd => "cccd",
            IdType::Cmnd => "cmnd",
            IdType::CnResident => "cn_resident",
            IdType::Passport => "passport",
        }
    }

    pub fn parse(s: &str) -> Option<IdType> {
        IdType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Sex {
    Male,
    Female,
    Other,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Sex> {
        [Sex::Male, Sex::Female, Sex::Other]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must be {digits} digits")]
    Length { kind: &'static str, digits: usize },
    #[error("{kind} must contain digits only")]
    NotDigits { kind: &'static str },
    #[error("CCCD province code {0} is not a Vietnamese province")]
    UnknownProvince(String),
    #[error(
        "CCCD digit 4 ({digit}) says born in the {century}s, but the birth year is {birth_year}"
    )]
    CenturyMismatch {
        digit: u8,
        century: i32,
        birth_year: i32,
    },
    #[error("CCCD digits 5-6 say birth year ..{digits:02}, but the birth year is {birth_year}")]
    YearMismatch { digits: u8, birth_year: i32 },
    #[error("{kind} says {says}, but the person is recorded as {recorded}")]
    SexMismatch {
        kind: &'static str,
        says: &'static str,
        recorded: &'static str,
    },
    #[error("Chinese resident ID must be 18 characters: 17 digits and a digit or X")]
    CnFormat,
    #[error("Chinese resident ID check character is {found}, expected {expected}")]
    CnCheck { found: char, expected: char },
    #[error("Chinese resident ID birth date {0} is not a date")]
    CnBirthDate(String),
    #[error("Chinese resident ID birth date {embedded} differs from the birth date {recorded}")]
    CnBirthDateMismatch { embedded: String, recorded: String },
    #[error("passport number must be 5 to 20 letters A-Z and digits")]
    Passport,
}

/// Province codes of the CCCD (the 63 provinces and centrally run cities).
pub const CCCD_PROVINCES: [(&str, &str); 63] = [
    ("001", "Hà Nội"),
    ("002", "Hà Giang"),
    ("004", "Cao Bằng"),
    ("006", "Bắc Kạn"),
    ("008", "Tuyên Quang"),
    ("010", "Lào Cai"),
    ("011", "Điện Biên"),
    ("012", "Lai Châu"),
    ("014", "Sơn La"),
    ("015", "Yên Bái"),
    ("017", "Hòa Bình"),
    ("019", "Thái Nguyên"),
    ("020", "Lạng Sơn"),
    ("022", "Quảng Ninh"),
    ("024", "Bắc Giang"),
    ("025", "Phú Thọ"),
    ("026", "Vĩnh Phúc"),
    ("027", "Bắc Ninh"),
    ("030", "Hải Dương"),
    ("031", "Hải Phòng"),
    ("033", "Hưng Yên"),
    ("034", "Thái Bình"),
    ("035", "Hà Nam"),
    ("036", "Nam Định"),
    ("037", "Ninh Bình"),
    ("038", "Thanh Hóa"),
    ("040", "Nghệ An"),
    ("042", "Hà Tĩnh"),
    ("044", "Quảng Bình"),
    ("045", "Quảng Trị"),
    ("046", "Thừa Thiên Huế"),
    ("048", "Đà Nẵng"),
    ("049", "Quảng Nam"),
    ("051", "Quảng Ngãi"),
    ("052", "Bình Định"),
    ("054", "Phú Yên"),
    ("056", "Khánh Hòa"),
    ("058", "Ninh Thuận"),
    ("060", "Bình Thuận"),
    ("062", "Kon Tum"),
    ("064", "Gia Lai"),
    ("066", "Đắk Lắk"),
    ("067", "Đắk Nông"),
    ("068", "Lâm Đồng"),
    ("070", "Bình Phước"),
    ("072", "Tây Ninh"),
    ("074", "Bình Dương"),
    ("075", "Đồng Nai"),
    ("077", "Bà Rịa - Vũng Tàu"),
    ("079", "Hồ Chí Minh"),
    ("080", "Long An"),
    ("082", "Tiền Giang"),
    ("083", "Bến Tre"),
    ("084", "Trà Vinh"),
    ("086", "Vĩnh Long"),
    ("087", "Đồng Tháp"),
    ("089", "An Giang"),
    ("091", "Kiên Giang"),
    ("092", "Cần Thơ"),
    ("093", "Hậu Giang"),
    ("094", "Sóc Trăng"),
    ("095", "Bạc Liêu"),
    ("096", "Cà Mau"),
];

/// Normalises and validates `number` for `id_type` against the person's
/// birth date and sex (`Sex::Other` skips the sex checks). Returns the
/// normalised number.
pub fn validate_id(
    id_type: IdType,
    number: &str,
    birth_date: Date,
    sex: Sex,
) -> Result<String, IdError> {
    let number = number.trim();
    match id_type {
        IdType::Cccd => validate_cccd(number, birth_date.year(), sex).map(|()| number.to_string()),
        IdType::Cmnd => {
            digits_only("CMND", number, 9)?;
            Ok(number.to_string())
        }
        IdType::CnResident => validate_cn_resident(number, birth_date, sex),
        IdType::Passport => {
            let n = number.to_ascii_uppercase();
            if (5..=20).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                Ok(n)
            } else {
                Err(IdError::Passport)
            }
        }
    }
}

fn digits_only(kind: &'static str, number: &str, digits: usize) -> Result<(), IdError> {
    if number.chars().count() != digits {
        return Err(IdError::Length { kind, digits });
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::NotDigits { kind });
    }
    Ok(())
}

/// Checks a CCCD against a birth year and sex.
pub fn validate_cccd(number: &str, birth_year: i32, sex: Sex) -> Result<(), IdError> {
    digits_only("CCCD", number, 12)?;
    let b = number.as_bytes();
    let province = &number[..3];
    if !CCCD_PROVINCES.iter().any(|(code, _)| *code == province) {
        return Err(IdError::UnknownProvince(province.to_string()));
    }
    let digit = b[3] - b'0';
    // 0/1 1900s, 2/3 2000s, 4/5 2100s, 6/7 2200s, 8/9 2300s; even male, odd female.
    let century = 1900 + 100 * i32::from(digit / 2);
    if birth_year / 100 * 100 != century {
        return Err(IdError::CenturyMismatch {
            digit,
            century,
            birth_year,
        });
    }
    let yy = (b[4] - b'0') * 10 + (b[5] - b'0');
    if i32::from(yy) != birth_year % 100 {
        return Err(IdError::YearMismatch {
            digits: yy,
            birth_year,
        });
    }
    let says = if digit.is_multiple_of(2) {
        Sex::Male
    } else {
        Sex::Female
    };
    if sex != Sex::Other && sex != says {
        return Err(IdError::SexMismatch {
            kind: "CCCD digit 4",
            says: says.as_str(),
            recorded: sex.as_str(),
        });
    }
    Ok(())
}

const CN_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CN_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character of 17 digits.
pub fn cn_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(CN_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CN_CHECK[(sum % 11) as usize]
}

fn validate_cn_resident(number: &str, birth_date: Date, sex: Sex) -> Result<String, IdError> {
    let n = number.to_ascii_uppercase();
    let b = n.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X')
    {
        return Err(IdError::CnFormat);
    }
    let expected = cn_check_char(&b[..17]);
    if b[17] as char != expected {
        return Err(IdError::CnCheck {
            found: b[17] as char,
            expected,
        });
    }
    let embedded = &n[6..14];
    let num = |r: std::ops::Range<usize>| n[r].parse::<u32>().unwrap_or(0);
    let date = Month::try_from(num(10..12) as u8)
        .ok()
        .and_then(|m| Date::from_calendar_date(num(6..10) as i32, m, num(12..14) as u8).ok())
        .ok_or_else(|| IdError::CnBirthDate(embedded.to_string()))?;
    if date != birth_date {
        return Err(IdError::CnBirthDateMismatch {
            embedded: embedded.to_string(),
            recorded: format!(
                "{:04}{:02}{:02}",
                birth_date.year(),
                u8::from(birth_date.month()),
                birth_date.day()
            ),
        });
    }
    let says = if num(14..17) % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    if sex != Sex::Other && sex != says {
        return Err(IdError::SexMismatch {
            kind: "Chinese resident ID sequence",
            says: says.as_str(),
            recorded: sex.as_str(),
        });
    }
    Ok(n)
}

/// A valid CCCD (for synthetic data and tests).
pub fn make_cccd(province_code: &str, sex: Sex, birth_year: i32, serial: u32) -> String {
    let century_digit = ((birth_year / 100 - 19) * 2).clamp(0, 8) + i32::from(sex == Sex::Female);
    format!(
        "{province_code}{century_digit}{:02}{:06}",
        birth_year % 100,
        serial % 1_000_000
    )
}

/// A valid Chinese resident ID with its MOD 11-2 check character.
pub fn make_cn_resident_id(area6: &str, birth_date: Date, sequence3: u16) -> String {
    let first17 = format!(
        "{area6}{:04}{:02}{:02}{:03}",
        birth_date.year(),
        u8::from(birth_date.month()),
        birth_date.day(),
        sequence3 % 1000
    );
    let check = cn_check_char(first17.as_bytes());
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn cccd_rules() {
        assert!(validate_cccd("022080000123", 1980, Sex::Male).is_ok());
        assert!(validate_cccd("001305012345", 2005, Sex::Female).is_ok());
        assert_eq!(
            validate_cccd("02208000012", 1980, Sex::Male),
            Err(IdError::Length {
                kind: "CCCD",
                digits: 12
            })
        );
        assert_eq!(
            validate_cccd("999080000123", 1980, Sex::Male),
            Err(IdError::UnknownProvince("999".into()))
        );
        assert!(matches!(
            validate_cccd("022280000123", 1980, Sex::Male),
            Err(IdError::CenturyMismatch { .. })
        ));
        assert!(matches!(
            validate_cccd("022081000123", 1980, Sex::Male),
            Err(IdError::YearMismatch { .. })
        ));
        assert!(matches!(
            validate_cccd("022080000123", 1980, Sex::Female),
            Err(IdError::SexMismatch { .. })
        ));
        assert!(validate_cccd("022080000123", 1980, Sex::Other).is_ok());
    }

    #[test]
    fn chinese_ids_and_generated_ids_validate() {
        assert_eq!(
            validate_id(
                IdType::CnResident,
                "11010519491231002x",
                date!(1949 - 12 - 31),
                Sex::Female
            )
            .unwrap(),
            "11010519491231002X"
        );
        let id = make_cn_resident_id("450102", date!(2001 - 06 - 15), 2);
        assert_eq!(id, "450102200106150022");
        for (year, sex) in [
            (1950, Sex::Male),
            (1999, Sex::Female),
            (2004, Sex::Female),
            (2020, Sex::Male),
        ] {
            let n = make_cccd("022", sex, year, 42);
            assert!(validate_cccd(&n, year, sex).is_ok(), "{n}");
        }
        assert_eq!(
            validate_id(
                IdType::Passport,
                " c1234567 ",
                date!(1980 - 01 - 01),
                Sex::Male
            )
            .unwrap(),
            "C1234567"
        );
        assert!(validate_id(IdType::Cmnd, "12345678", date!(1980 - 01 - 01), Sex::Male).is_err());
    }
}
