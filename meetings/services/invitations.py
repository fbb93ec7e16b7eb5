"""iCalendar invitations (RFC 5545/5546) sent by e-mail to the invited agents and organisations.

One UID per commission; every change sends METHOD:REQUEST with a higher SEQUENCE, and a
cancellation sends METHOD:CANCEL (STATUS:CANCELLED) with the same UID. Nothing nominative about
the persons examined is ever put in an invitation.
"""

import datetime

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from email.mime.text import MIMEText
from icalendar import Calendar, Event, vCalAddress, vText

from ..models import Meeting, MeetingState

PRODID = "-//SIAO-OFII//Commissions SIAO-OFII//FR"


def _summary(meeting):
    return f"Commission SIAO–OFII — {meeting.departement.code} {meeting.departement.name}"


def _description(meeting):
    lines = [
        f"Commission mensuelle SIAO–OFII du département {meeting.departement.code} ({meeting.departement.name}),",
        "sous l’autorité du préfet (instruction SIAO–OFII, I.A).",
    ]
    if meeting.within_siao_commission:
        lines.append("Elle se tient au sein d’une commission SIAO existante.")
    if meeting.place:
        lines.append(f"Lieu : {meeting.place}")
    if meeting.video_url:
        lines.append(f"Visioconférence : {meeting.video_url}")
    lines.append("L’ordre du jour nominatif se consulte dans l’application, selon vos habilitations.")
    return "\n".join(lines)


def attendees(meeting):
    """(email, display name) of everyone invited, sorted, without duplicates."""
    people = {}
    for org in meeting.invited_organisations.all():
        if org.email:
            people.setdefault(org.email.lower(), org.name)
    for agent in meeting.invited_agents.all():
        if agent.email:
            people[agent.email.lower()] = agent.get_full_name() or agent.email
    return sorted(people.items())


def organizer_of(meeting):
    """(email, name) replies go to: the agent who scheduled the commission, never the no-reply
    sender address (a reply to the invitation would be lost)."""
    agent = meeting.created_by
    name = agent.get_full_name() or agent.email
    if agent.organisation_id:
        name = f"{name} ({agent.organisation.name})"
    return agent.email, name


def build_ics(meeting, method="REQUEST", recipients=None):
    """The iCalendar file (bytes) for ``meeting``; ``method`` is REQUEST or CANCEL."""
    assert method in ("REQUEST", "CANCEL")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now().astimezone(datetime.timezone.utc))
    event.add("dtstart", meeting.starts_at.astimezone(datetime.timezone.utc))
    event.add("dtend", meeting.ends_at.astimezone(datetime.timezone.utc))
    event.add("summary", _summary(meeting))
    event.add("description", _description(meeting))
    location = meeting.place or meeting.video_url
    if location:
        event.add("location", location)
    if meeting.video_url:
        event.add("url", meeting.video_url)
    cancelled = method == "CANCEL" or meeting.state == MeetingState.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    email, name = organizer_of(meeting)
    organizer = vCalAddress(f"mailto:{email}")
    organizer.params["cn"] = vText(name)
    event.add("organizer", organizer)
    wanted = {e.lower() for e in recipients} if recipients else None
    for email, name in attendees(meeting):
        if wanted is not None and email not in wanted:
            continue
        att = vCalAddress(f"mailto:{email}")
        att.params["cn"] = vText(name)
        att.params["role"] = vText("REQ-PARTICIPANT")
        att.params["partstat"] = vText("NEEDS-ACTION")
        att.params["rsvp"] = vText("TRUE")
        event.add("attendee", att, encode=0)
    cal.add_component(event)
    return cal.to_ical()


def _body(meeting, method):
    local = timezone.localtime(meeting.starts_at)
    if method == "CANCEL":
        head = "La commission mensuelle SIAO–OFII suivante est annulée :"
    elif meeting.sequence == 0:
        head = "Vous êtes invité(e) à la commission mensuelle SIAO–OFII :"
    else:
        head = "La commission mensuelle SIAO–OFII a été modifiée. Nouvelles informations :"
    lines = [
        "Bonjour,",
        "",
        head,
        "",
        f"  Département : {meeting.departement.code} — {meeting.departement.name}",
        f"  Date : {local:%d/%m/%Y} à {local:%H:%M} (durée : {meeting.duration_minutes} minutes)",
    ]
    if meeting.place:
        lines.append(f"  Lieu : {meeting.place}")
    if meeting.video_url:
        lines.append(f"  Visioconférence : {meeting.video_url}")
    lines += [
        "",
        "Le fichier joint (invitation.ics) met à jour votre agenda.",
        "L’ordre du jour, nominatif, ne figure pas dans ce message : consultez-le dans l’application.",
        "",
        f"Pour répondre ou vous excuser, écrivez à {organizer_of(meeting)[0]}, qui a planifié la commission.",
    ]
    return "\n".join(lines)


def send_invitations(meeting, method="REQUEST", recipients=None):
    """Send one e-mail per attendee (or to ``recipients`` only). Returns the number sent."""
    emails = [e for e, _ in attendees(meeting)] if recipients is None else sorted({e.lower() for e in recipients})
    if not emails:
        return 0
    ics = build_ics(meeting, method, recipients=recipients)
    local = timezone.localtime(meeting.starts_at)
    prefix = {"CANCEL": "Annulation", "REQUEST": "Invitation" if meeting.sequence == 0 else "Modification"}[method]
    subject = f"{prefix} : commission SIAO–OFII {meeting.departement.code} du {local:%d/%m/%Y}"
    body = _body(meeting, method)
    sent = 0
    for email in emails:
        msg = EmailMessage(subject=subject, body=body, to=[email], reply_to=[organizer_of(meeting)[0]])
        part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
        part.set_param("method", method)
        part.add_header("Content-Disposition", "attachment", filename="invitation.ics")
        msg.attach(part)
        sent += msg.send()
    return sent


def send_invitations_on_commit(meeting, method, recipients=None):
    from ..tasks import send_meeting_invitations

    pk = meeting.pk
    rcpt = list(recipients) if recipients is not None else None
    transaction.on_commit(lambda: send_meeting_invitations.delay(pk, method, rcpt))


def send_for_pk(meeting_id, method, recipients=None):
    meeting = Meeting.objects.select_related("departement").get(pk=meeting_id)
    return send_invitations(meeting, method, recipients)
