# English texts of the pages. Every key here exists in vi.ftl and zh.ftl too.

## Layout
skip-to-content = Skip to content
nav-label = Main menu
nav-home = Coverage
nav-verify = Verify a certificate
signed-in-as = Signed in as
sign-in = Sign in
sign-out = Sign out
language-label = Language
footer-api = API (OpenAPI)

## Counts
residents = { $count ->
    [one] { $count } resident
   *[other] { $count } residents
}

## Home
home-title = Vaccination coverage
home-intro = Mass-vaccination campaign coverage by area: residents with at least one dose and with the series completed.
home-summary = { $population ->
    [one] { $population } resident
   *[other] { $population } residents
} · { $one } with ≥1 dose ({ $one_pct }) · { $done } completed ({ $done_pct })
home-doses-per-day = Doses per day
home-coverage-json = Coverage as JSON
home-no-areas = No areas yet. Import an area tree (POST /api/v1/areas/import) or run “vaxgrid demo”.

## Charts
chart-coverage-aria = Coverage by area
chart-coverage-one = ≥1 dose: { $pct }
chart-coverage-done = completed: { $pct }
chart-coverage-legend = light: ≥1 dose · dark: series completed (% of residents)
chart-daily-aria = Doses per day
chart-daily-bar = { $day }: { $count ->
    [one] { $count } dose
   *[other] { $count } doses
}
chart-daily-empty = No doses recorded yet

## Sign-in
login-title = Sign in
login-username = User name
login-password = Password
login-submit = Sign in
login-failed = Unknown user name or wrong password.
login-stale-csrf = The sign-in form has expired. Please try again.
login-bad-form = Send the user name and the password.
login-too-long = User names are at most 64 characters and passwords at most 256.
login-locked = { $seconds ->
    [one] Too many failed sign-ins: try again in { $seconds } second.
   *[other] Too many failed sign-ins: try again in { $seconds } seconds.
}

## Verify
verify-title = Verify a certificate
verify-text-label = Certificate text (HC1:…)
verify-submit = Verify
verify-picture-label = …or a QR picture (PNG)
verify-js-valid = Valid certificate:
verify-js-invalid = Not valid:
verify-valid-heading = { $kind ->
    [vaccination] Valid vaccination certificate
    [test] Valid test certificate
    [recovery] Valid recovery certificate
   *[other] Valid certificate
}
verify-born = born { $date }
verify-dose-line = Dose { $dn } of { $sd } on { $date } · product { $product } · issued by { $issuer } ({ $country }) · expires { $expires }
verify-invalid-heading = Not valid
verify-cannot-heading = Cannot verify

## Errors shown as pages
error-home = Back to the home page
problem-400 = Bad request
problem-401 = Sign-in needed
problem-403 = Not allowed
problem-404 = Not found
problem-409 = Conflict
problem-413 = Too large
problem-415 = Unsupported content
problem-422 = Invalid input
problem-429 = Too many attempts
problem-500 = Something went wrong
problem-503 = Service unavailable
problem-detail-400 = The request could not be read.
problem-detail-401 = Please sign in to see this page.
problem-detail-403 = Your roles do not allow this.
problem-detail-404 = There is nothing here, or it is outside the areas you work in.
problem-detail-409 = This conflicts with what is already recorded.
problem-detail-413 = What was sent is too large.
problem-detail-415 = This kind of content is not accepted here.
problem-detail-422 = Some fields are not valid.
problem-detail-429 = Too many attempts: please wait and try again.
problem-detail-500 = The server could not answer. The problem has been logged.
problem-detail-503 = The server is busy. Please try again shortly.

## Survey list (printable)
survey-title = Survey list — { $area }
survey-range = Persons { $first }–{ $last } of this list
survey-by-commune = The list is printed commune by commune: choose the commune.
survey-none = No person is on this list.
survey-none-after = No more persons after the { $count } already printed.
survey-next-part = The list goes on: next part →
survey-end = End of the list.
survey-col-name = Full name
survey-col-born = Born
survey-col-id = ID number
survey-col-phone = Phone
survey-col-status = Status
survey-col-detail = Date / reason
survey-col-tick = ✓
survey-status-not_yet = not yet
survey-status-booked = booked
survey-status-vaccinated = vaccinated
survey-status-deferred = deferred
survey-status-refused = refused
survey-status-contraindicated = contraindicated

## Site board
nav-site-board = Site today
board-today = Today, { $date }
board-observation = Observation
board-empty = Nobody is in observation.
board-col-person = Person
board-col-left = Time left
board-may-leave-now = may leave now
board-minutes-left = { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}
fig-booked = Booked
fig-checked-in = Checked in
fig-vaccinated = Vaccinated
fig-in-observation = In observation
fig-serious-ae = Serious adverse events
fig-deferred-refused = Deferred or refused
