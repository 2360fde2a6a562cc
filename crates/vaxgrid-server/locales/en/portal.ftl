## Resident portal
nav-portal = My vaccination record
portal-find-title = Find my vaccination record
portal-find-intro = Enter your ID number and your date of birth. We will send a confirmation code by SMS to the phone number on your record.
portal-id-number = Citizen ID, passport or residence document number
portal-id-number-hint = For example: 022080000001 (no spaces needed)
portal-birth-date = Date of birth
portal-send-code = Send me a code
portal-privacy = To protect privacy, this page does not tell whether a record exists. Codes are only sent to the phone number registered on the record.
portal-bad-form = Please fill in every field of the form.
portal-stale-form = The form has expired. Please try again.
portal-id-number-invalid = Enter a document number of letters and digits (at most 32 characters).
portal-birth-date-invalid = Enter a valid date of birth, not after today.
portal-too-many-finds = You have asked for a code too many times. Please try again in { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
portal-code-sms = Your vaxgrid confirmation code is { $code }. It is valid for { $minutes } minutes. Do not share it with anyone.
portal-code-title = Enter your code
portal-code-sent = If the details match a record with a phone number, we have sent a 6-digit code by SMS. It is valid for { $minutes } minutes.
portal-code-label = Confirmation code (6 digits)
portal-code-submit = Confirm
portal-new-code = No code received? Ask for a new one
portal-code-format = The code is exactly 6 digits.
portal-code-wrong = { $left ->
    [one] Wrong code. You have 1 try left.
   *[other] Wrong code. You have { $left } tries left.
}
portal-code-expired = The code has expired or was already used. Please ask for a new one.
portal-code-spent = The code was typed wrong { $attempts } times. Please ask for a new one.
portal-too-many-codes = Too many codes tried. Please try again in { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
portal-me-title = My vaccination record
portal-born = Born { $date }
portal-sign-out = Sign out
portal-doses-heading = My doses
portal-dose-number = Dose { $n }
portal-dose-elsewhere = Given elsewhere and reported here
portal-lot = lot { $lot }
portal-series-complete = You have completed the primary series.
portal-next-due = Your next dose is due on { $date }.
portal-no-doses = No dose is recorded yet.
portal-certificate-link = Show my vaccination certificate (QR code)
portal-certificate-title = Vaccination certificate
portal-certificate-dose = Dose { $dn }/{ $sd } on { $date } · { $product }
portal-certificate-qr-alt = QR code of the vaccination certificate
portal-certificate-id = Certificate ID: { $uvci }
portal-certificate-download = Download the QR code (PNG)
portal-certificate-printable = Printable page
portal-certificate-print-note = Show this QR code when asked; a verifier scans it with a certificate verifier app.
portal-back-to-record = Back to my record
portal-back-to-certificate = Back to the certificate
portal-appointments-heading = My appointments
portal-no-appointments = You have no appointment.
portal-cancel = Cancel the appointment
portal-free-heading = Choose a time with free places
portal-confirm-title = Confirm the appointment
portal-held-for = { $minutes ->
    [one] This place is held for you for 1 minute.
   *[other] This place is held for you for { $minutes } minutes.
}
portal-confirm = Confirm the booking
portal-move = Move to another time
portal-move-heading = Choose the new time
portal-moving = Moving your appointment of { $when }.
portal-keep = Keep it as it is
portal-replaces = This replaces your appointment of { $when }, which is freed when you confirm.
