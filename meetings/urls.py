from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.index, name="index"),
    path("planifier/", views.create, name="create"),
    path("suivi-national/", views.national, name="national"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/modifier/", views.edit, name="edit"),
    path("<int:pk>/annuler/", views.cancel, name="cancel"),
    path("<int:pk>/tenue/", views.mark_held, name="held"),
    path("<int:pk>/ordre-du-jour/", views.agenda, name="agenda"),
    path("<int:pk>/ordre-du-jour/generer/", views.agenda_build, name="agenda_build"),
    path("<int:pk>/ordre-du-jour/ajouter/", views.free_item, name="free_item"),
    path("<int:pk>/compte-rendu/<str:fmt>/", views.minutes_request, name="minutes_request"),
    path("compte-rendu/<int:pk>/", views.minutes_document, name="minutes_document"),
    path("compte-rendu/<int:pk>/etat/", views.minutes_status, name="minutes_status"),
    path("compte-rendu/<int:pk>/fichier/", views.minutes_download, name="minutes_download"),
    path("<int:pk>/invitation.ics", views.ics, name="ics"),
    path("point/<int:item_pk>/suite/", views.outcome, name="outcome"),
    path("point/<int:item_pk>/historique/", views.person_history, name="history"),
]
