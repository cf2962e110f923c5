"""One line and the documented exit code for what went wrong outside the input:
a database that is down, unwritable or misnamed, a missing driver, a bug."""

import sys

from vigil.exitcodes import ExitCode

#: Database drivers an extra provides, by the module SQLAlchemy imports for them.
DRIVER_EXTRAS = {"psycopg": "postgres"}


def describe_failure(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one line to print for an exception no verb handled."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        extra = DRIVER_EXTRAS.get(exc.name.split(".")[0])
        hint = f"pip install 'vigil[{extra}]'" if extra else f"pip install {exc.name}"
        return ExitCode.DEPENDENCY_UNAVAILABLE, f"{exc.name} is not installed: {hint}"
    database = _database_failure(exc)
    if database is not None:
        return database
    name = type(exc).__name__
    return (
        ExitCode.ERROR,
        f"internal error: {name}: {_first_line(exc)} (-vv shows more)",
    )


def _database_failure(exc: BaseException) -> tuple[int, str] | None:
    if "sqlalchemy" not in sys.modules:  # no database was touched
        return None
    from sqlalchemy import exc as db

    if isinstance(exc, db.NoSuchModuleError):
        return (
            ExitCode.DEPENDENCY_UNAVAILABLE,
            f"database driver missing: {_first_line(exc)}",
        )
    if isinstance(exc, db.ArgumentError):
        return (
            ExitCode.USAGE,
            f"bad database URL (VIGIL_DATABASE_URL): {_first_line(exc)}",
        )
    if isinstance(exc, db.OperationalError):
        cause = exc.orig if exc.orig is not None else exc
        return ExitCode.ERROR, f"the database cannot be used: {_first_line(cause)}"
    if isinstance(exc, db.DBAPIError | db.SQLAlchemyError):
        return ExitCode.ERROR, f"database error: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
