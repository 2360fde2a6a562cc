//! End-to-end: a planner at work in a real headless Chromium, signing in
//! by typing, drilling down from the province to a village on the
//! dashboard and opening the list behind a figure, and printing a
//! district's list commune by commune and part by part with the keyboard;
//! in Vietnamese and in Chinese, every page checked with axe-core and
//! photographed at 360 and 1280 px.

use crate::common;
use crate::harness;

use common::{dose_body, new_id, TestApp};
use harness::*;
use serde_json::json;

fn day(offset: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(offset))
}

/// Province 22 with a campaign over it, a wave running and the target
/// split to the districts; residents in village 0665801, one vaccinated.
async fn world(app: &TestApp) {
    app.seed().await;
    // Hạ Long in the east 30 km from the border, Móng Cái in the east on
    // it: the dashboard's table by region and distance.
    for (area, tags) in [
        ("193", json!({"border_km": 30, "region_group": "Miền Đông"})),
        (
            "194",
            json!({"border_km": null, "region_group": "Miền Đông"}),
        ),
        ("06700", json!({"border_km": 2, "region_group": null})),
    ] {
        let (s, b) = app
            .post(&format!("/api/v1/areas/{area}/border"), &tags)
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let done = app.person(1, "Đặng Thị Hoa").await;
    app.person(2, "Lê Văn Chờ").await;
    app.person(3, "Phạm Thị <b>Ngọc</b>").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &done, &day(0)))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, c) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Tiêm chủng COVID-19 năm 2026", "disease": "COVID-19", "area_code": "22", "products": ["AZ"],
                    "priority_groups": ["frontline"], "target_percent": 80.0, "target_date": day(60)}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let campaign = c["id"].as_str().unwrap();
    let (s, w) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/waves"),
            &json!({"name": "Đợt 1", "starts_on": day(-1), "ends_on": day(30), "eligible_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let (s, t) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/targets"),
            &json!({"area": "22"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_drills_down_from_province_to_village_in_chromium() {
    let app = TestApp::start("sqlite").await;
    world(&app).await;
    TestApp::make_user(&app.store, "planner22", &["planner:22"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "planner22").await;
    // The menu leads to the dashboard; one area: straight to the province.
    browser.click_link("Bảng theo dõi").await;
    assert!(browser.url().await.ends_with("/planner/areas/22"));
    assert_eq!(browser.text("h1").await, "Độ bao phủ: Quảng Ninh");
    assert_eq!(browser.text("#by-area").await, "Quận, huyện");
    let body = browser.body().await;
    assert!(body.contains("Chỉ tiêu ngày"), "{body}");
    assert_eq!(
        browser.text("#by-area-group").await,
        "Độ bao phủ theo vùng và khoảng cách tới biên giới"
    );
    // The east holds both districts: all three residents, one vaccinated.
    let table = browser
        .text("section[aria-labelledby='by-area-group'] tbody")
        .await;
    assert!(table.contains("Miền Đông 3 1"), "{table}");
    assert!(table.contains("0–20 km 0 0"), "{table}");
    assert!(table.contains("20–50 km 3 1"), "{table}");
    browser.check("planner-province-vi").await;
    browser
        .screenshots_of("planner-area-groups-vi", "#by-area-group")
        .await;
    browser.click_link("Hạ Long").await;
    assert_eq!(browser.text("h1").await, "Độ bao phủ: Hạ Long");
    assert_eq!(browser.text("#by-area").await, "Xã, phường, thị trấn");
    browser.check("planner-district-vi").await;
    browser.click_link("Hồng Gai").await;
    assert_eq!(browser.text("#by-area").await, "Thôn, khu phố");
    let row = browser.text("#area-0665801").await;
    assert!(row.starts_with("Khu 1 3 1"), "{row}");
    assert!(row.contains("33,3%"), "{row}");
    browser.check("planner-commune-vi").await;
    // The trail goes back up.
    browser.click(".crumbs a[href='/planner/areas/193']").await;
    assert_eq!(browser.text("h1").await, "Độ bao phủ: Hạ Long");
    browser.click_link("Hồng Gai").await;
    // The "not yet" figure of the village opens the printable list of
    // those not yet vaccinated there.
    browser.click("#area-0665801 td:nth-of-type(4) a").await;
    assert!(browser.url().await.contains("status=not_yet"));
    let list = browser.body().await;
    assert!(list.contains("Lê Văn Chờ"), "{list}");
    assert!(list.contains("Phạm Thị <b>Ngọc</b>"), "{list}");
    assert!(!list.contains("Đặng Thị Hoa"), "{list}");
    browser.check("planner-survey-not-yet-vi").await;
    // In Chinese.
    browser
        .goto(&format!("{}/planner/areas/06658", app.base))
        .await;
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "接种覆盖率：Hồng Gai");
    assert_eq!(browser.text("#by-area").await, "村（社区）");
    browser.check("planner-commune-zh").await;
    browser.click(".crumbs a[href='/planner/areas/22']").await;
    assert_eq!(
        browser.text("#by-area-group").await,
        "按区域和距边境距离的接种覆盖率"
    );
    browser.check("planner-province-zh").await;
    browser
        .screenshots_of("planner-area-groups-zh", "#by-area-group")
        .await;
    // An area outside the planner's: the 404 page.
    browser
        .goto(&format!("{}/planner/areas/99", app.base))
        .await;
    let body = browser.body().await;
    assert!(
        body.contains("404") || !body.contains("Quảng Ninh"),
        "{body}"
    );
    browser.close().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_edits_the_target_tree_in_chromium() {
    let app = TestApp::start("sqlite").await;
    world(&app).await;
    TestApp::make_user(&app.store, "planner22", &["planner:22"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "planner22").await;
    browser.click_link("Chiến dịch").await;
    assert_eq!(browser.text("h1").await, "Lập kế hoạch chiến dịch");
    browser.check("planner-campaigns-vi").await;
    // A new campaign with a mistake: the error by the field, what was
    // typed kept.
    browser.type_into("#c-name", "Tiêm nhắc lại 2026").await;
    browser.type_into("#c-disease", "COVID-19").await;
    browser
        .client
        .find(fantoccini::Locator::Css("label.check input[value=AZ]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.type_into("#c-pct", "120").await;
    browser.click("form.stack button[type=submit]").await;
    assert_eq!(
        browser.text("#err-target_percent").await,
        "Nhập tỷ lệ phần trăm từ 0 đến 100, tối đa một chữ số thập phân."
    );
    browser.check("planner-campaign-error-vi").await;
    browser.type_into("#c-pct", "70").await;
    browser.click("form.stack button[type=submit]").await;
    assert_eq!(browser.text("h1").await, "Tiêm nhắc lại 2026");
    browser.check("planner-campaign-new-vi").await;
    // The earlier campaign's tree: split, then fix Hạ Long's part by hand.
    browser.click_link("Lập kế hoạch chiến dịch").await;
    browser.click_link("Tiêm chủng COVID-19 năm 2026").await;
    assert_eq!(browser.text("#area-target").await, "2");
    browser.type_into("#part-in-193", "2").await;
    browser
        .click("form[action$='/targets'] button[type=submit]")
        .await;
    let row = browser.text("#part-193").await;
    assert!(row.contains("cố định"), "{row}");
    assert_eq!(browser.text("#parts-sum").await, "2 ✓");
    assert!(browser.text("#part-194").await.contains(" 0 "));
    browser.check("planner-tree-vi").await;
    // Down to the district: its part is its target, split among communes.
    browser.click_link("Hạ Long").await;
    assert_eq!(browser.text("#area-target").await, "2");
    browser
        .click("form[action$='/targets'] button[type=submit]")
        .await;
    assert_eq!(browser.text("#parts-sum").await, "2 ✓");
    browser.click_link("中文").await;
    assert_eq!(browser.text("#tree").await, "各地区目标任务");
    browser.check("planner-tree-zh").await;
    // The sites of the province: a site's zones, sessions and staff.
    browser.click_link("接种点").await;
    browser.check("planner-sites-zh").await;
    browser.click("a[href='/planner/sites/S1']").await;
    assert_eq!(browser.text("h1").await, "Trạm Y tế Hồng Gai");
    browser.check("planner-site-zh").await;
    browser.close().await;
    app.cleanup().await;
}

/// More residents not yet vaccinated in village 0665801 than one printed
/// part holds (500), so the commune's list runs to a second part.
async fn crowd(app: &TestApp, count: usize) {
    let mut csv = String::from(
        "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n",
    );
    for i in 0..count {
        csv.push_str(&format!(
            "cccd,022080{:06},Người Số {i},1980-01-02,male,,0665801,,frontline\n",
            5000 + i
        ));
    }
    let (s, b) = app
        .post_raw("/api/v1/persons/import", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_prints_a_district_list_commune_by_commune_in_chromium() {
    let app = TestApp::start("sqlite").await;
    world(&app).await;
    crowd(&app, 520).await;
    TestApp::make_user(&app.store, "planner22", &["planner:22"]).await;
    let browser = Browser::start().await;
    for (lang, commune_heading, range_first, range_second, next, end) in [
        (
            "vi",
            "Danh sách điều tra — Hồng Gai",
            "Người thứ 1–500 của danh sách",
            "Người thứ 501–522 của danh sách",
            "Danh sách còn tiếp: phần sau →",
            "Hết danh sách.",
        ),
        (
            "zh",
            "摸底名单 — Hồng Gai",
            "本名单第 1–500 人",
            "本名单第 501–522 人",
            "名单未完：下一部分 →",
            "名单到此结束。",
        ),
    ] {
        browser
            .goto(&format!("{}/lang?set={lang}&back=/login", app.base))
            .await;
        browser.sign_in(&app.base, "planner22").await;
        browser
            .goto(&format!("{}/planner/areas/22", app.base))
            .await;
        // Hạ Long's "not yet" figure, reached and followed by keyboard: a
        // district prints commune by commune, so it opens the communes.
        browser.focus("#area-193 td:nth-of-type(4) a").await;
        browser.enter().await;
        assert!(browser.url().await.contains("status=not_yet"));
        let index = browser.body().await;
        assert!(index.contains("Hồng Gai"), "{index}");
        assert!(
            !index.contains("Người Số"),
            "no persons on the index: {index}"
        );
        browser
            .check(&format!("planner-survey-communes-{lang}"))
            .await;
        browser.focus("main li a[href*='area=06658']").await;
        browser.enter().await;
        assert_eq!(browser.text("h1").await, commune_heading);
        assert_eq!(browser.text("main > p").await, range_first);
        assert_eq!(browser.text("p.continues a").await, next);
        let rows = browser
            .client
            .find_all(fantoccini::Locator::Css("tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 500, "a part holds 500 persons");
        browser.check(&format!("planner-survey-part1-{lang}")).await;
        // The next part goes on numbering and says where the list ends.
        browser.focus("p.continues a").await;
        browser.enter().await;
        assert_eq!(browser.text("main > p").await, range_second);
        assert_eq!(browser.text("tbody tr td").await, "501");
        assert_eq!(browser.text("p.ends").await, end);
        let rows = browser
            .client
            .find_all(fantoccini::Locator::Css("tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 22, "the rest of the list");
        browser.check(&format!("planner-survey-part2-{lang}")).await;
    }
    browser.close().await;
    app.cleanup().await;
}
