from .extracts import Extract, LateSubmission  # noqa: F401
from .lists import ListRow, ListState, MonthlyList, Movement, Sex, Status  # noqa: F401
from .returns import ReturnArchive, ReturnFile, ReturnRow, ReturnState  # noqa: F401
