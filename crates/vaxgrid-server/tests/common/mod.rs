//! TestApp: the real router on a free port over a scratch database.
#![allow(dead_code)]

pub mod openapi;
pub mod outbreak;
pub mod pages;

use serde_json::{json, Value};
use vaxgrid_server::AppState;
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::writer::WriterConfig;
use vaxgrid_store::Store;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub scratch: Scratch,
    /// The server's state, for listeners beside HTTP (MLLP).
    pub state: AppState,
}

impl TestApp {
    pub async fn start(backend: &str) -> TestApp {
        TestApp::start_with(backend, WriterConfig::default()).await
    }

    /// With EU DCC keys generated in a temporary folder.
    pub async fn start_with_keys(backend: &str) -> TestApp {
        let dir = std::env::temp_dir().join(format!("vaxgrid-keys-{}", uuid::Uuid::now_v7()));
        vaxgrid_server::dcc_keys::init_key_dir(&dir, "VN").expect("keys");
        TestApp::start_inner(backend, WriterConfig::default(), Some(dir)).await
    }

    pub async fn start_with(backend: &str, config: WriterConfig) -> TestApp {
        TestApp::start_inner(backend, config, None).await
    }

    async fn start_inner(
        backend: &str,
        config: WriterConfig,
        keys: Option<std::path::PathBuf>,
    ) -> TestApp {
        let scratch = Scratch::of(backend).await.unwrap_or_else(|e| {
            panic!("{backend} is required for this test and is not reachable: {e}")
        });
        let store = Store::open(&scratch.url).await.expect("open");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut state = AppState::new(store.clone(), config).expect("the dose writer starts");
        if let Some(dir) = keys {
            state = state
                .with_dcc_keys(&dir, "VN", "Ministry of Health of Viet Nam")
                .expect("load keys");
        }
        let served = state.clone();
        tokio::spawn(async move {
            let _ = vaxgrid_server::serve(served, listener).await;
        });
        // Tests act as an administrator unless they ask for someone else.
        let token = TestApp::make_user(&store, "admin", &["admin"]).await;
        TestApp {
            base,
            client: TestApp::client_with(Some(&token)),
            store,
            scratch,
            state,
        }
    }

