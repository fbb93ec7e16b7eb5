"""``workflow.copy_lines`` (COPY text built column by column, issue 15) writes, byte for byte,
what the row-by-row version it replaced wrote (kept below verbatim): texts with backslashes,
tabs, line breaks, quotes, ``%`` and control characters, ``\\N`` as a text, raw objects of
different shapes in one block, numbers in ``raw``, messages, blank dates, rows without the
derived facts. That version's output is what PostgreSQL is known to store as the ORM does
(test_validation_equivalence.py::test_copy_stores_what_the_orm_stores)."""

import datetime
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.services import workflow
from exchanges.services.workflow import _copy_escape, _Escaped


def plain_copy_lines(ml, rows, *, block=1000):
    from json.encoder import encode_basestring

    dumps = json.JSONEncoder(ensure_ascii=False).encode
    text = _Escaped(_copy_escape)
    as_json = _Escaped(lambda value: _copy_escape(encode_basestring(value) if isinstance(value, str) else dumps(value)))
    key_json = _Escaped(lambda key: _copy_escape(encode_basestring(key)) + ": ")
    day = _Escaped(lambda value: "\\N" if value is None else value.isoformat())
    pk = str(ml.pk)
    lines = []
    append = lines.append
    for r in rows:
        raw = r["raw"]
        raw_json = "{" + ", ".join([key_json[k] + as_json[v] for k, v in raw.items()]) + "}" if raw else "{}"
        errors, warnings = r["errors"], r["warnings"]
        append(
            f"{pk}\t{r['line_number']}\t{text[r['last_name']]}\t{text[r['first_name']]}\t{day[r['birth_date']]}\t"
            f"{r['sex'] or ''}\t{r['status'] or ''}\t{text[r['shelter_address']]}\t{day[r['entry_date']]}\t"
            f"{text[r['agdref']]}\t{text[r['nationality']]}\t{raw_json}\t"
            f"{_copy_escape(dumps(errors)) if errors else '[]'}\t{_copy_escape(dumps(warnings)) if warnings else '[]'}\t"
            f"[]\t{r['identity_key']}\t{r.get('movement', '')}\t{r.get('continuous_months', 1)}\t"
            f"{'t' if r.get('ada_flag') else 'f'}\n"
        )
        if len(lines) == block:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


class List:
    pk = 4321


TEXTS = ["DUPONT", "", "back\\slash", "tab\there", "ligne\nsuivante", "retour\rchariot", 'guillemet "x"', "100 %",
         "%s %d", "\\N", "\\.", "nul\x00 et \x1f", "ligne\u2028séparée", "émoji 🙂", "a,b;c", "{\"k\": 1}"]
DATES = [None, datetime.date(1990, 2, 3), datetime.date(2026, 10, 1)]
MESSAGE = st.fixed_dictionaries({"column": st.sampled_from(TEXTS), "field": st.just("last_name"),
                                 "message": st.sampled_from(TEXTS)})
PLAIN = ["DUPONT", "", "F", "100 %", "%s", "Élodie 🙂"]  # nothing to escape in JSON nor in COPY
RAW_KEYS = ["last_name", "first_name", "birth_date", "shelter_address", "clé \"bizarre\"\t%"]
row_strategy = st.fixed_dictionaries(
    {
        "line_number": st.integers(2, 10**6), "last_name": st.sampled_from(TEXTS), "first_name": st.sampled_from(TEXTS),
        "birth_date": st.sampled_from(DATES), "sex": st.sampled_from([None, "F", "M"]),
        "status": st.sampled_from([None, "DA", "BPI"]), "shelter_address": st.sampled_from(TEXTS),
        "entry_date": st.sampled_from(DATES), "agdref": st.sampled_from(TEXTS), "nationality": st.sampled_from(TEXTS),
        "raw": st.dictionaries(st.sampled_from(RAW_KEYS), st.one_of(
            st.sampled_from(PLAIN), st.sampled_from(PLAIN), st.sampled_from(TEXTS), st.integers(), st.none()), max_size=5),
        "errors": st.lists(MESSAGE, max_size=2), "warnings": st.lists(MESSAGE, max_size=2),
        "identity_key": st.sampled_from(["", "ab" * 32]),
    },
    optional={"movement": st.sampled_from(["new", "present", "status_changed"]),
              "continuous_months": st.integers(1, 32767), "ada_flag": st.booleans()},
)


