from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.contrib.admin.apps import AdminConfig
from django.shortcuts import redirect
from django.urls import reverse


class SiaoAdminSite(admin.AdminSite):
    site_header = "Administration — Transmission SIAO → OFII"
    site_title = "Administration SIAO → OFII"
    index_title = "Référentiel, agents et habilitations"

    def has_permission(self, request):
        """Only an agent with a valid administrator habilitation and a verified second factor."""
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_staff and user.is_verified())

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and not self.has_permission(request):
                if user.is_staff:  # an administrator who has not passed the second factor yet
                    return redirect(f"{settings.OTP_VERIFY_URL}?next={request.get_full_path()}")
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapper, inner)

    def login(self, request, extra_context=None):
        return redirect(f"{reverse('login')}?next={request.get_full_path()}")


class SiaoAdminConfig(AdminConfig):
    default_site = "siao_ofii.admin_site.SiaoAdminSite"
