"""Exit codes, one enum for every command. A match is a result, not an error."""

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    DEPENDENCY_UNAVAILABLE = 3
    MATCH_FOUND = 10  # only with --exit-code: something matched a hash list
    AUDIT_BROKEN = 11  # vigil audit verify: the chain does not hold
    INTERRUPTED = 130
