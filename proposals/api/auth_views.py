"""The token owner's own sign-out endpoints: knox's views, documented, on
the API's throttled token authentication and error format."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox import views as knox_views

from .authentication import TokenAuthentication

_SIGNED_OUT = {204: OpenApiResponse(description="Signed out; the token no longer works.")}


@extend_schema(tags=["auth"], summary="Revoke this token", request=None, responses=_SIGNED_OUT)
class LogoutView(knox_views.LogoutView):
    """Revokes the token this request is authenticated with. Other tokens of
    the same user keep working. Needs `Authorization: Token <token>`."""

    authentication_classes = (TokenAuthentication,)


@extend_schema(tags=["auth"], summary="Revoke all my tokens", request=None, responses=_SIGNED_OUT)
class LogoutAllView(knox_views.LogoutAllView):
    """Revokes every token of the user this request's token belongs to, e.g.
    after one leaked. Needs `Authorization: Token <token>`."""

    authentication_classes = (TokenAuthentication,)
