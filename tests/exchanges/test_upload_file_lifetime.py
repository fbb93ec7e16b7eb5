"""The uploaded file is gone before anyone can see its list processed or refused: it is deleted
before (and, with the database storage, in the same transaction as) the state that says the
list is a draft or refused. Before, it was deleted after that state had been committed: a page,
or the multi-node journey test, could see a processed list whose personal data file was still
kept (and a worker killed in between left it until the sweep)."""

import pytest

from exchanges.models import ListState, MonthlyList
from exchanges.services import workflow
from exchanges.services.reading import FileRejected
from referentiel.models import Departement
from tests.exchanges import samples

PERIOD = "2026-11"


@pytest.fixture
def states_at_deletion(monkeypatch):
    """The state stored for the list at the moment its uploaded file is deleted."""
    seen = []
    delete = workflow._delete_file

    def spy(ml):
        if ml.source_path:
            seen.append(MonthlyList.objects.values_list("state", flat=True).get(pk=ml.pk))
        delete(ml)

    monkeypatch.setattr(workflow, "_delete_file", spy)
    return seen


def _received(demo, data, name="liste.csv"):
    dep = Departement.objects.get(code="69")
    return workflow.receive_upload(dep, PERIOD, data, name=name, user=demo["siao.69"], run=False)


def test_a_processed_list_has_no_file_when_its_draft_is_recorded(demo, states_at_deletion):
    ml = _received(demo, samples.csv_bytes(samples.GOOD, samples.HEADER_FR))
    assert workflow.process_list(ml.pk).state == ListState.DRAFT
    assert states_at_deletion == [ListState.PROCESSING]
    assert MonthlyList.objects.values_list("source_path", flat=True).get(pk=ml.pk) == ""


def test_a_refused_file_is_deleted_before_the_refusal_is_recorded(demo, states_at_deletion, monkeypatch):
    def refused(data, fmt):
        raise FileRejected("Ce classeur ne contient aucune feuille de calcul.")

    monkeypatch.setattr(workflow, "read_table", refused)
    ml = _received(demo, samples.csv_bytes(samples.GOOD, samples.HEADER_FR))
    assert workflow.process_list(ml.pk).state == ListState.FAILED
    assert MonthlyList.objects.get(pk=ml.pk).report["file_errors"] == ["Ce classeur ne contient aucune feuille de calcul."]
    assert states_at_deletion == [ListState.PROCESSING]
    assert MonthlyList.objects.values_list("source_path", flat=True).get(pk=ml.pk) == ""


def test_a_list_that_cannot_be_stored_is_refused_and_its_file_deleted(demo, states_at_deletion, monkeypatch):
    def broken(ml):
        raise RuntimeError("stockage interrompu")

    monkeypatch.setattr(workflow, "_replace_previous_drafts", broken)
    ml = _received(demo, samples.csv_bytes(samples.GOOD, samples.HEADER_FR))
    assert workflow.process_list(ml.pk).state == ListState.FAILED
    # Deleted once inside the transaction that was rolled back, then for good before the refusal.
    assert states_at_deletion[-1] == ListState.PROCESSING
    stored = MonthlyList.objects.get(pk=ml.pk)
    assert (stored.state, stored.source_path, stored.row_count) == (ListState.FAILED, "", 0)
    assert stored.report["file_errors"] == [
        "Une erreur interne a empêché l’enregistrement de la liste : rien n’a été enregistré. "
        "Réessayez ou contactez l’assistance."]
