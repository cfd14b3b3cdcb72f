"""The data pool (数据池): landing, standardize, link identities, golden persons,
households, tags, 360 profiles, relationships and features, as Parquet files, on DuckDB
or Spark through one engine interface (`engine/`).

No Django import anywhere below this package: a pool is built by `cunxin pool build` or a
Spark job, and reaches the app only through `cunxin.pool.publish` (the app side, which
loads a built pool into the operational database)."""
