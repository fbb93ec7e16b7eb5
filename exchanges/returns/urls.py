"""Return flow OFII → SIAO (included from exchanges/urls.py at /listes/flux-retour/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="return_dashboard"),
    path("departement/<str:code>/deposer/", views.upload, name="return_upload"),
    path("<int:pk>/", views.detail, name="return_detail"),
    path("<int:pk>/traitement/", views.processing, name="return_processing"),
    path("<int:pk>/etat.json", views.status, name="return_status"),
    path("recus/", views.inbox, name="return_inbox"),
    path("recus/departement/<str:code>/rapprochement/", views.crosscheck, name="return_crosscheck"),
    path("archives/<int:pk>/telecharger/", views.download, name="return_download"),
    path("archives/<int:pk>/mot-de-passe/", views.reveal_password, name="return_password"),
]
