"""The portal's words, Chinese and English (the same switch as the command line: --lang or TONGJI_LANG)."""

from __future__ import annotations

import re

from tongji.i18n import formatted, render

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("工会统计在线报送", "Union statistics portal"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "login-name": ("账号（单位代码）", "Login (unit code)"),
    "password": ("密码", "Password"),
    "login-bad": ("账号或密码不对", "Wrong login or password"),
    "login-locked": ("密码错误次数过多，账号已暂时锁定 15 分钟", "Too many wrong passwords: the account is locked for 15 minutes"),
    "new-password": ("设置新密码", "Set a new password"),
    "new-password-why": ("第一次登录（或密码被重置）后请设置自己的密码，至少 8 位。", "After the first sign-in (or a reset) set a password of your own, at least 8 characters."),
    "change-password": ("修改密码", "Change password"),
    "change-password-why": ("输入当前密码，再设置新密码（至少 8 位）；保存后其他电脑上的登录随即失效。", "Type the current password, then a new one of at least 8 characters; saving it signs out every other browser."),
    "password-again": ("再输一次", "Again"),
    "password-short": ("密码至少 8 位", "The password needs at least 8 characters"),
    "password-current": ("当前密码不对", "The current password is wrong"),
    "current-password": ("当前密码", "Current password"),
    "password-differ": ("两次输入不一致", "The two entries differ"),
    "save": ("保存", "Save"),
    "period": ("报告期", "Period"),
    "deadline": ("截止日期", "Deadline"),
    "no-deadline": ("未设", "not set"),
    "unit": ("单位", "Unit"),
    "unit-code": ("单位代码", "Unit code"),
    "unit-name": ("单位名称", "Unit name"),
    "level": ("层级", "Level"),
    "state": ("状态", "State"),
    "verdict": ("审核结果", "Check result"),
    "errors": ("错误", "Errors"),
    "warnings": ("警告", "Warnings"),
    "last-upload": ("最近上报", "Last upload"),
    "late": ("迟报", "late"),
    "download-template": ("下载填报模板", "Download the template"),
    "upload": ("上传工作簿", "Upload the workbook"),
    "upload-hint": ("用 Excel 或 WPS 填好模板后上传（xlsx、xls 或 ods，不超过 {limit} MB）。上传后立即审核。", "Fill the template in Excel or WPS and upload it (xlsx, xls or ods, up to {limit} MB). It is checked at once."),
    "locked-hint": ("本期报表已审核通过并锁定；如需修改请联系上级统计员解锁。", "This period's workbook is approved and locked; ask the statistician above to unlock it to change it."),
    "versions": ("历次上传", "Versions"),
    "version": ("版本", "Version"),
    "file-name": ("文件名", "File name"),
    "uploaded-at": ("上传时间", "Uploaded"),
    "sha256": ("SHA-256", "SHA-256"),
    "counts": ("当前采用最新一版。", "The latest version counts."),
    # a version never reviewed before a newer one came: it will not be, and only the newer one can be
    "superseded": ("已被新版本取代", "replaced by a newer version"),
    "newer-version": ("这不是最新一版，审核和汇总用的是最新一版：", "This is not the latest version; the latest is reviewed and rolled up: "),
    "issues": ("问题清单", "Issues"),
    "no-issues": ("没有发现问题。", "No issues found."),
    "severity": ("严重程度", "Severity"),
    "sheet": ("工作表", "Sheet"),
    "cell": ("单元格", "Cell"),
    "code": ("指标代码", "Code"),
    "message": ("问题说明", "Message"),
    "rule": ("审核规则", "Rule"),
    "value": ("填报值", "Value"),
    "annotated": ("下载标注副本", "Download the annotated copy"),
    "original": ("下载原文件", "Download the original"),
    "returned-because": ("退回原因：", "Returned because: "),
    "approve": ("审核通过", "Approve"),
    "return": ("退回", "Return"),
    "unlock": ("解锁", "Unlock"),
    "confirm-return": ("确定退回这一版吗？", "Return this version?"),
    "reason": ("退回原因", "Reason"),
    "audit": ("操作记录", "Audit log"),
    "at": ("时间", "When"),
    "who": ("操作人", "Who"),
    "action": ("操作", "Action"),
    "detail": ("说明", "Detail"),
    "address": ("来源地址", "From"),
    "board": ("报送进度", "Progress"),
    "expected": ("应报", "Expected"),
    "received": ("已报", "Received"),
    "approved": ("已审核", "Approved"),
    "returned": ("退回", "Returned"),
    "pending": ("已报待审", "Awaiting review"),
    "missing": ("未报", "Missing"),
    "report-rate": ("报送率", "Reporting rate"),
    "timely-rate": ("及时率", "Timeliness"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "reminders": ("导出催报名单", "Export the reminder list"),
    "rollup": ("汇总本级及下级", "Roll up this node"),
    "rollups": ("汇总表", "Summaries"),
    "made-at": ("汇总时间", "Made"),
    "report-up": ("上报", "Report up"),
    "confirm-report-up": ("确定上报这份汇总表吗？", "Report this summary up?"),
    "reported-up": ("已上报", "Reported up"),
    "not-reported-up": ("未上报", "Not reported up"),
    "files": ("文件", "Files"),
    "open": ("查看", "Open"),
    "own-workbook": ("本级工作簿", "Own (本级) workbook"),
    "admin": ("管理", "Administration"),
    "accounts": ("账号", "Accounts"),
    "reset-password": ("重置密码", "Reset password"),
    "confirm-reset": ("确定重置账号 {login} 的密码吗？该账号须改用新的一次性密码登录。", "Reset the password of {login}? It will sign in with the new one-time password only."),
    "new-one-time": ("账号 {login} 的一次性密码：{password}（只显示这一次）", "One-time password of {login}: {password} (shown only once)"),
    "deadline-bad": ("截止日期应为 2000 年至 2100 年间的日期，如 2026-01-20", "The deadline must be a date between the years 2000 and 2100, such as 2026-01-20"),
    "deadline-saved": ("截止日期已保存", "Deadline saved"),
    "home": ("首页", "Home"),
    "not-found": ("没有这个页面，或你无权查看。", "No such page, or you may not see it."),
    "forbidden": ("你无权进行这个操作。", "You may not do this."),
    "csrf": ("页面已过期，请刷新后重试。", "The page has expired: reload it and try again."),
    "server-error": ("服务器出错，操作没有完成。已上传并确认的文件不会丢失；请稍后再试或联系管理员。", "The server failed; the action was not done. Acknowledged uploads are never lost; try again later or tell the administrator."),
    "back": ("返回", "Back"),
    # refusals (portal/submissions.py, node_summary.py)
    "upload-no-unit": ("管理员账号不能上传工作簿", "The administrator account cannot upload workbooks"),
    "length-required": ("请求没有说明长度（Content-Length），未接收：请在浏览器的页面上重新提交", "The request did not give its length (Content-Length) and was not accepted: send it again from the page in a browser"),
    "upload-too-large": ("文件超过 {limit} MB，未接收", "The file is over {limit} MB and was not accepted"),
    "upload-not-workbook": ("这不是 Excel、WPS 或 LibreOffice 工作簿（xlsx、xls、ods），未接收", "This is not an Excel, WPS or LibreOffice workbook (xlsx, xls, ods); not accepted"),
    "upload-period-changed": ("报告期刚刚改为 {period}，这份报表是按原报告期审核的，未保存，请重新上传", "The reporting period has just changed to {period}; this workbook was checked for the old one and was not kept. Please upload it again"),
    "upload-revoked": ("本单位在名册中已撤销，不需要报送；如有疑问请联系上级工会", "This unit is marked 撤销 (revoked) in the registry and does not report; ask the union above if this is wrong"),
    "upload-locked": ("本期报表已审核锁定，需上级解锁后才能重新上传", "The approved workbook is locked; it must be unlocked before a new upload"),
    "upload-other-unit": ("工作簿封面的单位代码是 {found}，不是本单位（{unit}），未接收", "The workbook's cover names unit {found}, not yours ({unit}); not accepted"),
    "store-full": ("服务器磁盘已满，文件未保存，本次上传未被接收：请稍后重新上传，并告知管理员", "The server's disk is full: the file was not saved and the upload was not accepted; upload it again later and tell the administrator"),
    "database-busy": ("服务器正忙，本次操作未完成（已接收的报表不受影响）：请稍等几秒再试", "The server is busy; this action was not done (what was already accepted is safe): try again in a few seconds"),
    "database-down": ("数据库暂时无法连接，本次操作未完成（已接收的报表不受影响）：请稍后再试，若持续出现请告知管理员", "The database cannot be reached just now; this action was not done (what was already accepted is safe): try again later, and tell the administrator if it goes on"),
    "upload-missing": ("请选择要上传的文件", "Choose a file to upload"),
    "not-allowed": ("你无权进行这个操作", "You may not do this"),
    "review-not-latest": ("只能审核最新一版", "Only the latest version can be reviewed"),
    "typed-reason": ("您填写的退回原因（未保存）：", "The reason you typed (not saved): "),
    "review-rechecked": ("按门户现在的名册重新检查，这一版有 {n} 个错误（见下方问题清单），不能审核通过，已退回修改", "Checked again against the portal's registry as it is now, this version has {n:error|errors} (listed below): it cannot be approved, and is returned"),
    "review-wrong-state": ("当前状态（{state}）下不能这样操作", "Not possible in the current state ({state})"),
    "review-needs-reason": ("退回时请写明原因", "Give a reason to return it"),
    "rollup-nothing": ("还没有已审核的工作簿或下级上报的汇总表，无可汇总", "No approved workbook or reported child summary yet: nothing to roll up"),
    "rollup-leaf": ("基层单位没有下级可汇总", "A grassroots unit has nothing to roll up"),
    "rollup-has-errors": ("汇总表有 {n} 个错误，不能上报", "The summary has {n:error|errors} and cannot be reported up"),
    "report-up-top": ("本单位是名册中的最高一级，没有上级可以上报：汇总表直接下载使用", "This unit is the top of the registry, with no parent to report up to: download its summary and use it"),
    "rollup-not-latest": ("只能上报最新的汇总表", "Only the latest summary can be reported up"),
    "rollup-stale": ("汇总之后又有报表被审核通过、退回或解锁，或下级上报了新的汇总表：这份汇总表已不是现在的数据，请重新汇总后再上报", "Since this summary was made, a workbook was approved, returned or unlocked, or a child reported a new summary: it no longer shows the current data. Roll up again and report that one up"),
    # states and actions as shown
    "待审": ("已报待审", "awaiting review"),
    "退回": ("退回", "returned"),
    "已审核": ("已审核", "approved"),
    "未报": ("未报", "missing"),
    "通过": ("通过", "passed"),
    "有警告": ("有警告", "warnings"),
    "错误": ("错误", "error"),
    "警告": ("警告", "warning"),
    "提示": ("提示", "notice"),
    # a warning its unit explained in 说明, as `tongji validate` shows it: 警告（已说明） and the note
    "explained-mark": ("（已说明）", " (explained)"),
    "explained-note": ("已说明：{note}", "Explained: {note}"),
    "audit-rollup": ("{inputs} 个输入，{errors} 个错误", "{inputs:input|inputs}, {errors:error|errors}"),
    "audit-report-up": ("汇总表 {id}", "rollup {id}"),
    "act-upload": ("上传", "upload"),
    "act-approve": ("审核通过", "approve"),
    "act-return": ("退回", "return"),
    "act-unlock": ("解锁", "unlock"),
    "act-rollup": ("汇总", "roll up"),
    "act-report-up": ("上报", "report up"),
    "act-reset": ("重置密码", "reset password"),
    "act-deadline": ("修改截止日期", "change deadline"),
    "act-period": ("更换报告期", "change period"),
    "period-bad": ("报告期格式不对，应为 2025、2025Q2 或 2025-06", "The period is malformed: use 2025, 2025Q2 or 2025-06"),
    "period-hint": ("更换报告期即开始新一轮收表；各期的报表都保留。", "A new period starts a new round; every period's workbooks are kept."),
}


def text(key: str, lang: str, **kw: object) -> str:
    zh, en = TEXTS.get(key, (key, key))
    return formatted(en if lang == "en" else zh, **kw) if kw else (en if lang == "en" else zh)


# An audit row's detail is written as text, in Chinese ("v2 3f5a0c9e1b2d 通过", "3 个输入，0 个错误") or "rollup 7";
# these shapes are shown in the reader's language, rows written before this one as well as new ones
UPLOAD_DETAIL = re.compile(r"(v\d+ \w+) (通过|有警告|退回)")
ROLLUP_DETAIL = re.compile(r"(\d+) 个输入，(\d+) 个错误")
REPORT_UP_DETAIL = re.compile(r"rollup (\d+)")
RECHECK_DETAIL = re.compile(r"有 (\d+) 个错误，退回修改")  # i18n's reason-errors: a return by the re-check on approval


def audit_detail(action: str, detail: str, lang: str) -> str:
    """An audit row's detail as `lang` shows it; a detail of another shape (a reason, a date, a login) as it is."""
    if action == "upload" and (found := UPLOAD_DETAIL.fullmatch(detail)):
        return f"{found[1]} {text(found[2], lang)}"
    if action == "rollup" and (found := ROLLUP_DETAIL.fullmatch(detail)):
        return text("audit-rollup", lang, inputs=found[1], errors=found[2])
    if action == "report-up" and (found := REPORT_UP_DETAIL.fullmatch(detail)):
        return text("audit-report-up", lang, id=found[1])
    if action == "return" and (found := RECHECK_DETAIL.fullmatch(detail)):
        return render("reason-errors", lang, {"n": found[1]})
    return detail
