"""The pool pipeline after landing: the same SQL on every engine.

standardize → records → link → golden person (+ provenance) → household → relationships
→ tags → 360 profile tables → risk flags → model features. Every table is built through
`Engine.create`, so each step's row count and time land in the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cunxin.datapool import linkage
from cunxin.datapool import sqlfuncs as f
from cunxin.datapool.engine.base import Engine
from cunxin.datapool.sources import SOURCES
from cunxin.datapool.standardize import IDENTITY_COLUMNS, SPECS, standardize_sql

Progress = Callable[[str, int, int], None]

# Survivorship: lower rank wins; ties go to the most recent record, then the smallest key.
NAME_RANK = ("grid", "customer", "social_security", "loan", "deposit", "farmer_credit",
             "ebank", "payroll", "real_estate", "sunshine2017", "enterprise", "blackgrey")  # fmt: skip
PHONE_RANK = ("ebank", "customer", "grid", "loan", "real_estate", "enterprise")
PLACE_RANK = ("grid", "customer", "farmer_credit")
ADDRESS_RANK = ("grid", "customer", "real_estate")

RELATION_ROLE = {
    "户主": "head", "本人": "head", "配偶": "spouse", "妻": "spouse", "夫": "spouse",
    "子": "child", "女": "child", "长子": "child", "次子": "child", "长女": "child",
    "次女": "child", "父亲": "parent", "母亲": "parent", "孙子": "grandchild",
    "孙女": "grandchild", "儿媳": "child_in_law", "女婿": "child_in_law",
    "兄弟": "sibling", "姐妹": "sibling", "兄": "sibling", "弟": "sibling",
    "姐": "sibling", "妹": "sibling",
}  # fmt: skip

# (role of a, role of b) -> what b is to a
PAIR_RELATION = {
    ("head", "spouse"): "spouse", ("spouse", "head"): "spouse",
    ("head", "child"): "child", ("spouse", "child"): "child",
    ("child", "head"): "parent", ("child", "spouse"): "parent",
    ("head", "parent"): "parent", ("parent", "head"): "child",
    ("parent", "parent"): "spouse", ("child", "child"): "sibling",
    ("head", "sibling"): "sibling", ("sibling", "head"): "sibling",
    ("sibling", "sibling"): "sibling",
    ("head", "grandchild"): "grandchild", ("spouse", "grandchild"): "grandchild",
    ("grandchild", "head"): "grandparent", ("grandchild", "spouse"): "grandparent",
}  # fmt: skip


def _rank(column: str, order: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(order))
    return f"CASE {column} {whens} ELSE {len(order)} END"


def _in(values: dict[str, str]) -> str:
    return " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in values.items())


def run(e: Engine, secret: str, progress: Progress | None = None) -> None:
    """Build every pool table on `e` from the land_<source> and ref_* tables."""
    e.register_secret(secret)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("standardize", lambda: standardize(e)),
        ("records", lambda: records(e)),
        ("link", lambda: link(e)),
        ("golden person", lambda: golden_person(e)),
        ("households", lambda: households(e)),
        ("relationships", lambda: relationships(e)),
        ("profiles", lambda: profiles(e)),
        ("tags", lambda: tags(e)),
        ("features", lambda: features(e)),
    ]
    for i, (label, step) in enumerate(steps):
        if progress:
            progress(label, i, len(steps))
        step()
    if progress:
        progress("pipeline", len(steps), len(steps))


def standardize(e: Engine) -> None:
    reject_parts = []
    for source in SOURCES:
        landed = [c for c in e.columns(f"land_{source.name}") if c != "_file"]
        e.create(f"std_all_{source.name}", standardize_sql(e, source.name, source.key, landed))
        e.view(f"std_{source.name}", f"SELECT * FROM std_all_{source.name} WHERE _reject_code = ''")
        reject_parts.append(
            f"SELECT source, _file AS file, CAST(NULL AS BIGINT) AS line, record_key, "
            f"_raw_line AS raw_line, 'standardize' AS stage, _reject_code AS reason_code, "
            f"_reject_reason AS reason FROM std_all_{source.name} WHERE _reject_code <> ''"
        )
    e.create(
        "rejects",
        "SELECT source, file, line, record_key, raw_line, stage, reason_code, reason "
        "FROM land_rejects UNION ALL " + " UNION ALL ".join(reject_parts),
    )


def records(e: Engine) -> None:
    """One row per standardized record with the identity columns, villages resolved."""
    parts = [f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM std_{s.name}" for s in SOURCES]
    e.view("records_raw", " UNION ALL ".join(parts))
    # Village names (third-party data) to codes: "伊山镇东湖村" or "东湖村"; a bare village
    # name that exists in two townships stays unresolved rather than guessed.
    e.create(
        "village_names",
        """
