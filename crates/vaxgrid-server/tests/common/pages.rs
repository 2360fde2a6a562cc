//! A signed-in person's browser over plain HTTP, for the page tests: the
//! session cookie, the CSRF token its forms carry, and what a page answers.
//! The page tests read a page as its status and its Location or text
//! ([`FormPages`]); a test that reads another shape keeps its own trait
//! beside its tests. Signing in and sending are here once.

use super::TestApp;

pub struct Session {
    pub client: reqwest::Client,
    pub base: String,
    /// The session cookie alone (the language is sent per request).
    pub cookie: String,
    pub csrf: String,
    /// The language `page_in`/`form_in` ask for when none is named.
    pub lang: String,
}

/// A page's answer as a browser sees it.
pub struct Page {
    pub status: u16,
    /// The Location header of a redirect, or "".
    pub location: String,
    pub content_type: String,
    pub text: String,
}

impl Page {
    /// Where a redirect leads, or the page itself.
    pub fn location_or_text(self) -> String {
        if self.location.is_empty() {
            self.text
        } else {
            self.location
        }
    }
}

impl Session {
    /// Creates `username` with `grants` and signs in.
    pub async fn start(app: &TestApp, username: &str, grants: &[&str]) -> Session {
        TestApp::make_user(&app.store, username, grants).await;
        Session::sign_in(app, username, "en").await
    }

    /// Signs in `username` (password "pw-<username>", as `make_user` sets)
    /// through the sign-in form, as a browser does; pages then in `lang`.
    pub async fn sign_in(app: &TestApp, username: &str, lang: &str) -> Session {
        let client = TestApp::client_with(None);
        let page = client
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        let login_csrf = first_cookie(&page)
            .split_once('=')
            .expect("the sign-in form's CSRF cookie")
            .1
            .to_string();
        let ok = client
            .post(format!("{}/login", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("vaxgrid_login_csrf={login_csrf}"))
            .body(format!(
                "username={username}&password=pw-{username}&csrf_token={login_csrf}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status().as_u16(), 303, "sign-in of {username}");
        let cookie = first_cookie(&ok);
        let me: serde_json::Value = client
            .get(format!("{}/api/v1/me", app.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Session {
            client,
            base: app.base.clone(),
            cookie,
            csrf: me["csrf_token"].as_str().unwrap().to_string(),
            lang: lang.to_string(),
        }
    }

    /// GETs a page in `lang` as a browser asks for one.
    pub async fn page(&self, path: &str, lang: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("{}; vaxgrid_lang={lang}", self.cookie))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        answer(path, r).await
    }

    /// Posts a form in `lang`, with the session's CSRF token unless `csrf`
    /// is false.
    pub async fn form(&self, path: &str, lang: &str, fields: &[(&str, &str)], csrf: bool) -> Page {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if csrf {
            form.append_pair("csrf_token", &self.csrf);
        }
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("{}; vaxgrid_lang={lang}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .body(form.finish())
            .send()
            .await
            .unwrap();
        answer(path, r).await
    }
}

fn first_cookie(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// A page never answers 500, whatever the test sends.
async fn answer(path: &str, r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let location = header("location");
    let content_type = header("content-type");
    let text = r.text().await.unwrap();
    assert!(status < 500, "{path}: {status} {text}");
    Page {
        status,
        location,
        content_type,
        text,
    }
}

/// A page as the page tests read it: the status, and the Location of a
/// redirect or else the page's text. A trait, so that a module of tests
/// that reads pages in another shape names its own `get`/`post` instead.
#[allow(async_fn_in_trait)]
pub trait FormPages {
    /// Gets `path` in `lang`.
    async fn get(&self, path: &str, lang: &str) -> (u16, String);
    /// Posts a form to `path` in `lang`, with the CSRF token when `csrf`.
    async fn post(
        &self,
        path: &str,
        lang: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> (u16, String);
}

impl FormPages for Session {
    async fn get(&self, path: &str, lang: &str) -> (u16, String) {
        let p = self.page(path, lang).await;
        (p.status, p.location_or_text())
    }

    async fn post(
        &self,
        path: &str,
        lang: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> (u16, String) {
        let p = self.form(path, lang, fields, csrf).await;
        (p.status, p.location_or_text())
    }
}