@settings(deadline=None)  # examples: the profile (100; 25 under mutation)
@given(st.lists(row_strategy, max_size=12), st.integers(1, 5), st.booleans())
def test_copy_lines_writes_what_the_row_by_row_version_wrote(rows, block, same_raw):
    if same_raw and rows:  # one shape of raw for the whole list, as validate_rows gives it
        rows = [{**row, "raw": {k: rows[0]["raw"].get(k, "") for k in rows[0]["raw"]}} for row in rows]
    written = list(workflow.copy_lines(List, iter(rows), block=block))
    assert written == list(plain_copy_lines(List, iter(rows), block=block))


def test_a_block_of_plain_rows_word_for_word():
    row = {"line_number": 2, "last_name": "DUPONT", "first_name": "Élodie", "birth_date": datetime.date(1990, 2, 3),
           "sex": "F", "status": "DA", "shelter_address": "12 rue des Lilas", "entry_date": None, "agdref": "",
           "nationality": "", "raw": {"last_name": "DUPONT", "sexe %": "F"}, "errors": [], "warnings": [],
           "identity_key": "ab" * 32, "movement": "new", "continuous_months": 3, "ada_flag": True}
    other = {**row, "line_number": 3, "last_name": "O\\'Neil\tX", "raw": {"last_name": "O'Neil", "sexe %": "F"},
             "ada_flag": False}
    other.pop("movement")
    third = {**row, "line_number": 4, "raw": {"last_name": "a\"b", "sexe %": "F"}}
    fourth = {**row, "line_number": 5, "raw": {"sexe %": "M", "last_name": "X"}}
    assert list(workflow.copy_lines(List, iter([row, other, third, fourth]), block=2)) == [
        f"4321\t2\tDUPONT\tÉlodie\t1990-02-03\tF\tDA\t12 rue des Lilas\t\\N\t\t\t"
        f"{{\"last_name\": \"DUPONT\", \"sexe %\": \"F\"}}\t[]\t[]\t[]\t{'ab' * 32}\tnew\t3\tt\n"
        f"4321\t3\tO\\\\'Neil\\tX\tÉlodie\t1990-02-03\tF\tDA\t12 rue des Lilas\t\\N\t\t\t"
        f"{{\"last_name\": \"O'Neil\", \"sexe %\": \"F\"}}\t[]\t[]\t[]\t{'ab' * 32}\t\t3\tf\n",
        f"4321\t4\tDUPONT\tÉlodie\t1990-02-03\tF\tDA\t12 rue des Lilas\t\\N\t\t\t"
        f"{{\"last_name\": \"a\\\\\"b\", \"sexe %\": \"F\"}}\t[]\t[]\t[]\t{'ab' * 32}\tnew\t3\tt\n"
        f"4321\t5\tDUPONT\tÉlodie\t1990-02-03\tF\tDA\t12 rue des Lilas\t\\N\t\t\t"
        f"{{\"sexe %\": \"M\", \"last_name\": \"X\"}}\t[]\t[]\t[]\t{'ab' * 32}\tnew\t3\tt\n",
    ]


def test_blocks_of_a_thousand_rows_by_default():
    row = {"line_number": 2, "last_name": "A", "first_name": "B", "birth_date": None, "sex": None, "status": None,
           "shelter_address": "", "entry_date": None, "agdref": "", "nationality": "", "raw": {}, "errors": [],
           "warnings": [], "identity_key": ""}
    blocks = list(workflow.copy_lines(List, iter([row] * 2001)))
    assert [block.count("\n") for block in blocks] == [1000, 1000, 1]
    assert blocks[-1] == "4321\t2\tA\tB\t\\N\t\t\t\t\\N\t\t\t{}\t[]\t[]\t[]\t\t\t1\tf\n"


def test_raw_of_one_shape_with_a_value_to_escape_and_of_two_shapes():
    row = {"line_number": 2, "last_name": "A", "first_name": "B", "birth_date": None, "sex": "F", "status": "DA",
           "shelter_address": "", "entry_date": None, "agdref": "", "nationality": "", "errors": [], "warnings": [],
           "identity_key": ""}
    same_shape = [{**row, "raw": {"nom": "O\"Neil\tX"}}, {**row, "raw": {"nom": "plain"}}]
    two_shapes = [{**row, "raw": {"nom": "a", "sexe": "F"}}, {**row, "raw": {"sexe": "M", "nom": "b"}}]
    raws = [line.split("\t")[11] for rows in (same_shape, two_shapes)
            for line in "".join(workflow.copy_lines(List, iter(rows))).splitlines()]
    assert raws == ['{"nom": "O\\\\"Neil\\\\tX"}', '{"nom": "plain"}',
                    '{"nom": "a", "sexe": "F"}', '{"sexe": "M", "nom": "b"}']
