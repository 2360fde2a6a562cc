//! Synthetic residents.

use time::{Date, Duration, Month};
use vaxgrid_core::identity::{make_cccd, IdType, Sex};

/// Priority group codes with their Vietnamese and English names.
pub const PRIORITY_GROUPS: &[(&str, &str, &str)] = &[
    ("health_worker", "Nhân viên y tế", "Health workers"),
    (
        "frontline",
        "Lực lượng tuyến đầu chống dịch",
        "Front-line anti-epidemic forces",
    ),
    (
        "essential_service",
        "Lao động dịch vụ thiết yếu (cảng, kho lạnh, khu cách ly)",
        "Essential services (port, cold chain, quarantine sites)",
    ),
    (
        "border_resident",
        "Cư dân vùng biên giới",
        "Border residents",
    ),
    ("elderly_65", "Người từ 65 tuổi", "Aged 65 and over"),
    (
        "chronic_disease",
        "Người có bệnh nền",
        "People with chronic disease",
    ),
    ("teacher", "Giáo viên", "Teachers"),
    ("general", "Người dân", "General population"),
];

/// Family names with their approximate share (per mille) in Vietnam.
const FAMILY: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 35),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 25),
    ("Võ", 15),
    ("Đặng", 20),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 5),
    ("Trịnh", 5),
    ("Mai", 3),
    ("Lương", 3),
];
const MIDDLE_MALE: &[&str] = &[
    "Văn", "Hữu", "Đức", "Quang", "Minh", "Công", "Thành", "Xuân", "Ngọc", "Trọng",
];
const MIDDLE_FEMALE: &[&str] = &[
    "Thị", "Ngọc", "Thu", "Thanh", "Phương", "Kim", "Minh", "Hồng", "Thúy", "Mai",
];
const GIVEN_MALE: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh", "Khoa",
    "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tâm", "Thắng",
    "Thành", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Đạt",
];
const GIVEN_FEMALE: &[&str] = &[
    "Anh", "Châu", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh",
    "Loan", "Mai", "My", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thủy",
    "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Yến", "Hiền",
];
const OCCUPATIONS: &[(&str, u32)] = &[
    ("nông dân", 180),
    ("công nhân", 150),
    ("công nhân mỏ", 60),
    ("ngư dân", 40),
    ("buôn bán", 90),
    ("giáo viên", 25),
    ("nhân viên y tế", 15),
    ("công an, quân đội", 12),
    ("công nhân cảng", 15),
    ("lái xe", 25),
    ("nhân viên văn phòng", 60),
    ("hướng dẫn viên du lịch", 20),
];
const MOBILE_PREFIXES: &[&str] = &[
    "032", "033", "034", "035", "036", "037", "038", "039", "052", "056", "058", "070", "076",
    "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091",
    "093", "094", "096", "097", "098",
];

/// One synthetic resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticPerson {
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    pub birth_date: Date,
    pub sex: Sex,
    pub phone: String,
    pub occupation: String,
    pub priority_groups: Vec<String>,
}

/// Generates residents deterministically from a seed.
pub struct PersonGenerator {
    rng: fastrand::Rng,
    family_total: u32,
    occupation_total: u32,
    /// The last CCCD serial given per (sex, birth year): a CCCD number is
    /// unique only with its six-digit serial within those.
    serials: std::collections::HashMap<(bool, i32), u32>,
}

