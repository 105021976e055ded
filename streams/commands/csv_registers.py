"""The CSV registers `coi-risk import` reads, as their publishers write them: ESMA's MiCA registers (one file per
register) and the UK Commons' Register of Members' Financial Interests (one file per category, or an export's
directory of them). How a file is told to be one of them, read (strictly, as UTF-8), and refused in one line when it
is a spreadsheet's re-save of one; the conversions themselves are `schemas.mica` and `schemas.commons`."""

from __future__ import annotations

import argparse
import atexit
import csv
import io
import itertools
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from streams.commands.inputs import compressed_or_binary, refusal

if TYPE_CHECKING:
    from schemas.ftm import ImportReport
    from schemas.mica import Register


def _csv_header(path: Path) -> list[str] | None:
    """The cells of a file's first line read as a CSV header (a byte-order mark allowed), or None."""
    with path.open("rb") as stream:
        head = stream.read(64 * 1024)
    try:
        first = re.split(r"\r\n|\r|\n", head.decode("utf-8-sig", errors="strict" if len(head) < 64 * 1024 else
                                                         "ignore"), maxsplit=1)[0]  # (an old Mac's lines end in CR)
        return next(csv.reader([first]), [])
    except (UnicodeDecodeError, csv.Error):
        return None


def mica_register(path: Path) -> Register | None:
    """The MiCA register whose CSV header the file's first line is, else None."""
    from schemas.mica import register_of

    header = _csv_header(path)
    return register_of(header) if header is not None else None


def commons_register(path: Path) -> bool:
    """Whether the file's first line is the CSV header of a category of the Commons' register of interests."""
    from schemas.commons import is_register

    header = _csv_header(path)
    return header is not None and is_register(header)


_CATEGORY_FILE = re.compile(r"^PublishedInterest-Category_(\d+(?:\.\d+)?)\.csv$")


def commons_export_events(directory: Path, args: argparse.Namespace, report: ImportReport, given: dict) -> Iterator:
    """A whole export of the Commons' register: every category file of the directory, in category order, the
    payments of 1.1 and 1.2 with the employments of 1 they belong to."""
    if args.format not in ("auto", "commons"):
        raise SystemExit(refusal("import", f"{args.file} is a directory: coi-risk import reads one only as an export "
                                           "of the Commons' register of interests (--format auto or commons)"))
    named = sorted(directory.glob("PublishedInterest-Category_*"))
    if not named:
        raise SystemExit(refusal("import", f"{args.file} is a directory: coi-risk import reads one as an export of "
                                           "the Commons' register of interests (its PublishedInterest-Category_*.csv "
                                           "files), and it holds none"))
    files = []
    for file in named:
        category = _CATEGORY_FILE.match(file.name)
        if category is None or not file.is_file():  # "PublishedInterest-Category_7 (1).csv": a second download
            raise SystemExit(refusal("import", f"{file} is not one of the export's category files (named "
                                               "PublishedInterest-Category_<n>.csv): remove or rename it"))
        if not commons_register(file):
            if (unlike := csv_unlike(file)) is not None:
                raise SystemExit(refusal("import", resaved_refusal(str(file), unlike)))
            raise SystemExit(refusal("import", f"{file} is not a category file of the Commons' register of "
                                               "interests: its first line is not its CSV header"))
        files.append((tuple(int(part) for part in category[1].split(".")), file))
    files = [file for _, file in sorted(files)]
    from schemas.commons import company_numbers, normalised

    rows = {file: [normalised(row) for row in csv_rows(file, str(file))] for file in files}  # each file read once
    employments = {row.get("ID", ""): row for file in files if _CATEGORY_FILE.match(file.name)[1] == "1"
                   for row in rows[file]}
    # a company the register gives a number for in one category (a donation) is that company in all of them
    numbers = company_numbers(row for file in files for row in rows[file])
    return itertools.chain.from_iterable(
        commons_file_events(file, args, report, given, rows[file], employments, f"{file.name}: ", numbers,
                            caveat=index == 0)
        for index, file in enumerate(files))


def input_name(file: str) -> str:
    return "standard input" if file == "-" else file


def resaved_refusal(name: str, unlike: tuple[str, str, str]) -> str:
    what, marker, why = unlike
    return f"{name} looks like {what} (its header names {marker}), but {why}: save it as its publisher does, CSV " \
           "in UTF-8 with commas"


def commons_file_events(path: Path, args: argparse.Namespace, report: ImportReport, given: dict,
                        rows: list[dict] | None = None, employments: dict | None = None, where: str = "",
                        numbers: dict | None = None, caveat: bool = True) -> Iterator:
    from schemas.commons import COMMONS_IMPORT_VERSION, EXTRACTOR_NAME as COMMONS_EXTRACTOR, import_commons_interests
    from schemas.ftm import ImportDefaults

    if getattr(args, "referents", False):
        raise SystemExit(refusal("import", "--referents reads FtM entity files, not commons"))
    if getattr(args, "previous", None) is not None:
        raise SystemExit(refusal("import", "--previous reads the earlier snapshot of a MiCA register, not commons (a "
                                           "later export of the register restates each interest under its id)"))
    defaults = ImportDefaults(extractor_name=COMMONS_EXTRACTOR, extractor_version=COMMONS_IMPORT_VERSION, **given)
    read = (lambda: rows) if rows is not None else (lambda: csv_rows(path))
    return import_commons_interests(read, defaults, report, employments, where, numbers, caveat)


# The CSV registers `coi-risk import` reads: a column only each one's header names, and what the file then is
_CSV_REGISTERS = (("ae_competentAuthority", "one of ESMA's MiCA registers"),
                  ("MNIS ID", "a category file of the Commons' register of interests"))


