"""Errors of the data pool. A `PoolInputError` is the user's to fix (a missing folder, a
wrong flag) and the CLI prints it on one line; `PoolSQLError` carries the failing step's
table name and SQL."""


class PoolError(Exception):
    pass


class PoolInputError(PoolError):
    """A problem with what the user asked for or supplied; shown without a traceback."""


class PoolSQLError(PoolError):
    def __init__(self, engine: str, table: str, sql: str, cause: Exception):
        self.engine, self.table, self.sql, self.cause = engine, table, sql, cause
        super().__init__(
            f"[{engine}] step building table {table!r} failed: {cause}\n--- SQL ---\n{sql}"
        )
