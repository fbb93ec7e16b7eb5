"""Granting authorities' pages (issue 10, point 4): OFII headquarters approves DT and SIEGE
requests (R744-47); the prefecture of the département designates SIAO agents for DNA data
(R744-48). Accounts without either capability get 403; an authority acting on a habilitation
outside its authority gets 404 (journaled)."""

from .base import NOT_FOUND, Route, only

FOUND = 302  # done, back to the page


def context(demo):
    from referentiel.models import Agent, Departement, DirectionTerritoriale, Habilitation, Role
    from referentiel.services import grant_habilitation

    newcomer = Agent.objects.get_or_create(email="nouvel.agent.dt@ofii.fr")[0]
    dt_request = grant_habilitation(agent=newcomer, role=Role.DT, granted_by=demo["admin"], reason="matrice",
                                    dt=DirectionTerritoriale.objects.get(name="DT Lyon"))
    dna_request = grant_habilitation(agent=demo["siao.69"], role=Role.SIAO_DNA, granted_by=demo["admin"],
                                     reason="matrice", departements=Departement.objects.filter(code="69"))
    designated = Habilitation.objects.active().get(agent=demo["siao-dna.69"], role=Role.SIAO_DNA)
    return {"dt_request": dt_request, "dna_request": dna_request, "dna_designated": designated}


def on(key, authority, other_authority):
    expect = only({authority}, allowed_status=FOUND)
    expect[other_authority] = NOT_FOUND
    return dict(expect), (lambda c: {"pk": c[key].pk})


def _route(name, key, authority, other):
    expect, kwargs = on(key, authority, other)
    return Route(name, expect=expect, kwargs=kwargs, method="post")


ROUTES = [
    Route("habilitations:approvals", expect=only({"siege"})),
    Route("habilitations:dna", expect=only({"prefecture.69"})),
    _route("habilitations:approve", "dt_request", "siege", "prefecture.69"),
    _route("habilitations:approve", "dna_request", "prefecture.69", "siege"),
    _route("habilitations:refuse", "dt_request", "siege", "prefecture.69"),
    _route("habilitations:refuse", "dna_request", "prefecture.69", "siege"),
    _route("habilitations:revoke", "dna_designated", "prefecture.69", "siege"),
]
