//! The webhook sender: each reminder is POSTed as JSON to a URL the
//! deployment configures (its SMS gateway, or a small relay in front of a
//! messaging account), signed with a shared secret so the receiver knows
//! it came from here and was not replayed.
//!
//! The request:
//! - body `{"id", "kind", "person_id", "phone", "language", "message"}`;
//! - `X-Vaxgrid-Timestamp`: seconds since the epoch when it was sent;
//! - `X-Vaxgrid-Signature`: `sha256=` and the hex HMAC-SHA256, keyed by the
//!   secret, of the timestamp, a `.`, and the body's bytes (the receiver
//!   recomputes it and refuses an old timestamp);
//! - `Idempotency-Key`: the reminder's id, the same on every retry, so a
//!   gateway that saw it already can answer 2xx without sending twice.
//!
//! Any 2xx is acceptance. Anything else (another status, no answer within
//! [`TIMEOUT`], a refused connection) is a failed send: the outbox retries
//! it with its back-off (`vaxgrid_core::reminders::retry_after_secs`) and
//! gives up after its last try, as for every sender.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Reminder, ReminderSender, SendFuture};

/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// A shorter secret is refused at start-up: it could be guessed.
const MIN_SECRET: usize = 16;
/// How much of a refusing gateway's answer is kept as the send's error.
const ERROR_EXCERPT: usize = 200;

/// Posts each reminder to a URL; see the module's text.
pub struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Vec<u8>,
}

impl WebhookSender {
    /// A sender to `url` (http or https) signing with `secret` (at least 16
    /// bytes). The error says what is wrong, for the start-up message.
    pub fn new(url: &str, secret: &str) -> Result<WebhookSender, String> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| format!("the reminders webhook '{url}' is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!(
                "the reminders webhook must be an http:// or https:// URL with a host, not '{url}'"
            ));
        }
        if secret.len() < MIN_SECRET {
            return Err(format!(
                "the reminders webhook secret must be at least {MIN_SECRET} characters (it has {})",
                secret.len()
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the webhook's HTTP client: {e}"))?;
        Ok(WebhookSender {
            client,
            url,
            secret: secret.as_bytes().to_vec(),
        })
    }

    async fn post(&self, r: &Reminder) -> Result<(), String> {
        let body = serde_json::to_vec(&serde_json::json!({
            "id": r.id,
            "kind": r.kind,
            "person_id": r.person_id,
            "phone": r.phone,
            "language": r.language,
            "message": r.message,
        }))
        .map_err(|e| e.to_string())?;
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let answer = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("x-vaxgrid-timestamp", timestamp.to_string())
            .header(
                "x-vaxgrid-signature",
                signature(&self.secret, timestamp, &body),
            )
            .header("idempotency-key", &r.id)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the webhook could not be reached: {e}"))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let text = answer.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(ERROR_EXCERPT).collect();
        Err(format!("the webhook answered {status}: {excerpt}"))
    }
}

impl ReminderSender for WebhookSender {
    fn send<'a>(&'a self, r: &'a Reminder) -> SendFuture<'a> {
        Box::pin(self.post(r))
    }
}

/// The `X-Vaxgrid-Signature` value: `sha256=` and the hex HMAC-SHA256 of
/// `"{timestamp}." + body` keyed by `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_the_body() {
        // Computed apart: python3 -c "import hmac,hashlib;
        // print(hmac.new(b'a shared secret of 32 characters',
        // b'1765000000.{\"id\":\"r1\"}', hashlib.sha256).hexdigest())"
        assert_eq!(
            signature(
                b"a shared secret of 32 characters",
                1_765_000_000,
                br#"{"id":"r1"}"#
            ),
            "sha256=21343537b990da35ff9ba37fb8c7f0a0c634460ab787096deca671e76b978251"
        );
    }

    #[test]
    fn a_bad_url_or_a_short_secret_is_refused_with_the_reason() {
        let secret = "0123456789abcdef";
        assert!(WebhookSender::new("http://127.0.0.1:9/sms", secret).is_ok());
        assert!(WebhookSender::new("https://gateway.example/sms", secret).is_ok());
        let e = WebhookSender::new("ftp://gateway.example/sms", secret)
            .err()
            .unwrap();
        assert!(e.contains("http:// or https://"), "{e}");
        let e = WebhookSender::new("gateway", secret).err().unwrap();
        assert!(e.contains("not a URL"), "{e}");
        let e = WebhookSender::new("http://127.0.0.1:9/sms", "short")
            .err()
            .unwrap();
        assert!(e.contains("at least 16 characters (it has 5)"), "{e}");
    }
}
