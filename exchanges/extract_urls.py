"""OFII side: extracts per département (included from exchanges/urls.py at /listes/extraits/)."""

from django.urls import path

from . import extract_views

urlpatterns = [
    path("", extract_views.dashboard, name="extract_dashboard"),
    path("departement/<str:code>/", extract_views.departement, name="extract_departement"),
    path("<int:pk>/telecharger/", extract_views.download, name="extract_download"),
    path("<int:pk>/mot-de-passe/", extract_views.reveal_password, name="extract_password"),
]
