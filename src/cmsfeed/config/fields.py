"""What a value in config.toml must look like: the field types the sections are made of.
No I/O. Each validator's message says what was expected, and the loader (config.loading) puts
the file and key in front of it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

_SLUG = r"^[a-z0-9][a-z0-9-]*$"
_LANGUAGE = r"^[a-z]{2,3}$"


def _string_list(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PydanticCustomError("string_list", "expected a list of strings")
    return value


def _time_zone(value: object) -> object:
    if not isinstance(value, str):
        raise PydanticCustomError("time_zone", "expected an IANA time zone name such as 'UTC'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "expected an IANA time zone name such as 'Asia/Almaty'"
        ) from None
    return value


def _absolute_url(value: object) -> object:
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
        raise PydanticCustomError("url", "expected an absolute http(s) URL")
    return value


def _bounce_address(value: object) -> object:
    if not isinstance(value, str) or not re.match(r"^[^@\s+]+@[^@\s]+$", value):
        raise PydanticCustomError(
            "bounce_address", "expected an address such as bounces@example.org (without '+')"
        )
    return value


StringList = Annotated[list[str], BeforeValidator(_string_list)]
TimeZoneName = Annotated[str, BeforeValidator(_time_zone)]
AbsoluteUrl = Annotated[str, BeforeValidator(_absolute_url)]
BounceAddress = Annotated[str, BeforeValidator(_bounce_address)]
Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]
LanguageCode = Annotated[str, Field(pattern=_LANGUAGE)]


class Section(BaseModel):
    """A table of config.toml: unknown keys are errors, values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# A text the reader sees in their language: one string for every language, or a table with one
# per language, `{ en = "…", ru = "…" }`, that must name every language of site.languages.
PerLanguageText = str | dict[LanguageCode, str]


_TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
TimeOfDay = Annotated[str, Field(pattern=_TIME_OF_DAY)]


def _networks(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PydanticCustomError("networks", "expected a list of IP addresses or networks")
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise PydanticCustomError(
                "networks",
                "expected IP addresses or networks such as '127.0.0.1' or '10.0.0.0/8', "
                "got {entry}",
                {"entry": repr(entry)},
            ) from None
    return value


NetworkList = Annotated[list[str], BeforeValidator(_networks)]
