## Tin nhắn nhắc lịch gửi người dân (SMS).
reminder-dose-due = Nhắc lịch tiêm chủng: mũi { $dose } vắc xin { $product } của bạn đến hạn vào ngày { $date }. Vui lòng đến điểm tiêm chủng gần nhất để được tiêm.
reminder-dose-overdue = Nhắc lịch tiêm chủng: mũi { $dose } vắc xin { $product } của bạn đã đến hạn từ ngày { $date }. Vui lòng đến điểm tiêm chủng gần nhất để được tiêm sớm.
reminder-missed-appointment = Bạn đã lỡ lịch hẹn tiêm chủng lúc { $time } ngày { $date } tại { $site }. Vui lòng đặt lịch hẹn mới.
