//! Sending the reminder outbox through a pluggable [`ReminderSender`]:
//! [`LoggingSender`] by default, [`WebhookSender`] to hand each message to
//! a deployment's SMS gateway or messaging account over HTTP.
//!
//! Delivery: a reminder exists once (the outbox's `UNIQUE (kind, subject)`)
//! and is claimed before it is sent, so concurrent passes, on one server or
//! several, never both send it; it is marked `sent` only after the sender
//! succeeded. It is at most once toward the gateway except in one window: a
//! process stopping between the gateway's acceptance and `mark_sent` leaves
//! the message claimed, and it is sent again when the claim's lease ends
//! (at-least-once there). A failed send is tried again after a back-off
//! (`vaxgrid_core::reminders::retry_after_secs`), and given up as `failed`
//! after `MAX_ATTEMPTS` tries.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use vaxgrid_core::reminders::retry_after_secs;
use vaxgrid_store::{Store, StoreError};

pub use vaxgrid_store::reminders::Reminder;
pub use webhook::{signature, WebhookSender};

mod webhook;

/// What a send returns: `Err` with the gateway's reason on failure.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Delivers one message. Implementations should return once the gateway
/// has accepted (or refused) it.
pub trait ReminderSender: Send + Sync {
    fn send<'a>(&'a self, r: &'a Reminder) -> SendFuture<'a>;
}

/// Writes each message to the log instead of sending it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoggingSender;

impl ReminderSender for LoggingSender {
    fn send<'a>(&'a self, r: &'a Reminder) -> SendFuture<'a> {
        tracing::info!(
            phone = r.phone.as_deref().unwrap_or("-"),
            person_id = %r.person_id,
            kind = %r.kind,
            language = %r.language,
            message = %r.message,
            "reminder"
        );
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Messages read per query while sending.
const BATCH: usize = 500;
/// How long a claimed message is reserved for its sender.
const LEASE_SECS: i64 = 5 * 60;
/// A send taking longer than this counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// The background pass runs this often.
pub const PERIOD: Duration = Duration::from_secs(60);

/// One pass now: see [`run_once_at`].
pub async fn run_once<S: ReminderSender + ?Sized>(
    store: &Store,
    sender: &S,
) -> Result<(usize, usize, usize), StoreError> {
    run_once_at(store, sender, store.now_micros()).await
}

/// Generates the reminders due on the day of `now` (microseconds since the
/// epoch, UTC), then sends the pending messages due by `now`. Returns
/// (generated, sent, failed sends).
pub async fn run_once_at<S: ReminderSender + ?Sized>(
    store: &Store,
    sender: &S,
    now: i64,
) -> Result<(usize, usize, usize), StoreError> {
    let today = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1000)
        .map(|t| t.date())
        .unwrap_or_else(|_| store.today());
    let generated = store.generate_reminders(today, &reminder_text).await?;
    // What was just generated is due at once.
    let now = now.max(store.now_micros());
    let (mut sent, mut failed) = (0, 0);
    loop {
        // Each message read is moved past `now` (claimed, sent or
        // rescheduled), so the pass ends.
        let batch = store.pending_reminders(now, BATCH).await?;
        for r in &batch {
            if !store
                .claim_reminder(r, now + LEASE_SECS * 1_000_000)
                .await?
            {
                continue;
            }
            let outcome = match tokio::time::timeout(SEND_TIMEOUT, sender.send(r)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!(
                    "the sender did not answer in {} s",
                    SEND_TIMEOUT.as_secs()
                )),
            };
            match outcome {
                Ok(()) => {
                    if store.mark_sent(&r.id).await? {
                        sent += 1;
                    }
                }
                Err(e) => {
                    let attempts = u32::try_from(r.attempts + 1).unwrap_or(u32::MAX);
                    let next = retry_after_secs(attempts).map(|s| now + s * 1_000_000);
                    store.mark_failed(&r.id, &e, next).await?;
                    failed += 1;
                }
            }
        }
        if batch.len() < BATCH {
            break;
        }
    }
    Ok((generated, sent, failed))
}

