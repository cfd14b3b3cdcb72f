"""评议 — back-to-back evaluation by village panels (DESIGN.md §2, §5).

This package starts with the rules, as plain functions over plain data (no database):
the policy and its defaults (`policy`), who may not review whom (`conflict`), how a
round's reviews become a verdict and an amount (`aggregate`), and how consistent a panel
is and which reviewer stands out (`reliability`). The project, panel, round and review
models and their pages build on these.
"""