SELECT village_name, min(village_code) AS village_code, count(DISTINCT village_code) AS n
FROM ref_village GROUP BY village_name""",
    )
    town = "regexp_extract(r.village_text, '^(.*?[镇乡])', 1)"
    vill = "regexp_extract(r.village_text, '([^镇乡]*村)', 1)"
    # only the few records that name their village need the (regexp) lookup
    e.create(
        "record_villages",
        f"""
SELECT r.source, r.record_key,
  coalesce(min(tv.village_code), min(CASE WHEN vn.n = 1 THEN vn.village_code END)) AS village_code
FROM records_raw r
LEFT JOIN ref_village tv ON tv.township_name = {town} AND tv.village_name = {vill}
LEFT JOIN village_names vn ON {town} = '' AND vn.village_name = {vill}
WHERE r.village_text IS NOT NULL AND r.village_code IS NULL AND r.group_code IS NULL
GROUP BY r.source, r.record_key
-- one row per record; a township + village name that matches two codes stays unresolved
HAVING count(DISTINCT tv.village_code) <= 1""",
    )
    cols = ", ".join(f"r.{c}" for c in IDENTITY_COLUMNS if c != "village_code")
    e.create(
        "records",
        f"""
SELECT {cols},
  coalesce(r.village_code, substr(r.group_code, 1, 12), rv.village_code) AS village_code,
  CASE WHEN length(r.id_clean) = 15 THEN {f.id_upgraded(e, "r.id_clean")} ELSE r.id_clean END
    AS id_digits,
  'R|' || r.source || '|' || r.record_key AS record_uid
FROM records_raw r
LEFT JOIN record_villages rv ON rv.source = r.source AND rv.record_key = r.record_key""",
    )


def link(e: Engine) -> None:
    uid = f.stable_uid("P", "ps.secret", "id18")
    e.create(
        "person_keys",
        f"SELECT id18, {uid} AS person_uid FROM (SELECT DISTINCT id18 FROM records WHERE id18 IS NOT NULL) k "
        "CROSS JOIN pool_secret ps",
    )
    e.create(
        "cust_person",
        """
SELECT cust_no, min(k.person_uid) AS person_uid
FROM records r JOIN person_keys k ON r.id18 = k.id18
WHERE r.source = 'customer' AND r.cust_no IS NOT NULL
GROUP BY cust_no HAVING count(DISTINCT k.person_uid) = 1""",
    )
    e.create(
        "link_exact",
        """
SELECT r.record_uid, coalesce(k.person_uid, c.person_uid) AS person_uid,
  CASE WHEN k.person_uid IS NOT NULL THEN 'id' ELSE 'cust_no' END AS match_kind
FROM records r
LEFT JOIN person_keys k ON r.id18 = k.id18
LEFT JOIN cust_person c ON r.id18 IS NULL AND r.cust_no = c.cust_no AND r.source <> 'customer'
WHERE k.person_uid IS NOT NULL OR c.person_uid IS NOT NULL""",
    )
    # Persons as Splink candidates: their best-known name, village, birth date, phones.
    e.create(
        "person_phones",
        f"""
SELECT person_uid, phone, row_number() OVER (
  PARTITION BY person_uid ORDER BY source_rank, as_of DESC NULLS LAST, phone) AS rn
FROM (SELECT x.person_uid, r.phone, min({_rank("r.source", PHONE_RANK)}) AS source_rank,
        max(r.as_of) AS as_of
      FROM link_exact x JOIN records r ON r.record_uid = x.record_uid
      WHERE r.phone IS NOT NULL GROUP BY x.person_uid, r.phone) p""",
    )
    e.create(
        "link_candidates",
        f"""
SELECT k.person_uid AS unique_id, n.name, p1.phone, p2.phone AS phone_alt, k.id18 AS id_digits,
  {f.id_birth_date("k.id18")} AS birth_date, n.village_code, {f.id_gender("k.id18")} AS gender
