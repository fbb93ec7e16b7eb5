import datetime

import pytest
from django.utils import timezone

from exchanges.models import ListState
from meetings.models import Meeting, MeetingState, Weekday, WeekOfMonth
from meetings.services import scheduling
from referentiel.models import Agent, Departement, Organisation
from tests.factories import make_list

from .conftest import aware


def test_nth_weekday():
    assert scheduling.nth_weekday(2026, 11, WeekOfMonth.THIRD, Weekday.TUESDAY) == datetime.date(2026, 11, 17)
    assert scheduling.nth_weekday(2026, 12, WeekOfMonth.THIRD, Weekday.TUESDAY) == datetime.date(2026, 12, 15)
    assert scheduling.nth_weekday(2026, 2, WeekOfMonth.LAST, Weekday.FRIDAY) == datetime.date(2026, 2, 27)
    assert scheduling.nth_weekday(2026, 3, WeekOfMonth.FIRST, Weekday.MONDAY) == datetime.date(2026, 3, 2)
    assert scheduling.nth_weekday(2026, 12, WeekOfMonth.LAST, Weekday.THURSDAY) == datetime.date(2026, 12, 31)


def test_recurrence_dates_cross_the_year():
    dates = scheduling.recurrence_dates(datetime.date(2026, 11, 17), WeekOfMonth.THIRD, Weekday.TUESDAY, 4)
    assert dates == [datetime.date(2026, 11, 17), datetime.date(2026, 12, 15), datetime.date(2027, 1, 19),
                     datetime.date(2027, 2, 16)]


def test_no_warning_in_second_half_with_validated_list(demo, dep69, validated_list):
    validated_list("2026-11")
    assert scheduling.scheduling_warnings(demo["prefecture.69"], dep69, aware(2026, 11, 17)) == []


def test_warning_before_the_16th(demo, dep69, validated_list):
    validated_list("2026-11")
    warnings = scheduling.scheduling_warnings(demo["prefecture.69"], dep69, aware(2026, 11, 15, 23, 30))
    assert len(warnings) == 1 and "avant le 16" in warnings[0]
    # the 16th is fine (local date, not UTC)
    assert scheduling.scheduling_warnings(demo["prefecture.69"], dep69, aware(2026, 11, 16, 0, 30)) == []


def test_warning_when_list_not_validated(demo, dep69):
    user = demo["prefecture.69"]
    warnings = scheduling.scheduling_warnings(user, dep69, aware(2026, 11, 20))
    assert len(warnings) == 1 and "pas encore validée" in warnings[0]
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], validated_by=demo["siao.75"])
    make_list("69", "2026-10", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"])
    assert len(scheduling.scheduling_warnings(user, dep69, aware(2026, 11, 20))) == 1
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], version=2)
    assert scheduling.scheduling_warnings(user, dep69, aware(2026, 11, 20)) == []


def test_both_warnings_and_meeting_still_created(demo, dep69):
    meeting = Meeting(departement=dep69, starts_at=aware(2026, 11, 3), place="Salle A")
    result = scheduling.schedule_meeting(demo["prefecture.69"], meeting)
    assert len(result.warnings) == 2
    assert Meeting.objects.filter(pk=meeting.pk, state=MeetingState.SCHEDULED, period="2026-11").exists()


@pytest.mark.django_db
def test_recurrence_creates_monthly_occurrences_with_invitations(demo, dep69, django_capture_on_commit_callbacks, mailoutbox):
    org = Organisation.objects.get(name="OFII — DT Lyon")
    agents = Agent.objects.filter(email__in=["dt.lyon@demo.test", "siao.69@demo.test"])
    meeting = Meeting(departement=dep69, starts_at=aware(2026, 11, 17, 9, 30), video_url="https://visio.example/abc",
                      recurrence_week=WeekOfMonth.THIRD, recurrence_weekday=Weekday.TUESDAY)
    with django_capture_on_commit_callbacks(execute=True):
        result = scheduling.schedule_meeting(demo["prefecture.69"], meeting, organisations=[org], agents=agents, months=3)
    occ = result.occurrences
    assert [timezone.localtime(o.starts_at).date() for o in occ] == [datetime.date(2026, 12, 15), datetime.date(2027, 1, 19)]
    assert all(timezone.localtime(o.starts_at).time() == datetime.time(9, 30) for o in occ)
    assert all(o.recurrence_parent_id == meeting.pk and o.video_url == meeting.video_url for o in occ)
    assert all(set(o.invited_agents.all()) == set(agents) for o in occ)
    assert len({m.ical_uid for m in [meeting, *occ]}) == 3
    # 3 meetings × 2 agents (the organisation has no functional address)
    assert len(mailoutbox) == 6
    assert meeting.recurrence_label == "3e mardi du mois"
    # 15 December falls before the 16th: flagged, still created
    assert any("15/12/2026 (récurrence) tombe avant le 16" in w for w in result.warnings)


def test_place_or_video_required_by_the_database(demo, dep69):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(departement=dep69, starts_at=aware(2026, 11, 17), created_by=demo["prefecture.69"])


def test_period_follows_local_date(demo, dep69):
    # 30 Nov 23:30 in Paris is 22:30 UTC the same day; 1 Dec 00:30 Paris is 30 Nov 23:30 UTC.
    m = Meeting.objects.create(departement=dep69, starts_at=aware(2026, 12, 1, 0, 30), place="x",
                               created_by=demo["prefecture.69"])
    assert m.period == "2026-12"


def test_visible_to_perimeter(demo, make_meeting):
    m69 = make_meeting()
    m75 = make_meeting(departement=Departement.objects.get(code="75"))
    def visible(name):
        from referentiel.perimeter import Capability
        return set(Meeting.objects.visible_to(demo[name], Capability.VIEW_MEETINGS))
    assert visible("prefecture.69") == {m69}
    assert visible("dt.lyon") == {m69}
    assert visible("dt.paris") == {m75}
    assert visible("siao.75") == {m75}
    assert visible("siege") == {m69, m75}
    assert visible("admin") == set()


def test_warning_when_another_commission_that_month(demo, dep69, validated_list, make_meeting):
    validated_list("2026-11")
    first = make_meeting(aware(2026, 11, 17))
    assert scheduling.meeting_warnings(demo["prefecture.69"], first) == []
    second = Meeting(departement=dep69, starts_at=aware(2026, 11, 24), place="Salle B")
    result = scheduling.schedule_meeting(demo["prefecture.69"], second)
    assert len(result.warnings) == 1 and "déjà prévue en 11/2026" in result.warnings[0]
    scheduling.cancel_meeting(demo["prefecture.69"], first)
    assert scheduling.meeting_warnings(demo["prefecture.69"], second) == []


def test_several_months_need_a_recurrence(demo, dep69):
    from meetings.forms import MeetingForm

    form = MeetingForm({"date": "2026-11-17", "time": "09:30", "duration_minutes": "60", "place": "x",
                        "months": "3"}, departement=dep69)
    assert not form.is_valid() and "months" in form.errors
