"""Spreadsheet formula injection: a cell that starts with one of these characters is run
as a formula by Excel/LibreOffice. Exports prefix it with an apostrophe."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
