"""Credit decisions (授信), pool side; imports no Django.

`scorecard.py` trains and evaluates the scorecard behind the model amount (模型额度) and
keeps it as data (JSON, no pickle); `scoring.py` turns that JSON into SQL and scores the
pool on DuckDB or Spark; `report.py` renders the model report (HTML). `policy.py` and
`decide.py` hold the credit policy as data with its rule engine.
"""