    /// A client that sends this bearer token (or none).
    pub fn client_with(token: Option<&str>) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token {
            headers.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse().unwrap(),
            );
        }
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Creates a user holding `grants` (e.g. "planner:193") with the
    /// password "pw-<username>", and returns a token of theirs.
    pub async fn make_user(store: &Store, username: &str, grants: &[&str]) -> String {
        let grants: Vec<vaxgrid_core::access::Grant> = grants
            .iter()
            .map(|g| vaxgrid_core::access::Grant::parse(g).unwrap())
            .collect();
        let hash = vaxgrid_server::auth::hash_password(&format!("pw-{username}")).unwrap();
        store
            .create_user(username, username, &hash, &grants, "test")
            .await
            .unwrap();
        let token = vaxgrid_server::auth::new_token();
        store
            .create_token(
                username,
                "test",
                &[],
                &vaxgrid_server::auth::sha256_hex(&token),
                "test",
            )
            .await
            .unwrap();
        token
    }

    /// Another client of the same server, acting as a new user with `grants`.
    pub async fn as_user(&self, username: &str, grants: &[&str]) -> TestApp {
        let token = TestApp::make_user(&self.store, username, grants).await;
        TestApp {
            base: self.base.clone(),
            client: TestApp::client_with(Some(&token)),
            store: self.store.clone(),
            scratch: self.scratch.clone(),
            state: self.state.clone(),
        }
    }

    pub async fn cleanup(self) {
        self.store.close().await;
        self.scratch.cleanup().await;
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("send");
        Self::read("POST", r).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .put(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("send");
        Self::read("PUT", r).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        Self::read("POST", r).await
    }

    /// Posts a body as is and returns the status, content type and text,
    /// for formats whose errors are not problem+json (HL7 ACKs).
    pub async fn post_text(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, String, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        assert_ne!(status, 500, "a 500 is never an answer to input");
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let url = r.url().to_string();
        let text = r.text().await.expect("body");
        openapi::assert_conforms("POST", &url, status, &ct, text.as_bytes());
        (status, ct, text)
    }

    /// Posts JSON and returns the status, content type and raw body.
    pub async fn post_for_bytes(&self, path: &str, body: &Value) -> (u16, String, Vec<u8>) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let url = r.url().to_string();
        let bytes = r.bytes().await.expect("body").to_vec();
        openapi::assert_conforms("POST", &url, status, &ct, &bytes);
        (status, ct, bytes)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("send");
        Self::read("GET", r).await
    }

    async fn read(method: &str, r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let url = r.url().to_string();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = r.text().await.expect("body");
        openapi::assert_conforms(method, &url, status, &ct, text.as_bytes());
        if status >= 400 {
            assert_eq!(
                ct, "application/problem+json",
                "error {status} must be problem+json: {text}"
            );
        }
        assert_ne!(status, 500, "a 500 is never an answer to input: {text}");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Province 22 > district 193 > commune 06658 > village 0665801, plus
    /// products, a lot AZ-1 and site S1.
    pub async fn seed(&self) {
        for area in [
            json!({"code": "22", "level": "province", "name": "Quảng Ninh", "name_en": "Quang Ninh"}),
            json!({"code": "193", "parent_code": "22", "level": "district", "name": "Hạ Long"}),
            json!({"code": "06658", "parent_code": "193", "level": "commune", "name": "Hồng Gai"}),
            json!({"code": "0665801", "parent_code": "06658", "level": "village", "name": "Khu 1"}),
            json!({"code": "194", "parent_code": "22", "level": "district", "name": "Móng Cái"}),
            json!({"code": "06700", "parent_code": "194", "level": "commune", "name": "Ka Long"}),
        ] {
            let (s, b) = self.post("/api/v1/areas", &area).await;
            assert_eq!(s, 201, "{b}");
        }
        self.store.seed_standard_products().await.unwrap();
        let (s, b) = self
            .post("/api/v1/lots", &json!({"product_code": "AZ", "lot_number": "AZ-1", "expiry": "2030-12-31", "doses": 1000}))
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = self
            .post(
                "/api/v1/sites",
                &json!({"code": "S1", "name": "Trạm Y tế Hồng Gai", "kind": "commune_health_station", "area_code": "06658", "stations": 2, "daily_capacity": 200}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }

    pub async fn person(&self, serial: u32, name: &str) -> String {
        let (s, b) = self
            .post(
                "/api/v1/persons",
                &json!({"id_type": "cccd", "id_number": format!("022080{serial:06}"), "full_name": name,
                        "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801", "priority_groups": ["frontline"]}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["person"]["id"].as_str().unwrap().to_string()
    }
}

pub fn dose_body(id: &str, person: &str, date: &str) -> Value {
    json!({"id": id, "person_id": person, "product_code": "AZ", "lot_number": "AZ-1", "site_code": "S1", "administered_on": date})
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[allow(unused_macros, reason = "not every test binary runs on both backends")]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name("sqlite").await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name("postgres").await
                }
            }
        )*
    };
}
#[allow(unused_imports, reason = "not every test binary runs on both backends")]
pub(crate) use on_both_backends;

impl TestApp {
    /// Moves a visit `minutes` into the past, as time would: every event's
    /// time and the end of its observation (the vaccination table's
    /// observation lasts 30 real minutes, which no test waits for).
    pub async fn age_visit(&self, visit: &str, minutes: i64) {
        use time::format_description::well_known::Rfc3339;
        let row = self.store.visit(visit).await.expect("the visit");
        let shift = time::Duration::minutes(minutes);
        let events: Vec<Value> = row
            .events
            .into_iter()
            .map(|mut e| {
                for key in ["at", "onset"] {
                    if let Some(t) = e[key].as_str() {
                        let t = time::OffsetDateTime::parse(t, &Rfc3339).expect("a time") - shift;
                        e[key] = Value::String(t.format(&Rfc3339).unwrap());
                    }
                }
                e
            })
            .collect();
        sqlx::query(
            "UPDATE visits SET events = $1, observation_ends_at = observation_ends_at - $2 WHERE id = $3",
        )
        .bind(Value::Array(events).to_string())
        .bind(minutes * 60_000_000)
        .bind(visit)
        .execute(self.store.pool())
        .await
        .expect("age the visit");
    }

    /// Gives `username` a current vaccination certificate (a class and a
    /// passed exam today), so that they may record doses as a vaccinator.
    pub async fn certify(&self, username: &str) {
        let today = vaxgrid_store::format_date(vaxgrid_store::today());
        let (s, c) = self
            .post(
                "/api/v1/training/classes",
                &json!({"topic": "vaccination", "starts_on": today, "ends_on": today, "trainer": "admin"}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        let class = c["id"].as_str().unwrap();
        let (s, b) = self
            .post(
                &format!("/api/v1/training/classes/{class}/attendees"),
                &json!({ "username": username }),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = self
            .post(
                &format!("/api/v1/training/classes/{class}/exams"),
                &json!({"username": username, "score": 90, "pass_mark": 80, "taken_on": today}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["exam"]["passed"], true, "{b}");
    }
}
