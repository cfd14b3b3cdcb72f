"""Credit (授信), pool side: no Django import, plain data in and out.

`modelfile.py` is the scorecard model as JSON (format, reading, checks); `scoring.py`
applies it in numpy and as SQL on DuckDB or Spark (`cunxin model score`); `scorecard.py`
trains and evaluates it (`cunxin model train`); `report.py` renders the model report
(HTML). `policy.py` and `decide.py` are the credit policy as data and its CEL rule engine.

The app side is `cunxin.decisions`: policy versions, decisions and their approval, batch
runs, which call into this package with plain values.
"""
