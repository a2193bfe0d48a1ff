from enum import StrEnum


class PlanChangedEventType(StrEnum):
    PLAN_CHANGED = "plan.changed"

    def __str__(self) -> str:
        return str(self.value)
