"""Issue 13 point 1: an entry date after today is an error, like a birth date in the future."""

import datetime
import zoneinfo

import pytest
import time_machine

from exchanges.models import ListState
from exchanges.services import workflow
from exchanges.services.validation import RowValidator
from referentiel.models import Departement
from tests.exchanges import samples

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def raw(entry):
    return {"last_name": "DUPONT", "first_name": "Élodie", "birth_date": "03/02/1990", "sex": "F",
            "status": "DA", "shelter_address": "12 rue des Lilas, 69003 Lyon", "entry_date": entry}


@time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=PARIS), tick=False)
def test_entry_after_today_inside_the_month_is_an_error():
    row = RowValidator("2026-12").validate(2, raw("05/12/2026"))
    assert [(e["column"], e["message"]) for e in row["errors"]] == [
        ("Date d’entrée", "date d’entrée dans le futur (05/12/2026, nous sommes le 02/12/2026)")]


@time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=PARIS), tick=False)
def test_entry_today_or_before_is_accepted():
    assert RowValidator("2026-12").validate(2, raw("02/12/2026"))["errors"] == []
    assert RowValidator("2026-12").validate(2, raw("01/12/2026"))["errors"] == []


@time_machine.travel(datetime.datetime(2026, 12, 1, 23, 30, tzinfo=datetime.timezone.utc), tick=False)
def test_today_is_the_paris_day():
    # 23:30 UTC on 1 December is already 2 December in Paris: an entry on the 2nd is not in the future.
    assert RowValidator("2026-12").validate(2, raw("02/12/2026"))["errors"] == []
    assert RowValidator("2026-12").validate(2, raw("03/12/2026"))["errors"]


@time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=PARIS), tick=False)
def test_uploaded_list_with_future_entry_cannot_be_validated(demo):
    dep = Departement.objects.get(code="69")
    rows = [list(samples.GOOD[0])]
    rows[0][6] = "05/12/2026"
    ml = workflow.receive_upload(dep, "2026-12", samples.csv_bytes(rows), name="liste.csv", user=demo["siao.69"],
                                 run=False)
    ml = workflow.process_list(ml.pk)
    assert ml.state == ListState.DRAFT and ml.error_count == 1
    err = ml.rows.get().errors
    assert err[0]["column"] == "Date d'entrée" and "dans le futur" in err[0]["message"]
    with pytest.raises(workflow.WorkflowError):
        workflow.validate_list(ml, demo["siao.69"])
