"""Linkage quality against a synthetic county's ground truth (RAW/_truth/).

Pairwise precision and recall over the accepted records: two records form a predicted
pair when the pool linked both to the same person, a true pair when the truth says they
are about the same person. Records the pool left unlinked are singletons.
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def linkage_scores(pool_dir: Path, truth_dir: Path) -> dict:
    con = duckdb.connect()
    con.execute(
        f"""
CREATE TABLE j AS
SELECT l.source, l.record_key, l.person_uid, t.person_id
FROM read_parquet('{pool_dir / "person_source_link.parquet"}') l
JOIN read_parquet('{truth_dir / "source_links.parquet"}') t
  ON t.source = l.source AND t.record_key = l.record_key"""
    )
    (records,) = con.execute("SELECT count(*) FROM j").fetchone()
    (unmatched_truth,) = con.execute(
        f"SELECT count(*) FROM read_parquet('{pool_dir / 'person_source_link.parquet'}') l "
        f"ANTI JOIN read_parquet('{truth_dir / 'source_links.parquet'}') t "
        "ON t.source = l.source AND t.record_key = l.record_key"
    ).fetchone()

    def pairs(group_by: str, where: str = "") -> int:
        sql = f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM j {where} GROUP BY {group_by})"
        return int(con.execute(sql).fetchone()[0])

    predicted = pairs("person_uid", "WHERE person_uid IS NOT NULL")
    true = pairs("person_id")
    both = pairs("person_uid, person_id", "WHERE person_uid IS NOT NULL")
    (persons_pool,) = con.execute("SELECT count(DISTINCT person_uid) FROM j").fetchone()
    (persons_true,) = con.execute("SELECT count(DISTINCT person_id) FROM j").fetchone()
    (split,) = con.execute(
        "SELECT count(*) FROM (SELECT person_id FROM j WHERE person_uid IS NOT NULL "
        "GROUP BY person_id HAVING count(DISTINCT person_uid) > 1)"
    ).fetchone()
    (merged,) = con.execute(
        "SELECT count(*) FROM (SELECT person_uid FROM j WHERE person_uid IS NOT NULL "
        "GROUP BY person_uid HAVING count(DISTINCT person_id) > 1)"
    ).fetchone()
    (unlinked,) = con.execute("SELECT count(*) FROM j WHERE person_uid IS NULL").fetchone()
    return {
        "records": records,
        "records_without_truth": unmatched_truth,
        "unlinked_records": unlinked,
        "pairwise_precision": round(both / predicted, 6) if predicted else 1.0,
        "pairwise_recall": round(both / true, 6) if true else 1.0,
        "persons_in_pool": persons_pool,
        "persons_in_truth": persons_true,
        "true_persons_split": split,
        "pool_persons_merging_several": merged,
    }
