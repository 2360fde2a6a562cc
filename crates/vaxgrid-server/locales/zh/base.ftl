# 页面的简体中文文本。这里的每个键在 en.ftl 和 vi.ftl 中也都存在。

## 布局
skip-to-content = 跳到正文
nav-label = 主菜单
nav-home = 接种覆盖率
nav-verify = 核验证书
signed-in-as = 当前用户
sign-in = 登录
sign-out = 退出登录
language-label = 语言
footer-api = API（OpenAPI）

## 计数
residents = { $count } 名居民

## 首页
home-title = 疫苗接种覆盖率
home-intro = 按地区统计的大规模接种覆盖率：至少接种一剂和完成全程接种的居民。
home-summary = 居民 { $population } 人 · 至少接种一剂 { $one } 人（{ $one_pct }）· 完成全程 { $done } 人（{ $done_pct }）
home-doses-per-day = 每日接种剂次
home-coverage-json = 覆盖率（JSON）
home-no-areas = 尚无地区。请导入地区树（POST /api/v1/areas/import）或运行“vaxgrid demo”。

## 图表
chart-coverage-aria = 按地区的覆盖率
chart-coverage-one = 至少一剂：{ $pct }
chart-coverage-done = 完成全程：{ $pct }
chart-coverage-legend = 浅色：至少一剂 · 深色：完成全程（占居民百分比）
chart-daily-aria = 每日接种剂次
chart-daily-bar = { $day }：{ $count } 剂
chart-daily-empty = 尚无接种记录

## 登录
login-title = 登录
login-username = 用户名
login-password = 密码
login-submit = 登录
login-failed = 用户名不存在或密码错误。
login-stale-csrf = 登录表单已过期，请重试。
login-bad-form = 请填写用户名和密码。
login-too-long = 用户名最多 64 个字符，密码最多 256 个字符。
login-locked = 登录失败次数过多：请在 { $seconds } 秒后重试。

## 核验证书
verify-title = 核验证书
verify-text-label = 证书文本（HC1:…）
verify-submit = 核验
verify-picture-label = …或二维码图片（PNG）
verify-js-valid = 证书有效：
verify-js-invalid = 无效：
verify-valid-heading = { $kind ->
    [vaccination] 有效的疫苗接种证书
    [test] 有效的检测证书
    [recovery] 有效的康复证书
   *[other] 有效的证书
}
verify-born = 出生日期 { $date }
verify-dose-line = 第 { $dn }/{ $sd } 剂，接种日期 { $date } · 疫苗 { $product } · 签发机构 { $issuer }（{ $country }）· 有效期至 { $expires }
verify-invalid-heading = 无效
verify-cannot-heading = 无法核验

## 以页面显示的错误
error-home = 返回首页
problem-400 = 请求有误
problem-401 = 需要登录
problem-403 = 无权操作
problem-404 = 未找到
problem-409 = 数据冲突
problem-413 = 内容过大
problem-415 = 不支持的内容类型
problem-422 = 输入无效
problem-429 = 尝试次数过多
problem-500 = 出现错误
problem-503 = 服务暂不可用
problem-detail-400 = 无法读取该请求。
problem-detail-401 = 请登录后查看此页面。
problem-detail-403 = 您的角色不允许此操作。
problem-detail-404 = 此处没有内容，或不在您负责的地区范围内。
problem-detail-409 = 与已记录的数据冲突。
problem-detail-413 = 提交的内容过大。
problem-detail-415 = 此处不接受这种内容类型。
problem-detail-422 = 部分字段无效。
problem-detail-429 = 尝试次数过多：请稍后再试。
problem-detail-500 = 服务器无法响应，问题已记录。
problem-detail-503 = 服务器繁忙，请稍后再试。

## 摸底名单（打印）
survey-title = 摸底名单 — { $area }
survey-range = 本名单第 { $first }–{ $last } 人
survey-by-commune = 名单按乡镇打印：请选择乡镇。
survey-none = 名单中没有人。
survey-none-after = 已打印的 { $count } 人之后没有更多人。
survey-next-part = 名单未完：下一部分 →
survey-end = 名单到此结束。
survey-col-name = 姓名
survey-col-born = 出生日期
survey-col-id = 证件号码
survey-col-phone = 电话
survey-col-status = 状态
survey-col-detail = 日期 / 原因
survey-col-tick = ✓
survey-status-not_yet = 未接种
survey-status-booked = 已预约
survey-status-vaccinated = 已接种
survey-status-deferred = 暂缓
survey-status-refused = 拒绝
survey-status-contraindicated = 禁忌

## 接种点看板
nav-site-board = 今日接种点
board-today = 今天，{ $date }
board-observation = 留观
board-empty = 目前无人留观。
board-col-person = 受种者
board-col-left = 剩余时间
board-may-leave-now = 可以离开
board-minutes-left = 还剩 { $minutes } 分钟
fig-booked = 已预约
fig-checked-in = 已登记
fig-vaccinated = 已接种
fig-in-observation = 留观中
fig-serious-ae = 严重不良反应
fig-deferred-refused = 暂缓或拒绝