FROM person_keys k
LEFT JOIN (SELECT x.person_uid, min_by(r.name, {_order_key("r.name", NAME_RANK)}) AS name,
             min_by(r.village_code, {_order_key("r.village_code", PLACE_RANK)}) AS village_code
           FROM link_exact x JOIN records r ON r.record_uid = x.record_uid
           GROUP BY x.person_uid) n ON n.person_uid = k.person_uid
LEFT JOIN person_phones p1 ON p1.person_uid = k.person_uid AND p1.rn = 1
LEFT JOIN person_phones p2 ON p2.person_uid = k.person_uid AND p2.rn = 2""",
    )
    e.create(
        "link_queries",
        """
SELECT r.record_uid AS unique_id, r.name, r.phone, CAST(NULL AS STRING) AS phone_alt,
  nullif(r.id_digits, '') AS id_digits, r.birth_date, r.village_code, r.gender
FROM records r LEFT JOIN link_exact x ON x.record_uid = r.record_uid
WHERE x.record_uid IS NULL""",
    )
    if e.count("link_queries") and e.count("link_candidates"):
        linkage.predict(e, "link_queries", "link_candidates", into="link_scores")
    else:
        e.create(
            "link_scores",
            "SELECT CAST(NULL AS STRING) AS record_uid, CAST(NULL AS STRING) AS person_uid, "
            "CAST(NULL AS DOUBLE) AS match_weight, CAST(NULL AS DOUBLE) AS match_probability "
            "FROM records WHERE 1 = 0",
        )
    e.create(
        "link_best",
        f"""
SELECT record_uid, person_uid, match_weight, match_probability,
  CASE WHEN match_probability < {linkage.MATCH_THRESHOLD} THEN 'unmatched'
       WHEN runner_up_p >= {linkage.RUNNER_UP_FLOOR}
        AND match_weight - runner_up_w < {linkage.AMBIGUITY_WEIGHT_GAP} THEN 'ambiguous'
       ELSE 'probabilistic' END AS match_kind
FROM (
  SELECT record_uid, person_uid, match_weight, match_probability,
    lead(match_weight) OVER w AS runner_up_w, lead(match_probability) OVER w AS runner_up_p,
    row_number() OVER w AS rn
  FROM link_scores
  WINDOW w AS (PARTITION BY record_uid ORDER BY match_weight DESC, person_uid)
) s WHERE rn = 1""",
    )
    # A household member in the grid roster whose ID is missing or unusable, and who
    # matches nobody, is still a person (mostly children): one person per such row.
    orphan_uid = f.stable_uid("P", "ps.secret", "r.record_uid")
    e.create(
        "grid_orphans",
        f"""
SELECT r.record_uid, {orphan_uid} AS person_uid, r.birth_date, r.gender
FROM records r CROSS JOIN pool_secret ps
LEFT JOIN link_exact x ON x.record_uid = r.record_uid
LEFT JOIN link_best b ON b.record_uid = r.record_uid AND b.match_kind = 'probabilistic'
WHERE r.source = 'grid' AND x.record_uid IS NULL AND b.record_uid IS NULL""",
    )
    e.create(
        "linked",
        """
SELECT r.*, CASE WHEN x.person_uid IS NOT NULL THEN x.person_uid
                 WHEN b.match_kind = 'probabilistic' THEN b.person_uid
                 ELSE o.person_uid END AS person_uid,
  CASE WHEN o.person_uid IS NOT NULL THEN 'grid_without_id'
       ELSE coalesce(x.match_kind, b.match_kind, 'unmatched') END AS match_kind,
  CASE WHEN x.person_uid IS NOT NULL OR o.person_uid IS NOT NULL THEN CAST(1.0 AS DOUBLE)
       ELSE round(coalesce(b.match_probability, 0.0), 6) END AS match_probability
FROM records r
LEFT JOIN link_exact x ON x.record_uid = r.record_uid
LEFT JOIN link_best b ON b.record_uid = r.record_uid
LEFT JOIN grid_orphans o ON o.record_uid = r.record_uid""",
    )
    e.create(
        "person_source_link",
        """
SELECT source, record_key, person_uid, match_kind, match_probability,
  CASE WHEN id_reason = '' THEN NULL ELSE id_reason END AS id_problem
