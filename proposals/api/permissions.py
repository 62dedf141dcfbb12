"""Who may do what through the API."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions


class ModelPermissionsOrReadOnly(DjangoModelPermissions):
    """Reading is public unless ``API_READ_REQUIRES_AUTH`` is set; writing
    needs the Django model permission for the view's model (add, change or
    delete), which the "Editors" group holds.

    Anonymous writes get 401 (the token authenticator supplies
    ``WWW-Authenticate``); signed-in users without the permission get 403.
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            if settings.API_READ_REQUIRES_AUTH:
                return bool(request.user and request.user.is_authenticated)
            return True
        return super().has_permission(request, view)
