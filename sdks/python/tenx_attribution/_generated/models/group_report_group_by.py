from enum import StrEnum


class GroupReportGroupBy(StrEnum):
    BOTREASON = "botReason"
    BROWSER = "browser"
    CITY = "city"
    COUNTRY = "country"
    DAY = "day"
    DEVICE = "device"
    LINK = "link"
    OS = "os"
    REFERRER = "referrer"
    REGION = "region"
    SEGMENT = "segment"
    SOURCE = "source"
    SUB1 = "sub1"
    SUB2 = "sub2"
    SUB3 = "sub3"
    SUB4 = "sub4"
    SUB5 = "sub5"
    VARIANT = "variant"

    def __str__(self) -> str:
        return str(self.value)
