from django.urls import path

from . import views

app_name = "habilitations"

urlpatterns = [
    path("approbations/", views.approvals, name="approvals"),
    path("donnees-dna/", views.dna, name="dna"),
    path("<int:pk>/approuver/", views.approve, name="approve"),
    path("<int:pk>/refuser/", views.refuse, name="refuse"),
    path("<int:pk>/revoquer/", views.revoke, name="revoke"),
]
