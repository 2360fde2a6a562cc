# Văn bản tiếng Việt của các trang. Mỗi khóa ở đây cũng có trong en.ftl và zh.ftl.

## Bố cục
skip-to-content = Chuyển đến nội dung
nav-label = Menu chính
nav-home = Độ bao phủ
nav-verify = Kiểm tra chứng nhận
signed-in-as = Đăng nhập với tên
sign-in = Đăng nhập
sign-out = Đăng xuất
language-label = Ngôn ngữ
footer-api = API (OpenAPI)

## Số đếm
residents = { $count } người dân

## Trang chủ
home-title = Độ bao phủ tiêm chủng
home-intro = Độ bao phủ của chiến dịch tiêm chủng theo địa bàn: số người dân đã tiêm ít nhất một mũi và đã tiêm đủ liều.
home-summary = { $population } người dân · { $one } người đã tiêm ≥1 mũi ({ $one_pct }) · { $done } người đã tiêm đủ ({ $done_pct })
home-doses-per-day = Số mũi tiêm mỗi ngày
home-coverage-json = Độ bao phủ dạng JSON
home-no-areas = Chưa có địa bàn nào. Hãy nhập cây địa bàn (POST /api/v1/areas/import) hoặc chạy “vaxgrid demo”.

## Biểu đồ
chart-coverage-aria = Độ bao phủ theo địa bàn
chart-coverage-one = ≥1 mũi: { $pct }
chart-coverage-done = đủ liều: { $pct }
chart-coverage-legend = nhạt: ≥1 mũi · đậm: đã tiêm đủ (% người dân)
chart-daily-aria = Số mũi tiêm mỗi ngày
chart-daily-bar = { $day }: { $count } mũi
chart-daily-empty = Chưa ghi nhận mũi tiêm nào

## Đăng nhập
login-title = Đăng nhập
login-username = Tên đăng nhập
login-password = Mật khẩu
login-submit = Đăng nhập
login-failed = Tên đăng nhập không tồn tại hoặc mật khẩu sai.
login-stale-csrf = Biểu mẫu đăng nhập đã hết hạn. Vui lòng thử lại.
login-bad-form = Hãy nhập tên đăng nhập và mật khẩu.
login-too-long = Tên đăng nhập tối đa 64 ký tự, mật khẩu tối đa 256 ký tự.
login-locked = Đăng nhập sai quá nhiều lần: hãy thử lại sau { $seconds } giây.

## Kiểm tra chứng nhận
verify-title = Kiểm tra chứng nhận
verify-text-label = Nội dung chứng nhận (HC1:…)
verify-submit = Kiểm tra
verify-picture-label = …hoặc ảnh mã QR (PNG)
verify-js-valid = Chứng nhận hợp lệ:
verify-js-invalid = Không hợp lệ:
verify-valid-heading = { $kind ->
    [vaccination] Chứng nhận tiêm chủng hợp lệ
    [test] Chứng nhận xét nghiệm hợp lệ
    [recovery] Chứng nhận khỏi bệnh hợp lệ
   *[other] Chứng nhận hợp lệ
}
verify-born = sinh ngày { $date }
verify-dose-line = Mũi { $dn }/{ $sd } ngày { $date } · vắc xin { $product } · cấp bởi { $issuer } ({ $country }) · hết hạn { $expires }
verify-invalid-heading = Không hợp lệ
verify-cannot-heading = Không kiểm tra được

## Lỗi hiển thị dạng trang
error-home = Về trang chủ
problem-400 = Yêu cầu không hợp lệ
problem-401 = Cần đăng nhập
problem-403 = Không được phép
problem-404 = Không tìm thấy
problem-409 = Xung đột dữ liệu
problem-413 = Dữ liệu quá lớn
problem-415 = Định dạng không được hỗ trợ
problem-422 = Dữ liệu nhập không hợp lệ
problem-429 = Quá nhiều lần thử
problem-500 = Đã xảy ra lỗi
problem-503 = Dịch vụ tạm thời không sẵn sàng
problem-detail-400 = Không đọc được yêu cầu.
problem-detail-401 = Vui lòng đăng nhập để xem trang này.
problem-detail-403 = Vai trò của bạn không cho phép thao tác này.
problem-detail-404 = Không có gì ở đây, hoặc nằm ngoài địa bàn bạn phụ trách.
problem-detail-409 = Điều này mâu thuẫn với dữ liệu đã ghi nhận.
problem-detail-413 = Dữ liệu gửi lên quá lớn.
problem-detail-415 = Loại nội dung này không được chấp nhận ở đây.
problem-detail-422 = Một số trường không hợp lệ.
problem-detail-429 = Quá nhiều lần thử: vui lòng chờ rồi thử lại.
problem-detail-500 = Máy chủ không trả lời được. Sự cố đã được ghi lại.
problem-detail-503 = Máy chủ đang bận. Vui lòng thử lại sau ít phút.

## Danh sách điều tra (bản in)
survey-title = Danh sách điều tra — { $area }
survey-range = Người thứ { $first }–{ $last } của danh sách
survey-by-commune = Danh sách được in theo từng xã: chọn xã cần in.
survey-none = Danh sách không có ai.
survey-none-after = Không còn ai sau { $count } người đã in.
survey-next-part = Danh sách còn tiếp: phần sau →
survey-end = Hết danh sách.
survey-col-name = Họ và tên
survey-col-born = Ngày sinh
survey-col-id = Số định danh
survey-col-phone = Điện thoại
survey-col-status = Tình trạng
survey-col-detail = Ngày / lý do
survey-col-tick = ✓
survey-status-not_yet = chưa tiêm
survey-status-booked = đã hẹn
survey-status-vaccinated = đã tiêm
survey-status-deferred = hoãn tiêm
survey-status-refused = từ chối
survey-status-contraindicated = chống chỉ định

## Bảng theo dõi của điểm tiêm
nav-site-board = Điểm tiêm hôm nay
board-today = Hôm nay, { $date }
board-observation = Theo dõi sau tiêm
board-empty = Không có ai đang theo dõi sau tiêm.
board-col-person = Người được tiêm
board-col-left = Thời gian còn lại
board-may-leave-now = có thể ra về
board-minutes-left = còn { $minutes } phút
fig-booked = Đã hẹn
fig-checked-in = Đã đón tiếp
fig-vaccinated = Đã tiêm
fig-in-observation = Đang theo dõi
fig-serious-ae = Phản ứng nặng sau tiêm
fig-deferred-refused = Hoãn hoặc từ chối
