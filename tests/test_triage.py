"""Triage before any search: what goes to HR as a sensitive case, and, as much, what does not. The
evaluation sets hold only questions that should be handed on; these probes hold ordinary questions
that share words with sensitive ones (a wrong hand-off costs the asker an answer and HR a case)."""

from __future__ import annotations

import pytest

from tools.knowledge.triage import triage

SENSITIVE = [
    ("最近压力大到整晚睡不着，有时候觉得活着也没什么意思", "health"),
    ("I don't want to live anymore", "health"),
    ("i dont want to be alive and nobody would notice", "health"),
    ("sometimes I think about hurting myself", "health"),
    ("I feel like life is not worth living", "health"),
    ("I want to die", "health"),
    ("I'm scheduled for surgery on Monday, what do I need to send HR?", "health"),
    ("Having surgery in March, can I work from home after?", "health"),
    ("I'm going in for an operation next month, how does sick pay work?", "health"),
    ("我想投诉我的直属领导，他经常在组会上当众骂人", "harassment"),
    ("My manager yelled at my colleague in front of everyone again", "harassment"),
    ("a colleague swore at me in the kitchen today", "harassment"),
    ("自从我告诉领导我怀孕了，他就不给我安排重要项目了", "discrimination"),
    ("HR invited me to a meeting about a 'conduct issue', am I about to be fired?", "disciplinary"),
    ("Can I be fired for being late three times?", "disciplinary"),
    ("体检查出甲状腺结节，需要请假复查吗", "health"),
    ("我下个月要做手术，病假工资怎么算", "health"),
    ("我收到了处分通知，可以申诉吗", "disciplinary"),
    ("I got a written warning, how do I appeal the decision?", "disciplinary"),
    ("公司要跟我协商解除劳动合同，我该怎么办", "disciplinary"),
    ("被裁员的话经济补偿是n+1吗", "disciplinary"),
    ("我们组长让客户开假发票报销，我想说出来又怕被穿小鞋", "speaking_up"),
    ("我说了怀孕以后，周会都不叫我参加了", "discrimination"),
    ("a coworker keeps touching my shoulder and sending me messages at night, what can I do?", "harassment"),
]

ORDINARY = [
    "I don't want to live in Shanghai anymore, can I transfer to Shenzhen?",
    "I do not want to wake up at 5am for the early shift, can I swap?",
    "I don't want to be here anymore after 6pm, is overtime mandatory?",
    "我应该什么时候告诉公司我怀孕了？怀孕的员工是不是不让上夜班？",
    "Where can I read the code of conduct concern reporting procedure?",
    "Will my fixed-term contract end automatically, or do I need to resign?",
    "my mom is having major surgery next month and I need a few weeks to look after her. is any of that paid?",
    "My wife's operation is next week, can I take carer's leave?",
    "I have an operation manual question about the expense tool",
    "公司对骂人有什么规定？",
    "how many days of annual leave do I get?",
    "我在纽约，我妈得了重病，想请几周假回去照顾她，有带薪的吗",
    "我爸下周要做手术，可以请假陪护吗",
    "对今年的绩效结果不服，可以申诉吗？",
    "I got a 2 and think it's wrong. can I appeal my rating?",
    "我的N+1经理也要审批我的年假吗",
    "发票开错了抬头，还能报销吗",
    "请假要提前几天跟经理说？",
    "国庆放假票很难买，能多请两天年假吗",
    "is the real person check on the payroll form something I need to sign?",
    "我约了体检，能请半天假吗",
    "纽约HR的工作时间是几点?",
    "在纽约,人事部门周五放假吗",
    "合约到期后HR会通知我续签吗?",
    "大约多少天HR会批年假?",
    "当面说辞职需要提前几天",
    "can I touch my annual leave before it is accrued?",
]

PERSON = [
    "this isn't working, can I get an actual human on a call?",
    "I'd like a real person please",
    "帮我约一下HRBP吧",
    "有些情况想当面聊",
]


@pytest.mark.parametrize(("question", "category"), SENSITIVE)
def test_sensitive_matters_go_to_hr_as_confidential_cases(question: str, category: str) -> None:
    found = triage(question)
    assert (found.route, found.category) == ("sensitive", category), found


@pytest.mark.parametrize("question", ORDINARY)
def test_ordinary_questions_that_share_their_words_are_answered(question: str) -> None:
    assert triage(question).route == "policy", triage(question)


@pytest.mark.parametrize("question", PERSON)
def test_asking_for_a_human_in_other_words_goes_to_a_person(question: str) -> None:
    assert triage(question).route == "person", triage(question)
