from django.urls import include, path

from . import views

app_name = "exchanges"

urlpatterns = [
    path("", views.my_lists, name="my_lists"),
    path("modele.xlsx", views.template_xlsx, name="template"),
    path("extraits/", include("exchanges.extract_urls")),
    path("flux-retour/", include("exchanges.returns.urls")),
    path("departement/<str:code>/deposer/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/traitement/", views.processing, name="processing"),
    path("<int:pk>/etat.json", views.status, name="status"),
    path("<int:pk>/archive.json", views.archive_status, name="archive_status"),
    path("<int:pk>/colonnes/", views.mapping, name="mapping"),
    path("<int:pk>/lignes/", views.rows, name="rows"),
    path("<int:pk>/lignes/<int:row_pk>/", views.row_edit, name="row_edit"),
    path("<int:pk>/valider/", views.validate, name="validate"),
    path("<int:pk>/corriger/", views.correct, name="correct"),
]
