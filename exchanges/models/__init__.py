from .lists import ListRow, ListState, MonthlyList, Movement, Sex, Status  # noqa: F401
