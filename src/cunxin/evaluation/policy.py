"""The evaluation policy: data, versioned, editable by HQ (DESIGN.md §5 defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# A village's panel (DESIGN.md §5: 3–7 villagers): at most this many members, and at least
# this many regular ones before a first review opens.
MAX_PANEL = 7
MIN_PANEL = 3


class AmountRule(StrEnum):
    MEDIAN = "median"
    MEAN = "mean"
    MIN = "min"


# 不予授信情形 / 十三种人, DESIGN.md §5. The list is data: a bank may use 15 items.
DEFAULT_NEGATIVE_ITEMS: dict[str, str] = {
    "idle": "游手好闲、不务正业",
    "vice": "赌博、吸毒等不良嗜好",
    "criminal": "有刑事犯罪记录或正在服刑",
    "illegal_finance": "涉黑涉恶、参与非法集资或放高利贷",
    "defaulter": "恶意逃废债务或失信被执行",
    "overindebted": "民间借贷或负债过多",
    "bad_credit": "信用观念差、有不良信用记录",
    "family_discord": "家庭不和睦、不赡养老人",
    "absent": "长期外出、无法联系",
    "incapacity": "丧失劳动能力或患重大疾病",
    "age": "年龄不符合",
    "marital_dispute": "婚变或家庭财产纠纷",
    "other": "其他经评议认定不宜授信",
}

DEFAULT_GRADED_ITEMS: tuple[str, ...] = (
    "health", "workers", "business_ability", "house_value", "machinery", "net_income",
    "willingness_to_repay", "informal_debt", "family_harmony", "reputation", "habits",
)  # fmt: skip


# How the review screen names the default graded items (graded 1 = poor … 5 = very good).
GRADED_ITEM_LABELS: dict[str, str] = {
    "health": "身体健康状况", "workers": "家庭劳动力", "business_ability": "经营能力",
    "house_value": "房产价值", "machinery": "农机具/车辆", "net_income": "家庭年净收入",
    "willingness_to_repay": "还款意愿", "informal_debt": "民间高息借贷（越少越好）",
    "family_harmony": "家庭和睦", "reputation": "邻里口碑", "habits": "生活习惯",
}  # fmt: skip


@dataclass(frozen=True)
class EvaluationPolicy:
    """How a round's reviews of a person become a verdict and an evaluation amount."""

    version: str = "default-1"
    negative_items: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NEGATIVE_ITEMS))
    graded_items: tuple[str, ...] = DEFAULT_GRADED_ITEMS
    min_valid_reviews: int = 2
    # share of valid reviewers ticking a negative item from which the verdict is black
    black_share: float = 0.5
    amount_rule: AmountRule = AmountRule.MEDIAN
    # the village cap on a suggested amount, in yuan
    amount_cap_yuan: int = 200_000
    # relations in the relationship graph that exclude a reviewer (DESIGN.md §5)
    conflicting_relations: frozenset[str] = frozenset(
        {"household", "spouse", "parent", "child", "sibling"}
    )
    # 验收: the share of a first round's submitted reviews drawn for re-check at close
    qa_share: float = 0.05
    # 走访: after sign-off every grey (and insufficient) household is visited, every
    # household with a member's evaluation amount above the threshold, and this share of
    # the rest, drawn at random
    visit_amount_threshold_yuan: int = 100_000
    visit_sample_share: float = 0.10

    def graded_labels(self) -> list[tuple[str, str]]:
        return [(item, GRADED_ITEM_LABELS.get(item, item)) for item in self.graded_items]
