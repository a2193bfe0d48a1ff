from enum import StrEnum


class OrphanReportRowsItemKind(StrEnum):
    BASE = "base"
    NOT_FOUND = "not_found"

    def __str__(self) -> str:
        return str(self.value)
