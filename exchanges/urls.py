from django.urls import include, path

app_name = "exchanges"

urlpatterns = [
    path("extraits/", include("exchanges.extract_urls")),
]
