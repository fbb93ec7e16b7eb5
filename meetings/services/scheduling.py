"""Scheduling a commission: warnings (never refusals), recurrence, state changes.

Instruction I.A: the commission sits in the second half of the month, once OFII has examined
the list received by the 10th. A date before the 16th, or before that month's list is
validated, is allowed but flagged.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from exchanges.models import MonthlyList
from referentiel.perimeter import Capability

from ..models import Meeting, MeetingState, WeekOfMonth

EARLIEST_DAY = 16


@dataclass
class ScheduleResult:
    meeting: Meeting
    warnings: list = field(default_factory=list)
    occurrences: list = field(default_factory=list)


def scheduling_warnings(user, departement, starts_at, exclude_pk=None):
    """The warnings for a commission of ``departement`` at ``starts_at`` (aware datetime)."""
    local = timezone.localtime(starts_at)
    period = local.strftime("%Y-%m")
    warnings = []
    if local.day < EARLIEST_DAY:
        warnings.append(
            f"La commission est prévue le {local:%d/%m/%Y}, avant le {EARLIEST_DAY} du mois : l’instruction "
            "la place dans la seconde quinzaine, après l’examen par l’OFII de la liste reçue le 10."
        )
    validated = (
        MonthlyList.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .validated()
        .filter(departement=departement, period=period)
        .exists()
    )
    if not validated:
        warnings.append(
            f"La liste de {local:%m/%Y} du département {departement.code} n’est pas encore validée par le SIAO : "
            "l’ordre du jour ne pourra en être tiré qu’après sa validation."
        )
    others = (
        Meeting.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .filter(departement=departement, period=period)
        .exclude(state=MeetingState.CANCELLED)
        .exclude(pk=exclude_pk)
    )
    if others.exists():
        warnings.append(f"Une autre commission du département {departement.code} est déjà prévue en {local:%m/%Y}.")
    return warnings


def meeting_warnings(user, meeting):
    if meeting.state != MeetingState.SCHEDULED:
        return []
    return scheduling_warnings(user, meeting.departement, meeting.starts_at, exclude_pk=meeting.pk)


def nth_weekday(year, month, week, weekday):
    """The date of the ``week``-th ``weekday`` (0 = Monday) of the month; week 5 = the last one."""
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month and d.weekday() == weekday]
    if week == WeekOfMonth.LAST:
        return days[-1]
    return days[week - 1]


def next_month(year, month, n=1):
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def recurrence_dates(start, week, weekday, count):
    """``count`` dates following the rule, from the month of ``start`` (a date) included."""
    dates = []
    for n in range(count):
        y, m = next_month(start.year, start.month, n)
        dates.append(nth_weekday(y, m, week, weekday))
    return dates


def _copy_invitations(source, target):
    target.invited_organisations.set(source.invited_organisations.all())
    target.invited_agents.set(source.invited_agents.all())


@transaction.atomic
def schedule_meeting(user, meeting, *, organisations=(), agents=(), months=1):
    """Save a new ``meeting`` (not yet saved) with its invitations; with a recurrence rule,
    also create the next ``months - 1`` monthly occurrences. Invitations are sent after commit."""
    from .invitations import send_invitations_on_commit

    meeting.created_by = user
    meeting.save()
    meeting.invited_organisations.set(organisations)
    meeting.invited_agents.set(agents)
    result = ScheduleResult(meeting, meeting_warnings(user, meeting))
    if meeting.recurrence_week is not None and months > 1:
        local = timezone.localtime(meeting.starts_at)
        for date in recurrence_dates(local.date(), meeting.recurrence_week, meeting.recurrence_weekday, months)[1:]:
            occ = Meeting(
                departement=meeting.departement,
                starts_at=timezone.make_aware(datetime.datetime.combine(date, local.time().replace(tzinfo=None))),
                duration_minutes=meeting.duration_minutes,
                place=meeting.place,
                video_url=meeting.video_url,
                within_siao_commission=meeting.within_siao_commission,
                recurrence_week=meeting.recurrence_week,
                recurrence_weekday=meeting.recurrence_weekday,
                recurrence_parent=meeting,
                created_by=user,
            )
            occ.save()
            _copy_invitations(meeting, occ)
            result.occurrences.append(occ)
            if date.day < EARLIEST_DAY:
                result.warnings.append(
                    f"La commission du {date:%d/%m/%Y} (récurrence) tombe avant le {EARLIEST_DAY} du mois : "
                    "vous pouvez la déplacer."
                )
    for m in [meeting, *result.occurrences]:
        send_invitations_on_commit(m, "REQUEST")
    return result


def invitation_emails(meeting):
    emails = {a.email.lower() for a in meeting.invited_agents.all() if a.email}
    emails |= {o.email.lower() for o in meeting.invited_organisations.all() if o.email}
    return emails


@transaction.atomic
def update_meeting(user, meeting, *, organisations, agents):
    """Save changes to an existing meeting: SEQUENCE + 1, update sent to every attendee;
    attendees no longer invited receive a cancellation."""
    from .invitations import send_invitations_on_commit

    before = invitation_emails(Meeting.objects.get(pk=meeting.pk))
    meeting.sequence += 1
    meeting.save()
    meeting.invited_organisations.set(organisations)
    meeting.invited_agents.set(agents)
    after = invitation_emails(meeting)
    send_invitations_on_commit(meeting, "REQUEST")
    removed = sorted(before - after)
    if removed:
        send_invitations_on_commit(meeting, "CANCEL", recipients=removed)
    return ScheduleResult(meeting, meeting_warnings(user, meeting))


@transaction.atomic
def cancel_meeting(user, meeting):
    from .invitations import send_invitations_on_commit

    meeting.state = MeetingState.CANCELLED
    meeting.sequence += 1
    meeting.cancelled_at = timezone.now()
    meeting.save()
    send_invitations_on_commit(meeting, "CANCEL")
    return meeting


class NotYetHeld(Exception):
    pass


def can_be_marked_held(meeting, today=None):
    """A commission can be recorded as held from its own day on, not before."""
    return timezone.localdate(meeting.starts_at) <= (today or timezone.localdate())


def mark_held(user, meeting):
    if not can_be_marked_held(meeting):
        raise NotYetHeld(f"La commission a lieu le {timezone.localtime(meeting.starts_at):%d/%m/%Y} : elle ne peut "
                         "être marquée comme tenue qu’à partir de ce jour.")
    meeting.state = MeetingState.HELD
    meeting.save(update_fields=["state", "updated_at"])
    return meeting
