"""Reading the values real data writes: numbers with their local separators, percentages, ranges, currencies and
partial dates. Pure functions shared by the FtM and BODS importers; each raises `UnreadableValue` with a message
that quotes the value, and the importer adds the property and the entity.

The choices (docs/events.md, "Values"):
- A range ("25-50", "25 – 50 %", BODS minimum/maximum) reads as its lower bound: the share the source guarantees.
  A bound the source states as exclusive ("more than 25%") reads as the bound itself. A percentage range that
  starts at 0, or a bound of 0 ("more than 0%"), guarantees nothing, so like a share with only an upper bound it
  gives no percentage.
- Separators: with both "." and ",", the last one is the decimal mark ("1.000.000,50", "1,000,000.50"); a single
  kind of separator that repeats, or that is followed by exactly three digits after one to three digits in an
  amount, groups thousands ("1.000.000", "1,000"); otherwise it is the decimal mark ("25,5", "1500000.000"). In a
  percentage a lone separator is always the decimal mark ("12,500" is 12.5).
- Currencies: ISO 4217 codes in any case, English and German names ("Euro", "US dollar") and the common symbols.
- Dates: a year or a year-month is a period. A start date takes its first day, an end date its last.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from functools import cache, lru_cache


class UnreadableValue(ValueError):
    """A value that cannot be read as what its property holds; the message quotes it."""


_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']+")  # spaces, no-break and thin spaces, Swiss apostrophe groups
_RANGE = re.compile(r"^(.+?)\s*(?:-|–|—|\bto\b|\bbis\b)\s*(.+)$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*$|^[.,]\d+$")
_STRIP = str.maketrans("", "", "%€$£¥")
# "more than 25%" reads as 25 (the stated bound, see the module docstring); "under 25%" cannot be read as a stake.
_LOWER_BOUNDS = ("more than", "at least", "over", "above", "mehr als", "über", ">=", ">", "ca.", "approx.", "~")
# ("bis zu" before "bis": the longer prefix first)
_UPPER_BOUNDS = ("less than", "under", "up to", "below", "at most", "not more than", "no more than", "bis zu", "bis",
                 "unter", "weniger als", "höchstens", "<=", "<")
# "more than 25% but not more than 50%" (the UK register's nature-of-control wording): a range, read like "25-50".
_BOUNDED_RANGE = re.compile(
    r"^(.+?)\s*,?\s*(?:but|and)\s+(?:not more than|not exceeding|less than|at most|up to)\s+(.+)$", re.IGNORECASE)


def read_number(text: str, percentage: bool = False) -> float:
    """One number as written: "1.000.000", "1,000,000.50", "25,5", "50 %", "€ 1 200". A range reads as its
    lower bound (see `read_range`)."""
    low, _ = read_range(text, percentage)
    return low


def read_range(text: str, percentage: bool = False) -> tuple[float, float]:
    """(low, high) of "25-50", "25 – 50%", "25 to 50"; a single number is its own range."""
    cleaned = str(text).strip().translate(_STRIP).strip()
    for prefix in _UPPER_BOUNDS:
        if cleaned.lower().startswith(prefix):
            raise UnreadableValue(f"{text!r} gives only an upper bound")
    for prefix in _LOWER_BOUNDS:
        if cleaned.lower().startswith(prefix):
            cleaned = cleaned[len(prefix):].strip()
            break
    match = _BOUNDED_RANGE.match(cleaned) or _RANGE.match(cleaned)
    if match and not _NUMBER.match(_SPACES.sub("", cleaned)):
        low, high = (_plain_number(part, text, percentage) for part in match.groups())
        if high < low:
            raise UnreadableValue(f"{text!r}: the range ends below its start")
        return low, high
    value = _plain_number(cleaned, text, percentage)
    return value, value


def _plain_number(part: str, original: str, percentage: bool) -> float:
    value = _digits_value(part, original, percentage)
    if not math.isfinite(value):  # 400 digits read as a float are infinity: no amount anyone stated
        raise UnreadableValue(f"{original!r} is too large a number")
    return value


def _digits_value(part: str, original: str, percentage: bool) -> float:
    digits = _SPACES.sub("", part.translate(_STRIP))
    if not _NUMBER.match(digits):
        raise UnreadableValue(f"{original!r} is not a number")
    if "." in digits and "," in digits:
        decimal = "." if digits.rfind(".") > digits.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        return float(digits.replace(thousands, "").replace(decimal, "."))
    for mark in (".", ","):
        count = digits.count(mark)
        if count > 1:
            return float(digits.replace(mark, ""))
        if count == 1:
            whole, fraction = digits.split(mark)
            # A group of thousands follows one to three digits: "1.500" is 1500, "1500000.000" is 1500000.
            if not percentage and len(fraction) == 3 and whole not in ("", "0") and len(whole) <= 3:
                return float(whole + fraction)
            return float(f"{whole or '0'}.{fraction}")
    return float(digits)


def read_percentage(text: str) -> float:
    value, high = read_range(text, percentage=True)
    if not 0.0 <= value <= 100.0:
        raise UnreadableValue(f"{text!r} is not a percentage from 0 to 100")
    if value == 0.0 and str(text).strip().translate(_STRIP).strip().lower().startswith(_LOWER_BOUNDS):
        # "more than 0%" read as its bound would be a stake of 0%: the claim is only that there is one
        raise UnreadableValue(f"{text!r} is a bound of 0, so it guarantees no stake: read like a share with no "
                              f"percentage")
    if value == 0.0 < high:
        # read as its lower bound, "0-25%" would be a stake of 0%: the claim is only that the share is at most 25%
        raise UnreadableValue(f"{text!r} starts at 0, so it guarantees no stake: read like a share with only an "
                              f"upper bound")
    return value


def read_share(text: str) -> tuple[float | None, float | None]:
    """(at least, at most) of a share in percent as real data writes it: "25%" (25, 25), "25-50" (25, 50),
    "more than 25%" (25, None), "under 10%" and "0-10%" (None, 10), "more than 0%" (None, None). A lower bound of 0
    guarantees no stake, so it reads as none (see `read_percentage`); an upper bound caps the stake the engine
    assumes where no percentage is given (`percentage_max`, docs/events.md)."""
    cleaned = str(text).strip().translate(_STRIP).strip()
    for prefix in _UPPER_BOUNDS:
        if cleaned.lower().startswith(prefix):
            return None, _in_percent(_plain_number(cleaned[len(prefix):].strip(), text, True), text)
    low, high = read_range(text, percentage=True)
    if low == high and cleaned.lower().startswith(_LOWER_BOUNDS):  # "more than 25%": no upper bound
        high = None
    low, high = _in_percent(low, text), None if high is None else _in_percent(high, text)
    return (None if low == 0.0 and high != 0.0 else low), high


def _in_percent(value: float, text: str) -> float:
    if not 0.0 <= value <= 100.0:
        raise UnreadableValue(f"{text!r} is not a percentage from 0 to 100")
    return value


# Names and symbols real data uses for a currency, lower case. ISO codes are read directly.
CURRENCY_NAMES: dict[str, str] = {
    "€": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "$": "USD", "us$": "USD", "us dollar": "USD", "us dollars": "USD", "dollar": "USD", "dollars": "USD",
    "usd": "USD", "us-dollar": "USD",
    "£": "GBP", "pound": "GBP", "pounds": "GBP", "pound sterling": "GBP", "british pound": "GBP",
    "¥": "JPY", "yen": "JPY",
    "swiss franc": "CHF", "franken": "CHF", "schweizer franken": "CHF",
    "rouble": "RUB", "ruble": "RUB", "russian ruble": "RUB", "russian rouble": "RUB", "rubel": "RUB",
    "hryvnia": "UAH", "hryvnya": "UAH", "zloty": "PLN", "złoty": "PLN", "forint": "HUF", "krona": "SEK",
    "koruna": "CZK", "lira": "TRY", "turkish lira": "TRY", "yuan": "CNY", "renminbi": "CNY", "rupee": "INR",
}


@cache
def _iso_codes() -> frozenset[str]:
    try:  # babel ships with followthemoney; its list is the ISO 4217 table
        from babel.numbers import list_currencies
        return frozenset(list_currencies())
    except ImportError:  # pragma: no cover - followthemoney depends on babel
        return frozenset(CURRENCY_NAMES.values())


@cache
def _babel_names() -> dict[str, str]:
    names: dict[str, str] = {}
    try:
        from babel.numbers import get_currency_name
        for code in sorted(_iso_codes()):
            for locale in ("en", "de", "fr"):
                names.setdefault(get_currency_name(code, locale=locale).lower(), code)
    except ImportError:  # pragma: no cover
        pass
    return names


def read_currency(text: str) -> str:
    """The ISO 4217 code of "eur", "Euro", "US dollar", "€"."""
    cleaned = " ".join(str(text).split())
    if cleaned.upper() in _iso_codes():
        return cleaned.upper()
    code = CURRENCY_NAMES.get(cleaned.lower()) or _babel_names().get(cleaned.lower())
    if code is None:
        raise UnreadableValue(f"{text!r} is not a currency code or name we know")
    return code


def split_currency(text: str) -> tuple[str, str | None]:
    """An amount written with its currency ("EUR 1,000,000", "1 000 000 EUR", "1.000.000 €"): (the number's text,
    the ISO code); (text, None) when no first or last word is a currency we know."""
    words = str(text).split()
    for index in (0, -1) if len(words) > 1 else ():
        try:
            code = read_currency(words[index])
        except UnreadableValue:
            continue
        rest = words[1:] if index == 0 else words[:-1]
        return " ".join(rest), code
    return str(text), None


def _period(text: str) -> tuple[int, int | None, int | None]:
    day = str(text).strip()[:10]
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", day)
    if not match:
        raise UnreadableValue(f"{text!r} is not a date")
    year, month, dom = (int(part) if part else None for part in match.groups())
    return year, month, dom  # type: ignore[return-value]


def first_day(text: str) -> dt.date:
    """The first day of the period a (partial) date names: 2018 -> 2018-01-01, 2018-05 -> 2018-05-01."""
    year, month, day = _period(text)
    try:
        return dt.date(year, month or 1, day or 1)
    except ValueError:
        raise UnreadableValue(f"{text!r} is not a date") from None


def last_day(text: str) -> dt.date:
    """The last day of the period a (partial) date names: 2018 -> 2018-12-31, 2018-02 -> 2018-02-28."""
    year, month, day = _period(text)
    try:
        if month is None:
            return dt.date(year, 12, 31)
        return dt.date(year, month, day or calendar.monthrange(year, month)[1])
    except ValueError:
        raise UnreadableValue(f"{text!r} is not a date") from None


def is_partial(text: str) -> bool:
    return len(str(text).strip()[:10]) < 10


def read_timestamp(text: str) -> dt.datetime:
    """An FtM/BODS time: UTC when it gives no offset; a bare date is its midnight."""
    value = str(text).strip()
    if "T" not in value:
        return dt.datetime.combine(first_day(value), dt.time(), tzinfo=dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UnreadableValue(f"{text!r} is not a time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# Unicode's format characters (Cf: soft hyphen, zero-width and direction marks...) and its other default-ignorable
# code points (variation selectors, Hangul fillers, tags): nothing a reader sees, so deleted from a name
_INVISIBLE = re.compile("[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
                        "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f"
                        "\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
                        "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # line breaks, tabs, NULs: read as spaces


def clean_name(value: object) -> str | None:
    """A name as a register writes it, without what no reader sees: None for no text or blank text."""
    if not isinstance(value, str):
        return None
    # a lone surrogate (JSON allows "\ud800") is no character: replaced, so that it cannot fail an encoding later;
    # control and format characters (a NUL, a zero-width space) are no part of a name
    text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split()) or None


@lru_cache(maxsize=1 << 16)
def folded_name(name: str | None) -> str:
    """A name as compared: without accents or case, punctuation and symbols as spaces ("MEDTRONIC, INC",
    "Medtronic Inc." and "MEDTRONIC,INC" are one; "AT&T" and "AT & T" too)."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    plain = "".join(" " if unicodedata.category(char)[0] in "PS" else char for char in decomposed
                    if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+Z?)?\s*$")
_DAY_FIRST = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def register_day(text: str, *, iso: bool) -> dt.date | None:
    """A day as a register's CSV writes it: dd/mm/yyyy, and also yyyy-mm-dd (a time of day after it ignored) where
    `iso`; None when the text is no such day, or one outside the dates the contract takes (a year 0204 is a typo)."""
    from schemas.validation import EARLIEST_DATE, LATEST_DATE

    try:
        if iso and (matched := _ISO_DAY.match(text)) is not None:
            day = dt.date(int(matched[1]), int(matched[2]), int(matched[3]))
        elif (matched := _DAY_FIRST.match(text)) is not None:
            day = dt.date(int(matched[3]), int(matched[2]), int(matched[1]))
        else:
            return None
    except ValueError:
        return None
    return day if EARLIEST_DATE <= day <= LATEST_DATE else None
