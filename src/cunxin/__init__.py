"""村信 cunxin: whole-village credit granting for rural commercial banks.

Two sides of one line (checked by the import contracts in pyproject.toml):

- No Django: `lib` (ID numbers, masking, crypto, geo, images), `datapool` (the data pool on
  DuckDB or Spark), `credit` (the scorecard and the credit rule engine, over plain data),
  `synth` (the synthetic county). They run in a Spark job or a script as well as in the app.
- Django, in one direction from the bottom up: `audit` (the hash-chained trail), `jobs`
  (background work), `org` and `pool` (the bank and its customers; `org.scope` decides who
  sees what of both), `evaluation` (评议), `visits` (走访), `decisions` (授信), `project`
  (settings, URLs, the pages that span every stage), `cli`.
"""