/// Runs a pass every [`PERIOD`] (the first one a period from now), quietly
/// logging a pass that fails.
pub fn spawn_loop(store: Store, sender: Arc<dyn ReminderSender>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + PERIOD, PERIOD);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match run_once(&store, sender.as_ref()).await {
                Ok((0, 0, 0)) => {}
                Ok((generated, sent, failed)) => {
                    tracing::debug!(generated, sent, failed, "reminders pass");
                }
                Err(e) => tracing::warn!(error = %e, "reminders pass failed"),
            }
        }
    });
}

/// A reminder's text in the recipient's language, from the Fluent files
/// (`locales/<lang>/reminders.ftl`).
pub fn reminder_text(
    language: vaxgrid_core::reminders::Language,
    about: &vaxgrid_core::reminders::About<'_>,
) -> String {
    use vaxgrid_core::reminders::About;
    let lang = crate::i18n::Lang::parse(language.as_str()).unwrap_or(crate::i18n::Lang::Vi);
    match *about {
        About::DueDose {
            product,
            dose_number,
            due,
            today,
        } => {
            let key = if due < today {
                "reminder-dose-overdue"
            } else {
                "reminder-dose-due"
            };
            lang.ta(
                key,
                vec![
                    ("product", product.into()),
                    ("dose", i64::from(dose_number).into()),
                    ("date", lang.date(due).into()),
                ],
            )
        }
        About::MissedAppointment { site, day, time } => lang.ta(
            "reminder-missed-appointment",
            vec![
                ("site", site.into()),
                ("date", lang.date(day).into()),
                ("time", time.into()),
            ],
        ),
    }
}

#[cfg(test)]
mod texts {
    use super::reminder_text;
    use time::macros::date;
    use vaxgrid_core::reminders::{About, Language, ReminderKind};

    #[test]
    fn due_dose_messages_name_the_product_the_dose_and_the_date() {
        let about = About::DueDose {
            product: "Vaxzevria",
            dose_number: 2,
            due: date!(2021 - 09 - 05),
            today: date!(2021 - 09 - 04),
        };
        assert_eq!(about.kind(), ReminderKind::DueDose);
        assert_eq!(
            reminder_text(Language::Vietnamese, &about),
            "Nhắc lịch tiêm chủng: mũi 2 vắc xin Vaxzevria của bạn đến hạn vào ngày 05/09/2021. \
             Vui lòng đến điểm tiêm chủng gần nhất để được tiêm."
        );
        assert_eq!(
            reminder_text(Language::Chinese, &about),
            "接种提醒：您的Vaxzevria疫苗第2剂将于2021年9月5日到期，请前往就近的接种点接种。"
        );
        assert_eq!(
            reminder_text(Language::English, &about),
            "Vaccination reminder: dose 2 of Vaxzevria is due on 5 Sep 2021. \
             Please visit your nearest vaccination site."
        );
    }

    #[test]
    fn an_overdue_dose_is_said_to_be_overdue() {
        let about = About::DueDose {
            product: "Vaxzevria",
            dose_number: 2,
            due: date!(2021 - 09 - 05),
            today: date!(2021 - 09 - 10),
        };
        assert!(
            reminder_text(Language::Vietnamese, &about).contains("đã đến hạn từ ngày 05/09/2021")
        );
        assert!(reminder_text(Language::Chinese, &about).contains("已于2021年9月5日到期"));
        assert!(reminder_text(Language::English, &about).contains("was due on 5 Sep 2021"));
    }

    #[test]
    fn missed_appointment_messages_give_the_time_and_the_site() {
        let about = About::MissedAppointment {
            site: "Trạm Y tế Hồng Gai",
            day: date!(2021 - 09 - 05),
            time: "07:30",
        };
        assert_eq!(about.kind(), ReminderKind::MissedAppointment);
        assert_eq!(
            reminder_text(Language::Vietnamese, &about),
            "Bạn đã lỡ lịch hẹn tiêm chủng lúc 07:30 ngày 05/09/2021 tại Trạm Y tế Hồng Gai. \
             Vui lòng đặt lịch hẹn mới."
        );
        assert_eq!(
            reminder_text(Language::Chinese, &about),
            "您错过了2021年9月5日 07:30在Trạm Y tế Hồng Gai的疫苗接种预约，请重新预约。"
        );
        assert!(reminder_text(Language::English, &about)
            .contains("at Trạm Y tế Hồng Gai on 5 Sep 2021 at 07:30"));
    }
}