FROM linked""",
    )


# survivorship order per golden field (id_number: among the records that carry it)
PROVENANCE_FIELDS = {
    "id_number": ("id18", NAME_RANK),
    "name": ("name", NAME_RANK),
    "phone": ("phone", PHONE_RANK),
    "village_code": ("village_code", PLACE_RANK),
    "group_code": ("group_code", PLACE_RANK),
    "address": ("address", ADDRESS_RANK),
}


def _order_key(value: str, rank: tuple[str, ...]) -> str:
    """A text that sorts the best record first: source rank, newest `as_of`, source, key.
    NULL where the record has no value, so `min_by` skips it."""
    newest_first = (
        "CAST(99999999 - (year(as_of) * 10000 + month(as_of) * 100 + day(as_of)) AS STRING)"
    )
    return (
        f"CASE WHEN {value} IS NOT NULL THEN lpad(CAST({_rank('source', rank)} AS STRING), 2, '0') "
        f"|| {newest_first} || source || '|' || record_key END"
    )


def golden_person(e: Engine) -> None:
    # One narrow copy of the linked records, then one window per field: sorting a few
    # columns per person is far cheaper than aggregating strings with min_by.
    e.create(
        "linked_narrow",
        "SELECT person_uid, source, record_key, as_of, id18, name, name_raw, phone, "
        "village_code, group_code, address FROM linked WHERE person_uid IS NOT NULL",
    )
    parts = []
    for field, (value, rank) in PROVENANCE_FIELDS.items():
        # raw_value: the value as the source sent it, where standardize changed more than
        # spacing (a name's invisible characters: cunxin.lib.text.INVISIBLE)
        raw = "name_raw" if field == "name" else "CAST(NULL AS STRING)"
        parts.append(f"""
SELECT person_uid, '{field}' AS field, CAST({value} AS STRING) AS value, source, record_key, as_of,
  {raw} AS raw_value
FROM (SELECT person_uid, {value}, name_raw, source, record_key, as_of, row_number() OVER (
        PARTITION BY person_uid ORDER BY {_rank("source", rank)}, as_of DESC, source, record_key) AS rn
      FROM linked_narrow WHERE {value} IS NOT NULL) t
WHERE rn = 1""")
    e.create("person_field_provenance", " UNION ALL ".join(parts))
    e.create(
        "best_fields",
        "SELECT person_uid, "
        + ", ".join(
            f"max(CASE WHEN field = '{f}' THEN value END) AS {f}_value" for f in PROVENANCE_FIELDS
        )
        + " FROM person_field_provenance GROUP BY person_uid",
    )
    # the grid row that places a person in a household: the most recent one
    e.create(
        "person_grid",
        """
SELECT * FROM (
  SELECT l.person_uid, g.household_no, g.relation_to_head, g.grid_code, g.education,
    g.occupation, g.industry, g.registration, g.longitude, g.latitude, g.record_key,
    row_number() OVER (PARTITION BY l.person_uid ORDER BY g.collected_date DESC NULLS LAST,
                       g.record_key) AS rn
  FROM linked l JOIN std_grid g ON l.source = 'grid' AND g.record_key = l.record_key
  WHERE l.person_uid IS NOT NULL AND g.household_no IS NOT NULL) t WHERE rn = 1""",
    )
    hh_uid = f.stable_uid("H", "ps.secret", "g.household_no")
    e.create(
        "person",
        f"""
SELECT k.person_uid,
  CASE WHEN g.household_no IS NOT NULL THEN {hh_uid} END AS household_uid,
  k.id18 AS id_number, b.name_value AS name,
  CASE WHEN k.id18 IS NOT NULL THEN {f.id_gender("k.id18")} ELSE o.gender END AS gender,
  CASE WHEN k.id18 IS NOT NULL THEN {f.id_birth_date("k.id18")} ELSE o.birth_date END AS birth_date,
  b.phone_value AS phone,
  coalesce(b.village_code_value, substr(b.group_code_value, 1, 12)) AS village_code,
  b.group_code_value AS group_code, b.address_value AS address, g.relation_to_head,
  g.household_no, cnt.n AS source_records
FROM (SELECT id18, person_uid FROM person_keys
      UNION ALL SELECT CAST(NULL AS STRING) AS id18, person_uid FROM grid_orphans) k
LEFT JOIN grid_orphans o ON o.person_uid = k.person_uid
LEFT JOIN best_fields b ON b.person_uid = k.person_uid
LEFT JOIN person_grid g ON g.person_uid = k.person_uid
CROSS JOIN pool_secret ps
LEFT JOIN (SELECT person_uid, count(*) AS n FROM linked WHERE person_uid IS NOT NULL
           GROUP BY person_uid) cnt ON cnt.person_uid = k.person_uid""",
    )


def households(e: Engine) -> None:
    e.create(
        "household",
        """
