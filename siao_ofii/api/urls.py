"""/api/v1/ (issue 14). Every view is ``public`` for the session machinery (login page,
habilitation gate): the API authenticates by bearer token itself (DRF), and the schema and
documentation hold no personal data."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from referentiel.middleware import public

from . import docs, views

app_name = "api"


def api(view):
    return public(view.as_view())


urlpatterns = [
    path("schema/", api(SpectacularAPIView), name="schema"),
    path("reference/", public(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="reference"),
    path("doc-integrateurs/", public(docs.integrators), name="integrators"),
    path("departements/<str:code>/listes/<str:period>/", api(views.ListPushView), name="list_push"),
    path("listes/", api(views.ListIndexView), name="list_index"),
    path("listes/<int:pk>/", api(views.ListDetailView), name="list_detail"),
    path("listes/<int:pk>/lignes/<int:line>/", api(views.ListRowView), name="list_row"),
    path("listes/<int:pk>/validation/", api(views.ListValidateView), name="list_validate"),
    path("listes/<int:pk>/correction/", api(views.ListCorrectionView), name="list_correction"),
    path("archives/", api(views.ExtractIndexView), name="extract_index"),
    path("archives/<int:pk>/fichier/", api(views.ExtractFileView), name="extract_file"),
    path("archives/<int:pk>/mot-de-passe/", api(views.ExtractPasswordView), name="extract_password"),
    path("departements/<str:code>/flux-retour/<str:period>/", api(views.ReturnPushView), name="return_push"),
    path("flux-retour/depots/<int:pk>/", api(views.ReturnDetailView), name="return_detail"),
    path("flux-retour/archives/", api(views.ReturnArchiveIndexView), name="return_archive_index"),
    path("flux-retour/archives/<int:pk>/fichier/", api(views.ReturnArchiveFileView), name="return_archive_file"),
    path("flux-retour/archives/<int:pk>/mot-de-passe/", api(views.ReturnArchivePasswordView),
         name="return_archive_password"),
    # Any other address under /api/v1/ (a malformed identifier…): 404 in problem+json, not a page.
    re_path(r"^", public(docs.not_found)),
]
