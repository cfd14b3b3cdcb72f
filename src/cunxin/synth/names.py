"""Vocabularies of the synthetic county: places, surnames, given names, trades, employers.

Realism modelled here: the township names and rough positions of 灌云县; a northern
Jiangsu surname distribution (a few dozen surnames cover most people); given names that
follow the fashion of the birth decade (建国 and 秀英 for the old, 浩然 and 梓涵 for the
young), drawn from modest pools with Zipf-like weights so that homonyms (重名) are
common; village names built the way the area names them (王庄, 东湖, 李集, 杨圩 ...).
Every character is in GBK, because several sources are written in GBK.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INDUSTRIES = ("紫菜养殖", "设施蔬菜", "稻麦种植", "水产养殖", "畜禽养殖", "电商", "食用菌", "无")
INDUSTRY_INDEX = {name: i for i, name in enumerate(INDUSTRIES)}


@dataclass(frozen=True)
class TownshipSpec:
    name: str
    code: str  # 3 digits within the county
    lon: float  # rough position, used only to lay the townships out west-east/north-south
    lat: float
    weight: float  # relative number of villages
    industries: tuple[float, ...]  # weights over INDUSTRIES


# Ordered so that a small county (2 townships) gets the county seat and the coast.
TOWNSHIPS = (
    TownshipSpec(
        "伊山镇", "100", 119.25, 34.29, 1.5, (0, 0.22, 0.22, 0.05, 0.08, 0.15, 0.05, 0.23)
    ),
    TownshipSpec(
        "燕尾港镇", "102", 119.55, 34.48, 0.9, (0.45, 0.03, 0.1, 0.22, 0.05, 0.03, 0, 0.12)
    ),
    TownshipSpec(
        "杨集镇", "101", 119.45, 34.42, 1.1, (0.08, 0.12, 0.3, 0.22, 0.1, 0.04, 0.02, 0.12)
    ),
    TownshipSpec(
        "同兴镇", "103", 119.50, 34.33, 1.0, (0.02, 0.1, 0.4, 0.12, 0.16, 0.03, 0.04, 0.13)
    ),
    TownshipSpec("四队镇", "104", 119.37, 34.17, 1.0, (0, 0.35, 0.3, 0.04, 0.1, 0.04, 0.04, 0.13)),
    TownshipSpec("圩丰镇", "105", 119.52, 34.22, 0.9, (0, 0.12, 0.42, 0.08, 0.1, 0.03, 0.12, 0.13)),
    TownshipSpec("龙苴镇", "106", 119.12, 34.40, 1.0, (0, 0.38, 0.28, 0.04, 0.1, 0.05, 0.03, 0.12)),
    TownshipSpec(
        "下车镇", "107", 119.15, 34.20, 1.0, (0, 0.12, 0.38, 0.05, 0.25, 0.03, 0.04, 0.13)
    ),
    TownshipSpec("图河镇", "108", 119.30, 34.45, 1.0, (0, 0.1, 0.45, 0.1, 0.15, 0.02, 0.05, 0.13)),
    TownshipSpec(
        "东王集镇", "109", 119.05, 34.30, 1.0, (0, 0.12, 0.35, 0.04, 0.12, 0.04, 0.2, 0.13)
    ),
    TownshipSpec(
        "小伊乡", "200", 119.35, 34.33, 0.8, (0, 0.15, 0.42, 0.05, 0.18, 0.04, 0.03, 0.13)
    ),
    TownshipSpec("南岗乡", "201", 119.27, 34.10, 0.8, (0, 0.1, 0.42, 0.15, 0.12, 0.03, 0.05, 0.13)),
)

# Region codes (GB/T 2260) of people born outside the county, with weights:
# the rest of 连云港, neighbouring 宿迁/淮安/盐城, Shandong's 临沂 and Anhui's 宿州.
OTHER_REGIONS = (
    ("320721", 6), ("320722", 10), ("320724", 12), ("320703", 4), ("320706", 4),
    ("320707", 3), ("320803", 3), ("320826", 3), ("320923", 2), ("321322", 3),
    ("341322", 4), ("341302", 2), ("371302", 4), ("371324", 2), ("370811", 1),
)  # fmt: skip

# Surnames with rough relative frequencies for northern Jiangsu.
SURNAMES = (
    ("王", 80), ("张", 70), ("李", 62), ("刘", 55), ("陈", 45), ("杨", 38), ("徐", 36),
    ("孙", 33), ("朱", 30), ("吴", 25), ("周", 24), ("赵", 24), ("胡", 20), ("马", 19),
    ("高", 18), ("郭", 15), ("何", 11), ("林", 9), ("罗", 8), ("郑", 10), ("许", 14),
    ("谢", 8), ("韩", 12), ("唐", 10), ("冯", 8), ("于", 12), ("董", 11), ("程", 8),
    ("曹", 10), ("袁", 7), ("邓", 5), ("沈", 8), ("彭", 6), ("吕", 7), ("苏", 6),
    ("卢", 6), ("蒋", 6), ("蔡", 7), ("贾", 6), ("丁", 9), ("魏", 6), ("薛", 7),
    ("叶", 5), ("潘", 6), ("杜", 5), ("戴", 5), ("夏", 5), ("汪", 4), ("田", 6),
    ("任", 5), ("姜", 6), ("范", 5), ("石", 5), ("姚", 5), ("陆", 6), ("金", 5),
    ("孟", 6), ("顾", 6), ("侯", 4), ("邵", 5), ("葛", 6), ("季", 6), ("惠", 5),
    ("仲", 4), ("嵇", 3), ("卞", 4), ("胥", 3), ("武", 4), ("单", 4), ("严", 4),
    ("倪", 4), ("殷", 3), ("汤", 3), ("秦", 4), ("江", 3), ("史", 4), ("崔", 4),
    ("孔", 3), ("白", 3), ("毛", 3), ("邱", 3), ("万", 3), ("段", 3), ("陶", 3),
    ("尹", 3), ("黄", 9), ("宋", 7), ("梁", 5), ("闫", 3), ("龚", 2), ("戚", 2),
)  # fmt: skip

# Given names by birth era: 0 born before 1960, 1 1960-1984, 2 1985-2004, 3 2005 and later.
# The order is the weight order (Zipf-like): the first ones are the most common.
MALE_GIVEN = (
    "建国 德明 国华 永福 长林 振华 学文 玉林 金山 树林 春生 海生 德福 国庆 如海 广才 "
    "传友 守成 兴旺 家富 立新 正荣 士林 根生 长春 宝山 友才 文才 永昌 福林 进财 德胜 "
    "华 明 洪 军 成 富 山 林 贵 荣 祥 海 宝 生 才 仁 义 礼",
    "志强 建军 卫东 海峰 永刚 立军 伟 勇 军 刚 斌 国强 卫国 红兵 海涛 春雷 小兵 晓东 "
    "志刚 志军 文斌 建平 建伟 学军 东升 爱国 新华 金龙 云龙 建新 卫华 小军 晓明 红军 "
    "磊 涛 鹏 强 杰 波 健 峰 辉 亮 明 飞 兵 林 平 华 祥",
    "磊 鹏 超 浩 俊 帅 阳 伟 杰 涛 亮 鑫 宇 昊 凯 旭 晨 浩然 俊杰 宇航 天宇 志鹏 文博 "
    "家豪 晓龙 海洋 嘉伟 振宇 佳豪 成龙 鹏飞 浩宇 亚东 晓峰 冬冬 磊磊 子豪 一鸣 明轩 "
    "建伟 晓伟 海军 金鑫 龙 飞 强 森 博 阳阳",
    "子轩 浩宇 宇轩 梓豪 浩然 俊熙 子墨 一诺 沐阳 宇航 思源 承泽 皓轩 博文 天佑 铭泽 "
    "奕辰 子睿 俊宇 锦程 睿 轩 诺 辰 泽 宸 浩 梓睿 嘉豪 子航 雨泽 明哲 宇辰 锦轩 "
    "逸飞 乐乐 昊天 嘉乐 子豪 文轩 书豪 鹏宇",
)
FEMALE_GIVEN = (
    "秀英 桂英 玉兰 桂兰 秀兰 凤英 兰英 淑英 玉英 翠兰 秀珍 桂珍 玉珍 素珍 凤兰 秀云 "
    "桂芳 玉梅 桂香 秀芳 翠英 凤珍 美英 金兰 爱珍 春兰 冬梅 月英 荣 英 兰 珍 芳 梅 "
    "花 云 凤 秀 香 琴",
    "丽 红 霞 燕 娟 敏 静 艳 玲 萍 芳 红梅 春梅 丽华 海燕 晓燕 秀梅 玉华 爱华 红霞 "
    "晓红 丽娟 小红 小燕 美玲 桂红 玉红 雪梅 建华 春燕 丽萍 秀丽 红英 慧 梅 琴 "
    "英 兰 华 芹",
    "婷 雪 丹 琳 倩 慧 洁 颖 佳 晶 悦 婷婷 丹丹 晓雪 思雨 雨婷 梦瑶 佳怡 欣然 文静 "
    "晓丽 慧敏 佳佳 莹莹 雯雯 明月 甜甜 心怡 晶晶 玉洁 梦 雪 露 璐 蕾 娜 菲 薇 "
    "敏 静",
    "梓涵 欣怡 子涵 一诺 诗涵 梓萱 语桐 可馨 雨桐 若曦 欣妍 思涵 紫涵 佳琪 梦琪 依诺 "
    "奕菲 芷若 沐晴 语嫣 安琪 嘉怡 婉清 雨涵 诗琪 欣悦 梓琪 语汐 一涵 可欣 "
    "萱 涵 琪 悦 妍 瑶 彤 馨",
)

VILLAGE_PREFIXES = [
    "东",
    "西",
    "南",
    "北",
    "前",
    "后",
    "新",
    "大",
    "小",
    "中",
    "王",
    "张",
    "李",
    "刘",
    "陈",
    "杨",
    "赵",
    "孙",
    "周",
    "吴",
    "徐",
    "朱",
    "马",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "许",
    "蔡",
    "丁",
    "沈",
    "董",
    "顾",
    "葛",
    "潘",
    "姚",
    "谢",
    "季",
    "严",
    "倪",
    "殷",
    "汤",
    "陆",
    "兴",
    "安",
    "富",
    "民",
    "和",
    "平",
    "龙",
    "凤",
    "金",
    "盐",
    "渔",
    "团",
    "黄",
    "青",
    "白",
    "红",
    "光",
    "胜",
    "建",
    "永",
    "太",
    "长",
    "河",
    "五",
    "六",
    "七",
    "八",
    "三",
    "四",
    "二",
    "双",
    "薛",
    "卞",
    "仲",
    "惠",
    "孟",
]
VILLAGE_SUFFIXES = [
    "庄",
    "圩",
    "集",
    "湖",
    "河",
    "口",
    "沟",
    "岗",
    "港",
    "墩",
    "荡",
    "滩",
    "园",
    "楼",
    "场",
    "营",
    "桥",
    "庙",
    "塘",
    "湾",
    "洼",
    "坊",
    "埝",
    "闸",
    "林",
    "山",
    "店",
]
# A few well-known names first, so small counties look familiar.
VILLAGE_FIXED = ("东湖", "王庄", "李集", "张圩", "新民", "前进", "红旗", "杨圩")

CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 3 -> 三, 12 -> 十二, 20 -> 二十, 35 -> 三十五."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else CN_DIGITS[tens] + "十"
    return head + (CN_DIGITS[ones] if ones else "")


def group_name(seq: int) -> str:
    """第三组 style group names."""
    return f"第{chinese_number(seq)}组"


def zipf_weights(n: int, exponent: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def given_pools() -> tuple[list[list[str]], list[list[str]]]:
    male = [pool.split() for pool in MALE_GIVEN]
    female = [pool.split() for pool in FEMALE_GIVEN]
    return male, female


RELATIONS = (
    "户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "儿媳", "女婿", "兄弟", "姐妹", "其他",
)  # fmt: skip
REL = {name: i for i, name in enumerate(RELATIONS)}

EDUCATIONS = ("学龄前", "文盲", "小学", "初中", "高中", "中专", "大专", "本科及以上")
EDU = {name: i for i, name in enumerate(EDUCATIONS)}

OCCUPATIONS = (
    "学龄前", "学生", "种植户", "养殖户", "渔民", "个体工商户", "务工人员", "外出务工",
    "电商", "教师", "公职人员", "村干部", "退休", "无业",
)  # fmt: skip
OCC = {name: i for i, name in enumerate(OCCUPATIONS)}

# The occupation a working member of a household with a given specialty most likely has.
INDUSTRY_OCCUPATION = {
    "紫菜养殖": ("养殖户", "渔民"),
    "设施蔬菜": ("种植户",),
    "稻麦种植": ("种植户",),
    "水产养殖": ("养殖户", "渔民"),
    "畜禽养殖": ("养殖户",),
    "电商": ("电商",),
    "食用菌": ("种植户",),
    "无": ("务工人员",),
}

# Annual income of a person by occupation (yuan, median).
OCCUPATION_INCOME = {
    "学龄前": 0, "学生": 0, "种植户": 16000, "养殖户": 26000, "渔民": 30000,
    "个体工商户": 42000, "务工人员": 33000, "外出务工": 40000, "电商": 38000,
    "教师": 72000, "公职人员": 78000, "村干部": 36000, "退休": 22000, "无业": 2000,
}  # fmt: skip

# Yearly production income of a household specialty (yuan, median), on top of wages.
INDUSTRY_INCOME = {
    "紫菜养殖": 90000, "设施蔬菜": 45000, "稻麦种植": 14000, "水产养殖": 60000,
    "畜禽养殖": 50000, "电商": 40000, "食用菌": 42000, "无": 0,
}  # fmt: skip

COMPANY_WORDS = [
    "鑫源",
    "恒通",
    "华盛",
    "金海",
    "海丰",
    "润达",
    "瑞丰",
    "东方",
    "新亚",
    "嘉禾",
    "国泰",
    "宏达",
    "天成",
    "富民",
    "兴隆",
    "永盛",
    "金穗",
    "绿源",
    "海润",
    "裕丰",
    "博远",
    "福泰",
    "利民",
    "晟达",
    "康瑞",
    "盛世",
    "伊芦",
    "灌河",
    "云台",
    "海州",
]

BUSINESS_SCOPES = {
    "紫菜养殖": "紫菜养殖、加工、销售",
    "设施蔬菜": "蔬菜种植、销售;农业技术咨询",
    "稻麦种植": "粮食种植、收购、销售,农机服务",
    "水产养殖": "水产品养殖、销售",
    "畜禽养殖": "生猪、家禽养殖及销售",
    "电商": "网上销售农副产品、日用百货",
    "食用菌": "食用菌种植、加工、销售",
    "无": "日用百货、五金、副食品零售",
}

ROADS = [
    "人民路",
    "建设路",
    "解放路",
    "振兴路",
    "富民路",
    "幸福路",
    "新华路",
    "胜利路",
    "黄海路",
    "灌河路",
]
