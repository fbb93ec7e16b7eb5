import datetime

from django.urls import reverse
from django.utils import timezone

from meetings.models import AgendaItem, Category, Decision, Meeting, Outcome
from meetings.services.agenda import EVERYONE, build_agenda, record_outcome
from referentiel.models import Agent, Departement, Organisation
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list
from tests.helpers import assert_constant_queries, fetch_minutes, login

from .conftest import aware


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_prefecture_schedules_with_warnings_and_invitations(client, demo, django_capture_on_commit_callbacks, mailoutbox):
    login(client, demo["prefecture.69"])
    response = client.get(reverse("meetings:create"))  # single département: the form directly
    assert response.status_code == 200
    assert "Planifier une commission — 69 Rhône" in response.content.decode()
    lyon = Organisation.objects.get(name="OFII — DT Lyon")
    siao69 = Organisation.objects.get(name="SIAO 69 — Rhône")
    agents = Agent.objects.filter(email__in=["dt.lyon@demo.test", "siao.69@demo.test"])
    data = {
        "departement": "69", "date": "2026-11-10", "time": "09:30", "duration_minutes": "90",
        "place": "Préfecture du Rhône", "video_url": "", "recurrence_week": "", "recurrence_weekday": "",
        "months": "1", "invited_organisations": [lyon.pk, siao69.pk], "invited_agents": [a.pk for a in agents],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("meetings:create"), data, follow=True)
    meeting = Meeting.objects.get()
    assert response.redirect_chain[-1][0] == reverse("meetings:detail", args=[meeting.pk])
    msgs = _messages(response)
    assert any("avant le 16" in m for m in msgs) and any("pas encore validée" in m for m in msgs)
    assert timezone.localtime(meeting.starts_at) == aware(2026, 11, 10, 9, 30)
    assert set(meeting.invited_organisations.all()) == {lyon, siao69}
    assert sorted(m.to[0] for m in mailoutbox) == ["dt.lyon@demo.test", "siao.69@demo.test"]
    assert AuditEvent.objects.filter(action=AuditAction.MEETING_CHANGED, object_id=str(meeting.pk)).exists()


def test_form_refuses_missing_place_and_video(client, demo):
    login(client, demo["prefecture.69"])
    response = client.post(reverse("meetings:create"), {"departement": "69", "date": "2026-11-20", "time": "10:00",
                                                        "duration_minutes": "60", "months": "1"})
    assert response.status_code == 200
    assert "Indiquez un lieu ou un lien de visioconférence" in response.content.decode()
    assert not Meeting.objects.exists()


def test_dt_agent_chooses_a_departement_of_its_dt_only(client, demo):
    login(client, demo["dt.lyon"])
    response = client.get(reverse("meetings:create"))
    body = response.content.decode()
    assert 'value="69"' in body and 'value="75"' not in body
    assert client.get(reverse("meetings:create") + "?departement=75").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED, actor=demo["dt.lyon"], departement="75").exists()


def test_invitable_choices_limited_to_the_departement(client, demo):
    login(client, demo["prefecture.69"])
    body = client.get(reverse("meetings:create")).content.decode()
    assert "OFII — DT Lyon" in body and "SIAO 69 — Rhône" in body
    assert "SIAO 75" not in body and "OFII — DT Paris" not in body and "siao.75@demo.test" not in body


def _agenda_setup(demo, make_meeting, validated_list, rows=3):
    validated_list("2026-11", rows=rows)
    meeting = make_meeting()
    build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    return meeting