def csv_unlike(path: Path) -> tuple[str, str, str] | None:
    """(what the file looks like, the column that says so, how it is not that CSV as its publisher writes it) for a
    file whose beginning names a register's column but that is a spreadsheet's re-save: a refusal that says so,
    not that the file is no JSON. None otherwise."""
    with path.open("rb") as stream:
        head = stream.read(64 * 1024)
    utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
    text = head.decode("utf-16" if utf16 else "utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    if first.lstrip().startswith(("{", "[")):  # JSON that names a register's column (in a description, say)
        return None
    what = next(((marker, name) for marker, name in _CSV_REGISTERS if marker in first), None)
    if what is None:
        return None
    marker, name = what
    if utf16:
        return name, marker, "it is UTF-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # (not a character the 64 KiB cut in two)
            return name, marker, f"it is not UTF-8 (byte {head[exc.start:exc.start + 1]!r} at byte {exc.start:,})"
    separator = max((";", "\t"), key=first.count)
    if first.count(separator) > first.count(","):
        return name, marker, f"its cells are separated by {separator!r}"
    return None


def mica_events(path: Path, register: Register, args: argparse.Namespace, report: ImportReport,
                given: dict) -> Iterator:
    from schemas.ftm import ImportDefaults
    from schemas.mica import EXTRACTOR_NAME as MICA_EXTRACTOR, MICA_IMPORT_VERSION, PreviousRegisterError, import_mica

    if getattr(args, "referents", False):
        raise SystemExit(refusal("import", "--referents reads FtM entity files, not mica"))
    _refuse_missing_columns(path, register, input_name(args.file))
    defaults = ImportDefaults(extractor_name=MICA_EXTRACTOR, extractor_version=MICA_IMPORT_VERSION, **given)
    previous = None
    if getattr(args, "previous", None) is not None:
        earlier = _earlier_snapshot(args.previous)
        if mica_register(earlier) != register:
            raise SystemExit(refusal("import", f"--previous {args.previous} is not a snapshot of the register "
                                               f"{args.file} is ({register.name}): its header is another's"))
        _refuse_missing_columns(earlier, register, f"--previous {args.previous}")
        previous = lambda: csv_rows(earlier, f"--previous {args.previous}")  # noqa: E731
    events = import_mica(lambda: csv_rows(path), register, defaults, report, previous)
    try:
        first = next(events, None)  # the snapshots' order is checked before any event is written
    except PreviousRegisterError as problem:
        raise SystemExit(refusal("import", f"--previous {args.previous}: {problem}")) from None
    return itertools.chain(() if first is None else (first,), events)


def _refuse_missing_columns(path: Path, register: Register, name: str) -> None:
    """Exit with a refusal when the file's header lacks a column the register is read by (`missing_columns`)."""
    from schemas.mica import missing_columns

    missing = missing_columns(_csv_header(path) or [], register)
    if missing:
        raise SystemExit(refusal("import", f"{name} lacks the column{'s' if len(missing) > 1 else ''} "
                                           f"{', '.join(missing)} of ESMA's {register.name} register (MiCA): its "
                                           "rows would read otherwise (firms by name, not LEI; licences undated); "
                                           "give the file as ESMA publishes it"))


def _earlier_snapshot(name: str) -> Path:
    """The file `--previous` names, to be read twice (its header, then its rows): a pipe (`<(zcat old.csv.gz)`) is
    spooled to a temporary file first; standard input is FILE's, a directory or a compressed file is refused."""
    earlier = Path(name)
    if name == "-":
        raise SystemExit(refusal("import", "--previous -: standard input is FILE's; give the earlier snapshot as a "
                                           "file or a pipe (<(zcat old.csv.gz))"))
    if earlier.is_dir():
        raise SystemExit(refusal("import", f"--previous {name} is a directory, not a register's CSV file"))
    if not earlier.exists():
        raise SystemExit(refusal("import", f"--previous {name}: no such file"))
    if not earlier.is_file():
        with tempfile.NamedTemporaryFile(prefix="coi-risk-previous-", suffix=".csv", delete=False) as spooled:
            shutil.copyfileobj(earlier.open("rb"), spooled)
        atexit.register(Path(spooled.name).unlink, missing_ok=True)
        earlier = Path(spooled.name)
    with earlier.open("rb") as stream:
        if (what := compressed_or_binary(stream.read(16), f"--previous {name}", "import", reads_stdin=False)):
            raise SystemExit(refusal("import", what))
    return earlier


def csv_rows(path: Path, what: str = "the file") -> Iterator[dict]:
    """The rows of a CSV file by column name. ESMA's registers are a few hundred kilobytes of UTF-8: the file is
    decoded whole, so an encoding error is refused before any event is written."""
    from schemas.mica import column_name

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SystemExit(refusal("import", f"{what} is not UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r} at "
                                           f"byte {exc.start:,}); the registers are read as UTF-8, as their "
                                           "publishers write them")) from None
    # strict: a quote out of place stops the reading at its line, where a lenient reader would run on and swallow
    # the rows after it into one cell
    rows = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        # the names as `mica_register` read them: ESMA's columns with any stray spaces around them
        header = rows.fieldnames = [column_name(name) for name in rows.fieldnames or ()]
        if repeated := sorted({name for name in header if name and header.count(name) > 1}):
            raise SystemExit(refusal("import", f"{what}: the CSV header names {', '.join(repeated)} more than once: "
                                               "which "
                                               "column holds what cannot be told"))
        yield from rows
    except csv.Error as exc:
        raise SystemExit(refusal("import", f"{what}: the CSV cannot be read past line {rows.line_num:,}: "
                                           f"{exc}")) from None
