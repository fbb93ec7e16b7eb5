import datetime

from icalendar import Calendar

from meetings.models import Meeting, MeetingState
from meetings.services import scheduling
from meetings.services.invitations import build_ics
from referentiel.models import Agent, Organisation

from .conftest import aware


def _ics_of(message):
    parts = [a for a in message.attachments if getattr(a, "get_content_type", lambda: "")() == "text/calendar"]
    assert len(parts) == 1, message.attachments
    part = parts[0]
    assert part.get_param("method") == Calendar.from_ical(part.get_payload(decode=True))["METHOD"]
    assert part.get_filename() == "invitation.ics"
    return Calendar.from_ical(part.get_payload(decode=True))


def _event(cal):
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def _schedule(demo, dep69, capture, **kw):
    agents = list(Agent.objects.filter(email__in=["dt.lyon@demo.test", "siao.69@demo.test"]))
    meeting = Meeting(departement=dep69, starts_at=aware(2026, 11, 17, 9, 30), place="Préfecture, salle 3", **kw)
    with capture(execute=True):
        scheduling.schedule_meeting(demo["prefecture.69"], meeting, agents=agents)
    return meeting


def test_invite_update_cancel_parsed_back(demo, dep69, django_capture_on_commit_callbacks, mailoutbox):
    meeting = _schedule(demo, dep69, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mailoutbox) == ["dt.lyon@demo.test", "siao.69@demo.test"]
    invite = mailoutbox[0]
    assert invite.subject.startswith("Invitation : commission SIAO–OFII 69 du 17/11/2026")
    assert "Vous êtes invité(e)" in invite.body and "17/11/2026 à 09:30" in invite.body
    cal = _ics_of(invite)
    ev = _event(cal)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(ev["UID"]) == meeting.ical_uid
    assert int(ev["SEQUENCE"]) == 0
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert ev.decoded("DTSTART") == aware(2026, 11, 17, 9, 30)
    assert ev.decoded("DTEND") - ev.decoded("DTSTART") == datetime.timedelta(minutes=120)
    assert str(ev["LOCATION"]) == "Préfecture, salle 3"
    attendees = ev.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert sorted(str(a) for a in attendees) == ["mailto:dt.lyon@demo.test", "mailto:siao.69@demo.test"]

    # Update: same UID, higher SEQUENCE, new time.
    mailoutbox.clear()
    meeting.starts_at = aware(2026, 11, 18, 14, 0)
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.update_meeting(demo["prefecture.69"], meeting, organisations=[],
                                  agents=Agent.objects.filter(email__in=["dt.lyon@demo.test", "siao.69@demo.test"]))
    assert len(mailoutbox) == 2
    assert mailoutbox[0].subject.startswith("Modification")
    cal = _ics_of(mailoutbox[0])
    ev = _event(cal)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(ev["UID"]) == meeting.ical_uid
    assert int(ev["SEQUENCE"]) == 1
    assert ev.decoded("DTSTART") == aware(2026, 11, 18, 14, 0)

    # Cancellation: METHOD:CANCEL, STATUS:CANCELLED, same UID, SEQUENCE again higher.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.cancel_meeting(demo["prefecture.69"], meeting)
    assert len(mailoutbox) == 2
    assert mailoutbox[0].subject.startswith("Annulation")
    assert "annulée" in mailoutbox[0].body
    cal = _ics_of(mailoutbox[0])
    ev = _event(cal)
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(ev["STATUS"]) == "CANCELLED"
    assert str(ev["UID"]) == meeting.ical_uid
    assert int(ev["SEQUENCE"]) == 2
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CANCELLED


def test_removed_attendee_receives_a_cancellation(demo, dep69, django_capture_on_commit_callbacks, mailoutbox):
    meeting = _schedule(demo, dep69, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    org = Organisation.objects.get(name="OFII — DT Lyon")
    org.email = "dt-lyon@ofii.example"
    org.save()
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.update_meeting(demo["prefecture.69"], meeting, organisations=[org],
                                  agents=Agent.objects.filter(email="dt.lyon@demo.test"))
    assert len(mailoutbox) == 3
    by_rcpt = {m.to[0]: str(_ics_of(m)["METHOD"]) for m in mailoutbox}
    assert by_rcpt == {"dt.lyon@demo.test": "REQUEST", "dt-lyon@ofii.example": "REQUEST", "siao.69@demo.test": "CANCEL"}


def test_invitation_has_no_nominative_content(demo, dep69, validated_list, django_capture_on_commit_callbacks, mailoutbox):
    from meetings.services.agenda import EVERYONE, build_agenda

    validated_list("2026-11", facts={0: {"last_name": "DUPONTEL"}})
    meeting = _schedule(demo, dep69, django_capture_on_commit_callbacks)
    build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    ics = build_ics(meeting).decode()
    assert "DUPONTEL" not in ics
    assert all("DUPONTEL" not in m.body for m in mailoutbox)


def test_video_url_in_ics(demo, dep69, make_meeting):
    meeting = make_meeting(place="", video_url="https://visio.example/commission-69")
    ev = _event(Calendar.from_ical(build_ics(meeting)))
    assert str(ev["URL"]) == "https://visio.example/commission-69"
    assert str(ev["LOCATION"]) == "https://visio.example/commission-69"