fn weighted<'a>(rng: &mut fastrand::Rng, items: &'a [(&'a str, u32)], total: u32) -> &'a str {
    let mut pick = rng.u32(0..total);
    for (item, w) in items {
        if pick < *w {
            return item;
        }
        pick -= w;
    }
    items[0].0
}

impl PersonGenerator {
    pub fn new(seed: u64) -> Self {
        PersonGenerator {
            rng: fastrand::Rng::with_seed(seed),
            family_total: FAMILY.iter().map(|(_, w)| w).sum(),
            occupation_total: OCCUPATIONS.iter().map(|(_, w)| w).sum(),
            serials: std::collections::HashMap::new(),
        }
    }

    /// Age in years with a population pyramid like Vietnam's 2019 census:
    /// broad up to 50, narrowing after 60.
    fn age(&mut self) -> i32 {
        let bucket = self.rng.u32(0..100);
        match bucket {
            0..=23 => self.rng.i32(0..15),
            24..=38 => self.rng.i32(15..25),
            39..=67 => self.rng.i32(25..45),
            68..=87 => self.rng.i32(45..60),
            88..=96 => self.rng.i32(60..75),
            _ => self.rng.i32(75..96),
        }
    }

    /// The next resident. CCCD numbers are unique among everyone one
    /// generator makes: the six-digit serial counts per birth year and sex
    /// (a million each; 10 million residents put at most ~150,000 in one).
    ///
    /// # Panics
    /// Past a million residents of one sex born in one year.
    pub fn next(&mut self, province_cccd_code: &str) -> SyntheticPerson {
        let sex = if self.rng.bool() {
            Sex::Male
        } else {
            Sex::Female
        };
        let age = self.age();
        // Birth dates before a fixed reference day keep the data reproducible.
        let reference = Date::from_calendar_date(2021, Month::January, 1).expect("valid date");
        let birth_date = reference - Duration::days(i64::from(age) * 365 + self.rng.i64(0..365));
        let serial = self
            .serials
            .entry((sex == Sex::Female, birth_date.year()))
            .or_insert(0);
        *serial += 1;
        assert!(
            *serial < 1_000_000,
            "more than 999,999 residents of one sex born in {}: CCCD serials exhausted",
            birth_date.year()
        );
        let serial = *serial;
        let family = weighted(&mut self.rng, FAMILY, self.family_total);
        let (middle, given) = match sex {
            Sex::Female => (
                MIDDLE_FEMALE[self.rng.usize(..MIDDLE_FEMALE.len())],
                GIVEN_FEMALE[self.rng.usize(..GIVEN_FEMALE.len())],
            ),
            _ => (
                MIDDLE_MALE[self.rng.usize(..MIDDLE_MALE.len())],
                GIVEN_MALE[self.rng.usize(..GIVEN_MALE.len())],
            ),
        };
        let occupation = match age {
            0..=17 => "học sinh",
            60.. if self.rng.u8(0..10) < 7 => "hưu trí",
            _ => weighted(&mut self.rng, OCCUPATIONS, self.occupation_total),
        };
        let mut groups = Vec::new();
        match occupation {
            "nhân viên y tế" => groups.push("health_worker"),
            "công an, quân đội" => groups.push("frontline"),
            "công nhân cảng" | "lái xe" => groups.push("essential_service"),
            "giáo viên" => groups.push("teacher"),
            _ => {}
        }
        if age >= 65 {
            groups.push("elderly_65");
        }
        if age >= 40 && self.rng.u8(0..100) < 12 {
            groups.push("chronic_disease");
        }
        if groups.is_empty() {
            groups.push("general");
        }
        let phone = format!(
            "{}{:07}",
            MOBILE_PREFIXES[self.rng.usize(..MOBILE_PREFIXES.len())],
            self.rng.u32(0..10_000_000)
        );
        SyntheticPerson {
            id_type: IdType::Cccd,
            id_number: make_cccd(province_cccd_code, sex, birth_date.year(), serial),
            full_name: format!("{family} {middle} {given}"),
            birth_date,
            sex,
            phone,
            occupation: occupation.to_string(),
            priority_groups: groups.into_iter().map(str::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use vaxgrid_core::identity::validate_id;

    #[test]
    fn residents_are_valid_unique_and_vietnamese() {
        let mut g = PersonGenerator::new(7);
        let mut ids = HashSet::new();
        let mut with_marks = 0;
        for _ in 0..100_000 {
            let p = g.next("022");
            assert!(
                validate_id(
                    p.id_type,
                    &p.id_number,
                    p.birth_date,
                    p.sex,
                    time::OffsetDateTime::now_utc().date()
                )
                .is_ok(),
                "{p:?}"
            );
            assert!(ids.insert(p.id_number.clone()), "duplicate {}", p.id_number);
            assert_eq!(p.phone.len(), 10);
            if vaxgrid_core::names::fold_name(&p.full_name) != p.full_name.to_lowercase() {
                with_marks += 1;
            }
            assert!(!p.priority_groups.is_empty());
        }
        assert!(with_marks > 90_000, "names carry diacritics: {with_marks}");
    }

    #[test]
    fn id_numbers_stay_unique_past_a_million() {
        // The serial once wrapped at a million, so `demo --residents
        // 2000000` met duplicate ID numbers.
        let mut g = PersonGenerator::new(11);
        let mut ids = HashSet::with_capacity(1_100_000);
        for _ in 0..1_100_000 {
            let p = g.next("022");
            assert!(
                ids.insert(p.id_number),
                "duplicate ID number past a million"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let a: Vec<_> = (1..50)
            .map(|_| PersonGenerator::new(3).next("022"))
            .collect();
        let b: Vec<_> = (1..50)
            .map(|_| PersonGenerator::new(3).next("022"))
            .collect();
        assert_eq!(a, b);
    }
}