def test_siao_composes_agenda_but_records_no_outcome(client, demo, make_meeting, validated_list):
    """The SIAO places persons of its own list (instruction I.A); decisions are the commission's."""
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    login(client, demo["siao.69"])
    response = client.get(reverse("meetings:agenda", args=[meeting.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "NOM0" in body
    assert 'id="agenda-form"' in body and "Enregistrer la suite" not in body
    item = meeting.items.first()
    assert client.post(reverse("meetings:agenda", args=[meeting.pk]), {f"rank-{item.pk}": "1"}).status_code == 302
    assert client.get(reverse("meetings:outcome", args=[item.pk])).status_code == 403
    event = AuditEvent.objects.filter(action=AuditAction.NOMINATIVE_READ, actor=demo["siao.69"]).get()
    assert event.details == {"view": "agenda", "rows": 3} and event.departement == "69"


def test_other_departement_sees_nothing(client, demo, make_meeting, validated_list):
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    item = meeting.items.first()
    for name in ("siao.75", "dt.paris"):
        client.logout()
        login(client, demo[name])
        for url in (reverse("meetings:detail", args=[meeting.pk]), reverse("meetings:agenda", args=[meeting.pk]),
                    reverse("meetings:history", args=[item.pk])):
            assert client.get(url).status_code == 404, (name, url)
        url = reverse("meetings:minutes_request", args=[meeting.pk, "pdf"])
        assert client.post(url).status_code == 404, (name, url)
        body = client.get(reverse("meetings:index") + "?mois=2026-11").content.decode()
        assert reverse("meetings:detail", args=[meeting.pk]) not in body
    assert AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED, actor=demo["dt.paris"]).count() == 4


def test_edit_categories_priorities_and_exclusion(client, demo, make_meeting, validated_list):
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    a, b = list(meeting.items.all())[:2]
    login(client, demo["prefecture.69"])  # prefecture staff never compose the agenda (instruction I.A, II.A.2)
    assert client.post(reverse("meetings:agenda", args=[meeting.pk]), {f"rank-{a.pk}": "2"}).status_code == 403
    client.logout()
    login(client, demo["dt.lyon"])
    response = client.post(reverse("meetings:agenda", args=[meeting.pk]), {
        f"category-{a.pk}": str(Category.REJECTED), f"rank-{a.pk}": "1",
        f"category-{b.pk}": str(b.category), f"rank-{b.pk}": "1", f"excluded-{b.pk}": "on",
    })
    assert response.status_code == 302
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.category, a.excluded) == (Category.REJECTED, False)
    assert b.excluded
    body = client.get(reverse("meetings:agenda", args=[meeting.pk])).content.decode()
    assert "Points retirés de l’ordre du jour (1)" in body


def test_record_outcome_through_the_page(client, demo, make_meeting, validated_list):
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    item = meeting.items.get(identity_key="key-0")
    login(client, demo["dt.lyon"])
    assert client.get(reverse("meetings:outcome", args=[item.pk])).status_code == 200
    lyon = Organisation.objects.get(name="OFII — DT Lyon")
    response = client.post(reverse("meetings:outcome", args=[item.pk]), {
        "decision": Decision.DNA, "responsible_organisation": lyon.pk, "due_date": "2026-12-01",
        "comment": "Proposition CADA", "state": "open",
    })
    assert response.status_code == 302 and response["Location"].endswith(f"#point-{item.pk}")
    outcome = Outcome.objects.get(agenda_item=item)
    assert (outcome.decision, outcome.responsible_organisation, outcome.due_date) == (Decision.DNA, lyon, datetime.date(2026, 12, 1))
    event = AuditEvent.objects.get(action=AuditAction.OUTCOME_RECORDED)
    assert event.details["decision"] == "dna" and "Proposition" not in str(event.details)
    # an organisation of another département is refused
    paris = Organisation.objects.get(name="OFII — DT Paris")
    response = client.post(reverse("meetings:outcome", args=[item.pk]), {"decision": "cph", "state": "open",
                                                                          "responsible_organisation": paris.pk})
    assert response.status_code == 200 and Outcome.objects.get().decision == Decision.DNA


def test_minutes_download_audited(client, demo, make_meeting, validated_list):
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    login(client, demo["siao.69"])
    response = fetch_minutes(client, meeting, "pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Disposition"].startswith('attachment; filename="compte-rendu-commission-69-2026-11-17.pdf"')
    response = fetch_minutes(client, meeting, "xlsx")
    assert b"".join(response.streaming_content)[:2] == b"PK"
    events = AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, actor=demo["siao.69"])
    assert sorted(e.details["format"] for e in events) == ["pdf", "xlsx"]


def test_cancelled_meeting_cannot_be_edited(client, demo, make_meeting):
    meeting = make_meeting()
    login(client, demo["prefecture.69"])
    assert client.post(reverse("meetings:cancel", args=[meeting.pk])).status_code == 302
    meeting.refresh_from_db()
    assert meeting.is_cancelled and meeting.sequence == 1
    response = client.get(reverse("meetings:edit", args=[meeting.pk]))
    assert response.status_code == 302


def test_agenda_query_count_constant(client, demo, make_meeting):
    from exchanges.models import ListRow

    meeting = make_meeting()
    login(client, demo["dt.lyon"])
    counter = iter(range(10_000))

    def grow():
        n = next(counter)
        ml = make_list("69", f"20{10 + n}-01", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=2, start=1000 + 2 * n)
        for row in ListRow.objects.filter(monthly_list=ml):
            item = AgendaItem.objects.create(meeting=meeting, identity_key=row.identity_key, list_row=row,
                                             on_current_list=True, category=Category.BPI)
            record_outcome(demo["dt.lyon"], item, decision=Decision.CPH,
                           responsible_organisation=Organisation.objects.get(name="OFII — DT Lyon"))
        AgendaItem.objects.create(meeting=meeting, text=f"divers {n}", category=Category.FREE)

    grow()
    assert_constant_queries(lambda: client.get(reverse("meetings:agenda", args=[meeting.pk])), grow)
    item = meeting.items.exclude(identity_key="").first()
    assert_constant_queries(lambda: client.get(reverse("meetings:history", args=[item.pk])), grow)