SELECT m.household_uid, m.household_no, m.head_person_uid, hp.name AS head_name,
  coalesce(hp.village_code, m.village_code) AS village_code,
  coalesce(hp.group_code, m.group_code) AS group_code,
  coalesce(hg.grid_code, m.grid_code) AS grid_code, m.member_count,
  hp.address, hg.longitude, hg.latitude, hg.industry, m.adult_count
FROM (
  SELECT p.household_uid, min(p.household_no) AS household_no,
    -- one head (the smallest uid if the roster names two), whose fields describe the household
    min(CASE WHEN p.relation_to_head IN ('户主', '本人') THEN p.person_uid END) AS head_person_uid,
    min(p.village_code) AS village_code, min(p.group_code) AS group_code,
    min(g.grid_code) AS grid_code, count(*) AS member_count,
    CAST(sum(CASE WHEN p.birth_date <= DATE '2008-11-28' THEN 1 ELSE 0 END) AS BIGINT)
      AS adult_count
  FROM person p JOIN person_grid g ON g.person_uid = p.person_uid
  WHERE p.household_uid IS NOT NULL
  GROUP BY p.household_uid) m
LEFT JOIN person hp ON hp.person_uid = m.head_person_uid
LEFT JOIN person_grid hg ON hg.person_uid = m.head_person_uid""",
    )


def relationships(e: Engine) -> None:
    role = f"CASE trim(relation_to_head) {_in(RELATION_ROLE)} ELSE 'other' END"
    pair = " ".join(
        f"WHEN a.role = '{ra}' AND b.role = '{rb}' THEN '{rel}'"
        for (ra, rb), rel in PAIR_RELATION.items()
    )
    e.create(
        "person_role",
        f"SELECT person_uid, household_uid, {role} AS role FROM person WHERE household_uid IS NOT NULL",
    )
    e.create(
        "relationship_edge",
        f"""
SELECT a.person_uid, b.person_uid AS related_person_uid,
  CASE {pair} ELSE 'household' END AS relation, 'grid' AS source
FROM person_role a JOIN person_role b
  ON a.household_uid = b.household_uid AND a.person_uid <> b.person_uid""",
    )


def profiles(e: Engine) -> None:
    age = (
        f"CAST(floor((year({f.REFERENCE_DATE}) * 10000 + month({f.REFERENCE_DATE}) * 100 "
        f"+ day({f.REFERENCE_DATE}) - (year(p.birth_date) * 10000 + month(p.birth_date) * 100 "
        f"+ day(p.birth_date))) / 10000) AS INTEGER)"
    )
    e.create(
        "profile_basic",
        f"""
SELECT p.person_uid, p.household_uid, p.name, p.gender, p.birth_date, {age} AS age,
  p.village_code, p.group_code, p.address, p.relation_to_head, g.education, g.occupation,
  g.industry, g.registration, h.member_count AS household_size,
  CASE WHEN sp.n > 0 THEN true ELSE false END AS has_spouse,
  coalesce(ch.n, 0) AS children
FROM person p
LEFT JOIN person_grid g ON g.person_uid = p.person_uid
LEFT JOIN household h ON h.household_uid = p.household_uid
LEFT JOIN (SELECT person_uid, count(*) AS n FROM relationship_edge WHERE relation = 'spouse'
           GROUP BY person_uid) sp ON sp.person_uid = p.person_uid
LEFT JOIN (SELECT person_uid, count(*) AS n FROM relationship_edge WHERE relation = 'child'
           GROUP BY person_uid) ch ON ch.person_uid = p.person_uid""",
    )

    def by_person(source: str, select: str, where: str = "") -> str:
        # sums as BIGINT on every engine (DuckDB would give HUGEINT)
        select = re.sub(
            r"sum\(((?:[^()]|\([^()]*\))*)\) AS (\w+)",
            lambda m: (
                f"CAST(sum({m[1]}) AS {'DECIMAL(20, 2)' if m[2] == 'area' else 'BIGINT'}) AS {m[2]}"
            ),
            select,
        )
        return f"""
