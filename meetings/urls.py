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
    path("<int:pk>/compte-rendu.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("<int:pk>/compte-rendu.xlsx", views.minutes_xlsx, name="minutes_xlsx"),
    path("<int:pk>/invitation.ics", views.ics, name="ics"),
    path("point/<int:item_pk>/suite/", views.outcome, name="outcome"),
    path("point/<int:item_pk>/historique/", views.person_history, name="history"),
]
