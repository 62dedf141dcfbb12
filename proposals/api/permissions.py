"""Who may do what through the API."""

from django.conf import settings
from rest_framework.permissions import DjangoModelPermissions


class ModelPermissionsOrReadOnly(DjangoModelPermissions):
    """DRF's ``DjangoModelPermissions``: writing needs the Django model
    permission for the view's model (add, change or delete), which the
    "Editors" group holds; reading needs none. Anonymous readers are let in
    (DRF's ``DjangoModelPermissionsOrAnonReadOnly``) unless the deployment
    sets ``API_READ_REQUIRES_AUTH``.

    Anonymous writes get 401 (the token authenticator supplies
    ``WWW-Authenticate``); signed-in users without the permission get 403.
    """

    @property
    def authenticated_users_only(self) -> bool:
        # A property, not a class attribute: the setting is read per request.
        return settings.API_READ_REQUIRES_AUTH
