## 发送给居民的提醒短信。
reminder-dose-due = 接种提醒：您的{ $product }疫苗第{ $dose }剂将于{ $date }到期，请前往就近的接种点接种。
reminder-dose-overdue = 接种提醒：您的{ $product }疫苗第{ $dose }剂已于{ $date }到期，请尽快前往就近的接种点接种。
reminder-missed-appointment = 您错过了{ $date } { $time }在{ $site }的疫苗接种预约，请重新预约。
