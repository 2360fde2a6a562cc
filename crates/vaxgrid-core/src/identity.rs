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
//!   The area must be a division code that exists or existed (GB/T 2260:
//!   `cn_division_exists`, from the list shipped beside this file).
//! - Passports: free form, 5 to 20 letters and digits.
//! - No number may put the holder's birth in the future: each validator
//!   refuses it itself, whatever birth date the person is recorded with.
//!
//! A person may carry several identifiers (`Identifier`), each with a type
//! and, where the number means nothing without it, an assigning authority
//! (a passport's country, a sending system's medical record numbers); the
//! national document, when there is one, is also kept on the person's row
//! (`IdType`), and `IdType::None` says there is none.

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
    /// No national document (a child without a card, an undocumented
    /// person, someone a partner knows only by its record number). Never
    /// accepted from a caller as a type; the store puts it on the row.
    None,
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
            IdType::None => "none",
        }
    }

    /// One of the document types of [`IdType::ALL`] (never `none`).
    pub fn parse(s: &str) -> Option<IdType> {
        IdType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// A type as stored on a person's row: a document type or `none`.
    pub fn parse_stored(s: &str) -> Option<IdType> {
        if s == "none" {
            Some(IdType::None)
        } else {
            IdType::parse(s)
        }
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
    #[error("Chinese resident ID area code {0} is not an administrative division code of China")]
    CnArea(String),
    #[error("{kind} says the holder was born in {born}, which is in the future")]
    FutureBirth { kind: &'static str, born: String },
    #[error("passport number must be 5 to 20 letters A-Z and digits")]
    Passport,
    #[error("there is no number to check: the person has no national document")]
    NoDocument,
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
/// birth date and sex (`Sex::Other` skips the sex checks) and `today` (no
/// number may say its holder is born after it). Returns the normalised
/// number.
pub fn validate_id(
    id_type: IdType,
    number: &str,
    birth_date: Date,
    sex: Sex,
    today: Date,
) -> Result<String, IdError> {
    let number = number.trim();
    match id_type {
        IdType::Cccd => {
            validate_cccd(number, birth_date.year(), sex)?;
            // The number's own year (century digit and two digits), which
            // validate_cccd found equal to the recorded one.
            let b = number.as_bytes();
            let year = 1900
                + 100 * i32::from((b[3] - b'0') / 2)
                + i32::from((b[4] - b'0') * 10 + (b[5] - b'0'));
            if year > today.year() {
                return Err(IdError::FutureBirth {
                    kind: "CCCD",
                    born: year.to_string(),
                });
            }
            Ok(number.to_string())
        }
        IdType::Cmnd => {
            digits_only("CMND", number, 9)?;
            Ok(number.to_string())
        }
        IdType::CnResident => validate_cn_resident(number, birth_date, sex, today),
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
        IdType::None => Err(IdError::NoDocument),
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

/// The division codes of `cn-division-codes.txt`, ascending.
fn cn_divisions() -> &'static [u32] {
    static CODES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        let mut codes: Vec<u32> = include_str!("identity/cn-division-codes.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        codes.sort_unstable();
        codes
    })
}

/// Whether `code` (six digits) is a Chinese administrative division code
/// that exists or once existed (GB/T 2260, 1980 to 2023): `000000` and the
/// unassigned `99xxxx` are not.
pub fn cn_division_exists(code: &str) -> bool {
    code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && code
            .parse::<u32>()
            .is_ok_and(|c| cn_divisions().binary_search(&c).is_ok())
}

fn validate_cn_resident(
    number: &str,
    birth_date: Date,
    sex: Sex,
    today: Date,
) -> Result<String, IdError> {
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
    if !cn_division_exists(&n[..6]) {
        return Err(IdError::CnArea(n[..6].to_string()));
    }
    if date > today {
        return Err(IdError::FutureBirth {
            kind: "Chinese resident ID",
            born: embedded.to_string(),
        });
    }
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

/// The type of one of a person's identifiers. National documents are
/// checked by their own rules ([`validate_id`]); the others are numbers
/// some authority gave, which mean something only with that authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdentifierType {
    Cccd,
    Cmnd,
    CnResident,
    /// With the issuing country as authority (ISO 3166 alpha-2 or alpha-3).
    Passport,
    /// A medical record number, with the system that assigned it.
    Mrn,
    /// A health insurance number (authority: the insurer, optional).
    Insurance,
    /// A birth certificate number (authority: the registering office, optional).
    BirthCertificate,
    /// Any other identifier, with its authority.
    Other,
}

impl IdentifierType {
    pub const ALL: [IdentifierType; 8] = [
        IdentifierType::Cccd,
        IdentifierType::Cmnd,
        IdentifierType::CnResident,
        IdentifierType::Passport,
        IdentifierType::Mrn,
        IdentifierType::Insurance,
        IdentifierType::BirthCertificate,
        IdentifierType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierType::Cccd => "cccd",
            IdentifierType::Cmnd => "cmnd",
            IdentifierType::CnResident => "cn_resident",
            IdentifierType::Passport => "passport",
            IdentifierType::Mrn => "mrn",
            IdentifierType::Insurance => "insurance",
            IdentifierType::BirthCertificate => "birth_certificate",
            IdentifierType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<IdentifierType> {
        IdentifierType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The national document type this is, if it is one.
    pub fn national(self) -> Option<IdType> {
        match self {
            IdentifierType::Cccd => Some(IdType::Cccd),
            IdentifierType::Cmnd => Some(IdType::Cmnd),
            IdentifierType::CnResident => Some(IdType::CnResident),
            IdentifierType::Passport => Some(IdType::Passport),
            IdentifierType::Mrn
            | IdentifierType::Insurance
            | IdentifierType::BirthCertificate
            | IdentifierType::Other => None,
        }
    }

    /// Whether a person holding it has a document of identity (no follow-up
    /// needed): national IDs, passports, insurance and birth certificates;
    /// not a record number some system gave them.
    pub fn is_document(self) -> bool {
        match self {
            IdentifierType::Mrn | IdentifierType::Other => false,
            IdentifierType::Cccd
            | IdentifierType::Cmnd
            | IdentifierType::CnResident
            | IdentifierType::Passport
            | IdentifierType::Insurance
            | IdentifierType::BirthCertificate => true,
        }
    }

    /// Whether the value means nothing without its assigning authority.
    pub fn needs_authority(self) -> bool {
        matches!(self, IdentifierType::Mrn | IdentifierType::Other)
    }
}

impl From<IdType> for IdentifierType {
    fn from(t: IdType) -> IdentifierType {
        match t {
            IdType::Cccd => IdentifierType::Cccd,
            IdType::Cmnd => IdentifierType::Cmnd,
            IdType::CnResident => IdentifierType::CnResident,
            IdType::Passport => IdentifierType::Passport,
            IdType::None => IdentifierType::Other,
        }
    }
}

/// One identifier of a person: type, assigning authority (empty when the
/// type needs none and none was given) and value, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    pub id_type: IdentifierType,
    pub authority: String,
    pub value: String,
}

/// Why an identifier was refused, and which of its parts is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("{0}")]
    Value(IdError),
    #[error("{0}")]
    Authority(String),
    #[error("{0}")]
    Text(String),
}

impl IdentifierError {
    /// The part of the identifier at fault: `value` or `authority`.
    pub fn part(&self) -> &'static str {
        match self {
            IdentifierError::Authority(_) => "authority",
            IdentifierError::Value(_) | IdentifierError::Text(_) => "value",
        }
    }
}

/// Checks and normalises one identifier against the person's birth date,
/// sex and `today`: national types by [`validate_id`]; a passport's
/// authority, when given, is a country code (2 or 3 letters, upper-cased);
/// MRNs and other identifiers need an authority; every value and authority
/// is 1 to 64 characters without control characters.
pub fn validate_identifier(
    id_type: IdentifierType,
    authority: Option<&str>,
    value: &str,
    birth_date: Date,
    sex: Sex,
    today: Date,
) -> Result<Identifier, IdentifierError> {
    let authority = authority.map(str::trim).unwrap_or("");
    let text_ok = |s: &str| s.chars().count() <= 64 && !s.chars().any(char::is_control);
    if !text_ok(authority) {
        return Err(IdentifierError::Authority(
            "an authority is at most 64 characters, without control characters".into(),
        ));
    }
    if id_type.needs_authority() && authority.is_empty() {
        return Err(IdentifierError::Authority(format!(
            "a {} identifier needs the authority that assigned it",
            id_type.as_str()
        )));
    }
    let authority = match id_type {
        IdentifierType::Passport if !authority.is_empty() => {
            let a = authority.to_ascii_uppercase();
            if !(2..=3).contains(&a.len()) || !a.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(IdentifierError::Authority(
                    "a passport's authority is the issuing country's code (2 or 3 letters)".into(),
                ));
            }
            a
        }
        _ => authority.to_string(),
    };
    let value = match id_type.national() {
        Some(t) => validate_id(t, value, birth_date, sex, today).map_err(IdentifierError::Value)?,
        None => {
            let v = value.trim();
            if v.is_empty() || !text_ok(v) {
                return Err(IdentifierError::Text(
                    "a value is 1 to 64 characters, without control characters".into(),
                ));
            }
            v.to_string()
        }
    };
    Ok(Identifier {
        id_type,
        authority,
        value,
    })
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
                Sex::Female,
                TODAY
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
                Sex::Male,
                TODAY
            )
            .unwrap(),
            "C1234567"
        );
        assert!(validate_id(
            IdType::Cmnd,
            "12345678",
            date!(1980 - 01 - 01),
            Sex::Male,
            TODAY
        )
        .is_err());
    }

    const TODAY: Date = date!(2026 - 12 - 06);

    #[test]
    fn chinese_area_codes_must_exist() {
        assert!(cn_division_exists("110105"));
        assert!(cn_division_exists("450102"));
        // Abolished divisions keep the codes of the numbers they issued:
        // Laiwu (371200) was merged into Jinan in 2019.
        assert!(cn_division_exists("371202"));
        // Created after the last curated revision (2019): from the 2023 list.
        assert!(cn_division_exists("130505"));
        assert!(cn_division_exists("810000"));
        assert!(cn_division_exists("830000"));
        for bad in ["000000", "990000", "991234", "110199", "11010", "11010a"] {
            assert!(!cn_division_exists(bad), "{bad}");
        }
        for area in ["000000", "990101"] {
            let n = make_cn_resident_id(area, date!(1980 - 01 - 01), 11);
            assert_eq!(
                validate_id(
                    IdType::CnResident,
                    &n,
                    date!(1980 - 01 - 01),
                    Sex::Male,
                    TODAY
                ),
                Err(IdError::CnArea(area.into())),
                "{n}"
            );
        }
    }

    #[test]
    fn numbers_saying_a_birth_in_the_future_are_refused() {
        // The recorded birth date agrees with the number; the number itself
        // puts the birth after today.
        let born = date!(2027 - 03 - 01);
        let cn = make_cn_resident_id("110105", born, 11);
        assert!(matches!(
            validate_id(IdType::CnResident, &cn, born, Sex::Male, TODAY),
            Err(IdError::FutureBirth { .. })
        ));
        let cccd = make_cccd("022", Sex::Male, 2027, 1);
        assert!(matches!(
            validate_id(IdType::Cccd, &cccd, born, Sex::Male, TODAY),
            Err(IdError::FutureBirth { .. })
        ));
        // Born today is fine.
        let cn = make_cn_resident_id("110105", TODAY, 11);
        assert!(validate_id(IdType::CnResident, &cn, TODAY, Sex::Male, TODAY).is_ok());
    }

    #[test]
    fn identifiers_of_every_type() {
        let born = date!(2019 - 05 - 04);
        let v =
            |t, a: Option<&str>, n: &str| validate_identifier(t, a, n, born, Sex::Female, TODAY);
        let mrn = v(IdentifierType::Mrn, Some(" HOSP-A "), " 00123 ").unwrap();
        assert_eq!(
            (mrn.authority.as_str(), mrn.value.as_str()),
            ("HOSP-A", "00123")
        );
        assert_eq!(
            v(IdentifierType::Mrn, None, "00123").unwrap_err().part(),
            "authority"
        );
        let pp = v(IdentifierType::Passport, Some("fra"), "ab123456").unwrap();
        assert_eq!(
            (pp.authority.as_str(), pp.value.as_str()),
            ("FRA", "AB123456")
        );
        assert_eq!(
            v(IdentifierType::Passport, Some("France"), "AB123456")
                .unwrap_err()
                .part(),
            "authority"
        );
        assert!(v(IdentifierType::BirthCertificate, None, "12/2019").is_ok());
        assert_eq!(
            v(IdentifierType::Insurance, None, " ").unwrap_err().part(),
            "value"
        );
        assert_eq!(
            v(IdentifierType::Cccd, None, "022080000123")
                .unwrap_err()
                .part(),
            "value"
        );
        assert!(IdentifierType::BirthCertificate.is_document());
        assert!(!IdentifierType::Mrn.is_document());
        for t in IdentifierType::ALL {
            assert_eq!(IdentifierType::parse(t.as_str()), Some(t));
        }
        assert_eq!(IdType::parse("none"), None);
        assert_eq!(IdType::parse_stored("none"), Some(IdType::None));
    }
}