def test_index_and_national_query_count_constant(client, demo, dep69):
    login(client, demo["siege"])
    deps = iter(Departement.objects.exclude(code="69"))
    counter = iter(range(1, 28))

    def grow():
        Meeting.objects.create(departement=next(deps), starts_at=aware(2026, 11, 16 + next(counter) % 12), place="x",
                               created_by=demo["siege"])

    grow()
    assert_constant_queries(lambda: client.get(reverse("meetings:index") + "?mois=2026-11"), grow)
    assert_constant_queries(lambda: client.get(reverse("meetings:national") + "?mois=2026-11"), grow)


def test_national_dashboard_counts(client, demo, make_meeting):
    from meetings.models import MeetingState

    m = make_meeting(aware(2026, 11, 18))
    m.state = MeetingState.HELD
    m.save()
    make_meeting(aware(2026, 11, 20), departement=Departement.objects.get(code="75"))
    login(client, demo["siege"])
    response = client.get(reverse("meetings:national") + "?mois=2026-11")
    assert response.context["counts"]["held"] == 1 and response.context["counts"]["scheduled"] == 1
    rows = {r["departement"].code: r["status"] for r in response.context["rows"]}
    assert rows["69"] == "held" and rows["75"] == "scheduled" and rows["01"] == "none"


def test_home_card_and_nav_link(client, demo):
    login(client, demo["prefecture.69"])
    body = client.get(reverse("home")).content.decode()
    assert body.count(f'href="{reverse("meetings:index")}"') == 2  # nav + card
    client.logout()
    login(client, demo["admin"])
    assert f'href="{reverse("meetings:index")}"' not in client.get(reverse("home")).content.decode()


def test_build_agenda_with_criteria_from_the_page(client, demo, make_meeting, validated_list):
    from exchanges.models import Movement

    validated_list("2026-11", rows=3, facts={0: {"movement": Movement.NEW, "continuous_months": 1}})
    meeting = make_meeting()
    login(client, demo["dt.lyon"])
    url = reverse("meetings:agenda_build", args=[meeting.pk])
    client.post(url, {"submitted": "1", "new_arrivals": "on"})
    assert list(meeting.items.values_list("identity_key", flat=True)) == ["key-0"]
    client.post(url, {"submitted": "1", "everyone": "on"})
    assert meeting.items.count() == 3
    event = AuditEvent.objects.filter(action=AuditAction.MEETING_CHANGED, details__change="agenda_built").first()
    assert event.details["criteria"]["everyone"] is True


def test_edit_through_the_page_sends_an_update(client, demo, make_meeting, django_capture_on_commit_callbacks, mailoutbox):
    from icalendar import Calendar

    meeting = make_meeting()
    meeting.invited_agents.set(Agent.objects.filter(email="dt.lyon@demo.test"))
    login(client, demo["prefecture.69"])
    form = client.get(reverse("meetings:edit", args=[meeting.pk])).context["form"]
    assert form.initial["date"] == datetime.date(2026, 11, 17)
    data = {"date": "2026-11-19", "time": "10:00", "duration_minutes": "120", "place": meeting.place, "video_url": "",
            "recurrence_week": "", "recurrence_weekday": "", "invited_agents": [demo["dt.lyon"].pk]}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("meetings:edit", args=[meeting.pk]), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.sequence == 1 and timezone.localtime(meeting.starts_at).day == 19
    assert len(mailoutbox) == 1
    part = mailoutbox[0].attachments[0]
    ev = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]
    assert int(ev["SEQUENCE"]) == 1 and str(ev["UID"]) == meeting.ical_uid


def test_outcome_form_of_a_carried_item_starts_from_last_month(client, demo, make_meeting, validated_list):
    validated_list("2026-10", rows=1)
    octo = make_meeting(aware(2026, 10, 20))
    build_agenda(demo["dt.lyon"], octo, EVERYONE)
    record_outcome(demo["dt.lyon"], octo.items.get(), decision=Decision.DPAR, due_date=datetime.date(2026, 11, 30))
    nov = make_meeting()
    build_agenda(demo["dt.lyon"], nov, EVERYONE)
    item = nov.items.get()
    login(client, demo["dt.lyon"])
    response = client.get(reverse("meetings:outcome", args=[item.pk]))
    assert "Suite du mois précédent : Orientation vers le DPAR (En cours)" in response.content.decode()
    assert response.context["form"].initial["decision"] == Decision.DPAR
    body = client.get(reverse("meetings:agenda", args=[nov.pk])).content.decode()
    assert "Reportée du mois précédent" in body