(SELECT l.person_uid, {select}
 FROM linked l JOIN std_{source} s ON l.source = '{source}' AND s.record_key = l.record_key
 WHERE l.person_uid IS NOT NULL {where} GROUP BY l.person_uid)"""

    e.create(
        "profile_assets",
        f"""
SELECT p.person_uid,
  coalesce(d.accounts, 0) AS deposit_accounts, coalesce(d.balance_fen, 0) AS deposit_balance_fen,
  coalesce(d.avg_fen, 0) AS deposit_avg_12m_fen,
  coalesce(r.properties, 0) AS property_count, coalesce(r.area, 0) AS property_area_m2,
  coalesce(r.value_fen, 0) AS property_value_fen,
  coalesce(l.balance_fen, 0) AS loan_balance_fen,
  fc.assets_fen AS household_assets_fen, fc.liabilities_fen AS household_liabilities_fen
FROM person p
LEFT JOIN {by_person("deposit", "count(*) AS accounts, sum(coalesce(s.balance_fen, 0)) AS balance_fen, sum(coalesce(s.avg_balance_12m_fen, 0)) AS avg_fen", "AND coalesce(s.status, '') <> '销户'")} d
  ON d.person_uid = p.person_uid
LEFT JOIN {by_person("real_estate", "count(*) AS properties, sum(coalesce(s.area_m2, 0)) AS area, sum(coalesce(s.appraised_value_fen, 0)) AS value_fen")} r
  ON r.person_uid = p.person_uid
LEFT JOIN {by_person("loan", "sum(coalesce(s.balance_fen, 0)) AS balance_fen", "AND s.status IN ('正常', '逾期')")} l
  ON l.person_uid = p.person_uid
LEFT JOIN {by_person("farmer_credit", "max_by(s.assets_fen, coalesce(CAST(s.rating_date AS STRING), '') || s.record_key) AS assets_fen, max_by(s.liabilities_fen, coalesce(CAST(s.rating_date AS STRING), '') || s.record_key) AS liabilities_fen")} fc
  ON fc.person_uid = p.person_uid""",
    )
    e.create(
        "profile_income",
        f"""
SELECT p.person_uid,
  coalesce(pr.amount_fen, 0) AS payroll_12m_fen, pr.employer,
  fc.income_fen AS household_income_fen, fc.main_industry,
  coalesce(eb.txn_count, 0) AS ebank_txn_count_12m, coalesce(eb.txn_fen, 0) AS ebank_txn_amount_12m_fen,
  coalesce(en.companies, 0) AS enterprises, coalesce(en.capital_fen, 0) AS enterprise_capital_fen,
  ss.contribution_base_fen
FROM person p
LEFT JOIN {by_person("payroll", "sum(coalesce(s.amount_12m_fen, 0)) AS amount_fen, max_by(s.employer, lpad(CAST(coalesce(s.amount_12m_fen, 0) AS STRING), 20, '0') || s.record_key) AS employer")} pr
  ON pr.person_uid = p.person_uid
LEFT JOIN {by_person("farmer_credit", "max_by(s.annual_income_fen, coalesce(CAST(s.rating_date AS STRING), '') || s.record_key) AS income_fen, max_by(s.main_industry, coalesce(CAST(s.rating_date AS STRING), '') || s.record_key) AS main_industry")} fc
  ON fc.person_uid = p.person_uid
LEFT JOIN {by_person("ebank", "sum(coalesce(s.txn_count_12m, 0)) AS txn_count, sum(coalesce(s.txn_amount_12m_fen, 0)) AS txn_fen")} eb
  ON eb.person_uid = p.person_uid
LEFT JOIN {by_person("enterprise", "count(*) AS companies, sum(coalesce(s.registered_capital_fen, 0)) AS capital_fen", "AND coalesce(s.status, '') = '存续'")} en
  ON en.person_uid = p.person_uid
LEFT JOIN {by_person("social_security", "max(s.contribution_base_fen) AS contribution_base_fen")} ss
  ON ss.person_uid = p.person_uid""",
    )
    e.create(
        "risk_flag",
        """
SELECT l.person_uid,
  CASE s.list_type WHEN '黑名单' THEN 'black' WHEN '灰名单' THEN 'grey'
       WHEN '失信被执行人' THEN 'court_defaulter' ELSE 'other' END AS flag,
  s.reason, s.listed_date, s.origin, s.record_key
