//! The demo area tree: Quảng Ninh province (code 22) and nine of its
//! districts with their official district codes (193 Hạ Long, 194 Móng Cái,
//! 195 Cẩm Phả, 196 Uông Bí, 198 Bình Liêu, 199 Tiên Yên, 200 Đầm Hà,
//! 201 Hải Hà, 205 Đông Triều; the 2004-standard list of the General
//! Statistics Office, before the 2025 reorganisation). The commune and ward
//! names are real places of those districts, but their 5-digit codes here
//! are synthetic (assigned in order from 06600), and so are the villages
//! ("Khu"/"Thôn" n, code = commune code + 2 digits).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaLevelSeed {
    Province,
    District,
    Commune,
    Village,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaSeed {
    pub code: String,
    pub parent: Option<String>,
    pub level: AreaLevelSeed,
    pub name: String,
    pub name_en: String,
}

/// (code, name, English name, urban, communes)
const DISTRICTS: &[(&str, &str, &str, bool, &[&str])] = &[
    (
        "193",
        "Thành phố Hạ Long",
        "Ha Long City",
        true,
        &[
            "Hồng Gai",
            "Bạch Đằng",
            "Hồng Hải",
            "Cao Xanh",
            "Hà Khánh",
            "Hà Phong",
            "Hà Tu",
            "Hà Trung",
            "Hà Lầm",
            "Cao Thắng",
            "Yết Kiêu",
            "Trần Hưng Đạo",
            "Hùng Thắng",
            "Bãi Cháy",
            "Giếng Đáy",
            "Hà Khẩu",
            "Việt Hưng",
            "Đại Yên",
            "Tuần Châu",
        ],
    ),
    (
        "194",
        "Thành phố Móng Cái",
        "Mong Cai City",
        true,
        &[
            "Ka Long",
            "Trần Phú",
            "Hòa Lạc",
            "Ninh Dương",
            "Hải Hòa",
            "Bình Ngọc",
            "Trà Cổ",
            "Hải Xuân",
            "Hải Yên",
            "Hải Sơn",
            "Vĩnh Trung",
            "Vạn Ninh",
        ],
    ),
    (
        "195",
        "Thành phố Cẩm Phả",
        "Cam Pha City",
        true,
        &[
            "Cẩm Trung",
            "Cẩm Thành",
            "Cẩm Bình",
            "Cẩm Tây",
            "Cẩm Đông",
            "Cẩm Sơn",
            "Cẩm Phú",
            "Cẩm Thịnh",
            "Quang Hanh",
            "Mông Dương",
            "Cửa Ông",
            "Cộng Hòa",
            "Dương Huy",
        ],
    ),
    (
        "196",
        "Thành phố Uông Bí",
        "Uong Bi City",
        true,
        &[
            "Quang Trung",
            "Trưng Vương",
            "Nam Khê",
            "Thanh Sơn",
            "Yên Thanh",
            "Bắc Sơn",
            "Vàng Danh",
            "Phương Đông",
            "Phương Nam",
            "Thượng Yên Công",
        ],
    ),
    (
        "198",
        "Huyện Bình Liêu",
        "Binh Lieu District",
        false,
        &[
            "Bình Liêu",
            "Hoành Mô",
            "Đồng Văn",
            "Đồng Tâm",
            "Lục Hồn",
            "Tình Húc",
            "Vô Ngại",
            "Húc Động",
        ],
    ),
    (
        "199",
        "Huyện Tiên Yên",
        "Tien Yen District",
        false,
        &[
            "Tiên Yên",
            "Đông Ngũ",
            "Đông Hải",
            "Hải Lạng",
            "Yên Than",
            "Phong Dụ",
            "Điền Xá",
            "Hà Lâu",
            "Đại Dực",
        ],
    ),
    (
        "200",
        "Huyện Đầm Hà",
        "Dam Ha District",
        false,
        &[
            "Đầm Hà",
            "Quảng Tân",
            "Quảng Lợi",
            "Tân Bình",
            "Dực Yên",
            "Quảng An",
            "Đại Bình",
            "Tân Lập",
        ],
    ),
    (
        "201",
        "Huyện Hải Hà",
        "Hai Ha District",
        false,
        &[
            "Quảng Hà",
            "Quảng Long",
            "Quảng Phong",
            "Quảng Thành",
            "Quảng Sơn",
            "Quảng Đức",
            "Đường Hoa",
            "Cái Chiên",
            "Tiến Tới",
        ],
    ),
    (
        "205",
        "Thị xã Đông Triều",
        "Dong Trieu Town",
        true,
        &[
            "Đông Triều",
            "Mạo Khê",
            "Hồng Phong",
            "Đức Chính",
            "Xuân Sơn",
            "Kim Sơn",
            "Tràng An",
            "Bình Dương",
            "Yên Thọ",
            "Hoàng Quế",
            "An Sinh",
            "Tân Việt",
            "Bình Khê",
        ],
    ),
];

/// The whole tree, parents before children.
pub fn quang_ninh_areas() -> Vec<AreaSeed> {
    let mut out = vec![AreaSeed {
        code: "22".into(),
        parent: None,
        level: AreaLevelSeed::Province,
        name: "Tỉnh Quảng Ninh".into(),
        name_en: "Quang Ninh Province".into(),
    }];
    let mut commune_code = 6600;
    for (code, name, name_en, urban, communes) in DISTRICTS {
        out.push(AreaSeed {
            code: (*code).into(),
            parent: Some("22".into()),
            level: AreaLevelSeed::District,
            name: (*name).into(),
            name_en: (*name_en).into(),
        });
        for (i, commune) in communes.iter().enumerate() {
            commune_code += 1;
            let ccode = format!("{commune_code:05}");
            let (prefix, prefix_en, village, village_en) = if *urban {
                ("Phường", "Ward", "Khu", "Quarter")
            } else {
                ("Xã", "Commune", "Thôn", "Hamlet")
            };
            let folded = vaxgrid_core::names::fold_name(commune);
            let english: String = folded
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" ");
            out.push(AreaSeed {
                code: ccode.clone(),
                parent: Some((*code).into()),
                level: AreaLevelSeed::Commune,
                name: format!("{prefix} {commune}"),
                name_en: format!("{english} {prefix_en}"),
            });
            // Cities have more quarters than rural communes have hamlets.
            let villages = if *urban { 5 + i % 3 } else { 3 + i % 3 };
            for v in 1..=villages {
                out.push(AreaSeed {
                    code: format!("{ccode}{v:02}"),
                    parent: Some(ccode.clone()),
                    level: AreaLevelSeed::Village,
                    name: format!("{village} {v}"),
                    name_en: format!("{village_en} {v}"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tree_is_ordered_unique_and_sized_like_a_province() {
        let areas = quang_ninh_areas();
        let mut seen = HashSet::new();
        for a in &areas {
            if let Some(p) = &a.parent {
                assert!(seen.contains(p), "{} before its parent {p}", a.code);
            }
            assert!(seen.insert(a.code.clone()), "duplicate {}", a.code);
        }
        let count = |l| areas.iter().filter(|a| a.level == l).count();
        assert_eq!(count(AreaLevelSeed::District), 9);
        assert!(
            (95..=110).contains(&count(AreaLevelSeed::Commune)),
            "{}",
            count(AreaLevelSeed::Commune)
        );
        assert!(count(AreaLevelSeed::Village) > 300);
    }
}
