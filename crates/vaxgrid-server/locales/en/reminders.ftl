## Reminders sent to residents (SMS): one message each, in the language of the resident's identity document.
reminder-dose-due = Vaccination reminder: dose { $dose } of { $product } is due on { $date }. Please visit your nearest vaccination site.
reminder-dose-overdue = Vaccination reminder: dose { $dose } of { $product } was due on { $date }. Please visit your nearest vaccination site as soon as you can.
reminder-missed-appointment = You missed your vaccination appointment at { $site } on { $date } at { $time }. Please book a new appointment.
