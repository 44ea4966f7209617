"""Name pools for the demo company: Simplified Chinese (with pinyin) and English."""

from __future__ import annotations

# (hanzi, pinyin) by rough frequency
CN_FAMILY = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("赵", "Zhao"),
    ("黄", "Huang"), ("周", "Zhou"), ("吴", "Wu"), ("徐", "Xu"), ("孙", "Sun"), ("胡", "Hu"), ("朱", "Zhu"),
    ("高", "Gao"), ("林", "Lin"), ("何", "He"), ("郭", "Guo"), ("马", "Ma"), ("罗", "Luo"), ("梁", "Liang"),
    ("宋", "Song"), ("郑", "Zheng"), ("谢", "Xie"), ("韩", "Han"), ("唐", "Tang"), ("冯", "Feng"), ("于", "Yu"),
    ("董", "Dong"), ("萧", "Xiao"), ("程", "Cheng"), ("曹", "Cao"), ("袁", "Yuan"), ("邓", "Deng"), ("许", "Xu"),
]
# (hanzi, pinyin, gender)
CN_GIVEN = [
    ("芳", "Fang", "female"), ("伟", "Wei", "male"), ("静", "Jing", "female"), ("敏", "Min", "female"),
    ("磊", "Lei", "male"), ("洋", "Yang", "male"), ("艳", "Yan", "female"), ("勇", "Yong", "male"),
    ("军", "Jun", "male"), ("杰", "Jie", "male"), ("娟", "Juan", "female"), ("涛", "Tao", "male"),
    ("明", "Ming", "male"), ("超", "Chao", "male"), ("秀英", "Xiuying", "female"), ("华", "Hua", "female"),
    ("平", "Ping", "male"), ("刚", "Gang", "male"), ("丽", "Li", "female"), ("强", "Qiang", "male"),
    ("晨", "Chen", "male"), ("欣怡", "Xinyi", "female"), ("子涵", "Zihan", "female"), ("浩然", "Haoran", "male"),
    ("雨桐", "Yutong", "female"), ("宇轩", "Yuxuan", "male"), ("思远", "Siyuan", "male"), ("佳怡", "Jiayi", "female"),
    ("俊杰", "Junjie", "male"), ("婷", "Ting", "female"), ("雪", "Xue", "female"), ("鹏", "Peng", "male"),
    ("慧", "Hui", "female"), ("建国", "Jianguo", "male"), ("晓燕", "Xiaoyan", "female"), ("志强", "Zhiqiang", "male"),
    ("梦琪", "Mengqi", "female"), ("博文", "Bowen", "male"), ("诗涵", "Shihan", "female"), ("一鸣", "Yiming", "male"),
]
EN_FAMILY = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
    "Clark", "Baker", "Hughes", "Edwards", "Turner", "Hill", "Moore", "Cooper", "Ward", "Morris",
    "King", "Watson", "Harris", "Lee", "Martin", "Allen", "Young", "Mitchell", "Scott", "Carter",
    "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Anderson", "Thomas", "Nguyen", "Patel", "Kumar",
    "Tan", "Lim", "Ng", "Ong", "Koh", "Teo", "Goh", "Chua", "Murphy", "Kelly",
]
EN_GIVEN = [
    ("Emily", "female"), ("Olivia", "female"), ("Sophie", "female"), ("Charlotte", "female"), ("Amelia", "female"),
    ("Grace", "female"), ("Hannah", "female"), ("Chloe", "female"), ("Emma", "female"), ("Isabella", "female"),
    ("Priya", "female"), ("Aisha", "female"), ("Mei", "female"), ("Rachel", "female"), ("Laura", "female"),
    ("Sarah", "female"), ("Jessica", "female"), ("Megan", "female"), ("Lucy", "female"), ("Zoe", "female"),
    ("James", "male"), ("Oliver", "male"), ("Jack", "male"), ("Harry", "male"), ("George", "male"),
    ("Thomas", "male"), ("William", "male"), ("Daniel", "male"), ("Samuel", "male"), ("Benjamin", "male"),
    ("Michael", "male"), ("David", "male"), ("Ethan", "male"), ("Ryan", "male"), ("Arjun", "male"),
    ("Marcus", "male"), ("Lucas", "male"), ("Nathan", "male"), ("Adam", "male"), ("Alex", "male"),
]
