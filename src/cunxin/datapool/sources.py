"""The raw sources: where each lives under RAW/, its native format, and its columns.

This module is the contract between the synthetic county (`cunxin.synth`), which writes
these files, and the landing adapters (`cunxin.datapool.landing`), which read them. A
real deployment points the landing at the bank's own drops in the same layouts.

Every source has a record key column that is unique within the source; landing renames
native headers to the canonical English names given here and keeps every value as text.
Typing (IDs, dates, money, phones) happens in the standardize step on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ODS_DATA_DATE = "20261128"


@dataclass(frozen=True)
class Column:
    name: str  # canonical name in the landed table
    native: str  # header / JSON key in the raw file ("" for header-less ODS files)
    meaning: str = ""


@dataclass(frozen=True)
class Source:
    name: str
    category: str  # 中文 category of DESIGN.md §3
    channel: str  # ods | bank | third_party
    fmt: str  # ods_pipe | csv | jsonl | xlsx
    path: str  # relative to RAW/; a glob for multi-file sources
    encoding: str  # gbk | utf-8 | utf-8-sig | n/a (xlsx)
    key: str  # canonical name of the record key column
    columns: tuple[Column, ...] = field(default_factory=tuple)
    sheets: tuple[str, ...] = ()  # xlsx: the sheets to read ("" = all sheets)
    has_id: bool = True  # False if many rows carry no citizen ID

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, native) for name, native in pairs)


def _ods(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "") for n in names)


# ODS files: `ods/<TABLE>_<YYYYMMDD>.dat`, GBK, `|`-delimited, no header, no quoting,
# one record a line; beside each a `.ctl` control file with one line
# `<dat file name>|<row count>|<data date>`.
SOURCES: tuple[Source, ...] = (
    Source(
        "customer",
        "客户信息",
        "ods",
        "ods_pipe",
        f"ods/CUST_INFO_{ODS_DATA_DATE}.dat",
        "gbk",
        "cust_no",
        _ods(
            "cust_no",  # 客户号
            "name",
            "cert_type",  # 10 = 居民身份证
            "id_number",
            "gender",  # 1 male 2 female 9 unknown
            "birth_date",  # mostly YYYYMMDD, sometimes other formats
            "phone",
            "address",
            "village_code",  # 12-digit village code, may be empty
            "open_date",
            "update_date",
        ),
    ),
    Source(
        "deposit",
        "存款",
        "ods",
        "ods_pipe",
        f"ods/DEP_ACCT_{ODS_DATA_DATE}.dat",
        "gbk",
        "acct_no",
        _ods(
            "acct_no",
            "cust_no",
            "id_number",
            "name",
            "product",  # 活期 / 定期 / 大额存单 / 教育储蓄
            "open_date",
            "balance",  # yuan with 2 decimals
            "avg_balance_12m",  # yuan
            "status",  # 正常 / 销户 / 冻结
        ),
    ),
    Source(
        "loan",
        "贷款",
        "ods",
        "ods_pipe",
        f"ods/LOAN_CONTRACT_{ODS_DATA_DATE}.dat",
        "gbk",
        "contract_no",
        _ods(
            "contract_no",
            "cust_no",
            "id_number",
            "name",
            "product",  # 农户小额信用贷款 / 农户联保贷款 / 个人经营贷款 / 个人消费贷款
            "amount",  # yuan
            "start_date",
            "end_date",
            "annual_rate",  # e.g. 0.0435
            "balance",  # yuan outstanding
            "status",  # 结清 / 正常 / 逾期 / 核销
            "max_overdue_days",  # integer
        ),
    ),
    Source(
        "farmer_credit",
        "农户信用信息",
        "ods",
        "ods_pipe",
        f"ods/FARMER_CREDIT_{ODS_DATA_DATE}.dat",
        "gbk",
        "record_id",
        _ods(
            "record_id",
            "id_number",  # of the household head
            "name",
            "village_code",
            "family_size",
            "annual_income",  # 万元
            "main_industry",
            "credit_rating",  # AAA / AA / A / B / 未评级
            "rating_date",
            "assets",  # 万元
            "liabilities",  # 万元
        ),
    ),
    Source(
        "ebank",
        "电子银行",
        "bank",
        "jsonl",
        "bank/ebank_users.jsonl",
        "utf-8",
        "user_id",
        _cols(
            ("user_id", "user_id"),
            ("id_number", "id_no"),
            ("name", "name"),
            ("phone", "mobile"),
            ("channel", "channel"),  # 手机银行 / 网上银行 / 微信银行
            ("register_date", "register_date"),
            ("last_login_date", "last_login"),
            ("txn_count_12m", "txn_count_12m"),
            ("txn_amount_12m", "txn_amount_12m"),  # yuan
        ),
    ),
    Source(
        "payroll",
        "代发",
        "bank",
        "csv",
        "bank/payroll_2026.csv",
        "utf-8-sig",
        "record_id",
        _cols(
            ("record_id", "流水号"),
            ("employer", "代发单位"),
            ("name", "姓名"),
            ("id_number", "证件号码"),
            ("card_no", "卡号"),
            ("first_month", "首次代发月份"),  # YYYYMM or YYYY-MM
            ("amount_12m", "近12月代发金额"),  # yuan
            ("monthly_avg", "月均代发金额"),  # yuan
        ),
    ),
    Source(
        "grid",
        "网格化",
        "bank",
        "csv",
        "bank/grid/grid_*.csv",  # one file per township
        "utf-8",
        "record_id",
        _cols(
            ("record_id", "记录号"),
            ("grid_code", "网格编号"),
            ("household_no", "户号"),
            ("head_name", "户主姓名"),
            ("name", "姓名"),
            (
                "relation_to_head",
                "与户主关系",
            ),  # 户主 配偶 子 女 父亲 母亲 孙子 孙女 儿媳 女婿 兄弟 姐妹 其他
            ("id_number", "身份证号"),
            ("gender", "性别"),  # 男 / 女
            ("birth_date", "出生日期"),
            ("phone", "联系电话"),
            ("village_code", "村代码"),
            ("group_code", "村民小组代码"),
            ("address", "住址"),
            ("education", "文化程度"),
            ("occupation", "职业"),
            ("industry", "特色产业"),
            ("longitude", "经度"),
            ("latitude", "纬度"),
            ("registration", "户籍类型"),  # 本地 / 外来
            ("collected_date", "采集日期"),
        ),
    ),
    Source(
        "sunshine2017",
        "2017年阳光信贷",
        "bank",
        "xlsx",
        "bank/sunshine_credit_2017.xlsx",
        "n/a",
        "record_id",
        _cols(
            ("record_id", "序号"),
            ("township", "乡镇"),
            ("village", "村"),
            ("name", "户主姓名"),
            ("id_number", "身份证号码"),  # mostly legacy 15-digit
            ("granted_amount", "授信金额(万元)"),
            ("granted_date", "授信日期"),  # Excel date or text such as 2017.05.12
            ("rating", "评级"),
            ("remark", "备注"),
        ),
    ),
    Source(
        "blackgrey",
        "黑灰名单",
        "bank",
        "xlsx",
        "bank/blackgrey_list.xlsx",
        "n/a",
        "record_id",
        _cols(
            ("record_id", "名单编号"),
            ("name", "姓名"),
            ("id_number", "身份证号"),
            ("reason", "列入原因"),
            ("listed_date", "列入日期"),
            ("origin", "信息来源"),
        ),
        # the sheet name is the list type; landing adds column `list_type`
        sheets=("黑名单", "灰名单", "失信被执行人"),
    ),
    Source(
        "social_security",
        "社保",
        "third_party",
        "csv",
        "third_party/social_security.csv",
        "gbk",
        "record_id",
        _cols(
            ("record_id", "记录号"),
            ("person_no", "个人编号"),
            ("name", "姓名"),
            ("id_number", "公民身份号码"),
            ("insurance_type", "险种"),
            ("status", "参保状态"),  # 正常参保 / 暂停 / 终止
            ("enrol_date", "参保日期"),
            ("contribution_base", "缴费基数"),  # yuan
            ("months_paid", "累计缴费月数"),
        ),
    ),
    Source(
        "real_estate",
        "不动产",
        "third_party",
        "jsonl",
        "third_party/real_estate.jsonl",
        "utf-8",
        "unit_no",
        _cols(
            ("unit_no", "bdcdyh"),  # 不动产单元号
            ("name", "qlr"),  # 权利人
            ("id_number", "zjhm"),  # often missing
            ("phone", "lxdh"),
            ("location", "zl"),  # 坐落: township + village + group text
            ("area_m2", "mj"),
            ("use", "yt"),  # 住宅 / 宅基地 / 商业 / 工业 / 农业设施
            ("registered_date", "djrq"),
            ("appraised_value", "pgjz"),  # text: "35万", "350000", "35.5万元"
        ),
        has_id=False,
    ),
    Source(
        "enterprise",
        "企业信息",
        "third_party",
        "csv",
        "third_party/enterprise.csv",
        "utf-8-sig",
        "credit_code",
        _cols(
            ("credit_code", "统一社会信用代码"),
            ("company_name", "企业名称"),
            ("company_type", "企业类型"),  # 个体工商户 / 农民专业合作社 / 有限责任公司
            ("name", "法定代表人"),
            ("id_number", "法定代表人证件号"),  # mostly missing
            ("phone", "联系电话"),
            ("village", "所在村"),  # village name, not code
            ("registered_capital", "注册资本(万元)"),
            ("established_date", "成立日期"),
            ("business_scope", "经营范围"),
            ("status", "经营状态"),  # 存续 / 注销 / 吊销
        ),
        has_id=False,
    ),
)

SOURCES_BY_NAME = {s.name: s for s in SOURCES}

# Geography (not a person source): RAW/geo/*.geojson, WGS84.
GEO_FILES = ("county", "township", "village", "group", "household")