def test_cancelled_meeting_agenda_is_frozen(client, demo, make_meeting, validated_list):
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    item = meeting.items.first()
    login(client, demo["prefecture.69"])
    client.post(reverse("meetings:cancel", args=[meeting.pk]))
    detail = reverse("meetings:detail", args=[meeting.pk])
    assert client.post(reverse("meetings:outcome", args=[item.pk]), {"decision": "dna", "state": "open"})["Location"] == detail
    assert client.post(reverse("meetings:free_item", args=[meeting.pk]), {"text": "x", "category": "9"})["Location"] == detail
    client.logout()
    login(client, demo["dt.lyon"])
    assert client.post(reverse("meetings:agenda_build", args=[meeting.pk]))["Location"] == detail
    assert client.post(reverse("meetings:agenda", args=[meeting.pk]), {f"rank-{item.pk}": "7"})["Location"] == detail
    assert not Outcome.objects.exists() and meeting.items.count() == 3
    item.refresh_from_db()
    assert item.priority != 7


def test_agenda_page_shows_every_category_of_instruction_ib_in_order(client, demo, make_meeting, validated_list):
    """What the PAGE shows (not the database): categories 1 to 4 of I.B then the free points,
    each with its own heading, its count and its persons."""
    meeting = _agenda_setup(demo, make_meeting, validated_list, rows=4)
    items = list(meeting.items.select_related("list_row").order_by("list_row__line_number"))
    for item, category in zip(items, [4, 1, 3, 2]):
        item.category = category
        item.save(update_fields=["category"])
    AgendaItem.objects.create(meeting=meeting, text="Bilan des places CPH", category=Category.FREE)
    login(client, demo["prefecture.69"])
    body = client.get(reverse("meetings:agenda", args=[meeting.pk])).content.decode()
    headings = [
        ('id="categorie-1"', "1. Souhaite demander l’asile (orientation vers la SPADA) (1)"),
        ('id="categorie-2"', "2. Demandeur d’asile enregistré (réorientation vers le DNA) (1)"),
        ('id="categorie-3"', "3. Bénéficiaire d’une protection internationale (CPH, logement, intégration) (1)"),
        ('id="categorie-4"', "4. Débouté (DPAR, aide au retour, accompagnement à la régularisation) (1)"),
        ('id="categorie-9"', "Points divers (1)"),
    ]
    positions = [body.index(anchor) for anchor, _ in headings]
    assert positions == sorted(positions)
    for anchor, text in headings:
        assert text in body.split(anchor)[1].split("</h2>")[0]
    section_4 = body.split('id="categorie-4"')[1].split('id="categorie-9"')[0]
    assert "NOM0" in section_4 and "NOM1" not in section_4 and "NOM2" not in section_4
    section_1 = body.split('id="categorie-1"')[1].split('id="categorie-2"')[0]
    assert "NOM1" in section_1 and "NOM0" not in section_1
    assert "Bilan des places CPH" in body.split('id="categorie-9"')[1]


def test_a_free_item_goes_last_in_its_category_and_is_ranked_like_the_others(client, demo, make_meeting, validated_list):
    """No raw score on the form: a posted ``priority`` is ignored; the agenda's ranks move it."""
    meeting = _agenda_setup(demo, make_meeting, validated_list)
    first = meeting.items.order_by("category", "-priority", "pk").first()
    login(client, demo["dt.lyon"])
    page = client.get(reverse("meetings:free_item", args=[meeting.pk])).content.decode()
    assert 'name="priority"' not in page and "à la fin de sa catégorie" in page
    response = client.post(reverse("meetings:free_item", args=[meeting.pk]),
                           {"text": "Point divers", "category": str(first.category), "priority": "100000"})
    assert response.status_code == 302
    free = meeting.items.get(text="Point divers")
    assert free.priority == 0
    same_category = list(meeting.items.filter(category=first.category).order_by("category", "-priority", "pk"))
    assert same_category[-1] == free and len(same_category) >= 2
    client.post(reverse("meetings:agenda", args=[meeting.pk]), {
        **{f"category-{i.pk}": str(i.category) for i in meeting.items.all()},
        **{f"rank-{i.pk}": str(n) for n, i in enumerate(same_category[:-1], 2)},
        f"rank-{free.pk}": "1",
    })
    assert meeting.items.filter(category=first.category).order_by("category", "-priority", "pk").first() == free