FROM linked l JOIN std_blackgrey s ON l.source = 'blackgrey' AND s.record_key = l.record_key
WHERE l.person_uid IS NOT NULL
UNION ALL
-- a list entry that could not be tied to one person still flags every plausible
-- candidate as "possible_…", so that nobody listed slips through to a credit grant
SELECT c.person_uid,
  'possible_' || CASE s.list_type WHEN '黑名单' THEN 'black' WHEN '灰名单' THEN 'grey'
       WHEN '失信被执行人' THEN 'court_defaulter' ELSE 'other' END AS flag,
  s.reason, s.listed_date, s.origin, s.record_key
FROM linked l JOIN std_blackgrey s ON l.source = 'blackgrey' AND s.record_key = l.record_key
JOIN link_scores c ON c.record_uid = l.record_uid AND c.match_probability >= 0.5
WHERE l.person_uid IS NULL""",
    )
    e.create(
        "profile_credit",
        f"""
SELECT p.person_uid,
  coalesce(ln.loans, 0) AS loans, coalesce(ln.total_fen, 0) AS loans_total_fen,
  coalesce(ln.settled, 0) AS loans_settled, coalesce(ln.current, 0) AS loans_current,
  coalesce(ln.max_overdue, 0) AS max_overdue_days, coalesce(ln.bad, 0) > 0 AS has_bad_loan,
  sc.granted_fen AS sunshine2017_granted_fen, sc.rating AS sunshine2017_rating,
  fc.rating AS farmer_credit_rating,
  coalesce(rf.black, false) AS blacklisted, coalesce(rf.grey, false) AS greylisted,
  coalesce(rf.court, false) AS court_defaulter
FROM person p
LEFT JOIN {by_person("loan", "count(*) AS loans, sum(coalesce(s.amount_fen, 0)) AS total_fen, sum(CASE WHEN s.status = '结清' THEN 1 ELSE 0 END) AS settled, sum(CASE WHEN s.status IN ('正常', '逾期') THEN 1 ELSE 0 END) AS current, max(coalesce(s.max_overdue_days, 0)) AS max_overdue, sum(CASE WHEN s.status = '核销' OR coalesce(s.max_overdue_days, 0) > 90 THEN 1 ELSE 0 END) AS bad")} ln
  ON ln.person_uid = p.person_uid
LEFT JOIN {by_person("sunshine2017", "max(s.granted_amount_fen) AS granted_fen, max_by(s.rating, coalesce(CAST(s.granted_date AS STRING), '') || s.record_key) AS rating")} sc
  ON sc.person_uid = p.person_uid
LEFT JOIN {by_person("farmer_credit", "max_by(s.credit_rating, coalesce(CAST(s.rating_date AS STRING), '') || s.record_key) AS rating")} fc
  ON fc.person_uid = p.person_uid
