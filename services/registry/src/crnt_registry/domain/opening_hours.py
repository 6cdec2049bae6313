"""Opening hours in OpenStreetMap's ``opening_hours`` syntax, checked with a sentence a person
can act on."""

import re

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before

# The stub of opening-hours-py does not declare ParserError.
from opening_hours import OpeningHours, ParserError  # type: ignore[attr-defined]

# OpenStreetMap opening_hours: a first pass that names the usual mistakes in a sentence, then
# the real parser (opening-hours-py) for the rest, e.g. the times of 'Mo-Fr 25:00-26:00'.
_OSM_WORDS = frozenset(
    [
        "Mo",
        "Tu",
        "We",
        "Th",
        "Fr",
        "Sa",
        "Su",
        "PH",
        "SH",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "off",
        "closed",
        "open",
        "unknown",
        "week",
        "easter",
        "sunrise",
        "sunset",
        "dawn",
        "dusk",
    ]
)
_OSM_TOKEN = re.compile(
    r"\s+|(?P<time>\d{1,2}:\d{2})|(?P<always>24/7)|(?P<word>[A-Za-z]+)|\d+|[,\-+\[\]/:]"
)
_OSM_COMMENT = re.compile(r'"[^"]*"')


def validate_horaires(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("opening hours are empty: leave the field out instead")
    without_comments = _OSM_COMMENT.sub(" ", text)
    if '"' in without_comments:
        raise ValueError('opening hours have an unclosed comment (a lone ")')
    for rule in re.split(r";|\|\|", without_comments):
        if not rule.strip():
            raise ValueError(f"opening hours '{text}' have an empty rule between separators")
        position = 0
        while position < len(rule):
            match = _OSM_TOKEN.match(rule, position)
            if match is None:
                raise ValueError(
                    f"opening hours: unexpected '{rule[position]}' in '{rule.strip()}'; use the"
                    " OpenStreetMap syntax, e.g. 'Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00'"
                )
            if match["word"] and match["word"] not in _OSM_WORDS:
                raise ValueError(
                    f"opening hours: '{match['word']}' is not an OpenStreetMap keyword; days are"
                    " Mo Tu We Th Fr Sa Su, public holidays PH, e.g. 'Mo-Fr 09:00-17:00'"
                )
            if match["time"]:
                hours, minutes = (int(part) for part in match["time"].split(":"))
                if hours > 48 or minutes > 59:
                    raise ValueError(f"opening hours: {match['time']} is not a time of day")
            position = match.end()
    try:
        OpeningHours(text)
    except ParserError as error:
        found = re.search(r"--> \d+:(\d+)", str(error))
        column = int(found[1]) if found else 1
        raise ValueError(
            f"opening hours '{text}' are not in the OpenStreetMap syntax from character {column}"
            f" ('{text[column - 1 : column + 11]}'): times go from 00:00 to 24:00 (a closing time"
            " up to 48:00 past midnight), e.g. 'Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00'"
        ) from error
    return text
