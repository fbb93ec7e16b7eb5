"""Issue 13 point 9: the invitation can be downloaded as .ics from the interface, and its
ORGANIZER (and the e-mail's Reply-To) is the agent who scheduled it, not the no-reply address."""

from django.conf import settings
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from meetings.services.invitations import send_invitations
from tests.helpers import login


def test_ics_download_for_those_who_see_the_commission(client, demo, make_meeting):
    meeting = make_meeting()
    meeting.invited_agents.add(demo["dt.lyon"])
    response = login(client, demo["dt.lyon"]).get(reverse("meetings:ics", args=[meeting.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == 'attachment; filename="commission_69_2026-11-17.ics"'
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["organizer"]) == f"mailto:{demo['prefecture.69'].email}"
    assert str(event["uid"]) == meeting.ical_uid
    detail = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert f'href="{reverse("meetings:ics", args=[meeting.pk])}"' in detail


def test_emailed_invitation_replies_reach_the_organiser(demo, make_meeting):
    meeting = make_meeting()
    meeting.invited_agents.add(demo["dt.lyon"])
    assert send_invitations(meeting) == 1
    msg = mail.outbox[0]
    assert msg.reply_to == [demo["prefecture.69"].email]
    ics = msg.attachments[0].get_payload(decode=True)
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["organizer"]) == f"mailto:{demo['prefecture.69'].email}"
    assert settings.DEFAULT_FROM_EMAIL not in str(event["organizer"])
    assert "ne pas y répondre" not in msg.body and demo["prefecture.69"].email in msg.body