LEFT JOIN (SELECT person_uid, bool_or(flag = 'black') AS black, bool_or(flag = 'grey') AS grey,
                  bool_or(flag = 'court_defaulter') AS court
           FROM risk_flag GROUP BY person_uid) rf ON rf.person_uid = p.person_uid""",
    )


def tags(e: Engine) -> None:
    """Long table person_uid, family, tag: one row per tag a person carries."""
    wan = 1_000_000  # fen in 1万元
    parts = {
        "gender": "CASE gender WHEN 'M' THEN '男' WHEN 'F' THEN '女' END",
        "age": "CASE WHEN age < 18 THEN '未成年' WHEN age <= 30 THEN '18-30岁' WHEN age <= 45 "
        "THEN '31-45岁' WHEN age <= 60 THEN '46-60岁' WHEN age <= 65 THEN '61-65岁' ELSE '65岁以上' END",
        "education": "education",
        "occupation": "occupation",
        "industry": "industry",
        "address": "village_code",
        "registration": "registration",
        "related_persons": "CASE WHEN has_spouse AND children > 0 THEN '有配偶有子女' "
        "WHEN has_spouse THEN '有配偶' WHEN children > 0 THEN '有子女' ELSE '无直系亲属在户' END",
    }
    selects = [
        f"SELECT person_uid, '{fam}' AS family, CAST({expr} AS STRING) AS tag FROM profile_basic"
        for fam, expr in parts.items()
    ]
    selects += [
        "SELECT person_uid, 'contact', CASE WHEN phone IS NULL THEN '无手机号' ELSE '有手机号' END FROM person",
        f"""SELECT person_uid, 'deposit', CASE WHEN deposit_accounts = 0 THEN '无存款'
            WHEN deposit_balance_fen < {wan} THEN '存款1万以下' WHEN deposit_balance_fen < {5 * wan}
            THEN '存款1-5万' WHEN deposit_balance_fen < {20 * wan} THEN '存款5-20万'
            ELSE '存款20万以上' END FROM profile_assets""",
        """SELECT person_uid, 'loan', CASE WHEN has_bad_loan THEN '有不良贷款'
            WHEN max_overdue_days > 0 THEN '曾逾期' WHEN loans_current > 0 THEN '在贷'
            WHEN loans > 0 THEN '已结清' ELSE '无贷款' END FROM profile_credit""",
        """SELECT person_uid, 'ebank', CASE WHEN ebank_txn_count_12m >= 12 THEN '电子银行活跃'
            ELSE '电子银行用户' END FROM profile_income
           WHERE person_uid IN (SELECT person_uid FROM linked WHERE source = 'ebank')""",
        "SELECT person_uid, 'payroll', '代发客户' FROM profile_income WHERE payroll_12m_fen > 0",
        "SELECT person_uid, 'evaluation', '未评议' FROM person",
        """SELECT l.person_uid, 'social_security', min(s.insurance_type) FROM linked l
           JOIN std_social_security s ON l.source = 'social_security' AND s.record_key = l.record_key
           WHERE l.person_uid IS NOT NULL GROUP BY l.person_uid""",
        "SELECT person_uid, 'real_estate', '有房产' FROM profile_assets WHERE property_count > 0",
        """SELECT DISTINCT person_uid, 'risk', CASE flag WHEN 'black' THEN '黑名单'
            WHEN 'grey' THEN '灰名单' WHEN 'court_defaulter' THEN '失信被执行人'
            WHEN 'possible_black' THEN '疑似黑名单' WHEN 'possible_grey' THEN '疑似灰名单'
            WHEN 'possible_court_defaulter' THEN '疑似失信被执行人' ELSE '其他' END
           FROM risk_flag""",
    ]
    e.create(
        "person_tag",
        "SELECT person_uid, family, tag FROM ("
        + " UNION ALL ".join(selects)
        + ") t WHERE tag IS NOT NULL",
    )


def features(e: Engine) -> None:
    """One row per adult person: model inputs, and the loan-history label where known.

    The label (`label_bad`: any loan written off or more than 90 days overdue) is for the
    scorecard. The features never read loan outcomes directly, but the black list is
    partly a consequence of bad loans: a scorecard trained on this label must leave the
    black/grey/court flags out (they are hard stops in policy, not model inputs).
    """
    e.create(
        "features",
        """
SELECT b.person_uid, b.household_uid, b.village_code, b.age, b.gender, b.education,
  b.occupation, b.industry, b.registration, b.household_size, b.has_spouse, b.children,
  a.deposit_balance_fen, a.deposit_avg_12m_fen, a.property_count, a.property_value_fen,
  a.household_assets_fen, a.household_liabilities_fen,
  i.payroll_12m_fen, i.household_income_fen, i.ebank_txn_count_12m, i.enterprises,
  i.contribution_base_fen IS NOT NULL AS has_social_security,
  c.sunshine2017_granted_fen, c.farmer_credit_rating,
  c.blacklisted, c.greylisted, c.court_defaulter,
  c.loans > 0 AS has_loan_history,
  CASE WHEN c.loans > 0 THEN c.has_bad_loan END AS label_bad
FROM profile_basic b
JOIN profile_assets a ON a.person_uid = b.person_uid
JOIN profile_income i ON i.person_uid = b.person_uid
JOIN profile_credit c ON c.person_uid = b.person_uid
WHERE b.age >= 18""",
    )


OUTPUT_TABLES = {
    # table: its natural key (files are written unsorted for speed; sort on read)
    "person": "person_uid",
    "household": "household_uid",
    "person_source_link": "source, record_key",
    "person_field_provenance": "person_uid, field",
    "rejects": "source, stage, file, line, record_key",
    "person_tag": "person_uid, family, tag",
    "profile_basic": "person_uid",
    "profile_assets": "person_uid",
    "profile_income": "person_uid",
    "profile_credit": "person_uid",
    "relationship_edge": "person_uid, related_person_uid",
    "risk_flag": "person_uid, flag, record_key",
    "features": "person_uid",
}

__all__ = ["OUTPUT_TABLES", "SPECS", "run"]
