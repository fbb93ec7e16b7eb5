from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from referentiel.forms import AgentPasswordResetForm, EmailAuthenticationForm
from referentiel.middleware import public

from . import health, views
from .audit import views as audit_views

urlpatterns = [
    path("", views.home, name="home"),
    path("sante/", health.health, name="health"),
    path(
        "connexion/",
        public(auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True)),
        name="login",
    ),
    path("deconnexion/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("connexion/second-facteur/", views.second_factor, name="second_factor"),
    path("mot-de-passe/oubli/", public(auth_views.PasswordResetView.as_view(form_class=AgentPasswordResetForm)), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", public(auth_views.PasswordResetDoneView.as_view()), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        public(views.AgentPasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/termine/",
        public(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("donnees-personnelles/", views.personal_data, name="personal_data"),
    path("donnees-personnelles/notice-<str:language>.pdf", views.notice_pdf, name="notice_pdf"),
    path("journal/", audit_views.audit_list, name="audit_list"),
    path("journal/export.csv", audit_views.audit_export, name="audit_export"),
    path("listes/", include("exchanges.urls")),
    path("commissions/", include("meetings.urls")),
    path("droits-des-personnes/", include("siao_ofii.rights.urls")),
    path("habilitations/", include("referentiel.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("siao_ofii.api.urls")),
]

if settings.OIDC_ENABLED:
    from mozilla_django_oidc import views as oidc_views

    urlpatterns += [
        path("oidc/authenticate/", public(oidc_views.OIDCAuthenticationRequestView.as_view()),
             name="oidc_authentication_init"),
        path("oidc/callback/", public(oidc_views.OIDCAuthenticationCallbackView.as_view()),
             name="oidc_authentication_callback"),
        path("oidc/logout/", public(oidc_views.OIDCLogoutView.as_view()), name="oidc_logout"),
    ]
