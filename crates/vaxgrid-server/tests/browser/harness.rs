//! The browser harness of the end-to-end tests: Debian's headless
//! Chromium driven through chromedriver with fantoccini, axe-core run on
//! every page visited, screenshots at phone and desktop widths. A module
//! of the `browser` test binary per group of pages uses it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

pub fn existing(candidates: &[String], what: &str) -> String {
    candidates
        .iter()
        .find(|c| !c.is_empty() && std::path::Path::new(c).exists())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{what} is required for the browser tests: run `bash .ci/run`, which installs it"
            )
        })
}

pub fn chromium() -> String {
    existing(
        &[
            std::env::var("VAXGRID_CHROMIUM").unwrap_or_default(),
            "/usr/bin/chromium".into(),
            "/usr/bin/chromium-browser".into(),
        ],
        "Chromium (`apt-get install chromium`)",
    )
}

pub fn chromedriver() -> String {
    existing(
        &[
            std::env::var("VAXGRID_CHROMEDRIVER").unwrap_or_default(),
            "/usr/bin/chromedriver".into(),
        ],
        "chromedriver (`apt-get install chromium-driver`)",
    )
}

/// axe-core's browser bundle, from npm (`.ci/run` installs it).
pub fn axe_source() -> String {
    let path = existing(
        &[
            std::env::var("VAXGRID_AXE").unwrap_or_default(),
            "/work/.cache/npm/node_modules/axe-core/axe.min.js".into(),
        ],
        "axe-core (`npm install axe-core@4`, path in VAXGRID_AXE)",
    );
    std::fs::read_to_string(path).expect("read axe.min.js")
}

pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir
}

/// A chromedriver on a free port and one headless Chromium session on a
/// fresh profile; both end with [`Browser::close`] (or on drop).
/// The Tab key, for [`Browser::keys`].
pub const TAB: &str = "\u{E004}";
/// The Enter key, for [`Browser::keys`].
pub const ENTER: &str = "\u{E007}";

pub struct Browser {
    pub driver: Child,
    pub profile: PathBuf,
    pub client: Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile =
            std::env::temp_dir().join(format!("vaxgrid-chromium-{}", uuid::Uuid::now_v7()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-quic",
                    "--no-first-run",
                    "--lang=en-US",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        driver,
                        profile,
                        client,
                    }
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a session: {last:?}");
    }

    /// Signs `user` in through the sign-in form at `base` (password
    /// "pw-<user>", as `TestApp::make_user` sets), typing as a person does.
    pub async fn sign_in(&self, base: &str, user: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", &format!("pw-{user}")).await;
        self.click("form.stack button[type=submit]").await;
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Marks the current document, so that [`Browser::wait_new_page`]
    /// knows when the next one has loaded.
    pub async fn mark_page(&self) {
        self.client
            .execute("window.vaxgridOldPage = true", vec![])
            .await
            .unwrap();
    }

    pub async fn wait_new_page(&self) {
        for _ in 0..200 {
            let loaded = self
                .client
                .execute(
                    "return window.vaxgridOldPage === undefined && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the next page did not load");
    }

    /// Clicks what leads to another page and waits for it.
    pub async fn click(&self, css: &str) {
        self.mark_page().await;
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
        self.wait_new_page().await;
    }

    pub async fn click_link(&self, text: &str) {
        self.mark_page().await;
        self.client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link '{text}': {e}"))
            .click()
            .await
            .unwrap();
        self.wait_new_page().await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Sends keys to whatever has the focus, as a person typing
    /// ([`TAB`], [`ENTER`] for those keys).
    pub async fn keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("an element has the focus")
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("cannot type {keys:?}: {e}"));
    }

    /// Puts the focus on `css` (where a person's Tab presses would land).
    pub async fn focus(&self, css: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        self.client
            .execute(
                "arguments[0].focus()",
                vec![serde_json::to_value(&el).unwrap()],
            )
            .await
            .unwrap();
    }

    /// Presses Enter on what has the focus and waits for the page it leads
    /// to (a link followed, a form sent).
    pub async fn enter(&self) {
        self.mark_page().await;
        self.keys(ENTER).await;
        self.wait_new_page().await;
    }

    /// The name of the focused element's text or value, to follow Tab
    /// presses.
    pub async fn focused(&self) -> String {
        let v = self
            .client
            .execute(
                "const e = document.activeElement; return (e.id ? '#' + e.id + ' ' : '') + (e.innerText || e.value || '')",
                vec![],
            )
            .await
            .unwrap();
        v.as_str().unwrap_or_default().to_string()
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Runs axe-core on the page: no serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        self.client
            .execute(&axe_source(), vec![])
            .await
            .expect("inject axe-core");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, {resultTypes: ['violations']}).then(r => done(
                     r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                       .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))
                   ), e => done(['axe failed: ' + e]));"#,
                vec![],
            )
            .await
            .expect("run axe-core");
        let found: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(found.is_empty(), "{page}: axe-core found {found:#?}");
    }

    /// Photographs the page at a phone's and a desktop's width.
    pub async fn screenshots(&self, name: &str) {
        let dir = screenshot_dir();
        for (width, height) in [(360, 780), (1280, 900)] {
            self.client.set_window_size(width, height).await.unwrap();
            let png = self.client.screenshot().await.expect("screenshot");
            assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    /// Photographs the part of the page at `css` at a phone's and a
    /// desktop's width (a section below the first screen).
    pub async fn screenshots_of(&self, name: &str, css: &str) {
        let dir = screenshot_dir();
        for (width, height) in [(360, 780), (1280, 900)] {
            self.client.set_window_size(width, height).await.unwrap();
            self.client
                .execute(
                    "document.querySelector(arguments[0]).scrollIntoView()",
                    vec![serde_json::json!(css)],
                )
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    /// The id of the element holding the focus.
    pub async fn focused_id(&self) -> String {
        self.client
            .execute("return document.activeElement.id", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Neither page width scrolls sideways as a whole.
    pub async fn assert_fits_phone(&self, page: &str) {
        self.client.set_window_size(360, 780).await.unwrap();
        let wide = self
            .client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth + 1",
                vec![],
            )
            .await
            .unwrap();
        self.client.set_window_size(1280, 900).await.unwrap();
        assert_eq!(
            wide,
            serde_json::json!(false),
            "{page} scrolls sideways at 360 px"
        );
    }

    pub async fn check(&self, name: &str) {
        self.assert_accessible(name).await;
        self.assert_fits_phone(name).await;
        self.screenshots(name).await;
    }

    pub async fn close(self) {
        let client = self.client.clone();
        let _ = client.close().await;
    }
}
