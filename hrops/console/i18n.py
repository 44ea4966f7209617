"""The console's words in English and Simplified Chinese. Data (names, stages, the assistant's and
the analytics answers) is shown as the services give it; only the frame is translated here."""

from __future__ import annotations

LANGS = ("en", "zh")

WORDS: dict[str, tuple[str, str]] = {
    "product": ("HR Ops console", "HR 运营控制台"),
    "chat": ("Chat", "对话"),
    "approvals": ("My approvals", "我的审批"),
    "analytics": ("Analytics", "数据分析"),
    "comp": ("Comp reports", "薪酬报告"),
    "policy": ("Policy", "制度问答"),
    "cases": ("Cases", "待答问题"),
    "tools": ("Tools", "工具目录"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出"),
    "username": ("Username", "用户名"),
    "password": ("Password", "密码"),
    "bad_login": ("Wrong username or password.", "用户名或密码错误。"),
    "locked": (
        "Too many failed sign-ins for this user; try again in a few minutes.",
        "该用户登录失败次数过多,请几分钟后再试。",
    ),
    "login_hint": (
        "Local accounts: an admin sets a password with `hrops users password USERNAME`.",
        "本地账户:管理员使用 `hrops users password 用户名` 设置密码。",
    ),
    "signed_out": ("Signed out.", "已退出。"),
    "roles": ("roles", "角色"),
    # chat
    "chat_intro": (
        "Ask for an onboarding, a record change, market research, a data question or the status of a request.",
        "可以发起入职、信息变更、薪酬市场调研,提出数据问题,或查询申请进度。",
    ),
    "message": ("Message", "消息"),
    "send": ("Send", "发送"),
    "you": ("You", "我"),
    "assistant": ("Assistant", "助手"),
    "new_thread": ("New conversation", "新对话"),
    "already_sent": ("That message was answered already.", "这条消息已经回复过了。"),
    # approvals and decisions
    "inbox_empty": ("Nothing waits for your decision.", "没有等待您审批的申请。"),
    "approve": ("Approve", "批准"),
    "reject": ("Reject", "驳回"),
    "reason": ("Reason (needed to reject)", "理由(驳回时必填)"),
    "reason_needed": ("A rejection needs a reason.", "驳回需要填写理由。"),
    "open": ("Open", "查看"),
    "open_request": ("Open a request", "打开申请"),
    "request_id": ("Request id, e.g. REQ-12", "申请编号,如 REQ-12"),
    "kind": ("Kind", "类型"),
    "stage": ("Stage", "阶段"),
    "employee": ("Employee", "员工"),
    "started": ("Started", "开始时间"),
    "requested_by": ("Requested by", "申请人"),
    "changes": ("Changes", "变更内容"),
    "field": ("Field", "字段"),
    "before": ("Before", "变更前"),
    "after": ("After", "变更后"),
    "also": ("Also", "同时"),
    "offer": ("Offer", "录用信息"),
    "plan": ("Onboarding plan", "入职计划"),
    "range": ("Recommended range", "建议薪酬范围"),
    "summary": ("Summary", "摘要"),
    "decided": ("Decision recorded", "审批已记录"),
    # timeline
    "timeline": ("Case timeline", "申请进度"),
    "stages": ("Stages", "阶段"),
    "approval_chain": ("Approvals", "审批链"),
    "step": ("Step", "步骤"),
    "approvers": ("Approvers", "审批人"),
    "decision": ("Decision", "审批结果"),
    "waiting": ("waiting", "等待中"),
    "not_yet": ("not started", "未开始"),
    "history": ("History", "历史记录"),
    "legacy": ("Legacy systems (RPA)", "旧系统同步(RPA)"),
    "legacy_none": (
        "No legacy system follows this request here (see the history).",
        "此处没有旧系统需要同步(见历史记录)。",
    ),
    "evidence": ("Evidence", "证据截图"),
    "no_evidence": ("No screenshots yet.", "暂无截图。"),
    "task": ("Needs a person", "需要人工处理"),
    "retry": ("Retry", "重试"),
    "cancel_push": ("Cancel the push", "取消同步"),
    "note": ("Note", "备注"),
    "problems": ("Problems", "问题"),
    "by_model": ("summary written by a model; the diff is what changes", "摘要由模型撰写;以变更明细为准"),
    "model_calls": ("Model calls (what left the machine)", "模型调用(发出的数据)"),
    "nothing_left": ("Nothing left the machine: offline model.", "数据未离开本机:离线模型。"),
    "masked": ("masked", "已遮蔽"),
    "sent": ("sent", "已发送"),
    "account": ("Account", "账号"),
    "equipment": ("Equipment", "设备"),
    "enrolled": ("Enrolled in", "已报名课程"),
    "readiness": ("Day-1 readiness", "入职准备情况"),
    "published": ("Published", "已发布"),
    "rows": ("Rows", "行"),
    # analytics
    "question": ("Question", "问题"),
    "ask": ("Ask", "提问"),
    "ask_examples": (
        "e.g. headcount by department · attrition in my org last quarter · 这个月我们单位的学习数据如何?",
        "例如:各部门的在职人数 · 上季度我所在组织的离职率 · headcount by department",
    ),
    "table": ("Table", "数据表"),
    "chart": ("Chart", "图表"),
    "people": ("people", "人数"),
    "period": ("Period", "期间"),
    "scope": ("Scope", "范围"),
    # policy questions (the asker)
    "policy_intro": (
        "Ask about leave, attendance, pay, social insurance, benefits, expenses and the like. Answers quote "
        "the policies that apply to you; what they do not answer goes to HR ops, who answer here.",
        "可以询问休假、考勤、薪资、社保、福利、报销等制度。回答引用适用于您的制度原文;"
        "制度无法回答的问题会转给 HR 运营,HR 的答复会显示在这里。",
    ),
    "policy_examples": (
        "e.g. how many days of annual leave do I get? · when is the payroll cut-off? · 年假可以结转吗?",
        "例如:我有几天年假? · 工资变动的截止日期是哪天? · how much relocation can I claim?",
    ),
    "policy_answer": ("Answer", "回答"),
    "sources": ("Sources", "出处"),
    "section_label": ("section", "章节"),
    "version": ("version", "版本"),
    "in_force_from": ("in force from", "生效日期"),
    "from_your_record": ("Figures from your own record.", "数据来自您本人的记录。"),
    "written_by_model": (
        "written by {model} from the sections quoted below; the quotes are what applies",
        "由 {model} 根据下方引用的条款撰写;以引用原文为准",
    ),
    "handed_to_hr": (
        "Case {case}: HR ops will answer you under My questions on this page (and in chat).",
        "问题编号 {case}:HR 运营会在本页“我的提问”中答复您(也会在对话中通知)。",
    ),
    "my_questions": ("My questions", "我的提问"),
    "my_questions_note": (
        "Questions handed to HR ops, newest first. Questions the policies answered are not kept.",
        "已转给 HR 运营的问题,按时间倒序。制度已回答的问题不会保存。",
    ),
    "no_questions": ("You have no questions with HR ops.", "您没有转给 HR 运营的问题。"),
    "waiting_for_hr": ("waiting for HR ops", "等待 HR 回复"),
    "hr_answer": ("HR's answer", "HR 的答复"),
    "confidential": ("A confidential matter (show)", "保密事项(点击显示)"),
    "asked_on": ("Asked on", "提问日期"),
    "status": ("Status", "状态"),
    # cases (HR ops and admins)
    "cases_intro": (
        "Policy questions the assistant handed to HR ops. Answer one and the asker is told at once; an answer "
        "is final.",
        "助手转给 HR 运营的制度问题。答复后提问人会立即收到通知;答复提交后不可修改。",
    ),
    "cases_forbidden": (
        "Policy cases are answered by HR ops and admins.",
        "制度问题仅由 HR 运营和管理员答复。",
    ),
    "open_cases": ("Open", "待回答"),
    "answered_cases": ("Answered", "已回答"),
    "no_cases": ("No cases here.", "这里没有问题。"),
    "case": ("Case", "编号"),
    "asked_by": ("Asked by", "提问人"),
    "why_handed": ("Why it came to HR", "转人工原因"),
    "sensitive_listed": (
        "(sensitive: open the case to read it)",
        "(敏感事项:打开查看)",
    ),
    "reason_sensitive": ("a sensitive matter: a person handles it", "敏感事项:需由专人处理"),
    "reason_person": ("the asker asked for a person", "提问人要求转人工"),
    "reason_unsupported": ("no policy answers it", "没有制度能回答"),
    "reason_low_confidence": (
        "the policies found do not answer it clearly",
        "检索到的制度不足以明确回答",
    ),
    "own_question": (
        "This is your own question: another HR ops person or an admin answers it.",
        "这是您本人的问题,需由其他 HR 运营同事或管理员答复。",
    ),
    "found": ("What the search found", "检索到的条款"),
    "found_none": ("Nothing: no policy matched.", "无:没有匹配的制度。"),
    "draft": (
        "Draft (not sent: the quotes the assistant would have given)",
        "草稿(未发送:助手本会引用的内容)",
    ),
    "your_answer": ("Your answer (the asker gets it as written)", "您的答复(提问人将收到原文)"),
    "save_as": ("Save as a correction for", "保存为更正答案,适用于"),
    "save_none": ("nobody: answer this person only", "不保存:仅答复此人"),
    "save_location": ("askers in this location", "同一工作地点的提问人"),
    "save_country": ("askers in this country", "同一国家的提问人"),
    "save_everyone": ("everyone", "所有人"),
    "save_note": (
        "A saved answer is what the assistant gives the next person who asks the same question.",
        "保存后,下次有人问同样的问题时,助手会直接给出此答复。",
    ),
    "cannot_save": (
        "A sensitive matter's answer is for this person only: it cannot be saved as a correction.",
        "敏感事项的答复仅针对此人,不能保存为更正答案。",
    ),
    "cites": ("It rests on", "依据条款"),
    "send_answer": ("Send the answer", "发送答复"),
    "answered_by": ("Answered by", "答复人"),
    "saved_correction": ("saved as correction {n}", "已保存为更正答案 {n}"),
    "case_answered": ("{case} answered; {asker} is told.", "{case} 已答复,已通知 {asker}。"),
    "bad_save_as": (
        "Pick who the correction is for: this location, this country or everyone.",
        "请选择更正答案的适用范围:同一工作地点、同一国家或所有人。",
    ),
    # comp
    "comp_empty": ("No market research has been published yet.", "尚未发布薪酬市场调研。"),
    "report": ("Report", "报告"),
    "workbook": ("Workbook (xlsx)", "工作簿 (xlsx)"),
    "comp_forbidden": (
        "Market reports are for comp analysts, HR ops, HRBPs and admins.",
        "薪酬报告仅限薪酬分析师、HR 运营、HRBP 和管理员查看。",
    ),
    # tools
    "name": ("Name", "名称"),
    "risk": ("Risk", "风险"),
    "approval_needed": ("Approval", "需审批"),
    "required": ("required", "需要"),
    "description": ("Description", "说明"),
    # errors
    "not_found": ("Not found", "未找到"),
    "forbidden": ("Not allowed", "无权访问"),
    "language": ("Language", "语言"),
}


def pick_lang(session_lang: str | None, accept_language: str | None) -> str:
    """The session's choice, else the browser's first preference we have, else English."""
    if session_lang in LANGS:
        return session_lang
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def words(lang: str) -> dict[str, str]:
    i = LANGS.index(lang) if lang in LANGS else 0
    return {k: v[i] for k, v in WORDS.items()}
